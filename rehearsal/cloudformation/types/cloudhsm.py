"""AWS::CloudHSM::Cluster: CreateCluster, then CloudFormation waits for UNINITIALIZED.

Every property is create-only (the resource schema says so): a change replaces the cluster.
Deleting needs the cluster to have no HSMs left.
"""

from __future__ import annotations

from typing import Generator

from rehearsal.cloudformation.types.base import Created, ResourceContext, ResourceFailed, ResourceType, register

POLL_SECONDS = 30.0


@register
class Cluster(ResourceType):
    type_name = "AWS::CloudHSM::Cluster"

    def create(self, ctx: ResourceContext) -> Generator[float, None, Created]:
        props, cloudhsm = ctx.properties, ctx.client("cloudhsmv2")
        arguments = dict(HsmType=props["HsmType"], SubnetIds=props["SubnetIds"], TagList=ctx.tags())
        if props.get("Mode"):
            arguments["Mode"] = props["Mode"]
        if props.get("BackupRetentionPolicy"):
            arguments["BackupRetentionPolicy"] = {key: str(value) for key, value in props["BackupRetentionPolicy"].items()}
        cluster_id = cloudhsm.create_cluster(**arguments)["Cluster"]["ClusterId"]
        ctx.exists(cluster_id)
        while True:
            cluster = self.describe(ctx, cluster_id)
            if cluster["State"] == "UNINITIALIZED":
                return Created(cluster_id, {"ClusterId": cluster_id, "SecurityGroup": cluster.get("SecurityGroup", ""),
                                            "VpcId": cluster.get("VpcId", ""), "State": cluster["State"],
                                            "Arn": f"arn:aws:cloudhsm:{ctx.region}:{ctx.account}:cluster/{cluster_id}"})
            if cluster["State"] not in ("CREATE_IN_PROGRESS",):
                raise ResourceFailed(f"cluster {cluster_id} is {cluster['State']}: {cluster.get('StateMessage', '')}")
            yield from ctx.cloud.wait(POLL_SECONDS)

    @staticmethod
    def describe(ctx: ResourceContext, cluster_id: str) -> dict:
        return ctx.client("cloudhsmv2").describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"][0]

    def delete(self, ctx: ResourceContext, physical_id: str) -> Generator[float, None, None]:
        ctx.client("cloudhsmv2").delete_cluster(ClusterId=physical_id)
        yield from ctx.cloud.wait(POLL_SECONDS)
