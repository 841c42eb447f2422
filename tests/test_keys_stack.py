"""Keys stack: the HSM-backed key in the Hsm stack's custom key store (cloudhsm mode) or a rotating KMS
key (kms mode); the store and its health alarms, which live in the Hsm stack."""

from aws_cdk.assertions import Match

from cmk_constructs.data_key_policy import ADMIN_ACTIONS, USE_ACTIONS


def _statements(policy):
    return {statement["Sid"]: statement for statement in policy["Statement"]}


def _assert_least_privilege_policy(policy, config, extra_admins=0, store_keeper=None):
    """`store_keeper`: the one principal that may describe the key and do nothing else with it."""
    statements = _statements(policy)
    keeper = {"KeyStoreHandlerSeesTheKey"} if store_keeper else set()
    assert set(statements) == {"KeyAdministration", "UseOnlyThroughS3ForTheDataBucket"} | keeper
    if store_keeper:
        sees = statements["KeyStoreHandlerSeesTheKey"]
        assert (sees["Effect"], sees["Action"], sees["Principal"]) == ("Allow", "kms:DescribeKey", {"AWS": store_keeper})
    admin = statements["KeyAdministration"]
    assert admin["Effect"] == "Allow"
    assert not set(admin["Action"]) & {"kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:*"}
    assert sorted(admin["Action"]) == sorted(ADMIN_ACTIONS)
    admins = admin["Principal"]["AWS"]
    admins = admins if isinstance(admins, list) else [admins]
    assert len(admins) == len(config.key_administrators) + extra_admins
    use = statements["UseOnlyThroughS3ForTheDataBucket"]
    assert sorted(use["Action"]) == sorted(USE_ACTIONS)
    bucket_arn = f"arn:aws:s3:::{config.bucket_name('data')}"
    assert use["Condition"] == {
        "StringEquals": {"kms:ViaService": f"s3.{config.region}.amazonaws.com", "kms:CallerAccount": config.account},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
    }


def test_custom_key_store_sits_on_the_cluster_in_the_hsm_stack(reference, config):
    """The store lives with the cluster, not with its keys: KMS deletes a store only once no key is left
    in it, so a rollback of the data key's stack must not have to delete the store."""
    hsm = reference.template("Hsm")
    (_, store), = hsm.find_resources("Custom::KmsCustomKeyStore").items()
    reference.template("Keys").resource_count_is("Custom::KmsCustomKeyStore", 0)
    props = store["Properties"]
    assert props["CustomKeyStoreName"] == f"{config.name}-{config.environment}"
    (cluster_id, _), = hsm.find_resources("AWS::CloudHSM::Cluster").items()
    assert props["ClusterId"] == {"Fn::GetAtt": [cluster_id, "ClusterId"]}
    fleet = [logical_id for logical_id in hsm.find_resources("Custom::CloudHsmHsm")]
    assert set(fleet) <= set(store["DependsOn"]), "KMS needs two ACTIVE HSMs in different AZs"
    # Passwords reach the handler as secret ARNs (and the host document that sets kmsuser's), never as values.
    named = {name for name in props if "Password" in name}
    assert named == {"KmsUserPasswordSecretArn", "AdminPasswordSecretArn", "KmsUserPasswordDocumentName"}
    assert all(isinstance(props[name], dict) for name in named), "each is a reference, not a literal"


def test_hsm_backed_key_in_the_store_with_least_privilege_policy(reference, config):
    keys, hsm = reference.template("Keys"), reference.template("Hsm")
    (store_id, _), = hsm.find_resources("Custom::KmsCustomKeyStore").items()
    (_, key), = keys.find_resources("Custom::HsmBackedKmsKey").items()
    props = key["Properties"]
    assert reference.output_value("Hsm", props["CustomKeyStoreId"]["Fn::ImportValue"]) == \
        {"Fn::GetAtt": [store_id, "CustomKeyStoreId"]}
    assert props["PendingWindowInDays"] == str(config.key_deletion_window_days)
    assert props["AliasName"] == f"alias/{config.name}/data"
    (store_role,) = [logical_id for logical_id in hsm.find_resources("AWS::IAM::Role")
                     if logical_id.startswith("KeyStoreLifecycleHandlerRole")]
    (keeper,) = [statement["Principal"]["AWS"] for statement in props["KeyPolicy"]["Statement"]
                 if statement.get("Sid") == "KeyStoreHandlerSeesTheKey"]
    assert reference.output_value("Hsm", keeper["Fn::ImportValue"]) == {"Fn::GetAtt": [store_role, "Arn"]}
    _assert_least_privilege_policy(props["KeyPolicy"], config, extra_admins=1, store_keeper=keeper)
    keys.resource_count_is("AWS::KMS::Key", 0)


def test_health_alarms_watch_connection_and_active_hsms(reference, config):
    keys = reference.template("Hsm")
    prefix = f"{config.name}-{config.environment}"
    keys.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": f"{prefix}-fewer-than-2-active-hsms",
        "MetricName": "ActiveHsmCount", "Threshold": 2, "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching", "AlarmActions": [Match.any_value()]})
    keys.has_resource_properties("AWS::CloudWatch::Alarm", {
        "AlarmName": f"{prefix}-key-store-not-connected",
        "MetricName": "KeyStoreConnected", "Threshold": 1, "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching"})
    keys.has_resource_properties("AWS::Events::Rule", {"ScheduleExpression": "rate(5 minutes)"})
    keys.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})


def test_kms_mode_has_no_cloudhsm_and_a_rotating_key(synth, config_of):
    app = synth("dev-kms")
    assert not any(name.endswith("-Hsm") for name in app.templates)
    keys = app.template("Keys")
    for custom in ("Custom::KmsCustomKeyStore", "Custom::HsmBackedKmsKey"):
        keys.resource_count_is(custom, 0)
    (_, key), = keys.find_resources("AWS::KMS::Key").items()
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 7
    assert (key["DeletionPolicy"], key["UpdateReplacePolicy"]) == ("RetainExceptOnCreate", "Retain")
    _assert_least_privilege_policy(key["Properties"]["KeyPolicy"], config_of("dev-kms"))
    for template in app.templates.values():
        assert "AWS::CloudHSM::Cluster" not in {r["Type"] for r in template["Resources"].values()}


def test_a_replacing_update_keeps_the_old_key_and_store(reference):
    resources = {**reference.raw("Keys")["Resources"], **reference.raw("Hsm")["Resources"]}
    for resource in resources.values():
        if resource["Type"] in ("Custom::HsmBackedKmsKey", "Custom::KmsCustomKeyStore"):
            # Replacement keeps what still decrypts existing data; stack deletion runs the handler
            # (scheduled key deletion, store refuses while keys remain).
            assert resource["UpdateReplacePolicy"] == "Retain"
            assert resource["DeletionPolicy"] == "Delete"
