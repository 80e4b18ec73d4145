"""`rdsctl rds-allow-my-ip` and `rds-revoke-my-ip`: inbound rules for exactly one address each,
in the security group rds-create made, and no other.

Each rule's description names the machine that added it by an id kept in the user's config
folder (a laptop's host name changes with the network it joins), and, with RDS_RULE_DAYS, the
day it expires: rds-allow-my-ip removes expired rules, anyone's, whenever it runs.
"""

import getpass
import ipaddress
import os
import re
import secrets
import socket
import urllib.request
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import click

from app.aws import client
from rdsctl.aws import aws_call, describe_instance, instance_port
from rdsctl.network import RULE_PREFIX, owned_group
from rdsctl.settings import OperatorSettings

# Asked in this order, straight (never through HTTP(S)_PROXY, which would answer its own
# address); each answers the address it sees, in plain text.
ADDRESS_SERVICES = ["https://checkip.amazonaws.com", "https://api64.ipify.org"]
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")
UNTIL = re.compile(r" until (\d{4}-\d{2}-\d{2})$")


class Rule(NamedTuple):
    port: int
    cidr: str
    description: str

    def expired(self, today: date) -> bool:
        found = UNTIL.search(self.description)
        return found is not None and date.fromisoformat(found.group(1)) < today


def machine_id() -> str:
    """This machine's id for the rules it adds, made once and kept in the user's config
    folder: the same whatever the host is called today."""
    folder = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / RULE_PREFIX
    path = folder / "machine-id"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(f"m-{secrets.token_hex(4)}\n")
    return path.read_text().strip()


def rule_description(days: int | None, today: date | None = None) -> str:
    today = today or datetime.now(UTC).date()
    who = f"{getpass.getuser()}@{socket.gethostname()}"[:100]
    until = f" until {today + timedelta(days=days)}" if days else ""
    return f"{RULE_PREFIX}: {machine_id()} {who} {today}{until}"


def lookup_address(refuse_behind_proxy: bool = True) -> tuple[str, str]:
    """(this machine's public address, the service that answered), asked straight. With a
    proxy set, a rule is not written from a lookup: the way out may not be the one seen."""
    proxy = next((name for name in PROXY_VARIABLES if os.environ.get(name)), None)
    if proxy and refuse_behind_proxy:
        raise click.ClickException(
            f"{proxy} is set: an address lookup may not see this machine's way out\n"
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
        whom = (
            "the whole internet"
            if network.prefixlen == 0
            else f"{network.num_addresses:,} addresses"
        )
        raise click.ClickException(
            f"refusing {network}: that opens the database to {whom}, where it is scanned and "
            "brute-forced within minutes\n  fix: allow your own address (the default), or pass "
            "FORCE=1 if you mean it"
        )
    return str(network)


def permission(port: int, cidr: str, description: str | None = None) -> dict[str, Any]:
    key, field = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    entry = {field: cidr, **({"Description": description} if description else {})}
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, key: [entry]}


def our_rules(group: dict[str, Any], mine_only: bool = True) -> list[Rule]:
    """The rules rds-allow-my-ip added to `group`: this machine's (by its id, or by its name
    in a rule written before there were ids), or everyone's."""
    wanted = f"{RULE_PREFIX}: "
    mine = (f"{wanted}{machine_id()} ", f"{wanted}{getpass.getuser()}@{socket.gethostname()} ")
    found = []
    for rule in group.get("IpPermissions", []):
        for key, field in (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6")):
            for entry in rule.get(key, []):
                text = entry.get("Description", "")
                if text.startswith(mine if mine_only else (wanted,)):
                    found.append(Rule(rule.get("FromPort", 0), entry[field], text))
    return found


def revoke(ec2: Any, group_id: str, rules: list[Rule]) -> None:
    for rule in rules:
        with aws_call(f"remove {rule.cidr} from {group_id}"):
            ec2.revoke_security_group_ingress(
                GroupId=group_id, IpPermissions=[permission(rule.port, rule.cidr)]
            )


def our_group_of(ec2: Any, info: dict[str, Any]) -> dict[str, Any]:
    """The security group rds-allow-my-ip may change: the one rds-create made."""
    identifier = info["DBInstanceIdentifier"]
    group = owned_group(ec2, identifier)
    attached = {g["VpcSecurityGroupId"] for g in info.get("VpcSecurityGroups", [])}
    if group is None or group["GroupId"] not in attached:
        raise click.ClickException(
            f"{identifier} has no security group made by make rds-create: this tool opens no "
            "group it did not make (the VPC's default group is shared by other databases)\n"
            f"  fix: add the rule to your own group: aws ec2 authorize-security-group-ingress "
            f"--group-id <its group> --protocol tcp --port 3306 --cidr <your address>/32"
        )
    return group


@click.command("rds-allow-my-ip")
@click.option("--instance", help="RDS_INSTANCE (flask-rds-dev)")
@click.option("--ip", help="Address to allow (MY_IP; default: this machine's).")
@click.option("--force", is_flag=True, help="Allow the network given in --ip (FORCE=1).")
@click.pass_obj
def rds_allow_my_ip(
    operator: OperatorSettings, instance: str | None, ip: str | None, force: bool
) -> None:
    """Open the instance's port to this machine's address: one rule, /32 or /128."""
    instance = instance or operator.instance_name
    cidr = one_address(ip or operator.my_ip, force or operator.force)
    info = describe_instance(instance)
    if ":" in cidr and info.get("NetworkType", "IPV4") != "DUAL":
        raise click.ClickException(
            f"{instance} has IPv4 addresses only (NetworkType {info.get('NetworkType', 'IPV4')}): "
            f"a rule for {cidr} would let nobody in\n  fix: give your IPv4 address: "
            "make rds-allow-my-ip MY_IP=203.0.113.7"
        )
    ec2 = client("ec2")
    group = our_group_of(ec2, info)
    everyone = our_rules(group, mine_only=False)
    expired = [rule for rule in everyone if rule.expired(datetime.now(UTC).date())]
    revoke(ec2, group["GroupId"], expired)
    for rule in expired:
        click.echo(f"removed the expired rule {rule.cidr} ({rule.description})")
    if any(rule.cidr == cidr for rule in everyone if rule not in expired):
        click.echo(f"{cidr} is allowed already in {group['GroupId']}: nothing to do")
        return
    port, description = instance_port(info) or 3306, rule_description(operator.rds_rule_days)
    with aws_call(f"allow {cidr} on {group['GroupId']}"):
        ec2.authorize_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=[permission(port, cidr, description)]
        )
    click.echo(f"allowed {cidr} on TCP {port} in security group {group['GroupId']} ({description})")
    click.echo("undo: make rds-revoke-my-ip")


@click.command("rds-revoke-my-ip")
@click.option("--instance", help="RDS_INSTANCE (flask-rds-dev)")
@click.option("--ip", help="Remove only this address's rule (MY_IP).")
@click.pass_obj
def rds_revoke_my_ip(operator: OperatorSettings, instance: str | None, ip: str | None) -> None:
    """Remove the rules rds-allow-my-ip added from this machine (found by its id, whatever
    address or host name it had then)."""
    info = describe_instance(instance or operator.instance_name)
    ec2 = client("ec2")
    group = our_group_of(ec2, info)
    rules = our_rules(group)
    ip = ip or operator.my_ip
    if ip:
        cidr = one_address(ip, force=True)
        rules = [rule for rule in rules if rule.cidr == cidr]
    if not rules:
        click.echo(
            f"no rule of this machine ({machine_id()}) in {group['GroupId']}: nothing to remove"
        )
        return
    revoke(ec2, group["GroupId"], rules)
    for rule in rules:
        click.echo(
            f"removed {rule.cidr} on TCP {rule.port} from {group['GroupId']} ({rule.description})"
        )
