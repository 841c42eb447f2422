"""How long each AWS operation takes in the model, with where the figure comes from.

Values are typical, not worst case; the simulator's total is the deployment's
critical path under these figures.
"""

from __future__ import annotations

import random

MINUTE = 60.0

# AWS::CloudHSM::Cluster: "Creating a cluster can take several minutes" (AWS CloudHSM
# User Guide, "Create a cluster"); CREATE_IN_PROGRESS -> UNINITIALIZED.
CLUSTER_CREATE = 5 * MINUTE
# "It can take up to 15 minutes to create an HSM" (AWS CloudHSM User Guide, "Create an
# HSM"); public measurements report 10-15 minutes. CREATE_IN_PROGRESS -> ACTIVE.
HSM_CREATE = 12 * MINUTE
# The same sources as a range: a rehearsal that asks for spread (FAULTS.spread_hsm_creation)
# draws each HSM's time from it, most often near HSM_CREATE.
HSM_CREATE_RANGE = (10 * MINUTE, 15 * MINUTE)
# A slow HSM a rehearsal can arm (FAULTS.slow_hsm_creation): past the 40 minutes the HSM
# handlers wait (their Provider allows 45, less a 5-minute margin). An assumption: AWS
# publishes no upper bound, and capacity shortfalls are reported to take far longer than
# the typical figure.
HSM_CREATE_SLOW = 45 * MINUTE
# Deleting an HSM: a few minutes in public measurements (assumption: 4 minutes).
HSM_DELETE = 4 * MINUTE
# InitializeCluster: INITIALIZE_IN_PROGRESS -> INITIALIZED "can take several minutes"
# (AWS CloudHSM User Guide, "Initialize the cluster").
CLUSTER_INITIALIZE = 5 * MINUTE
# SSM Run Command delivery plus `cluster activate` and `user create` on the host:
# about a minute (assumption; the commands themselves take seconds).
ACTIVATION_COMMAND = 1 * MINUTE
# ConnectCustomKeyStore: "The connection process can take up to 20 minutes" (AWS KMS
# Developer Guide, "Connect and disconnect an AWS CloudHSM key store"); public reports
# 20-30 minutes. CONNECTING -> CONNECTED or FAILED.
KEY_STORE_CONNECT = 20 * MINUTE
# DisconnectCustomKeyStore: seconds to a minute (assumption).
KEY_STORE_DISCONNECT = 1 * MINUTE
# The SSM Agent on a new instance registers with Systems Manager after boot: a minute or two
# (assumption; the agent starts with the instance and retries until it reaches the endpoints).
SSM_AGENT_REGISTRATION = 2 * MINUTE
# One Lambda invocation of a handler (cold start + a few API calls).
HANDLER_INVOCATION = 2.0


def hsm_create_seconds(draw: random.Random) -> float:
    """One HSM's creation time from HSM_CREATE_RANGE, peaking at the typical HSM_CREATE (read when
    called, so a test that changes HSM_CREATE changes the peak)."""
    low, high = HSM_CREATE_RANGE
    return draw.triangular(low, high, min(max(HSM_CREATE, low), high))

# A provisioned Redshift cluster, CreateCluster -> available: "it can take several minutes" in the
# Redshift Getting Started Guide; 10 minutes is an assumption for a small RA3 cluster.
REDSHIFT_CLUSTER_CREATE = 10 * MINUTE
# DeleteCluster with a final snapshot: a few minutes (assumption).
REDSHIFT_CLUSTER_DELETE = 5 * MINUTE
