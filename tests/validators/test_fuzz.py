"""Random JSON-shaped templates through the whole pipeline: findings or exit 2, never a crash."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from validators.cli import main

TYPES = ["AWS::S3::Bucket", "AWS::S3::BucketPolicy", "AWS::EC2::VPCEndpoint", "AWS::CloudHSM::Cluster",
         "Custom::CloudHsmHsm", "AWS::KMS::Key", "Custom::HsmBackedKmsKey", "AWS::EC2::SecurityGroupIngress",
         "AWS::EC2::Route", "AWS::Logs::LogGroup", "AWS::CloudTrail::Trail", "AWS::EC2::Subnet"]
KEYS = ["Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Select", "Fn::If", "Fn::ImportValue", "Fn::Split",
        "Statement", "Effect", "Principal", "Action", "Resource", "Condition", "PolicyDocument", "Bucket",
        "BucketEncryption", "SubnetIds", "ClusterId", "AvailabilityZone", "Mode", "StringNotEquals",
        "aws:sourceVpce", "Null", "ForAnyValue:StringLike", "R0", "R1", "C0"]
scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.sampled_from(["*", "s3:*", "R0", "Deny",
                    "Allow", "aws:kms", "FIPS", "${R0}", "${AWS::Region}", "${R1.Arn}", "", "tcp"]), st.text(max_size=8))
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYS), children, max_size=3)), max_leaves=25)
resource = st.fixed_dictionaries({"Type": st.sampled_from(TYPES)}, optional={
    "Properties": st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
    "Condition": st.sampled_from(["C0", "Missing"]), "Metadata": values})
template = st.fixed_dictionaries({"Resources": st.dictionaries(st.sampled_from(["R0", "R1", "R2"]), resource,
                                                               max_size=3)},
                                 optional={"Conditions": st.fixed_dictionaries({"C0": values}),
                                           "Parameters": st.dictionaries(st.sampled_from(["P0"]), values),
                                           "Outputs": st.dictionaries(st.sampled_from(["O0"]), values)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(template=template)
def test_random_templates_never_crash(tmp_path, capsys, template):
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(template))
    code = main([str(path), "--no-cfn-lint", "--format", "json"])
    captured = capsys.readouterr()
    assert code in (0, 1, 2)
    if code != 2:
        report = json.loads(captured.out)
        assert not [f for f in report["findings"] if "rule failed internally" in f["message"]], report
    assert "Traceback" not in captured.err


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_random_bytes_never_crash(tmp_path, capsys, content):
    path = tmp_path / "garbage.yaml"
    path.write_bytes(content)
    code = main([str(path), "--no-cfn-lint"])
    captured = capsys.readouterr()
    assert code in (0, 1, 2)
    assert "Traceback" not in captured.err
    if code == 2:
        assert captured.err.count("\n") == 1
