"""Random JSON-shaped templates through the whole pipeline: findings or exit 2, never a crash."""

from __future__ import annotations

import json
import os
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cmk_validate.cli import main
from tests.validators.fixtures.mutations import fixture_template
from tests.validators.hostile import put, value_paths

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


# -- hostile shapes: a broken template stays broken, whatever is added to it ------------------------------

HANG_BOUND_SECONDS = 60  # not a speed target: a run this long is a hang
BROKEN = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")
hostile_scalars = st.one_of(scalars, st.sampled_from([float("inf"), float("-inf"), float("nan"), 10 ** 30, -1]))
hostile = st.recursive(hostile_scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS + ["Fn::ForEach::X", "Fn::Transform"]),
                                                    children, max_size=3)), max_leaves=12)
transforms = st.one_of(st.none(), st.sampled_from(["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31",
                                                   "AWS::Include", "Acme::Macro"]),
                       st.lists(st.sampled_from(["AWS::LanguageExtensions", "Acme::Macro"]), max_size=2), hostile)


TARGETS = [p for p in value_paths(BROKEN["Resources"]) if len(p) >= 3 and p[1] == "Properties"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(target=st.sampled_from(TARGETS), value=hostile, transform=transforms, depth=st.integers(0, 30000))
def test_hostile_values_never_make_a_broken_template_pass(tmp_path, capsys, target, value, transform, depth):
    """Exit 1 or 2, never 0 and never a traceback, within a per-input bound that only catches hangs
    (the figures are in bench/hostile.py)."""
    template = json.loads(json.dumps(BROKEN))
    for _ in range(depth // 100):
        value = [value]
    put(template["Resources"], target, value)
    if transform is not None:
        template["Transform"] = transform
    path = tmp_path / "hostile.json"
    try:
        path.write_text(json.dumps(template, allow_nan=True))
    except RecursionError:
        return  # deeper than Python's json can even write
    started = time.monotonic()
    code = main([str(path), "--no-cfn-lint", "--min-severity", "error"])
    captured = capsys.readouterr()
    assert code in (1, 2), captured.out
    assert "Traceback" not in captured.err
    assert time.monotonic() - started < HANG_BOUND_SECONDS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entry=st.one_of(st.sampled_from(["../outside.json", "/proc/self/status", "/dev/zero", "/etc/hostname",
                                        "sub/../../outside.json", "fifo", "link", "ok.json", "", ".", "/"]),
                       st.text(max_size=20)))
def test_manifest_paths_are_confined_to_the_assembly(tmp_path_factory, capsys, entry):
    root = tmp_path_factory.mktemp("fuzz")
    (root / "outside.json").write_text(json.dumps(BROKEN))
    assembly = root / "cdk.out"
    assembly.mkdir()
    (assembly / "ok.json").write_text(json.dumps(BROKEN))
    os.mkfifo(assembly / "fifo")
    os.symlink(root / "outside.json", assembly / "link")
    (assembly / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": {"S": {
        "type": "aws:cloudformation:stack", "properties": {"templateFile": entry}}}}))
    code = main([str(assembly), "--no-cfn-lint"])
    captured = capsys.readouterr()
    assert code in (1, 2) and "Traceback" not in captured.err
    if code == 1:
        assert os.path.realpath(assembly / entry) == os.path.realpath(assembly / "ok.json")
