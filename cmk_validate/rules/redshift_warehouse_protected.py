"""CKE118: a Redshift cluster is encrypted with the HSM-backed key, private, routed through the VPC,
TLS-only and audit-logged.

The warehouse holds copies of the data bucket's objects, so it must keep their protection: the same
key (material in the customer's CloudHSM cluster), no public endpoint, COPY/UNLOAD through the
gateway endpoint the bucket is locked to (enhanced VPC routing), TLS for every connection and the
three audit logs (connections, users, user activity).
"""

from __future__ import annotations

from cmk_validate.architecture import HSM_KEY_TYPE, KEY_STORE_TYPE, as_list
from cmk_validate.model.resolver import Unresolved
from cmk_validate.rules import Rule

CLUSTER_TYPE = "AWS::Redshift::Cluster"
PARAMETER_GROUP_TYPE = "AWS::Redshift::ClusterParameterGroup"
# Redshift Cluster Management Guide, "Database audit logging" (log types) and "Amazon Redshift
# parameter groups" (require_ssl, enable_user_activity_logging; both false by default).
AUDIT_LOGS = ("connectionlog", "userlog", "useractivitylog")
REQUIRED_PARAMETERS = ("require_ssl", "enable_user_activity_logging")


def _true(value) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


class RedshiftWarehouseProtected(Rule):
    id = "CKE118"
    title = "Redshift warehouse: HSM-backed key, private, enhanced VPC routing, TLS required, audit-logged"
    rationale = ("The warehouse holds what it loads from the data bucket. Encrypted with another key, the data "
                 "leaves the customer's HSMs; publicly accessible, it has an internet endpoint; without enhanced "
                 "VPC routing COPY and UNLOAD reach S3 over Redshift's own network, outside the gateway endpoint "
                 "the bucket is locked to; without require_ssl clients may connect in clear text; without the "
                 "audit logs and user activity logging nobody can tell who read what.")
    fix = ("AWS::Redshift::Cluster: Encrypted true, KmsKeyId = the HSM-backed key's ARN (the KMS key in kms mode), "
           "PubliclyAccessible false, EnhancedVpcRouting true, ClusterParameterGroupName = a parameter group of "
           "this assembly with require_ssl true and enable_user_activity_logging true, LoggingProperties with "
           "LogExports connectionlog, userlog and useractivitylog (CDK: cmk_constructs.analytics_warehouse).")
    source_url = "https://docs.aws.amazon.com/redshift/latest/mgmt/security-key-management.html"
    tags = ("redshift", "kms", "cloudhsm", "encryption", "tls", "logging")

    def check(self, ctx):
        for stack, lid, _ in ctx.resources(CLUSTER_TYPE):
            props = ctx.props(stack, lid)
            base = ("Resources", lid, "Properties")
            yield from self._key(ctx, stack, lid, props, base)
            for name, wanted, why in (("PubliclyAccessible", False, "has a public endpoint"),
                                      ("EnhancedVpcRouting", True, "sends COPY/UNLOAD outside the VPC and its "
                                                                   "S3 gateway endpoint")):
                value = props.get(name)
                if isinstance(value, Unresolved):
                    yield self.cannot_prove(stack, base + (name,), value.reason)
                elif _true(value) != wanted or (wanted is False and value is None):
                    shown = "not set" if value is None else f"{name} = {value!r}"
                    yield self.finding(stack, base + (name,), f"Redshift cluster {lid} {why} ({shown})")
            yield from self._parameters(ctx, stack, lid, props.get("ClusterParameterGroupName"),
                                        base + ("ClusterParameterGroupName",))
            yield from self._logging(stack, lid, props.get("LoggingProperties"), base + ("LoggingProperties",))

    def _key(self, ctx, stack, lid, props, base):
        if not _true(props.get("Encrypted")):
            yield self.finding(stack, base + ("Encrypted",), f"Redshift cluster {lid} is not encrypted at rest")
            return
        key = props.get("KmsKeyId")
        path = base + ("KmsKeyId",)
        if isinstance(key, Unresolved):
            yield self.cannot_prove(stack, path, key.reason)
            return
        origin = ctx.origin(key)
        if origin is None:
            named = "an AWS-owned key (no KmsKeyId)" if key is None else f"{key!r}, which is not a key of this assembly"
            yield self.finding(stack, path, f"Redshift cluster {lid} is encrypted with {named}")
            return
        key_stack, key_lid, key_resource, _ = origin
        wanted = HSM_KEY_TYPE if ctx.facts.uses_cloudhsm else "AWS::KMS::Key"
        if key_resource.get("Type") != wanted:
            yield self.finding(stack, path, f"Redshift cluster {lid} is encrypted with {key_lid} "
                               f"({key_resource.get('Type')}), not the "
                               f"{'HSM-backed key of the custom key store' if wanted == HSM_KEY_TYPE else 'KMS key'}")
            return
        if wanted == HSM_KEY_TYPE:
            store = ctx.origin(ctx.props(key_stack, key_lid).get("CustomKeyStoreId"))
            if store is None or store[2].get("Type") != KEY_STORE_TYPE:
                yield self.finding(key_stack, ("Resources", key_lid, "Properties", "CustomKeyStoreId"),
                                   f"key {key_lid} of Redshift cluster {lid} is not in this assembly's custom key store")

    def _parameters(self, ctx, stack, lid, name, path):
        if isinstance(name, Unresolved):
            yield self.cannot_prove(stack, path, name.reason)
            return
        origin = ctx.origin(name)
        if origin is None or origin[2].get("Type") != PARAMETER_GROUP_TYPE:
            yield self.finding(stack, path, f"Redshift cluster {lid} uses parameter group {name!r}, not one of this "
                               "assembly: the default group has require_ssl and enable_user_activity_logging off")
            return
        group_stack, group_lid = origin[0], origin[1]
        parameters = ctx.props(group_stack, group_lid).get("Parameters")
        if isinstance(parameters, Unresolved):
            yield self.cannot_prove(group_stack, ("Resources", group_lid, "Properties", "Parameters"), parameters.reason)
            return
        values = {str(p.get("ParameterName")).lower(): p.get("ParameterValue")
                  for p in as_list(parameters) if isinstance(p, dict)}
        for parameter in REQUIRED_PARAMETERS:
            if not _true(values.get(parameter)):
                yield self.finding(group_stack, ("Resources", group_lid, "Properties", "Parameters"),
                                   f"parameter group {group_lid} of Redshift cluster {lid} does not set {parameter} "
                                   f"= true (it is {values.get(parameter)!r})")

    def _logging(self, stack, lid, logging, path):
        if isinstance(logging, Unresolved):
            yield self.cannot_prove(stack, path, logging.reason)
            return
        if not isinstance(logging, dict):
            yield self.finding(stack, path, f"Redshift cluster {lid} has no audit logging (LoggingProperties)")
            return
        exports = logging.get("LogExports")
        if isinstance(exports, Unresolved):
            yield self.cannot_prove(stack, path + ("LogExports",), exports.reason)
            return
        missing = [log for log in AUDIT_LOGS if log not in as_list(exports)]
        destination = logging.get("LogDestinationType") or ("s3" if logging.get("BucketName") else None)
        if destination not in ("s3", "cloudwatch"):
            yield self.finding(stack, path, f"Redshift cluster {lid} names no audit log destination "
                               "(LogDestinationType cloudwatch, or s3 with BucketName)")
        elif missing:
            yield self.finding(stack, path + ("LogExports",), f"Redshift cluster {lid} does not export the "
                               f"audit log(s) {', '.join(missing)}")
