"""A development RDS instance: `rdsctl rds-create`, `rds-allow-my-ip`, `rds-revoke-my-ip`,
`rds-destroy` (make targets of the same names). boto3 is the optional `aws` extra.

The choices that cannot be undone (initial database name, master user, encryption, the managed
password) are made here, shown in a plan before anything is created.
"""

import getpass
import ipaddress
import os
import re
import socket
import sys
import time
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click

from app.aws import client
from app.settings import Env
from rdsctl.aws import aws_call, describe_instance

TAG = {"Key": "created-by", "Value": "flask-rds-starter"}
RULE_PREFIX = "flask-rds-starter"
FREE_TIER_CLASS = "db.t4g.micro"  # the smallest class RDS offers MySQL on, free-tier eligible


def engine_version(image: str) -> str:
    """RDS engine version matching the local db image's major line: mysql:8.4 -> 8.4."""
    match = re.search(r":(\d+\.\d+)", image or "")
    return match.group(1) if match else "8.4"


def plan_for(environ: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """CreateDBInstance parameters from the environment, and the plan lines to show."""
    env = Env(environ)
    identifier = env.text("RDS_INSTANCE", "flask-rds-dev")
    public = env.flag("RDS_PUBLIC")
    params: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "Engine": "mysql",
        "EngineVersion": env.optional("RDS_ENGINE_VERSION")
        or engine_version(env.text("MYSQL_IMAGE", "mysql:8.4")),
        "DBInstanceClass": env.text("RDS_INSTANCE_CLASS", FREE_TIER_CLASS),
        "AllocatedStorage": env.integer("RDS_STORAGE_GB", 20, minimum=20, maximum=65536),
        "StorageType": "gp3",
        "DBName": env.text("MYSQL_DATABASE", "app"),
        "MasterUsername": env.text("RDS_MASTER_USER", "admin"),
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "PubliclyAccessible": public,
        "DeletionProtection": env.flag("RDS_DELETION_PROTECTION", True),
        "BackupRetentionPeriod": env.integer("RDS_BACKUP_DAYS", 1, maximum=35),
        "Tags": [TAG, {"Key": "project", "Value": env.text("COMPOSE_PROJECT_NAME", "flask-rds")}],
    }
    groups = [g for g in (env.optional("RDS_SECURITY_GROUP_IDS") or "").split(",") if g]
    if groups:
        params["VpcSecurityGroupIds"] = groups
    lines = [
        ("identifier", identifier, "cannot be renamed in place without downtime"),
        ("engine", f"mysql {params['EngineVersion']} (the local db's major line)",
         "major upgrades are one way, with downtime"),
        ("instance class", params["DBInstanceClass"], "changeable, a few minutes of downtime"),
        ("storage", f"{params['AllocatedStorage']} GiB gp3", "can grow, never shrink"),
        ("initial database", params["DBName"], "fixed: another one must be made by hand"),
        ("master user", params["MasterUsername"], "fixed for the life of the instance"),
        ("master password", "managed by RDS in Secrets Manager, never shown",
         "changeable any time"),
        ("encryption at rest", "on (aws/rds key)", "fixed: off/on needs a new instance"),
        ("publicly accessible",
         "YES: reachable from the internet, limited by its security group" if public
         else "no: reachable only inside its VPC (RDS_PUBLIC=1 to reach it from a laptop)",
         "changeable any time"),
        ("deletion protection", "on" if params["DeletionProtection"] else "off",
         "changeable any time"),
        ("backups", f"kept {params['BackupRetentionPeriod']} day(s)", "changeable any time"),
        ("security groups", ", ".join(groups) or "the VPC's default", "changeable any time"),
        ("tags", "created-by=flask-rds-starter", "rds-destroy deletes only tagged instances"),
    ]  # fmt: skip
    return params, lines


def confirmed(question: str) -> bool:
    if os.environ.get("CONFIRM") == "yes":
        return True
    if not sys.stdin.isatty():
        click.echo("not confirmed: run again with CONFIRM=yes to go ahead")
        return False
    return click.confirm(question)


@click.command("rds-create")
@click.option("--wait-minutes", default=30, show_default=True, envvar="RDS_WAIT_MINUTES")
@click.option("--poll-seconds", default=15.0, show_default=True, envvar="RDS_POLL_SECONDS")
def rds_create(wait_minutes: int, poll_seconds: float) -> None:
    """Create a development RDS for MySQL instance: plan, confirm, create, wait."""
    params, lines = plan_for(os.environ)
    click.echo("Plan for the RDS instance (and what each costs to change later):")
    for name, value, later in lines:
        click.echo(f"  {name:<20} {value}")
        click.echo(f"  {'':<20}   later: {later}")
    if os.environ.get("DRY_RUN") == "1":
        click.echo("DRY_RUN=1: nothing created")
        return
    if not confirmed(f"create {params['DBInstanceIdentifier']}?"):
        raise SystemExit(3)
    rds = client("rds")
    with aws_call(f"create RDS instance {params['DBInstanceIdentifier']!r}"):
        rds.create_db_instance(**params)
    info = wait_until_available(params["DBInstanceIdentifier"], wait_minutes * 60, poll_seconds)
    endpoint = info["Endpoint"]
    click.echo(f"available: {endpoint['Address']}:{endpoint['Port']}")
    if params["PubliclyAccessible"]:
        click.echo("next: make rds-allow-my-ip, then:")
    click.echo(f"  make deploy-env RDS_INSTANCE={params['DBInstanceIdentifier']}")


def wait_until_available(identifier: str, timeout: float, poll: float) -> dict[str, Any]:
    start = time.monotonic()
    while True:
        info = describe_instance(identifier)
        status = info["DBInstanceStatus"]
        elapsed = time.monotonic() - start
        click.echo(f"  {identifier}: {status} ({elapsed // 60:.0f}m {elapsed % 60:02.0f}s)")
        if status == "available":
            return info
        if status in ("failed", "incompatible-parameters", "incompatible-network", "storage-full"):
            raise click.ClickException(
                f"{identifier} is {status}\n  fix: see the RDS console's events for the instance"
            )
        if elapsed + poll > timeout:
            raise click.ClickException(
                f"{identifier} is still {status} after {timeout / 60:.0f} minutes\n"
                f"  fix: it keeps going; run make rds-create again later to wait for it, or see "
                "the RDS console"
            )
        time.sleep(poll)


def instance_port_and_groups(identifier: str) -> tuple[int, list[str]]:
    info = describe_instance(identifier)
    groups = [g["VpcSecurityGroupId"] for g in info.get("VpcSecurityGroups", [])]
    if not groups:
        raise click.ClickException(f"{identifier} has no VPC security group to open")
    return info["Endpoint"]["Port"], groups


def my_address(given: str | None) -> str:
    """This machine's public address as a /32 (or the address given)."""
    if not given:
        try:
            with urllib.request.urlopen("https://checkip.amazonaws.com", timeout=10) as response:  # noqa: S310
                given = response.read().decode().strip()
        except OSError as exc:
            raise click.ClickException(
                f"cannot find this machine's public address ({exc})\n"
                "  fix: give it: make rds-allow-my-ip MY_IP=203.0.113.7"
            ) from None
    try:
        network = ipaddress.ip_network(given if "/" in given else f"{given}/32", strict=False)
    except ValueError:
        raise click.ClickException(f"{given!r} is not an IP address or network") from None
    return str(network)


@click.command("rds-allow-my-ip")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option("--ip", envvar="MY_IP", help="Address or network to allow (default: this machine's).")
@click.option("--force", is_flag=True, envvar="FORCE", help="Allow a network wider than one host.")
def rds_allow_my_ip(instance: str, ip: str | None, force: bool) -> None:
    """Open the instance's port to this machine's address (one /32 inbound rule)."""
    cidr = my_address(ip)
    if ipaddress.ip_network(cidr).num_addresses > 1 and not force:
        everyone = cidr in ("0.0.0.0/0", "::/0")
        raise click.ClickException(
            f"refusing {cidr}: "
            + (
                "that opens the database to the whole internet"
                if everyone
                else "that opens the database to more than one address"
            )  # fmt: skip
            + ", where it is scanned and brute-forced within minutes\n"
            "  fix: allow your own address (the default), or pass FORCE=1 if you mean it"
        )
    port, groups = instance_port_and_groups(instance)
    description = (
        f"{RULE_PREFIX}: {getpass.getuser()}@{socket.gethostname()} {datetime.now(UTC):%Y-%m-%d}"
    )
    ec2 = client("ec2")
    with aws_call(f"allow {cidr} on {groups[0]}"):
        ec2.authorize_security_group_ingress(
            GroupId=groups[0], IpPermissions=[permission(port, cidr, description)]
        )
    click.echo(f"allowed {cidr} on TCP {port} in security group {groups[0]} ({description})")
    click.echo("undo: make rds-revoke-my-ip")


def permission(port: int, cidr: str, description: str | None = None) -> dict[str, Any]:
    key, ranges = ("Ipv6Ranges", "CidrIpv6") if ":" in cidr else ("IpRanges", "CidrIp")
    entry = {ranges: cidr}
    if description:
        entry["Description"] = description
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, key: [entry]}


@click.command("rds-revoke-my-ip")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option(
    "--ip", envvar="MY_IP", help="Address or network to remove (default: this machine's)."
)
def rds_revoke_my_ip(instance: str, ip: str | None) -> None:
    """Remove the inbound rule rds-allow-my-ip added."""
    cidr = my_address(ip)
    port, groups = instance_port_and_groups(instance)
    ec2 = client("ec2")
    with aws_call(f"remove {cidr} from {groups[0]}"):
        ec2.revoke_security_group_ingress(GroupId=groups[0], IpPermissions=[permission(port, cidr)])
    click.echo(f"removed {cidr} on TCP {port} from security group {groups[0]}")


@click.command("rds-destroy")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option("--skip-final-snapshot", is_flag=True, envvar="SKIP_FINAL_SNAPSHOT")
def rds_destroy(instance: str, skip_final_snapshot: bool) -> None:
    """Delete an instance this project created (tagged), after a final snapshot."""
    info = describe_instance(instance)
    rds = client("rds")
    with aws_call(f"read the tags of {instance!r}"):
        tags = rds.list_tags_for_resource(ResourceName=info["DBInstanceArn"])["TagList"]
    if TAG not in tags:
        raise click.ClickException(
            f"{instance} was not created by make rds-create (no created-by=flask-rds-starter "
            "tag): refusing to delete it\n  fix: delete it in the RDS console if you mean to"
        )
    snapshot = (
        None if skip_final_snapshot else f"{instance}-final-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    )
    click.echo(f"about to delete {instance} ({info['Endpoint']['Address']})")
    click.echo(f"  final snapshot: {snapshot or 'none (SKIP_FINAL_SNAPSHOT)'}")
    if not confirmed(f"delete {instance}?"):
        raise SystemExit(3)
    with aws_call(f"delete {instance!r}"):
        if info.get("DeletionProtection"):
            rds.modify_db_instance(
                DBInstanceIdentifier=instance, DeletionProtection=False, ApplyImmediately=True
            )
        if snapshot:
            rds.delete_db_instance(
                DBInstanceIdentifier=instance, FinalDBSnapshotIdentifier=snapshot
            )
        else:
            rds.delete_db_instance(DBInstanceIdentifier=instance, SkipFinalSnapshot=True)
    click.echo(f"deleting {instance}" + (f"; final snapshot {snapshot}" if snapshot else ""))
