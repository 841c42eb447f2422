"""An EC2 host's first boot: cloud-init runs the instance's user data as root, with the instance
profile's credentials, from the instance's subnet.

What the rehearsal models of a user data script is what decides whether the host can do its job
and what only the account can break: its downloads from S3 (`aws s3 cp s3://... DEST`). Each is a
GetObject made as the instance profile's role over the subnet's route to S3 (the gateway endpoint
for an isolated subnet), authorised as S3 decides it (identity, bucket and endpoint policies). The
script's shell is read for plain `name="value"` assignments and `"$name"` expansions only. A failed
download stops the script (`set -e`), so nothing it would install afterwards is installed; the
packages a script installs (`dnf install` / `yum install` / `rpm -i` of a downloaded `.rpm`) are
marked installed when every download before them succeeded. Package repositories and the package
manager itself are not modelled: only a real host shows them.

After the user data, the host's SSM Agent registers with Systems Manager, which Run Command needs
(SendCommand answers InvalidInstanceId otherwise; SSM API Reference): it must reach the ssm,
ec2messages and ssmmessages endpoints from the instance's subnet (interface endpoints with private
DNS, or a route out; rehearsal/network.py) and the instance profile's role must allow the agent's
calls (Systems Manager User Guide, "Configure instance permissions required for Systems Manager").

The platform team's prerequisites (the objects the user data downloads from buckets that no stack
of the assembly creates, such as the CloudHSM client package) are staged in the offline account
before the deploy, and the timeline says so.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass, field
from typing import Iterable

from rehearsal import caller, durations
from rehearsal.clock import CLOCK

S3_COPY = re.compile(r"^\s*aws\s+s3\s+cp\s+(?P<args>.+)$")
ASSIGNMENT = re.compile(r'^\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)="(?P<value>[^"$`\\]*)"\s*$')
INSTALL = re.compile(r"^\s*(?:dnf|yum)\s+(?:-y\s+)?install\s+(?:-y\s+)?(?P<args>.+)$|^\s*rpm\s+-[iU]\w*\s+(?P<rpm>.+)$")
PREREQUISITE_BODY = b"(staged by the rehearsal: the object the platform team uploads before deploying)"


@dataclass(frozen=True)
class Download:
    bucket: str
    key: str
    destination: str


AGENT_ENDPOINTS = ("ssm", "ec2messages", "ssmmessages")
# The calls the agent makes to register and take commands (AmazonSSMManagedInstanceCore's core).
AGENT_CALLS = (("ssm", "UpdateInstanceInformation"), ("ec2messages", "GetMessages"),
               ("ssmmessages", "CreateControlChannel"))


@dataclass
class Boot:
    """What the first boot left on the host."""
    installed: set[str] = field(default_factory=set)
    failure: str | None = None
    agent_online_at: float | None = None   # None: the agent never registers (agent_problem says why)
    agent_problem: str | None = None

    def agent_online(self, now: float) -> bool:
        return self.agent_online_at is not None and now >= self.agent_online_at


def _expand(text: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda match: variables.get(match.group(1), match.group(0)), text)


def steps(script: str) -> Iterable[Download | str]:
    """The script's downloads (Download) and installed package names (str), in order."""
    variables: dict[str, str] = {}
    for line in script.splitlines():
        assignment = ASSIGNMENT.match(line)
        if assignment:
            variables[assignment.group("name")] = _expand(assignment.group("value"), variables)
            continue
        copy = S3_COPY.match(line)
        if copy:
            words = [_expand(word, variables) for word in shlex.split(copy.group("args"), comments=True)]
            positional = [word for index, word in enumerate(words)
                          if not word.startswith("--") and not (index and words[index - 1] in ("--region", "--profile"))]
            if len(positional) >= 2 and positional[0].startswith("s3://"):
                bucket, _, key = positional[0][len("s3://"):].partition("/")
                yield Download(bucket, key, positional[1])
            continue
        install = INSTALL.match(line)
        if install:
            words = shlex.split(_expand(install.group("args") or install.group("rpm"), variables), comments=True)
            for word in words:
                if not word.startswith("-"):
                    yield re.sub(r"(-\d.*)?\.rpm$", "", word.rsplit("/", 1)[-1])


def user_data_of(template_value) -> str | None:
    """The user data text of a resolved `UserData` property (the resolver keeps Fn::Base64's text)."""
    return template_value if isinstance(template_value, str) else None


def stage_prerequisites(cloud, assembly) -> None:
    """Put the objects the hosts' user data downloads, from buckets no stack creates, in the account
    (once: what the platform team uploaded stays there)."""
    from cmk_validate.model.resolver import Resolver

    created = {str(resource.get("Properties", {}).get("BucketName"))
               for _, _, resource in assembly.iter_resources("AWS::S3::Bucket")}
    s3 = cloud.client("s3")
    for stack, _, resource in assembly.iter_resources("AWS::EC2::Instance"):
        text = user_data_of(Resolver(assembly, stack).resolve((resource.get("Properties") or {}).get("UserData")))
        for step in steps(text or ""):
            if not isinstance(step, Download) or step.bucket in created:
                continue
            buckets = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
            if step.bucket in buckets and any(item["Key"] == step.key for item in s3.list_objects_v2(
                    Bucket=step.bucket, Prefix=step.key).get("Contents", [])):
                continue
            if step.bucket not in buckets:
                s3.create_bucket(Bucket=step.bucket, CreateBucketConfiguration={"LocationConstraint": cloud.region})
            s3.put_object(Bucket=step.bucket, Key=step.key, Body=PREREQUISITE_BODY)
            cloud.timeline.note(f"prerequisite staged as the platform team would upload it: s3://{step.bucket}/{step.key}")


def boot(cloud, instance_id: str, instance_profile: str | None) -> Boot:
    """Run the instance's user data as far as the model goes; the outcome stays on the instance."""
    ec2 = cloud.client("ec2")
    encoded = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData").get("UserData", {})
    script = base64.b64decode(encoded.get("Value") or "").decode("utf-8", "replace")
    subnet_id = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0].get("SubnetId")
    role_arn = None
    if instance_profile:
        roles = cloud.client("iam").get_instance_profile(InstanceProfileName=instance_profile)["InstanceProfile"]["Roles"]
        role_arn = roles[0]["Arn"] if roles else None
    outcome = Boot()
    for step in steps(script):
        if isinstance(step, str):
            outcome.installed.add(step)
            continue
        if role_arn is None:
            outcome.failure = "aws s3 cp: Unable to locate credentials (the instance has no instance profile role)"
            break
        try:
            with caller.acting_as(role_arn, instance_id, subnet_id):
                cloud.client("s3").get_object(Bucket=step.bucket, Key=step.key)
        except Exception as error:  # what `aws s3 cp` prints, after which `set -e` stops the script
            outcome.failure = f"aws s3 cp s3://{step.bucket}/{step.key}: {error}"
            break
    outcome.agent_problem = _agent_problem(cloud, role_arn, subnet_id, instance_id)
    if outcome.agent_problem is None:
        outcome.agent_online_at = CLOCK.now() + durations.SSM_AGENT_REGISTRATION
    record(cloud.account, cloud.region, instance_id, outcome)
    if outcome.failure:
        cloud.timeline.note(f"{instance_id}: user data stopped: {outcome.failure}")
    if outcome.agent_problem:
        cloud.timeline.note(f"{instance_id}: SSM Agent cannot register: {outcome.agent_problem}")
    return outcome


def _agent_problem(cloud, role_arn: str | None, subnet_id: str | None, instance_id: str) -> str | None:
    from rehearsal.authorization import check
    from rehearsal.network import reaches_service

    if role_arn is None:
        return "the instance has no instance profile role"
    if subnet_id is not None:
        unreachable = [name for name in AGENT_ENDPOINTS if not reaches_service(cloud.account, cloud.region, subnet_id, name)]
        if unreachable:
            return (f"no route from {subnet_id} to the {', '.join(unreachable)} endpoint(s) (an interface endpoint "
                    "with private DNS, or a NAT/internet route)")
    for service, operation in AGENT_CALLS:
        denied = check(service, operation, {}, caller.Caller(role_arn, instance_id, subnet_id), cloud.account, cloud.region)
        if denied is not None:
            return f"{denied.code}: {denied.message}"
    return None


def record(account: str, region: str, instance_id: str, outcome: Boot) -> None:
    from moto.ec2.models import ec2_backends
    ec2_backends[account][region].get_instance(instance_id).rehearsal_boot = outcome


def booted(account: str, region: str, instance_id: str) -> Boot | None:
    """The first boot's outcome, or None for an instance the rehearsal did not launch."""
    from moto.ec2.models import ec2_backends
    return getattr(ec2_backends[account][region].get_instance(instance_id), "rehearsal_boot", None)
