"""HSM stack: FIPS cluster retained, HSM ports only from the client host, lifecycle order, HSM placement."""

from fnmatch import fnmatchcase as fnmatch

from aws_cdk.assertions import Match


def _one(template, resource_type):
    found = template.find_resources(resource_type)
    assert len(found) == 1, f"expected one {resource_type}, found {len(found)}"
    return next(iter(found.items()))


def test_cluster_is_fips_retained_and_spans_every_subnet(reference, config):
    hsm = reference.template("Hsm")
    _, cluster = _one(hsm, "AWS::CloudHSM::Cluster")
    assert cluster["DeletionPolicy"] == "RetainExceptOnCreate" and cluster["UpdateReplacePolicy"] == "Retain"
    props = cluster["Properties"]
    assert props["Mode"] == "FIPS"
    assert props["HsmType"] == config.hsm_type
    assert props["BackupRetentionPolicy"] == {"Type": "DAYS", "Value": str(config.backup_retention_days)}
    network_subnets = reference.template("Network").find_resources("AWS::EC2::Subnet")
    exported = {reference.output_value("Network", ref["Fn::ImportValue"])["Ref"] for ref in props["SubnetIds"]}
    assert exported == set(network_subnets)


def test_hsm_ports_open_only_to_the_client_host_and_the_peered_clients(reference):
    """2223-2225 from two groups: the client host's and the demo application VPC's (over peering)."""
    hsm = reference.template("Hsm")
    cluster_id, _ = _one(hsm, "AWS::CloudHSM::Cluster")
    ingress = hsm.find_resources("AWS::EC2::SecurityGroupIngress")
    rules = [rule["Properties"] for rule in ingress.values()]
    sources = []
    for rule in rules:
        rule.pop("Description")
        source = rule.pop("SourceSecurityGroupId")
        imported = source.get("Fn::ImportValue")
        sources.append(reference.output_value("Peering", imported) if imported else source)
        assert rule == {"GroupId": {"Fn::GetAtt": [cluster_id, "SecurityGroup"]},
                        "IpProtocol": "tcp", "FromPort": 2223, "ToPort": 2225}
    demo_group, = reference.template("Peering").find_resources("AWS::EC2::SecurityGroup", {
        "Properties": {"GroupDescription": Match.string_like_regexp("over VPC peering")}})
    assert sorted(sources, key=str) == sorted([{"Fn::GetAtt": [_client_security_group(hsm), "GroupId"]},
                                               {"Fn::GetAtt": [demo_group, "GroupId"]}], key=str)


def _client_security_group(hsm):
    groups = hsm.find_resources("AWS::EC2::SecurityGroup", {
        "Properties": {"GroupDescription": Match.string_like_regexp("CloudHSM client host")}})
    assert len(groups) == 1
    return next(iter(groups))


def test_client_host_is_private_ssm_managed_and_installs_the_configured_package(reference, config):
    hsm = reference.template("Hsm")
    _, instance = _one(hsm, "AWS::EC2::Instance")
    props = instance["Properties"]
    assert "KeyName" not in props
    assert props["AvailabilityZone"] == config.availability_zones[0]
    assert all(not nic.get("AssociatePublicIpAddress") for nic in props.get("NetworkInterfaces", []))
    assert props["BlockDeviceMappings"][0]["Ebs"]["Encrypted"] is True
    assert config.client_package.uri in str(props["UserData"])
    hsm.has_resource_properties("AWS::EC2::LaunchTemplate", {
        "LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}})
    group = hsm.find_resources("AWS::EC2::SecurityGroup")[_client_security_group(hsm)]["Properties"]
    assert "SecurityGroupIngress" not in group
    (cluster_id, _), = hsm.find_resources("AWS::CloudHSM::Cluster").items()
    egress = {(rule["FromPort"], rule["ToPort"], str(rule.get("CidrIp") or rule.get("DestinationSecurityGroupId")))
              for rule in group["SecurityGroupEgress"]}
    assert egress == {(443, 443, "0.0.0.0/0"), (2223, 2225, str({"Fn::GetAtt": [cluster_id, "SecurityGroup"]}))}


def test_one_hsm_resource_per_placement_in_distinct_zones(reference, config):
    hsm = reference.template("Hsm")
    first = hsm.find_resources("Custom::CloudHsmFirstHsm")
    others = hsm.find_resources("Custom::CloudHsmHsm")
    assert len(first) == 1 and len(first) + len(others) == config.hsm_count
    zones = [next(iter(first.values()))["Properties"]["AvailabilityZone"]]
    zones += [r["Properties"]["AvailabilityZone"] for r in sorted(others.values(), key=lambda r: int(r["Properties"]["Ordinal"]))]
    assert zones == list(config.hsm_placement)
    assert len(set(zones)) >= 2


def test_lifecycle_runs_in_order(reference):
    hsm = reference.template("Hsm")
    (first_id, first), = hsm.find_resources("Custom::CloudHsmFirstHsm").items()
    (init_id, init), = hsm.find_resources("Custom::CloudHsmClusterInitialisation").items()
    (act_id, act), = hsm.find_resources("Custom::CloudHsmClusterActivation").items()
    # The cluster's audit log group is adopted once an HSM exists; the first HSM waits for no log group.
    (_, audit_log), = hsm.find_resources("Custom::CloudHsmClusterAuditLog").items()
    assert audit_log["DependsOn"] == [first_id]
    log_groups = set(hsm.find_resources("AWS::Logs::LogGroup"))
    assert not log_groups & set(first.get("DependsOn", []))
    assert init["Properties"]["FirstHsmId"] == {"Fn::GetAtt": [first_id, "HsmId"]}
    assert act["Properties"]["HsmIp"] == {"Fn::GetAtt": [first_id, "EniIp"]}
    ingress = next(iter(hsm.find_resources("AWS::EC2::SecurityGroupIngress")))
    assert ingress in act["DependsOn"]
    for other in hsm.find_resources("Custom::CloudHsmHsm").values():
        assert act_id in other["DependsOn"]
    (param_id, param), = hsm.find_resources("AWS::SSM::Parameter").items()
    assert param["Properties"]["Value"] == {"Fn::GetAtt": [init_id, "TrustAnchorPem"]}
    assert act["Properties"]["TrustAnchorParameterName"] == {"Ref": param_id}


def test_passwords_are_generated_in_secrets_manager(reference):
    hsm = reference.template("Hsm")
    secrets = hsm.find_resources("AWS::SecretsManager::Secret")
    assert len(secrets) == 2
    for secret in secrets.values():
        assert "SecretString" not in secret["Properties"]
        assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] == 32
    (_, act), = hsm.find_resources("Custom::CloudHsmClusterActivation").items()
    assert {act["Properties"]["AdminPasswordSecretArn"]["Ref"], act["Properties"]["KmsUserPasswordSecretArn"]["Ref"]} == set(secrets)


def test_managed_ca_key_is_an_asymmetric_kms_signing_key(reference, config):
    hsm = reference.template("Hsm")
    hsm.has_resource_properties("AWS::KMS::Key", {
        "KeySpec": "RSA_3072", "KeyUsage": "SIGN_VERIFY", "PendingWindowInDays": config.key_deletion_window_days})


def test_cloudhsm_audit_log_group_is_adopted_with_the_audit_key_and_retention(reference, config):
    """CloudHSM makes /aws/cloudhsm/<cluster id> itself, at a moment its guide does not give: the template
    must not declare it (a collision), and adopts it with the audit key and the configured retention."""
    hsm = reference.template("Hsm")
    (cluster_id, _), = hsm.find_resources("AWS::CloudHSM::Cluster").items()
    assert not [group for group in hsm.find_resources("AWS::Logs::LogGroup").values()
                if "LogGroupName" in group["Properties"]]
    _, audit_log = _one(hsm, "Custom::CloudHsmClusterAuditLog")
    props = audit_log["Properties"]
    assert props["LogGroupName"] == {"Fn::Join": ["", ["/aws/cloudhsm/", {"Fn::GetAtt": [cluster_id, "ClusterId"]}]]}
    assert props["RetentionInDays"] == config.log_retention_days
    key_id, _ = _one(reference.template("Audit"), "AWS::KMS::Key")
    assert reference.output_value("Audit", props["KmsKeyId"]["Fn::ImportValue"]) == {"Fn::GetAtt": [key_id, "Arn"]}


def test_the_audit_key_lets_cloudwatch_logs_encrypt_the_cluster_audit_log(reference, config):
    """CloudWatch Logs uses the key as its own principal, with the group's ARN as encryption context."""
    (key,) = reference.template("Audit").find_resources("AWS::KMS::Key").values()
    (statement,) = [statement for statement in key["Properties"]["KeyPolicy"]["Statement"]
                    if statement["Principal"] == {"Service": f"logs.{config.region}.amazonaws.com"}]
    assert {"kms:Encrypt*", "kms:GenerateDataKey*", "kms:Decrypt*"} <= set(statement["Action"])
    pattern = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert fnmatch(f"arn:aws:logs:{config.region}:{config.account}:log-group:/aws/cloudhsm/cluster-abcdefghijk", pattern)


def test_more_hsms_than_zones_are_placed_round_robin(synth, config):
    app = synth(hsmCount=4)
    hsm = app.template("Hsm")
    others = sorted(hsm.find_resources("Custom::CloudHsmHsm").values(), key=lambda r: int(r["Properties"]["Ordinal"]))
    zones = config.availability_zones
    assert [r["Properties"]["AvailabilityZone"] for r in others] == [zones[1], zones[2], zones[0]]


def test_external_ca_mode_waits_for_operator_parameters(synth):
    hsm = synth(caMode="external").template("Hsm")
    hsm.has_resource_properties("Custom::CloudHsmClusterInitialisation", {
        "CaMode": "external",
        "ExternalCertificateParameterName": "/customer-keys/cloudhsm/external-ca/signed-certificate",
        "ExternalTrustAnchorParameterName": "/customer-keys/cloudhsm/external-ca/trust-anchor",
    })
    assert not hsm.find_resources("AWS::KMS::Key", {"Properties": {"KeyUsage": "SIGN_VERIFY"}})


def test_hsms_of_one_zone_are_created_one_after_another(synth, config):
    hsm = synth(hsmCount=6).template("Hsm")
    fleet = {lid: r for lid, r in hsm.find_resources("Custom::CloudHsmHsm").items()}
    by_ordinal = {int(r["Properties"]["Ordinal"]): (lid, r) for lid, r in fleet.items()}
    for ordinal, (lid, resource) in by_ordinal.items():
        zone = resource["Properties"]["AvailabilityZone"]
        earlier_same_zone = [other for o, (other, r) in by_ordinal.items() if o < ordinal and r["Properties"]["AvailabilityZone"] == zone]
        depends = set(resource.get("DependsOn", []))
        if earlier_same_zone:
            assert earlier_same_zone[-1] in depends, (lid, zone)
        assert not depends & (set(fleet) - set(earlier_same_zone)), f"{lid} waits for an HSM of another zone"
