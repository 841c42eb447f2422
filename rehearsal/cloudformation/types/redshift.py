"""AWS::Redshift::ClusterSubnetGroup, ::ClusterParameterGroup and ::Cluster, as CloudFormation's
handlers call Redshift (the resource types' pages of the CloudFormation User Guide).

The cluster is created with the deploying role's credentials, authorised as AWS would: Redshift
creates a grant on the cluster's KMS key for the caller, so the key policy must let the deploying
role use the key through Redshift (rehearsal/authorization: redshift CreateCluster). CloudFormation
then waits for `available`, and turns on audit logging (EnableLogging) from LoggingProperties.
DeletionPolicy Snapshot deletes the cluster with a final snapshot.
"""

from __future__ import annotations

from typing import Generator

from rehearsal import caller
from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed, ResourceType, flag, register

POLL_SECONDS = 60.0


@register
class ClusterSubnetGroup(ResourceType):
    type_name = "AWS::Redshift::ClusterSubnetGroup"

    def create(self, ctx: ResourceContext) -> Created:
        name = ctx.generated_name(max_length=255, lowercase=True)
        ctx.client("redshift").create_cluster_subnet_group(
            ClusterSubnetGroupName=name, Description=ctx.properties.get("Description", ""),
            SubnetIds=ctx.properties["SubnetIds"], Tags=ctx.tags())
        return Created(name, {"ClusterSubnetGroupName": name})

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("redshift").delete_cluster_subnet_group(ClusterSubnetGroupName=physical_id)


@register
class ClusterParameterGroup(ResourceType):
    type_name = "AWS::Redshift::ClusterParameterGroup"

    def create(self, ctx: ResourceContext) -> Created:
        props = ctx.properties
        name = props.get("ParameterGroupName") or ctx.generated_name(max_length=255, lowercase=True)
        redshift = ctx.client("redshift")
        redshift.create_cluster_parameter_group(ParameterGroupName=name, ParameterGroupFamily=props["ParameterGroupFamily"],
                                                Description=props.get("Description", ""), Tags=ctx.tags())
        ctx.exists(name)
        self._set(ctx, name)
        return Created(name, {"ParameterGroupName": name})

    def update(self, ctx: ResourceContext, physical_id: str, old: dict) -> dict | None:
        self._set(ctx, physical_id)
        return None

    @staticmethod
    def _set(ctx: ResourceContext, name: str) -> None:
        parameters = ctx.properties.get("Parameters") or []
        if parameters:
            ctx.client("redshift").modify_cluster_parameter_group(ParameterGroupName=name, Parameters=[
                {"ParameterName": p["ParameterName"], "ParameterValue": str(p["ParameterValue"])} for p in parameters])

    def delete(self, ctx: ResourceContext, physical_id: str) -> None:
        ctx.client("redshift").delete_cluster_parameter_group(ParameterGroupName=physical_id)


@register
class Cluster(ResourceType):
    type_name = "AWS::Redshift::Cluster"

    def create(self, ctx: ResourceContext) -> Generator[float, None, Created]:
        props, redshift = ctx.properties, ctx.client("redshift")
        identifier = props.get("ClusterIdentifier") or ctx.generated_name(max_length=63, lowercase=True)
        arguments = dict(ClusterIdentifier=identifier, NodeType=props["NodeType"], MasterUsername=props["MasterUsername"],
                         ClusterType=props.get("ClusterType", "multi-node"), Tags=ctx.tags())
        for name in ("DBName", "ClusterSubnetGroupName", "ClusterParameterGroupName", "KmsKeyId", "MasterUserPassword",
                     "MasterPasswordSecretKmsKeyId", "AvailabilityZone", "PreferredMaintenanceWindow"):
            if props.get(name) not in (None, ""):
                arguments[name] = props[name]
        for name in ("NumberOfNodes", "Port", "AutomatedSnapshotRetentionPeriod"):
            if props.get(name) is not None:
                arguments[name] = int(props[name])
        for name in ("Encrypted", "PubliclyAccessible", "EnhancedVpcRouting", "ManageMasterPassword",
                     "AllowVersionUpgrade"):
            if props.get(name) is not None:
                arguments[name] = flag(props[name])
        if props.get("VpcSecurityGroupIds"):
            arguments["VpcSecurityGroupIds"] = props["VpcSecurityGroupIds"]
        if props.get("IamRoles"):
            arguments["IamRoles"] = props["IamRoles"]
        with caller.acting_as(ctx.cloud.deploying_role_arn, "AWSCloudFormation"):
            redshift.create_cluster(**arguments)
        ctx.exists(identifier)
        while True:
            cluster = redshift.describe_clusters(ClusterIdentifier=identifier)["Clusters"][0]
            if cluster["ClusterStatus"] == "available":
                break
            if cluster["ClusterStatus"] != "creating":
                raise ResourceFailed(f"cluster {identifier} is {cluster['ClusterStatus']}")
            yield from ctx.cloud.wait(POLL_SECONDS)
        logging = props.get("LoggingProperties")
        if logging:
            options = {key: logging[key] for key in ("BucketName", "S3KeyPrefix", "LogDestinationType", "LogExports")
                       if logging.get(key)}
            redshift.enable_logging(ClusterIdentifier=identifier, **options)
        endpoint = cluster.get("Endpoint") or {}
        return Created(identifier, {
            "Endpoint.Address": endpoint.get("Address", ""), "Endpoint.Port": str(endpoint.get("Port", "")),
            "ClusterNamespaceArn": f"arn:aws:redshift:{ctx.region}:{ctx.account}:namespace:{identifier}",
            "MasterPasswordSecretArn": cluster.get("MasterPasswordSecretArn", "")})

    def delete(self, ctx: ResourceContext, physical_id: str) -> Generator[float, None, None]:
        from rehearsal import durations

        final = ctx.deletion_policy == "Snapshot"
        options = ({"SkipFinalClusterSnapshot": False, "FinalClusterSnapshotIdentifier": f"{physical_id}-final"}
                   if final else {"SkipFinalClusterSnapshot": True})
        ctx.client("redshift").delete_cluster(ClusterIdentifier=physical_id, **options)
        yield from ctx.cloud.wait(durations.REDSHIFT_CLUSTER_DELETE)
