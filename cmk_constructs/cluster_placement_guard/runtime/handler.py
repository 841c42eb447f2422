"""Custom::ClusterPlacementGuard: refuse a change of the cluster's placement before it happens.

The physical id is the placement that was last deployed successfully. CloudFormation sends an
Update both to apply a change and to roll one back, with the same shape; the physical id tells
them apart: a rollback (or a no-op) asks for exactly the deployed placement and passes, a change
asks for another one and is refused. A failed update keeps the old physical id, so the rollback
that follows the refusal succeeds.
"""

from __future__ import annotations

from lifecycle_runtime import events
from lifecycle_runtime.errors import LifecycleError, reported

# Property -> the cdk.json setting a user changes.
SETTINGS = {"AvailabilityZones": "availabilityZones", "VpcCidr": "vpcCidr", "HsmType": "hsmType"}


def placement(props) -> str:
    """The deployed placement as one readable line (AZ order matters: it decides each subnet's AZ)."""
    zones = events.required(props, "AvailabilityZones")
    return (f"{events.required(props, 'HsmType')} in {events.required(props, 'VpcCidr')} "
            f"over {','.join(zones)}")


def _refusal(old: dict, new: dict) -> str:
    changes = "; ".join(f"{setting} {old.get(prop)!r} -> {new.get(prop)!r}"
                        for prop, setting in SETTINGS.items() if old.get(prop) != new.get(prop))
    return (f"refused: this update would replace the CloudHSM cluster ({changes}): the new cluster would hold "
            f"none of the current cluster's keys, so data they encrypt could not be decrypted through the app. "
            f"Deploy with the current values, or destroy the app first (README, 'Changing where the cluster lives')")


def _create(event) -> dict:
    return {"PhysicalResourceId": placement(events.properties(event))}


def _update(event) -> dict:
    wanted = placement(events.properties(event))
    if wanted != event["PhysicalResourceId"]:
        raise LifecycleError(_refusal(events.old_properties(event), events.properties(event)))
    return {"PhysicalResourceId": wanted}


def _delete(event) -> dict:
    return {"PhysicalResourceId": event["PhysicalResourceId"]}


@reported("cluster placement check")
def on_event(event, context):
    return events.dispatch(event, create=_create, update=_update, delete=_delete)
