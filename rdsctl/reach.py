"""The doctor's checks of the way to the database: the instance's state, the endpoint's name,
a TCP connection; and, from the instance's security groups, why a connection failed.

A TCP connection that works wins: what the rules say is then at most a note (a managed prefix
list, a group reference or a route this code cannot see may let this machine in).
"""

import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import click

from app.aws import AWSError, client
from rdsctl.aws import aws_call
from rdsctl.checks import Echo, Failure, note
from rdsctl.rules import lookup_address
from rdsctl.target import Target

UNREACHABLE = {
    "stopped": "aws rds start-db-instance --db-instance-identifier {id} (it takes minutes)",
    "stopping": "wait until it has stopped, then start it again",
    "creating": "wait until it is available (make rds-create waits)",
    "starting": "wait until it is available: a start takes a few minutes",
    "rebooting": "wait until it is available again",
    "deleting": "it is being deleted: pick another instance",
    "failed": "see the instance's events: aws rds describe-events --source-identifier {id}",
    "storage-full": "raise its storage: aws rds modify-db-instance --allocated-storage ...",
}
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def step_instance(instance: dict[str, Any]) -> str:
    identifier = instance.get("DBInstanceIdentifier", "?")
    status = str(instance.get("DBInstanceStatus", "?"))
    if status in UNREACHABLE or status.startswith(("incompatible-", "inaccessible-")):
        fix = UNREACHABLE.get(status, "see the RDS console's events for the instance")
        raise Failure("instance", f"{identifier} is {status}", fix.format(id=identifier))
    public = "publicly accessible" if instance.get("PubliclyAccessible") else "private"
    return f"{identifier} {status}, {public}"


def step_resolve(target: Target) -> list[str]:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Failure(
            "name resolution",
            f"{target.host!r} does not resolve ({exc.strerror})",
            "check the endpoint (RDS console, Connectivity & security: Endpoint); an instance "
            "still being created has none yet",
        ) from None
    return sorted({str(info[4][0]) for info in infos})


def note_private(echo: Echo, instance: dict[str, Any], addresses: list[str]) -> None:
    """A private instance's endpoint resolves to a VPC address: say so before TCP times out."""
    private = all(ipaddress.ip_address(a).is_private for a in addresses if a)
    if private and not instance.get("PubliclyAccessible"):
        note(
            echo,
            "network",
            "not publicly accessible: its endpoint is a VPC address, "
            "reachable from inside the VPC only (a VPN, a bastion, or make it public)",
        )


def step_tcp(target: Target) -> str:
    """A TCP connection, timed; the fix differs for the local db and a remote one."""
    start = time.monotonic()
    try:
        with socket.create_connection((target.host, target.port), timeout=target.connect_timeout):
            pass
    except OSError as exc:
        if isinstance(exc, TimeoutError | socket.timeout):
            cause = f"no answer from {target.host}:{target.port} in {target.connect_timeout:.0f}s"
        else:
            reason = exc.strerror or exc.__class__.__name__
            cause = f"cannot connect to {target.host}:{target.port} ({reason})"
        fix = (
            "start the local db with make up (it is published on MYSQL_PORT), or set DB_HOST or "
            "DATABASE_URL to check another database"
            if target.local
            else f"allow inbound TCP {target.port} from this machine's address in the instance's "
            "security group (make rds-allow-my-ip), and set the instance to 'Publicly "
            "accessible' to reach it from outside its VPC"
        )
        raise Failure("TCP connect", cause, fix) from None
    return f"{target.host}:{target.port} in {(time.monotonic() - start) * 1000:.0f} ms"


@dataclass
class Inbound:
    """What an instance's security groups let in on its port."""

    networks: list[Network] = field(default_factory=list)  # ranges, and prefix lists read
    groups: list[str] = field(default_factory=list)  # members of these security groups
    unread: list[str] = field(default_factory=list)  # prefix lists that could not be read

    def covers(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def shown(self) -> str:
        parts = [str(n) for n in self.networks[:5]] + [f"members of {g}" for g in self.groups]
        parts += [f"prefix list {p} (not readable)" for p in self.unread]
        return ", ".join(parts) or "nothing"


def inbound(instance: dict[str, Any], port: int) -> Inbound:
    """The instance's security groups' inbound rules on TCP `port`: address ranges, managed
    prefix lists (their entries read) and references to other groups."""
    groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
    found = Inbound()
    if not groups:
        return found
    arn = str(instance.get("DBInstanceArn", ""))  # arn:aws:rds:REGION:ACCOUNT:db:NAME
    ec2 = client("ec2", arn.split(":")[3] if arn.count(":") >= 5 else None)
    with aws_call("read the instance's security groups"):
        described = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]
    for rule in (r for g in described for r in g.get("IpPermissions", []) if opens(r, port)):
        found.networks += [
            ipaddress.ip_network(e["CidrIp"], strict=False) for e in rule.get("IpRanges", [])
        ]
        found.networks += [
            ipaddress.ip_network(e["CidrIpv6"], strict=False) for e in rule.get("Ipv6Ranges", [])
        ]
        found.groups += [pair["GroupId"] for pair in rule.get("UserIdGroupPairs", [])]
        for prefix_list in rule.get("PrefixListIds", []):
            read_prefix_list(ec2, prefix_list["PrefixListId"], found)
    return found


def opens(rule: dict[str, Any], port: int) -> bool:
    protocol = str(rule.get("IpProtocol"))
    if protocol == "-1":
        return True
    return protocol in ("tcp", "6") and rule.get("FromPort", 0) <= port <= rule.get("ToPort", -1)


def read_prefix_list(ec2: Any, prefix_list: str, found: Inbound) -> None:
    try:
        with aws_call(f"read the managed prefix list {prefix_list}"):
            entries = ec2.get_managed_prefix_list_entries(PrefixListId=prefix_list)["Entries"]
    except AWSError:
        found.unread.append(prefix_list)
        return
    found.networks += [ipaddress.ip_network(e["Cidr"], strict=False) for e in entries]


def public_address(given: str | None) -> Address | None:
    """This machine's public address: MY_IP, else asked of checkip straight, never through a
    proxy (which would see its own); None when it cannot be had."""
    try:
        address = given or lookup_address(refuse_behind_proxy=False)[0]
        return ipaddress.ip_address(address.split("/")[0])
    except (click.ClickException, ValueError):
        return None


def network_fix(instance: dict[str, Any], port: int, mine: Address | None) -> str | None:
    """After a failed TCP connection: what the instance's network settings say is wrong."""
    if not instance.get("PubliclyAccessible"):
        identifier = instance.get("DBInstanceIdentifier", "?")
        return (
            "the instance is not publicly accessible: connect from inside its VPC, or aws rds "
            f"modify-db-instance --db-instance-identifier {identifier} --publicly-accessible "
            "--apply-immediately (and allow only your address: make rds-allow-my-ip)"
        )
    try:
        allowed = inbound(instance, port)
    except AWSError:
        return None
    if not (allowed.networks or allowed.groups or allowed.unread):
        return f"no inbound rule of its security groups opens TCP {port}: make rds-allow-my-ip"
    if mine is None:
        return (
            f"its security groups allow TCP {port} from {allowed.shown()}: is this machine in one?"
        )
    if allowed.covers(mine):
        return (
            f"a security group rule covers {mine}; check the route from here (VPN, firewall, "
            "the subnet's network ACL)"
        )
    return (
        f"no security group rule covers {mine} (allowed: {allowed.shown()}): make rds-allow-my-ip"
    )


def rules_note(instance: dict[str, Any], port: int, mine: Address | None) -> str | None:
    """After a TCP connection that worked: a note when no rule read covers this machine."""
    if mine is None or not instance.get("PubliclyAccessible"):
        return None
    try:
        allowed = inbound(instance, port)
    except AWSError as exc:
        return f"its security groups not read ({exc.cause}); TCP connected all the same"
    if allowed.covers(mine):
        return None
    return (
        f"no rule read covers {mine} (allowed: {allowed.shown()}), yet TCP connected: "
        "another way in (a group reference, a prefix list, a VPN) lets it through"
    )
