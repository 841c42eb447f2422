"""Config validation: every kind of bad value stops the app with one line naming the key."""

import json
import os
import subprocess
import sys

import pytest

from stacks.config import ConfigError, load_config
from tests.conftest import ROOT

CONTEXT = json.loads((ROOT / "cdk.json").read_text())["context"]


def _load(**settings):
    return load_config({**CONTEXT, "environment": "x", "environments": {"x": settings}})


@pytest.mark.parametrize("key,value,expected", [
    ("name", "Bad_Name", "'name'"),
    ("account", "12345", "12-digit"),
    ("region", "europe", "region code"),
    ("availabilityZones", ["eu-west-1a"], "at least 2"),
    ("availabilityZones", ["eu-west-1a", "eu-west-1a"], "distinct"),
    ("availabilityZones", ["eu-west-1a", "us-east-1b"], "region 'eu-west-1'"),
    ("vpcCidr", "10.0.0.0/8", "/16 to /22"),
    ("vpcCidr", "8.8.8.0/24", "private"),
    ("vpcCidr", "not-a-cidr", "IPv4 network"),
    ("keyBackend", "hsm", "cloudhsm | kms"),
    ("bucketEncryption", "sse-s3", "sse-kms | sse-c"),
    ("hsmType", "hsm3.large", "allowed: hsm2m.medium"),
    ("hsmType", "hsm1.medium", "CloudHSM no longer creates clusters of this type; allowed: hsm2m.medium"),
    ("hsmCount", 1, "from 2 to 28"),
    ("hsmCount", "3", "from 2 to 28"),
    ("hsmCount", True, "from 2 to 28"),
    ("hsmCount", 7, "more than the account's CloudHSM quota of 6 HSMs per Region ('hsmQuotaPerRegion')"),
    ("hsmQuotaPerRegion", 0, "from 2 to 1000"),
    ("backupRetentionDays", 400, "from 7 to 379"),
    ("caMode", "self", "managed | external"),
    ("breakGlassPrincipals", "arn:aws:iam::111122223333:role/X", "a non-empty list of IAM role or user ARNs"),
    ("breakGlassPrincipals", [], "a non-empty list"),
    ("keyAdministrators", [], "a non-empty list"),
    ("breakGlassPrincipals", ["arn:aws:iam::999999999999:role/Other"], "of account 111122223333"),
    ("keyAdministrators", ["*"], "IAM role or user ARNs"),
    ("clientPackageS3Uri", "https://example.com/cloudhsm.rpm", "S3 URI"),
    ("clientInstanceType", "big", "EC2 instance type"),
    ("logRetentionDays", 42, "retention periods"),
    ("keyDeletionWindowDays", 3, "from 7 to 30"),
    ("alarmEmail", "not-an-email", "e-mail"),
    ("keyStoreName", "two words", "a KMS custom key store name"),
])
def test_bad_value_names_the_key_and_what_is_allowed(key, value, expected):
    with pytest.raises(ConfigError) as raised:
        _load(**{key: value})
    message = str(raised.value)
    assert f"'{key}'" in message and expected in message and "\n" not in message


def test_a_raised_hsm_quota_admits_more_hsms():
    assert _load(hsmCount=8, hsmQuotaPerRegion=10).hsm_count == 8


def test_environments_of_one_account_and_region_need_their_own_names():
    """The name names the stacks, buckets and aliases: two environments sharing it in one account and
    Region would update each other (the rehearsal's side-by-side scenario deploys all three)."""
    names = {environment: load_config({**CONTEXT, "environment": environment}).stack_prefix
             for environment in CONTEXT["environments"]}
    assert len(set(names.values())) == len(names), names
    clash = {**CONTEXT, "environments": {**CONTEXT["environments"], "copy": {"keyBackend": "kms"}}}
    with pytest.raises(ConfigError) as raised:
        load_config({**clash, "environment": "copy"})
    assert str(raised.value).startswith("config error: environments 'copy' and 'reference' share account "
                                        "111122223333, region eu-west-1 and 'name' = 'customer-keys'")
    elsewhere = {**CONTEXT, "environments": {**CONTEXT["environments"], "copy": {"region": "eu-central-1",
                 "availabilityZones": ["eu-central-1a", "eu-central-1b"]}}}
    assert load_config({**elsewhere, "environment": "copy"}).name == "customer-keys"


def test_unknown_setting_is_rejected_not_ignored():
    with pytest.raises(ConfigError, match="unknown setting 'hsmcount'"):
        _load(hsmcount=3)


def test_unknown_environment_lists_the_known_ones():
    with pytest.raises(ConfigError, match="reference | dev-kms | sse-c"):
        load_config({**CONTEXT, "environment": "prod"})


def test_missing_setting_is_named():
    defaults = {k: v for k, v in CONTEXT["defaults"].items() if k != "vpcCidr"}
    with pytest.raises(ConfigError, match="'vpcCidr' is missing"):
        load_config({**CONTEXT, "defaults": defaults})


def test_default_config_is_valid_and_complete():
    config = load_config(CONTEXT)
    assert config.uses_cloudhsm and config.bucket_encryption == "sse-kms"
    assert config.hsm_count == 3 and len(set(config.hsm_placement)) == 3


def test_app_exits_2_with_one_line_on_a_bad_setting():
    context = {**CONTEXT, "environment": "nope"}
    environment = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": "/tmp/cmk-never-written"}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("config error: 'environment' = 'nope'")
    assert "Traceback" not in result.stderr


def test_unreadable_cdk_json_is_one_line(tmp_path, monkeypatch):
    import app
    broken = tmp_path / "cdk.json"
    broken.write_text("{ not json")
    monkeypatch.setattr(app, "CDK_JSON", broken)
    with pytest.raises(ConfigError, match=r"^config error: cannot read cdk.json: Expecting property name"):
        app.build_app()


def test_settings_on_the_command_line_override_cdk_json():
    from stacks.config import command_line_overrides
    cli = {"hsmCount": "4", "availabilityZones": '["eu-west-1a", "eu-west-1b"]', "alarmEmail": "null",
           "region": "eu-west-1", "name": "team-keys"}
    overrides = command_line_overrides(cli.get)
    assert overrides == {"hsmCount": 4, "availabilityZones": ["eu-west-1a", "eu-west-1b"], "alarmEmail": None,
                         "region": "eu-west-1", "name": "team-keys"}
    config = load_config(CONTEXT, overrides)
    assert config.hsm_count == 4 and config.hsm_placement == ("eu-west-1a", "eu-west-1b", "eu-west-1a", "eu-west-1b")


def test_a_bad_command_line_setting_is_named():
    from stacks.config import command_line_overrides
    with pytest.raises(ConfigError, match="'hsmCount' = 'four'"):
        load_config(CONTEXT, command_line_overrides({"hsmCount": "four"}.get))


def test_command_line_settings_reach_the_app(tmp_path):
    import app
    built = app.build_app({"hsmCount": "4", "keyBackend": "cloudhsm"}, outdir=str(tmp_path), nag=False)
    fleet = built.node.find_child("CustomerKeys-Hsm").node.find_child("HsmFleet")
    assert sorted(child.node.id for child in fleet.node.children if child.node.id.startswith("Hsm")) == ["Hsm1", "Hsm2", "Hsm3"]


@pytest.mark.parametrize("value", ["nope", "0", 3])
def test_cdk_nag_switch_accepts_only_true_or_false(value, tmp_path):
    import app
    with pytest.raises(ConfigError, match="'cdkNag'.*allowed: true | false"):
        app.build_app({"cdkNag": value}, outdir=str(tmp_path))


def test_cdk_nag_switch_reads_the_command_lines_text(tmp_path):
    import app
    assert app._flag("false", "cdkNag", default=True) is False
    assert app._flag("TRUE", "cdkNag", default=False) is True
    assert app._flag(None, "cdkNag", default=True) is True


# --- analytics (the optional Redshift warehouse) ---------------------------------------------------

WAREHOUSE = {"nodeType": "ra3.large", "numberOfNodes": 2, "databaseName": "analytics", "dataPrefix": "warehouse/"}


@pytest.mark.parametrize("value,key,expected", [
    ("yes", "analytics", "null or an object"),
    ({**WAREHOUSE, "publiclyAccessible": True}, "analytics.publiclyAccessible", "unknown setting"),
    ({k: v for k, v in WAREHOUSE.items() if k != "dataPrefix"}, "analytics.dataPrefix", "is missing"),
    ({**WAREHOUSE, "nodeType": "dc2.large"}, "analytics.nodeType", "ra3.large | ra3.xlplus"),
    ({**WAREHOUSE, "numberOfNodes": 0}, "analytics.numberOfNodes", "from 1 to 128"),
    ({**WAREHOUSE, "databaseName": "1st"}, "analytics.databaseName", "not starting with a digit"),
    ({**WAREHOUSE, "dataPrefix": "/"}, "analytics.dataPrefix", "S3 key prefix"),
    ({**WAREHOUSE, "dataPrefix": "a/b/"}, "analytics.dataPrefix", "one folder"),
])
def test_bad_analytics_value_names_the_key(value, key, expected):
    with pytest.raises(ConfigError) as raised:
        _load(analytics=value)
    message = str(raised.value)
    assert f"'{key}'" in message and expected in message and "\n" not in message


def test_analytics_is_off_in_reference_and_on_in_the_analytics_environment():
    assert load_config({**CONTEXT, "environment": "reference"}).analytics is None
    analytics = load_config({**CONTEXT, "environment": "analytics"})
    assert analytics.analytics is not None and analytics.analytics.data_prefix == "warehouse/"
    reference = load_config({**CONTEXT, "environment": "reference"})
    # otherwise like reference: only the name (it must differ in one account and Region) and the warehouse
    assert {field: value for field, value in vars(analytics).items() if getattr(reference, field) != value} == \
        {"environment": "analytics", "name": "customer-keys-dwh", "analytics": analytics.analytics}


def test_analytics_object_can_be_given_on_the_command_line(tmp_path):
    from app import build_app
    app = build_app({"analytics": json.dumps(WAREHOUSE)}, outdir=str(tmp_path), nag=False)
    assert any(stack.node.id.endswith("-Analytics") for stack in app.node.children)
