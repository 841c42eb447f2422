"""Scheduled health check: publish how many HSMs are ACTIVE and whether the key store is CONNECTED.

Neither CloudHSM nor KMS publishes these as CloudWatch metrics, so this function
turns DescribeClusters and DescribeCustomKeyStores into two metrics that alarms
can watch. An alarm also fires when the metrics stop arriving (missing data is
breaching), so a broken checker is noticed too.
"""

from __future__ import annotations

import json
import os

import boto3
from botocore.config import Config

_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})


def measure(cloudhsm, kms, cluster_id: str, custom_key_store_id: str) -> dict:
    """The figures the alarms watch, from one DescribeClusters and one DescribeCustomKeyStores call."""
    clusters = cloudhsm.describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"]
    hsms = clusters[0].get("Hsms", []) if clusters else []
    active = [hsm for hsm in hsms if hsm.get("State") == "ACTIVE"]
    stores = kms.describe_custom_key_stores(CustomKeyStoreId=custom_key_store_id)["CustomKeyStores"]
    state = stores[0].get("ConnectionState", "UNKNOWN") if stores else "MISSING"
    return {
        "ActiveHsmCount": len(active),
        "ActiveHsmAvailabilityZones": len({hsm.get("AvailabilityZone") for hsm in active}),
        "KeyStoreConnected": 1 if state == "CONNECTED" else 0,
        "ConnectionState": state,
        "ConnectionErrorCode": stores[0].get("ConnectionErrorCode") if stores else None,
    }


def publish(cloudwatch, namespace: str, cluster_id: str, custom_key_store_id: str, figures: dict) -> None:
    dimensions = [{"Name": "ClusterId", "Value": cluster_id}, {"Name": "CustomKeyStoreId", "Value": custom_key_store_id}]
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": name, "Dimensions": dimensions, "Value": figures[name], "Unit": "Count"}
        for name in ("ActiveHsmCount", "ActiveHsmAvailabilityZones", "KeyStoreConnected")
    ])


def handler(event, context):
    cluster_id = os.environ["CLUSTER_ID"]
    store_id = os.environ["CUSTOM_KEY_STORE_ID"]
    figures = measure(boto3.client("cloudhsmv2", config=_RETRIES), boto3.client("kms", config=_RETRIES), cluster_id, store_id)
    publish(boto3.client("cloudwatch", config=_RETRIES), os.environ["METRIC_NAMESPACE"], cluster_id, store_id, figures)
    print(json.dumps({"event": "key_store_health", "cluster_id": cluster_id, "custom_key_store_id": store_id, **figures}))
    return figures
