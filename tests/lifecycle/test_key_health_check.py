"""The scheduled key-store health check against the model, publishing to moto's CloudWatch."""

from __future__ import annotations

import datetime

import boto3
import pytest
from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal.services import cloudhsm as cloudhsm_model
from tests.lifecycle.conftest import deployed
from tests.support.world import ACCOUNT, REGION


@pytest.fixture
def function(world):
    """The deployed health-check function (its code from the asset, its environment from the template)."""
    deployed(world, "data_key")
    (found,) = [function for function in world.cloud.functions() if "METRIC_NAMESPACE" in function.environment]
    assert found.environment["CLUSTER_ID"] == world.cluster_id
    assert found.environment["CUSTOM_KEY_STORE_ID"] == world.key_store.attributes["CustomKeyStoreId"]
    return found


@pytest.fixture
def check(function):
    return lambda event, context: function.invoke(event)


def _published(function, name: str) -> list[float]:
    namespace = function.environment["METRIC_NAMESPACE"]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    metrics = cloudwatch.list_metrics(Namespace=namespace, MetricName=name)["Metrics"]
    assert metrics and {d["Name"] for d in metrics[0]["Dimensions"]} == {"ClusterId", "CustomKeyStoreId"}
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cloudwatch.get_metric_statistics(Namespace=namespace, MetricName=name, Dimensions=metrics[0]["Dimensions"],
                                              StartTime=now - datetime.timedelta(hours=1), EndTime=now + datetime.timedelta(hours=1),
                                              Period=300, Statistics=["Minimum"])["Datapoints"]
    return [point["Minimum"] for point in points]


def test_healthy_store_publishes_two_hsms_and_connected(check, function):
    figures = check({}, None)
    assert figures["ActiveHsmCount"] == 2 and figures["ActiveHsmAvailabilityZones"] == 2
    assert figures["KeyStoreConnected"] == 1 and figures["ConnectionState"] == "CONNECTED"
    assert _published(function, "ActiveHsmCount") == [2.0] and _published(function, "KeyStoreConnected") == [1.0]


def test_a_failed_hsm_and_a_disconnected_store_are_what_the_alarms_see(world, check):
    backend = cloudhsmv2_backends[ACCOUNT][REGION]
    cloudhsm_model.replace_failed_hsm(backend, world.cluster_id, world.fleet[0].attributes["HsmId"])
    world.kms.disconnect_custom_key_store(CustomKeyStoreId=world.key_store.attributes["CustomKeyStoreId"])
    figures = check({}, None)
    assert figures["ActiveHsmCount"] == 1 and figures["KeyStoreConnected"] == 0
    assert figures["ConnectionState"] == "DISCONNECTING"
