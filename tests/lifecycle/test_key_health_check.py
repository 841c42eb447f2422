"""The scheduled key-store health check against the model, publishing to moto's CloudWatch."""

from __future__ import annotations

import datetime

import boto3
import pytest
from moto.cloudhsmv2.models import cloudhsmv2_backends

from tests.lifecycle.conftest import deployed
from rehearsal.services import cloudhsm as cloudhsm_model
from tests.support.handlers import load_handler

NAMESPACE = "CustomerKeys/KeyStoreHealth"


@pytest.fixture
def check(world, monkeypatch):
    deployed(world, "key_store")
    monkeypatch.setenv("METRIC_NAMESPACE", NAMESPACE)
    monkeypatch.setenv("CLUSTER_ID", world.cluster_id)
    monkeypatch.setenv("CUSTOM_KEY_STORE_ID", world.key_store.attributes["CustomKeyStoreId"])
    return load_handler("key_health_check").handler


def _published(name: str) -> list[float]:
    cloudwatch = boto3.client("cloudwatch", region_name="eu-west-1")
    metrics = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=name)["Metrics"]
    assert metrics and {d["Name"] for d in metrics[0]["Dimensions"]} == {"ClusterId", "CustomKeyStoreId"}
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName=name, Dimensions=metrics[0]["Dimensions"],
                                              StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1),
                                              Period=300, Statistics=["Minimum"])["Datapoints"]
    return [point["Minimum"] for point in points]


def test_healthy_store_publishes_two_hsms_and_connected(check):
    figures = check({}, None)
    assert figures["ActiveHsmCount"] == 2 and figures["ActiveHsmAvailabilityZones"] == 2
    assert figures["KeyStoreConnected"] == 1 and figures["ConnectionState"] == "CONNECTED"
    assert _published("ActiveHsmCount") == [2.0] and _published("KeyStoreConnected") == [1.0]


def test_a_failed_hsm_and_a_disconnected_store_are_what_the_alarms_see(world, check):
    backend = cloudhsmv2_backends["123456789012"]["eu-west-1"]
    cloudhsm_model.replace_failed_hsm(backend, world.cluster_id, world.fleet[0].attributes["HsmId"])
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=world.key_store.attributes["CustomKeyStoreId"])
    figures = check({}, None)
    assert figures["ActiveHsmCount"] == 1 and figures["KeyStoreConnected"] == 0
    assert figures["ConnectionState"] == "DISCONNECTING"
