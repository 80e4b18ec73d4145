"""Where a development instance lives on the network: a security group of its own (never the
VPC's default, which other databases share), and inbound rules for exactly one address each.
"""

import getpass
import ipaddress
import os
import socket
import urllib.request
from datetime import UTC, datetime
from typing import Any

import click

from rdsctl.aws import aws_call

OWNER_TAG = "flask-rds-starter:instance"  # on every resource rds-create makes, = the instance
RULE_PREFIX = "flask-rds-starter"
# Asked in this order, straight (never through HTTP(S)_PROXY, which would answer its own
# address); each answers the address it sees, in plain text.
ADDRESS_SERVICES = ["https://checkip.amazonaws.com", "https://api64.ipify.org"]
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")


def choose_vpc(ec2: Any, given: str | None, subnet_group: dict[str, Any] | None = None) -> str:
    """The VPC the instance goes into: its subnet group's (RDS_SUBNET_GROUP), else the region's
    default VPC; RDS_VPC_ID must agree. The security group must be made in that same VPC."""
    if subnet_group:
        vpc = str(subnet_group["VpcId"])
        if given and given != vpc:
            raise click.ClickException(
                f"RDS_SUBNET_GROUP {subnet_group['DBSubnetGroupName']} is in {vpc}, not "
                f"RDS_VPC_ID={given}\n  fix: unset RDS_VPC_ID, or name a subnet group in {given}"
            )
        return vpc
    if given:
        raise click.ClickException(
            f"RDS_VPC_ID={given} needs a DB subnet group in that VPC: without one RDS uses the "
            "default VPC\n  fix: set RDS_SUBNET_GROUP (aws rds describe-db-subnet-groups)"
        )
    with aws_call("find the default VPC"):
        default = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if default:
            return str(default[0]["VpcId"])
        others = ec2.describe_vpcs()["Vpcs"]
    listed = ", ".join(f"{v['VpcId']} ({v.get('CidrBlock', '?')})" for v in others[:5]) or "none"
    raise click.ClickException(
        f"this region has no default VPC (VPCs: {listed})\n  fix: set RDS_VPC_ID=vpc-... and "
        "RDS_SUBNET_GROUP=<a DB subnet group in it> (aws rds describe-db-subnet-groups)"
    )


def owned_group(ec2: Any, instance: str, vpc: str | None = None) -> dict[str, Any] | None:
    """The security group rds-create made for `instance`, if there is one."""
    filters = [{"Name": f"tag:{OWNER_TAG}", "Values": [instance]}]
    if vpc:
        filters.append({"Name": "vpc-id", "Values": [vpc]})
    with aws_call("look up the instance's security group"):
        groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    return dict(groups[0]) if groups else None


def ensure_group(ec2: Any, instance: str, vpc: str) -> str:
    """Our security group for `instance` in `vpc`: reused by tag, or made with no inbound rule."""
    found = owned_group(ec2, instance, vpc)
    if found:
        return str(found["GroupId"])
    with aws_call(f"create a security group for {instance}"):
        created = ec2.create_security_group(
            GroupName=f"{instance}-mysql",
            Description=f"MySQL of {instance}: one rule per address, by make rds-allow-my-ip",
            VpcId=vpc,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": [
                        {"Key": OWNER_TAG, "Value": instance},
                        {"Key": "created-by", "Value": RULE_PREFIX},
                    ],
                }
            ],
        )
    return str(created["GroupId"])


def rule_owner() -> str:
    """Who added a rule: the description names it, so that revoke finds it by that."""
    return f"{getpass.getuser()}@{socket.gethostname()}"


def rule_description() -> str:
    return f"{RULE_PREFIX}: {rule_owner()} {datetime.now(UTC):%Y-%m-%d}"


def lookup_address(environ: dict[str, str] | None = None) -> tuple[str, str]:
    """(this machine's public address, the service that answered). With a proxy set, the
    answer would be the proxy's: refuse and ask for MY_IP."""
    environ = dict(os.environ) if environ is None else environ
    proxy = next((name for name in PROXY_VARIABLES if environ.get(name)), None)
    if proxy:
        raise click.ClickException(
            f"{proxy} is set: an address lookup would see the proxy, not this machine\n"
            "  fix: give the address: make rds-allow-my-ip MY_IP=203.0.113.7 (or 2001:db8::7)"
        )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    errors = []
    for url in ADDRESS_SERVICES:
        try:
            with opener.open(url, timeout=10) as response:
                text = response.read().decode().strip()
            return str(ipaddress.ip_address(text)), url
        except (OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
    raise click.ClickException(
        f"cannot find this machine's public address ({'; '.join(errors)})\n"
        "  fix: give it: make rds-allow-my-ip MY_IP=203.0.113.7"
    )


def one_address(given: str | None, force: bool) -> str:
    """The network a rule allows: one address (/32, /128) unless a wider network is given
    together with FORCE=1, and then exactly that network, never wider."""
    if not given:
        address, source = lookup_address()
        click.echo(f"this machine's address, as {source} sees it: {address}")
        given = address
    try:
        network = ipaddress.ip_network(given, strict=True)
    except ValueError as exc:
        if "/" in given and "has host bits set" in str(exc):
            raise click.ClickException(
                f"{given!r} is an address with a prefix, not a network\n  fix: give the "
                f"address alone, or the network it is in: {ipaddress.ip_network(given, False)}"
            ) from None
        raise click.ClickException(
            f"{given!r} is not an IP address or network\n  fix: MY_IP=203.0.113.7 or 2001:db8::7"
        ) from None
    if network.num_addresses > 1 and not force:
        everyone = network.prefixlen == 0
        raise click.ClickException(
            f"refusing {network}: "
            + (
                "that opens the database to the whole internet"
                if everyone
                else f"that opens the database to {network.num_addresses:,} addresses"
            )
            + ", where it is scanned and brute-forced within minutes\n"
            "  fix: allow your own address (the default), or pass FORCE=1 if you mean it"
        )
    return str(network)


def permission(port: int, cidr: str, description: str | None = None) -> dict[str, Any]:
    key, field = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    entry = {field: cidr}
    if description:
        entry["Description"] = description
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, key: [entry]}


def our_rules(group: dict[str, Any], mine_only: bool = True) -> list[tuple[int, str, str]]:
    """(port, network, description) of the rules rds-allow-my-ip added to `group`: this
    machine's (by the description), or everyone's."""
    wanted = f"{RULE_PREFIX}: {rule_owner()} " if mine_only else f"{RULE_PREFIX}: "
    found = []
    for rule in group.get("IpPermissions", []):
        port = rule.get("FromPort", 0)
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for entry in rule.get(key, []):
                if entry.get("Description", "").startswith(wanted):
                    found.append((port, entry[field], entry["Description"]))
    return found


def revoke(ec2: Any, group_id: str, rules: list[tuple[int, str, str]]) -> None:
    for port, cidr, _ in rules:
        with aws_call(f"remove {cidr} from {group_id}"):
            ec2.revoke_security_group_ingress(
                GroupId=group_id, IpPermissions=[permission(port, cidr)]
            )
