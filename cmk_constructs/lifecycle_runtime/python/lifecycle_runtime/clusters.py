"""Reading a CloudHSM cluster, for every handler that waits on its state."""

from __future__ import annotations

from lifecycle_runtime.aws_clients import client
from lifecycle_runtime.errors import LifecycleError


def describe_cluster(cluster_id: str) -> dict:
    clusters = client("cloudhsmv2").describe_clusters(Filters={"clusterIds": [cluster_id]})["Clusters"]
    if not clusters:
        raise LifecycleError(f"cluster {cluster_id} not found in this account and region")
    return clusters[0]
