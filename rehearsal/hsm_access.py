"""After each deploy and update: clients in each peered application VPC reach the HSMs on the HSM
ports, and only there.

For every active peering connection with a VPC that holds HSMs, every subnet of the other VPC gets a
probe interface in each of that VPC's security groups the cluster's group admits (the HSM clients),
and one in a group of its own that allows all outbound traffic and is admitted nowhere (any other host
of the application VPC: a new security group's default, Amazon VPC User Guide, "Security group rules"). Each must reach, or not reach, every HSM's ENI
as the architecture promises (rehearsal.reachability decides from the deployed route tables, peering
connections and security groups):
- a client reaches each HSM on TCP 2223-2225 (cloudhsm-cli and the client SDK; AWS CloudHSM User
  Guide, "Review cluster security group");
- a client reaches no HSM on any other port tried (SSH, HTTPS, the neighbours of the range);
- any other host reaches no HSM on any port tried: HSM access is by security group, not by address.
The probe interfaces and the other host's group are deleted afterwards. An application VPC outside the deployment (given by id)
cannot be probed here; a real account must be checked by its owner.
"""

from __future__ import annotations

from rehearsal.data_path import DataPathFailed
from rehearsal.reachability import Interface, interface, reaches

HSM_PORTS = (2223, 2224, 2225)
OTHER_PORTS = (22, 443, 2222, 2226)


class HsmAccessFailed(DataPathFailed):
    """A peered client cannot reach the HSMs, or reaches them where it must not."""


def probe(cloud) -> list[str]:
    ec2, cloudhsm = cloud.client("ec2"), cloud.client("cloudhsmv2")
    clusters = [cluster for cluster in cloudhsm.describe_clusters()["Clusters"]
                if cluster.get("VpcId") and cluster.get("Hsms")]
    lines = []
    for cluster in clusters:
        connections = ec2.describe_vpc_peering_connections(Filters=[
            {"Name": "status-code", "Values": ["active"]}])["VpcPeeringConnections"]
        for connection in connections:
            ends = (connection["RequesterVpcInfo"]["VpcId"], connection["AccepterVpcInfo"]["VpcId"])
            if cluster["VpcId"] not in ends:
                continue
            peer = ends[1] if ends[0] == cluster["VpcId"] else ends[0]
            lines.append(_probe_peer(ec2, cluster, peer, connection["VpcPeeringConnectionId"]))
    return lines


def _probe_peer(ec2, cluster: dict, peer_vpc: str, connection_id: str) -> str:
    hsms = [interface(ec2, hsm["EniId"]) for hsm in cluster["Hsms"] if hsm.get("State") == "ACTIVE"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [peer_vpc]}])["SecurityGroups"]
    admitted = _admitted_groups(ec2, cluster["SecurityGroup"])
    clients = [group["GroupId"] for group in groups if group["GroupId"] in admitted]
    if not clients:
        raise HsmAccessFailed(f"HSM access over {connection_id}: no security group of {peer_vpc} is admitted by "
                              f"the cluster's group {cluster['SecurityGroup']}")
    subnets = [subnet["SubnetId"] for subnet in ec2.describe_subnets(
        Filters=[{"Name": "vpc-id", "Values": [peer_vpc]}])["Subnets"]]
    for subnet in subnets:
        for group in clients:
            with _probe_interface(ec2, subnet, group) as client:
                for hsm in hsms:
                    for port in HSM_PORTS:
                        verdict = reaches(ec2, client, hsm, port)
                        if not verdict.reachable:
                            raise HsmAccessFailed(f"HSM access over {connection_id}: a client in {subnet} ({group}) "
                                                  f"cannot reach HSM {hsm.address} on {port}: {verdict.reason}")
                    for port in OTHER_PORTS:
                        if reaches(ec2, client, hsm, port).reachable:
                            raise HsmAccessFailed(f"HSM access over {connection_id}: a client in {subnet} ({group}) "
                                                  f"reaches HSM {hsm.address} on port {port}, outside 2223-2225")
        with _other_host_group(ec2, peer_vpc) as other, _probe_interface(ec2, subnet, other) as outsider:
            for hsm in hsms:
                for port in HSM_PORTS + OTHER_PORTS:
                    if reaches(ec2, outsider, hsm, port).reachable:
                        raise HsmAccessFailed(f"HSM access over {connection_id}: a host in {subnet} outside the "
                                              f"client groups reaches HSM {hsm.address} on port {port}")
    return (f"HSM access: from {peer_vpc} over {connection_id}, clients in {len(subnets)} subnet(s) reach "
            f"{len(hsms)} HSM(s) on TCP 2223-2225 and on no other port tried; other hosts reach none")


def _admitted_groups(ec2, cluster_group: str) -> set[str]:
    (group,) = ec2.describe_security_groups(GroupIds=[cluster_group])["SecurityGroups"]
    return {pair["GroupId"] for permission in group.get("IpPermissions") or []
            for pair in permission.get("UserIdGroupPairs") or []}


class _other_host_group:
    """A security group as EC2 makes it (all outbound traffic allowed, no inbound rule), for the probe."""

    def __init__(self, ec2, vpc: str) -> None:
        self.ec2, self.vpc = ec2, vpc

    def __enter__(self) -> str:
        self.id = self.ec2.create_security_group(GroupName="rehearsal-other-host", VpcId=self.vpc,
                                                 Description="rehearsal: a host that is not an HSM client")["GroupId"]
        return self.id

    def __exit__(self, *_) -> None:
        self.ec2.delete_security_group(GroupId=self.id)


class _probe_interface:
    """A network interface in `subnet` and `group` for the time of the probe."""

    def __init__(self, ec2, subnet: str, group: str) -> None:
        self.ec2, self.subnet, self.group = ec2, subnet, group

    def __enter__(self) -> Interface:
        created = self.ec2.create_network_interface(SubnetId=self.subnet, Groups=[self.group],
                                                    Description="rehearsal HSM access probe")["NetworkInterface"]
        self.id = created["NetworkInterfaceId"]
        return interface(self.ec2, self.id)

    def __exit__(self, *_) -> None:
        self.ec2.delete_network_interface(NetworkInterfaceId=self.id)
