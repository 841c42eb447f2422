"""Template model: intrinsics, both branches of Fn::If, cross-stack imports, stages and nested stacks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from cmk_validate.engine import run
from cmk_validate.findings import Severity
from cmk_validate.model import Resolver, Unresolved, load
from tests.validators.fixtures.mutations import fixture_template

BASE = fixture_template("data_bucket_endpoint_only", "good_split_statements")


def resolve(template: dict, value, conditions=None, tmp_path: Path | None = None):
    path = tmp_path / "t.json"
    path.write_text(json.dumps(template))
    assembly = load(str(path))
    return Resolver(assembly, assembly.stacks[0], conditions).resolve(value)


def test_intrinsics_resolve(tmp_path):
    template = {"Parameters": {"Env": {"Type": "String", "Default": "prod"}, "NoDefault": {"Type": "String"}},
                "Mappings": {"M": {"prod": {"Size": "large"}}},
                "Resources": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "b-1"}}}}
    assert resolve(template, {"Fn::Sub": "${Env}-${AWS::Region}-${!Literal}"}, tmp_path=tmp_path) == \
        "prod-{{AWS::Region}}-${Literal}"
    assert resolve(template, {"Fn::Join": ["/", [{"Fn::GetAtt": ["B", "Arn"]}, "*"]]}, tmp_path=tmp_path) == \
        "arn:aws:s3:::b-1/*"
    assert resolve(template, {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, tmp_path=tmp_path) == "b"
    assert resolve(template, {"Fn::FindInMap": ["M", {"Ref": "Env"}, "Size"]}, tmp_path=tmp_path) == "large"
    assert isinstance(resolve(template, {"Ref": "NoDefault"}, tmp_path=tmp_path), Unresolved)
    assert resolve(template, ["a", {"Ref": "AWS::NoValue"}], tmp_path=tmp_path) == ["a"]


def test_every_branch_of_fn_if_must_hold(tmp_path):
    template = copy.deepcopy(BASE)
    template["Parameters"]["Strict"] = {"Type": "String", "AllowedValues": ["yes", "no"]}
    template["Conditions"] = {"IsStrict": {"Fn::Equals": [{"Ref": "Strict"}, "yes"]}}
    template["Resources"]["TrailBucket"]["Properties"]["VersioningConfiguration"] = {
        "Fn::If": ["IsStrict", {"Status": "Enabled"}, {"Status": "Suspended"}]}
    path = tmp_path / "branches.json"
    path.write_text(json.dumps(template))
    findings = run(load(str(path)), with_lines=False).active(Severity.WARNING)
    assert [(f.rule_id, "IsStrict=false" in f.message) for f in findings] == [("CKE104", True)]


def _write_assembly(root: Path, stacks: dict[str, dict], nested: dict[str, dict] | None = None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, template in stacks.items():
        (root / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {"type": "aws:cloudformation:stack", "environment": "aws://111122223333/eu-west-1",
                           "properties": {"templateFile": f"{name}.template.json"}}
    for file_name, template in (nested or {}).items():
        (root / file_name).write_text(json.dumps(template))
    (root / "manifest.json").write_text(json.dumps({"version": "36.0.0", "artifacts": artifacts}))


def test_import_value_resolves_across_stacks_and_stages(tmp_path):
    network = {"Resources": {"Endpoint": {"Type": "AWS::EC2::VPCEndpoint", "Properties": {
        "ServiceName": "com.amazonaws.eu-west-1.s3", "VpcId": "vpc-1"}}},
        "Outputs": {"E": {"Value": {"Ref": "Endpoint"}, "Export": {"Name": "Net:Endpoint"}}}}
    data = {"Resources": {"P": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::ImportValue": "Net:Endpoint"}}}}}
    stage = tmp_path / "assembly-Prod"
    _write_assembly(stage, {"Net": network, "Data": data})
    (tmp_path / "manifest.json").write_text(json.dumps({"artifacts": {"Prod": {
        "type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Prod"}}}}))
    assembly = load(str(tmp_path))
    assert [s.name for s in assembly.stacks] == ["Net", "Data"]
    data_stack = assembly.stack("Data")
    value = Resolver(assembly, data_stack).resolve(data_stack.resources["P"]["Properties"]["DisplayName"])
    assert value == "{{Net/Endpoint}}" and assembly.tokens[value] == ("Net", "Endpoint", "Ref")


def test_nested_stacks_are_loaded_with_parameters_from_the_parent(tmp_path):
    child = {"Parameters": {"Name": {"Type": "String"}},
             "Resources": {"T": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Ref": "Name"}}}}}
    parent = {"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack",
                                      "Metadata": {"aws:asset:path": "child.nested.template.json"},
                                      "Properties": {"Parameters": {"Name": "from-parent"}}}}}
    _write_assembly(tmp_path, {"Parent": parent}, {"child.nested.template.json": child})
    assembly = load(str(tmp_path))
    nested = assembly.stack("Parent/Child")
    assert nested is not None and nested.parent is assembly.stack("Parent")
    assert Resolver(assembly, nested).resolve({"Ref": "Name"}) == "from-parent"


def test_many_undecided_conditions_fall_back_to_extremes_and_single_flips(tmp_path):
    from cmk_validate.engine import scenarios

    template = {"Parameters": {f"P{i}": {"Type": "String"} for i in range(7)},
                "Conditions": {f"C{i}": {"Fn::Equals": [{"Ref": f"P{i}"}, "x"]} for i in range(7)},
                "Resources": {"T": {"Type": "AWS::SNS::Topic"}}}
    path = tmp_path / "single.json"
    path.write_text(json.dumps(template))
    found = scenarios(load(str(path)))
    assert len(found) == 2 + 2 * 7
    assert {"C0": True, **{f"C{i}": False for i in range(1, 7)}} in [s["single"] for s in found]


def _deny_in_branches(tmp_path, branches: list[str]):
    """The endpoint deny, present only under the given conditions (IsProd, IsNotProd = Not IsProd)."""
    fixtures = Path(__file__).parent / "fixtures"
    template = fixture_template("data_bucket_endpoint_only", "bad_no_endpoint_deny")
    good = json.loads(json.dumps(load(str(fixtures / "base_architecture.yaml")).stacks[0].template))
    deny = next(s for s in good["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
                if s.get("Sid") == "DenyRequestsOutsideGatewayEndpoint")
    template.setdefault("Parameters", {})["Stage"] = {"Type": "String", "AllowedValues": ["prod", "dev"]}
    template.setdefault("Conditions", {}).update({"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                                                  "IsNotProd": {"Fn::Not": [{"Condition": "IsProd"}]}})
    statements = template["Resources"]["DataBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    for name in branches:
        statements.append({"Fn::If": [name, dict(deny, Sid=f"Deny{name}"), {"Ref": "AWS::NoValue"}]})
    path = tmp_path / "branches.json"
    path.write_text(json.dumps(template))
    return [f for f in run(load(str(path)), with_lines=False).active(Severity.ERROR) if f.rule_id == "CKE101"]


def test_impossible_condition_combinations_are_not_checked(tmp_path):
    """IsProd and Not(IsProd) are never both false: cfn-lint's condition model leaves that branch out, so the
    deny present in exactly one branch each time is proved in every scenario that can happen."""
    assert _deny_in_branches(tmp_path, ["IsProd", "IsNotProd"]) == []


def test_a_gap_in_a_possible_branch_is_still_found(tmp_path):
    findings = _deny_in_branches(tmp_path, ["IsProd"])
    assert len(findings) == 1 and "IsProd=false" in findings[0].message


def test_reading_the_conditions_leaves_the_template_as_written(tmp_path):
    """cfn-lint's condition model reorders Fn::Equals in place; findings name paths of the template as
    written, so the engine gives it a copy."""
    template = {"Parameters": {"Stage": {"Type": "String"}},
                "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}},
                "Resources": {"T": {"Type": "AWS::SNS::Topic", "Condition": "IsProd"}}}
    path = tmp_path / "conditions.json"
    path.write_text(json.dumps(template))
    assembly = load(str(path))
    run(assembly, with_lines=False)
    assert assembly.stacks[0].template["Conditions"] == template["Conditions"]


def test_a_deploy_time_gateway_is_cannot_prove_not_an_internet_gateway(tmp_path):
    """GatewayId names an internet gateway or a virtual private gateway (AWS::EC2::Route): from a parameter
    with no default the rule cannot tell which, so it says so instead of reporting an internet route."""
    template = {"Parameters": {"Gateway": {"Type": "String"}}, "Resources": {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Subnet": {"Type": "AWS::EC2::Subnet", "Properties": {"VpcId": {"Ref": "Vpc"}, "CidrBlock": "10.0.0.0/24"}},
        "Cluster": {"Type": "AWS::CloudHSM::Cluster", "Properties": {"HsmType": "hsm2m.medium",
                                                                     "SubnetIds": [{"Ref": "Subnet"}]}},
        "Table": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "Vpc"}}},
        "Association": {"Type": "AWS::EC2::SubnetRouteTableAssociation", "Properties": {
            "SubnetId": {"Ref": "Subnet"}, "RouteTableId": {"Ref": "Table"}}},
        "Route": {"Type": "AWS::EC2::Route", "Properties": {"RouteTableId": {"Ref": "Table"},
                                                           "DestinationCidrBlock": "0.0.0.0/0",
                                                           "GatewayId": {"Ref": "Gateway"}}}}}
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps(template))
    found = [f for f in run(load(str(path)), with_lines=False).findings if f.rule_id == "CKE106"]
    assert [(f.undecided, f.path[-1]) for f in found] == [(True, "GatewayId")]
    assert "cannot prove" in found[0].message and "internet gateway" in found[0].message
