"""hsmPeering: application VPCs given by ids and ranges only, each bad value one line naming the key."""

import json

import pytest

from stacks.config import ConfigError, HsmPeering, PeeredVpc, command_line_overrides, load_config
from tests.conftest import ROOT

CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]
EXISTING = {"name": "payments", "vpcId": "vpc-0123456789abcdef0", "cidr": "10.50.0.0/24",
            "routeTableIds": ["rtb-0123456789abcdef0", "rtb-11111111"],
            "clientSecurityGroupId": "sg-0123456789abcdef0", "readsDataBucket": True}


def _load(peering, **settings):
    return load_config({**CONTEXT, "environment": "x",
                        "environments": {"x": {"hsmPeering": peering, **settings}}})


def test_reference_peers_the_demo_application_vpc_only():
    assert load_config(CONTEXT).hsm_peering == HsmPeering("172.20.0.0/22", ())
    for environment in ("dev-kms", "sse-c"):
        assert load_config({**CONTEXT, "environment": environment}).hsm_peering is None


def test_an_existing_vpc_is_read_into_ids_and_ranges():
    peering = _load({"applicationVpcs": [EXISTING]}).hsm_peering
    assert peering == HsmPeering(None, (PeeredVpc("payments", "vpc-0123456789abcdef0", "10.50.0.0/24",
                                                  ("rtb-0123456789abcdef0", "rtb-11111111"),
                                                  "sg-0123456789abcdef0", True),))
    without_reads = {key: value for key, value in EXISTING.items() if key != "readsDataBucket"}
    assert _load({"applicationVpcs": [without_reads]}).hsm_peering.vpcs[0].reads_data_bucket is False


def test_the_command_line_takes_the_block_as_json():
    overrides = command_line_overrides({"hsmPeering": json.dumps({"applicationVpcs": [EXISTING]})}.get)
    assert overrides == {"hsmPeering": {"applicationVpcs": [EXISTING]}}


@pytest.mark.parametrize("peering,expected", [
    ({"demoApplicationVpc": {"cidr": "10.41.0.0/22"}, "extra": 1}, "unknown key 'extra' in 'hsmPeering'"),
    ({"demoApplicationVpc": {"cidr": "10.41.0.0/22", "azs": 2}}, "unknown key 'azs' in 'hsmPeering.demoApplicationVpc'"),
    ({"applicationVpc": []}, "did you mean 'applicationVpcs'"),
    ("10.41.0.0/22", "'hsmPeering' = '10.41.0.0/22' is not valid"),
    ({}, "a demoApplicationVpc, applicationVpcs or both"),
    ({"demoApplicationVpc": {"cidr": "10.40.8.0/22"}}, "demoApplicationVpc 10.40.8.0/22 overlaps vpcCidr 10.40.0.0/16"),
    ({"demoApplicationVpc": {"cidr": "8.8.8.0/24"}}, "'hsmPeering.demoApplicationVpc.cidr'"),
    ({"demoApplicationVpc": {"cidr": "10.0.0.0/8"}}, "from /16 to /28"),
    ({"applicationVpcs": {"payments": EXISTING}}, "'hsmPeering.applicationVpcs'"),
    ({"applicationVpcs": [{**EXISTING, "vpcId": "vpc-xyz"}]}, "'hsmPeering.applicationVpcs[0].vpcId'"),
    ({"applicationVpcs": [{**EXISTING, "routeTableIds": []}]}, "'hsmPeering.applicationVpcs[0].routeTableIds'"),
    ({"applicationVpcs": [{**EXISTING, "routeTableIds": ["rtb-11111111", "rtb-11111111"]}]}, "distinct route table ids"),
    ({"applicationVpcs": [{**EXISTING, "clientSecurityGroupId": "10.50.0.0/24"}]}, "a security group id"),
    ({"applicationVpcs": [{**EXISTING, "readsDataBucket": "yes"}]}, "true | false"),
    ({"applicationVpcs": [{**EXISTING, "vpcLookup": True}]}, "unknown key 'vpcLookup'"),
    ({"applicationVpcs": [{k: v for k, v in EXISTING.items() if k != "clientSecurityGroupId"}]},
     "needs 'clientSecurityGroupId'"),
    ({"applicationVpcs": [EXISTING, {**EXISTING, "vpcId": "vpc-22222222", "cidr": "10.51.0.0/24"}]},
     "lists name 'payments' twice"),
    ({"demoApplicationVpc": {"cidr": "10.50.0.0/22"}, "applicationVpcs": [EXISTING]},
     "applicationVpcs.payments 10.50.0.0/24 overlaps demoApplicationVpc 10.50.0.0/22"),
])
def test_bad_peering_is_one_line_naming_the_key(peering, expected):
    with pytest.raises(ConfigError) as raised:
        _load(peering)
    message = str(raised.value)
    assert message.startswith("config error: ") and expected in message and "\n" not in message


def test_peering_needs_hsms_and_the_command_line_can_leave_it_out():
    with pytest.raises(ConfigError, match=r"'hsmPeering' needs keyBackend 'cloudhsm'.*-c hsmPeering=null"):
        _load({"demoApplicationVpc": {"cidr": "10.41.0.0/22"}}, keyBackend="kms")
    overrides = command_line_overrides({"keyBackend": "kms", "hsmPeering": "null"}.get)
    assert load_config(CONTEXT, overrides).hsm_peering is None
