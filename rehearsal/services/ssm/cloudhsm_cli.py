"""cloudhsm-cli in single command mode (`cloudhsm-cli <command> [options]`), answered from the
modelled cluster for the stand-in host's thin client (host_tools).

As the CloudHSM User Guide documents it:
- "Command modes in CloudHSM CLI": in single command mode CLOUDHSM_ROLE and
  CLOUDHSM_PIN=<username>:<password> log in for the one command; a new password is typed at
  "Enter password:" and "Confirm password:" (the prompts are the client's, host_tools); output is
  JSON, {"error_code": 0, "data": ...}. A failure here has the same shape with error_code 1 and the
  model's own words in data.
- "Activate the cluster": the CLI trusts the HSMs with the cluster's trust anchor in
  /opt/cloudhsm/etc/customerCA.crt; before activation `user list` shows admin as unactivated-admin;
  `cluster activate` sets the admin's password and answers "Cluster activation successful".
- "List all AWS CloudHSM users with CloudHSM CLI": no login; each user's username, role, locked,
  mfa and cluster-coverage.
- "Create an AWS CloudHSM user with CloudHSM CLI": admins only; a username of up to 31 characters,
  underscore the only special character, not case sensitive and shown in lowercase.
- "Change a user's password with CloudHSM CLI": an admin may change another user's password, not
  that of a user who is logged in (KMS stays logged in as kmsuser while a store is connected).
- "login": lock-out after failed logins (rehearsal.services.cloudhsm.models.log_in).

The CLI connects to the addresses configure-cli wrote; the cluster it reaches is the one with an
ACTIVE HSM there.
"""

from __future__ import annotations

import json
import re
from typing import Callable

from moto.cloudhsmv2.models import cloudhsmv2_backends

from rehearsal.services.cloudhsm.models import activate, create_user, log_in, model_of, set_password

ROLES = ("admin", "crypto-user")
USERNAME = re.compile(r"[a-z0-9_]{1,31}")
# Cluster states in which the HSMs hold the certificate issued at initialisation.
REACHABLE = ("INITIALIZED", "ACTIVE", "DEGRADED", "UPDATE_IN_PROGRESS")
PORTS = "2223-2225"


class Refused(Exception):
    """The command fails with this in "data"."""


def _output(error_code: int, data) -> str:
    return json.dumps({"error_code": error_code, "data": data}, indent=2) + "\n"


def _cluster(account: str, region: str, request: dict):
    """The cluster the CLI reaches with its configuration and trust anchor."""
    if not request.get("configuration"):
        raise Refused("no HSM address is configured: run configure-cli -a <HSM IP address>")
    addresses = [server["hostname"] for server in json.loads(request["configuration"])["servers"]]
    reached = [cluster for cluster in cloudhsmv2_backends[account][region].clusters.values()
               if any(hsm.eni_ip in addresses for hsm in model_of(cluster).active_hsms())]
    if not reached:
        raise Refused(f"no ACTIVE HSM answers at {', '.join(addresses)}:{PORTS}")
    cluster = reached[0]
    if cluster.state not in REACHABLE:
        raise Refused(f"TLS handshake failed: cluster {cluster.cluster_id} is {cluster.state}; its HSMs have no "
                      "certificate from a trust anchor yet")
    anchor = request.get("trust_anchor")
    if anchor is None:
        raise Refused("TLS handshake failed: no trust anchor at /opt/cloudhsm/etc/customerCA.crt")
    if anchor.strip() != model_of(cluster).trust_anchor_pem.strip():
        raise Refused("TLS handshake failed: customerCA.crt does not match the cluster's trust anchor")
    return cluster


def _activated(cluster) -> bool:
    return cluster.state != "INITIALIZED"


def _password(request: dict, options: dict) -> str:
    password = options.get("password") or request.get("password")
    if not password:
        raise Refused("no password given")
    return password


def _required(options: dict, name: str) -> str:
    if not options.get(name):
        raise Refused(f"the following required arguments were not provided: --{name}")
    return options[name]


def _username(options: dict) -> str:
    username = _required(options, "username").lower()
    if not USERNAME.fullmatch(username):
        raise Refused(f"invalid username {username!r}: up to 31 letters, digits or underscores")
    return username


def _role(options: dict) -> str:
    role = _required(options, "role")
    if role not in ROLES:
        raise Refused(f"invalid value {role!r} for --role: possible values are {', '.join(ROLES)}")
    return role


def _logged_in(cluster, request: dict) -> tuple[str, str]:
    """The user CLOUDHSM_ROLE and CLOUDHSM_PIN log in for this command: (username, role)."""
    environment = request.get("environment", {})
    role, pin = environment.get("CLOUDHSM_ROLE"), environment.get("CLOUDHSM_PIN", "")
    if not role or ":" not in pin:
        raise Refused("not logged in: single command mode logs in with CLOUDHSM_ROLE and "
                      "CLOUDHSM_PIN=<username>:<password>")
    username, password = pin.split(":", 1)
    return _log_in(cluster, username.lower(), role, password)


def _log_in(cluster, username: str, role: str, password: str) -> tuple[str, str]:
    if not _activated(cluster):
        raise Refused("login failed: the cluster is not activated; run cluster activate first")
    why = log_in(cluster, username, role, password)
    if why is not None:
        raise Refused(why)
    return username, role


def _user_list(account: str, region: str, cluster, request: dict, options: dict):
    model = model_of(cluster)
    users = [(name, user["role"], bool(user.get("locked_out")))
             for name, user in sorted(model.users.items(), key=lambda item: (item[0] != "admin", item[0]))] \
        if _activated(cluster) else [("admin", "unactivated-admin", False)]
    users.append(("app_user", "internal(APPLIANCE_USER)", False))
    return {"users": [{"username": name, "role": role, "locked": "true" if locked else "false", "mfa": [],
                       "cluster-coverage": "full"} for name, role, locked in users]}


def _cluster_activate(account: str, region: str, cluster, request: dict, options: dict):
    if _activated(cluster):
        raise Refused("the cluster is already activated")
    activate(cluster, _password(request, options))
    return "Cluster activation successful"


def _login(account: str, region: str, cluster, request: dict, options: dict):
    username, role = _log_in(cluster, _username(options), _role(options), _password(request, options))
    return {"username": username, "role": role}


def _user_create(account: str, region: str, cluster, request: dict, options: dict):
    _, role = _logged_in(cluster, request)
    if role != "admin":
        raise Refused("only an admin can create users")
    username, new_role = _username(options), _role(options)
    if username in model_of(cluster).users:
        raise Refused(f"user {username} already exists")
    create_user(cluster, username, new_role, _password(request, options))
    return {"username": username, "role": new_role}


def _user_change_password(account: str, region: str, cluster, request: dict, options: dict):
    from rehearsal.services.kms.models import kmsuser_logged_in

    actor, role = _logged_in(cluster, request)
    username, user_role = _username(options), _role(options)
    if actor != username and role != "admin":
        raise Refused("only an admin can change another user's password")
    model = model_of(cluster)
    if model.users.get(username, {}).get("role") != user_role:
        raise Refused(f"user {username} with role {user_role} not found")
    if username in model.logged_in or (username == "kmsuser" and kmsuser_logged_in(account, region, cluster.cluster_id)):
        raise Refused(f"cannot change the password of a user who is logged in: user {username} is logged in")
    set_password(cluster, username, _password(request, options))
    return {"username": username, "role": user_role}


# command words -> (what it does, the options it takes besides --cluster-id)
COMMANDS: dict[tuple[str, ...], tuple[Callable, set[str]]] = {
    ("cluster", "activate"): (_cluster_activate, {"password"}),
    ("user", "list"): (_user_list, set()),
    ("user", "create"): (_user_create, {"username", "role", "password"}),
    ("user", "change-password"): (_user_change_password, {"username", "role", "password"}),
    ("login",): (_login, {"username", "role", "password"}),
}


def _parse(args: list[str]) -> tuple[Callable, dict]:
    size = 1 if args[:1] == ["login"] else 2
    words, args = tuple(args[:size]), args[size:]
    if words not in COMMANDS:
        raise Refused("the stand-in host's cloudhsm-cli runs single command mode only: cluster activate, user list, "
                      "user create, user change-password, login")
    run, takes = COMMANDS[words]
    options: dict[str, str] = {}
    while args:
        name = args.pop(0)
        if not name.startswith("--") or name[2:] not in takes | {"cluster-id"} or not args:
            raise Refused(f"unexpected argument {name!r}")
        options[name[2:]] = args.pop(0)
    return run, options


def answer(account: str, region: str, request: dict) -> tuple[str, int, set[str]]:
    """(stdout, exit status, the passwords the command was given)."""
    given = {value for value in (request.get("password"), request.get("environment", {}).get("CLOUDHSM_PIN", "")
                                 .partition(":")[2]) if value}
    try:
        if request.get("refused"):
            raise Refused(request["refused"])
        run, options = _parse(list(request["argv"][1:]))
        given |= {options["password"]} if options.get("password") else set()
        data = run(account, region, _cluster(account, region, request), request, options)
    except Refused as refused:
        return _output(1, str(refused)), 1, given
    return _output(0, data), 0, given
