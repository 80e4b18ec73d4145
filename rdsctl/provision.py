"""A development RDS instance: `rdsctl rds-create`, `rds-allow-my-ip`, `rds-revoke-my-ip`,
`rds-stop`, `rds-start`, `rds-destroy` (make targets of the same names). boto3 is the optional
`aws` extra.

rds-create shows a plan first (account, region, network, version, cost) and makes everything
the instance needs of its own: a security group with no inbound rule, a parameter group from
the local server's settings. It is rerunnable: an instance it made is adopted and waited for.
rds-destroy removes all of it and leaves only the final snapshot, whose cost it states.
"""

import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from dotenv import dotenv_values

from app.aws import client
from rdsctl import cost, network, parameters, versions
from rdsctl.aws import aws_call, describe_instance, instance_or_none, instance_port
from rdsctl.settings import OperatorSettings

TAG = {"Key": "created-by", "Value": "flask-rds-starter"}
STOPPED_DAYS = 7


def confirmed(question: str) -> bool:
    if os.environ.get("CONFIRM") == "yes":
        return True
    if not sys.stdin.isatty():
        click.echo("not confirmed: run again with CONFIRM=yes to go ahead")
        return False
    return click.confirm(question)


def is_ours(rds: Any, info: Mapping[str, Any]) -> bool:
    tags = info.get("TagList")
    if tags is None:
        with aws_call(f"read the tags of {info['DBInstanceIdentifier']!r}"):
            tags = rds.list_tags_for_resource(ResourceName=info["DBInstanceArn"])["TagList"]
    return TAG in tags


PlanLines = list[tuple[str, str, str]]


def plan_for(
    operator: OperatorSettings, rds: Any, ec2: Any, sts: Any
) -> tuple[dict[str, Any], PlanLines, dict[str, Any]]:
    """CreateDBInstance parameters, the plan lines to show, and what else to make."""
    identifier = operator.instance_name
    public = operator.rds_public
    major = versions.major_line(operator.mysql_image, operator.rds_engine_version)
    version = versions.resolve(rds, major)
    with aws_call("find which AWS account these credentials belong to"):
        account = sts.get_caller_identity()["Account"]
    region = rds.meta.region_name
    subnet_group = operator.rds_subnet_group
    described_group = None
    if subnet_group:
        with aws_call(f"describe the DB subnet group {subnet_group}"):
            described_group = rds.describe_db_subnet_groups(DBSubnetGroupName=subnet_group)[
                "DBSubnetGroups"
            ][0]
    vpc = network.choose_vpc(ec2, operator.rds_vpc_id, described_group)
    given_groups = [g for g in (operator.rds_security_group_ids or "").split(",") if g]
    existing_group = None if given_groups else network.owned_group(ec2, identifier, vpc)
    require_tls = operator.rds_require_tls
    params: dict[str, Any] = {
        "DBInstanceIdentifier": identifier,
        "Engine": "mysql",
        "EngineVersion": version.engine_version,
        "EngineLifecycleSupport": versions.NO_EXTENDED_SUPPORT,
        "DBInstanceClass": operator.rds_instance_class,
        "AllocatedStorage": operator.rds_storage_gb,
        "StorageType": "gp3",
        "DBName": operator.mysql_database,
        "MasterUsername": operator.rds_master_user,
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "PubliclyAccessible": public,
        "DeletionProtection": operator.rds_deletion_protection,
        "BackupRetentionPeriod": operator.rds_backup_days,
        "CACertificateIdentifier": operator.rds_ca_certificate,
        "CopyTagsToSnapshot": True,
        "DBParameterGroupName": parameters.group_name(identifier),
        "Tags": [
            TAG,
            {"Key": network.OWNER_TAG, "Value": identifier},
            {"Key": "project", "Value": operator.compose_project_name},
        ],
    }
    if subnet_group:
        params["DBSubnetGroupName"] = subnet_group
    # IPv4 only by default (the default VPC's subnets have no IPv6 range); DUAL for IPv6 rules.
    params["NetworkType"] = operator.rds_network_type
    estimate = cost.estimate(
        params["DBInstanceClass"], params["AllocatedStorage"], region, public=public, secrets=3
    )
    support_ends = (
        f"{version.standard_support_ends:%Y-%m-%d}" if version.standard_support_ends else "?"
    )
    groups_line = (
        ", ".join(given_groups) + " (yours: rds-allow-my-ip adds rules there)"
        if given_groups
        else f"{existing_group['GroupId']} (made by an earlier run, reused)"
        if existing_group
        else f"new: {identifier}-mysql, no inbound rule (not the VPC's default group)"
    )
    lines = [
        ("AWS account", str(account), "check it: a wrong AWS_PROFILE creates it elsewhere"),
        ("region", str(region), "fixed: another region means another instance"),
        ("identifier", identifier, "cannot be renamed in place without downtime"),
        (
            "engine",
            f"mysql {version.engine_version} (RDS's default of the {major} line, the "
            f"local db's), standard support until {support_ends}",
            "major upgrades are one way, with downtime",
        ),
        (
            "extended support",
            f"never bought (EngineLifecycleSupport {versions.NO_EXTENDED_SUPPORT})",
            "changeable any time",
        ),
        ("instance class", params["DBInstanceClass"], "changeable, a few minutes of downtime"),
        (
            "storage",
            f"{params['AllocatedStorage']} GiB gp3, encrypted (aws/rds key)",
            "can grow, never shrink; encryption is fixed",
        ),
        ("initial database", params["DBName"], "fixed: another one must be made by hand"),
        (
            "master user",
            params["MasterUsername"] + ", password managed by RDS in Secrets "
            "Manager (rotated every 7 days), never shown",
            "the user name is fixed",
        ),
        (
            "network",
            f"VPC {vpc}, subnet group {subnet_group or 'default (the default VPC)'}",
            "fixed for the life of the instance",
        ),
        ("security group", groups_line, "changeable any time"),
        (
            "publicly accessible",
            "YES: reachable from the internet, limited by its security group"
            if public
            else "no: reachable only inside its VPC (RDS_PUBLIC=1 to reach it from a laptop)",
            "changeable any time",
        ),
        (
            "parameter group",
            f"{params['DBParameterGroupName']} ({version.family}): from "
            "docker/mysql/conf.d/rds.cnf, require_secure_transport "
            + ("ON" if require_tls else "OFF"),
            "changeable; some need a reboot",
        ),
        ("CA certificate", params["CACertificateIdentifier"], "changeable, with a restart"),
        (
            "deletion protection",
            "on" if params["DeletionProtection"] else "off",
            "changeable any time",
        ),
        (
            "backups",
            f"kept {params['BackupRetentionPeriod']} day(s); tags copied to snapshots",
            "changeable any time",
        ),
        ("tags", "created-by=flask-rds-starter", "rds-destroy deletes only tagged resources"),
        *[("cost" if i == 0 else "", line, "") for i, line in enumerate(estimate.lines())],
    ]
    extra = {
        "vpc": vpc,
        "given_groups": given_groups,
        "family": version.family,
        "parameters": parameters.group_parameters(require_tls),
    }
    return params, lines, extra


@click.command("rds-create")
@click.option("--wait-minutes", default=30, show_default=True, envvar="RDS_WAIT_MINUTES")
@click.option("--poll-seconds", default=15.0, show_default=True, envvar="RDS_POLL_SECONDS")
def rds_create(wait_minutes: int, poll_seconds: float) -> None:
    """Create a development RDS for MySQL instance: plan, confirm, create, wait (rerunnable)."""
    rds, ec2, sts = client("rds"), client("ec2"), client("sts")
    operator = OperatorSettings.from_env()
    identifier = operator.instance_name
    existing = instance_or_none(rds, identifier)
    if existing is not None:
        if not is_ours(rds, existing):
            raise click.ClickException(
                f"an instance named {identifier} exists and was not made by make rds-create (no "
                "created-by=flask-rds-starter tag)\n  fix: pick another RDS_INSTANCE, or use "
                f"it as it is: make rds-users deploy-env RDS_INSTANCE={identifier}"
            )
        status = existing["DBInstanceStatus"]
        if status in ("stopped", "stopping", "deleting"):
            fix = (
                "make rds-start, then make rds-create again to wait"
                if status != "deleting"
                else "wait until it is gone, or pick another RDS_INSTANCE"
            )
            raise click.ClickException(
                f"{identifier} exists and is ours, but {status}\n  fix: {fix}"
            )
        click.echo(f"{identifier} exists and is ours ({status}): waiting")
    else:
        params, lines, extra = plan_for(operator, rds, ec2, sts)
        click.echo("Plan for the RDS instance (and what each costs to change later):")
        for name, value, later in lines:
            click.echo(f"  {name:<20} {value}")
            if later:
                click.echo(f"  {'':<20}   later: {later}")
        if operator.dry_run:
            click.echo("DRY_RUN=1: nothing created")
            return
        if not confirmed(f"create {identifier}?"):
            raise SystemExit(3)
        if not extra["given_groups"]:
            params["VpcSecurityGroupIds"] = [network.ensure_group(ec2, identifier, extra["vpc"])]
        else:
            params["VpcSecurityGroupIds"] = extra["given_groups"]
        parameters.ensure_group(rds, identifier, extra["family"], extra["parameters"])
        with aws_call(f"create RDS instance {identifier!r}"):
            rds.create_db_instance(**params)
    info = wait_until_available(identifier, wait_minutes * 60, poll_seconds)
    endpoint = info["Endpoint"]
    click.echo(f"available: {endpoint['Address']}:{endpoint['Port']}")
    click.echo("next:" + (" make rds-allow-my-ip," if info.get("PubliclyAccessible") else ""))
    click.echo(f"  make rds-users RDS_INSTANCE={identifier}")
    click.echo(f"  make deploy-env RDS_INSTANCE={identifier}")


def wait_until_available(
    identifier: str,
    timeout: float,
    poll: float,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Describe the instance every `poll` seconds until it is available, the last time at the
    end of `timeout` (not one poll short of it)."""
    start = clock()
    while True:
        info = describe_instance(identifier)
        status = info["DBInstanceStatus"]
        elapsed = clock() - start
        click.echo(f"  {identifier}: {status} ({elapsed // 60:.0f}m {elapsed % 60:02.0f}s)")
        if status == "available" and info.get("Endpoint"):
            return info
        if status in ("failed", "incompatible-parameters", "incompatible-network", "storage-full"):
            raise click.ClickException(
                f"{identifier} is {status}\n  fix: see the RDS console's events for the instance"
            )
        if elapsed >= timeout:
            raise click.ClickException(
                f"{identifier} is still {status} after {timeout / 60:.0f} minutes\n"
                "  fix: it keeps going; run make rds-create again later to wait for it"
            )
        sleep(min(poll, timeout - elapsed))


def our_group_of(ec2: Any, info: Mapping[str, Any]) -> dict[str, Any]:
    """The security group rds-allow-my-ip may change: the one rds-create made."""
    identifier = info["DBInstanceIdentifier"]
    group = network.owned_group(ec2, identifier)
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
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option("--ip", envvar="MY_IP", help="Address to allow (default: this machine's).")
@click.option("--force", is_flag=True, envvar="FORCE", help="Allow the network given in --ip.")
def rds_allow_my_ip(instance: str, ip: str | None, force: bool) -> None:
    """Open the instance's port to this machine's address: one rule, /32 or /128."""
    cidr = network.one_address(ip, force)
    info = describe_instance(instance)
    if ":" in cidr and info.get("NetworkType", "IPV4") != "DUAL":
        raise click.ClickException(
            f"{instance} has IPv4 addresses only (NetworkType {info.get('NetworkType', 'IPV4')}): "
            f"a rule for {cidr} would let nobody in\n  fix: give your IPv4 address: "
            "make rds-allow-my-ip MY_IP=203.0.113.7"
        )
    port = instance_port(info) or 3306
    ec2 = client("ec2")
    group = our_group_of(ec2, info)
    description = network.rule_description()
    if any(rule[1] == cidr for rule in network.our_rules(group, mine_only=False)):
        click.echo(f"{cidr} is allowed already in {group['GroupId']}: nothing to do")
        return
    with aws_call(f"allow {cidr} on {group['GroupId']}"):
        ec2.authorize_security_group_ingress(
            GroupId=group["GroupId"], IpPermissions=[network.permission(port, cidr, description)]
        )
    click.echo(f"allowed {cidr} on TCP {port} in security group {group['GroupId']} ({description})")
    click.echo("undo: make rds-revoke-my-ip")


@click.command("rds-revoke-my-ip")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option("--ip", envvar="MY_IP", help="Remove only this address's rule.")
def rds_revoke_my_ip(instance: str, ip: str | None) -> None:
    """Remove the rules rds-allow-my-ip added from this machine (found by their description,
    whatever address this machine had then)."""
    info = describe_instance(instance)
    ec2 = client("ec2")
    group = our_group_of(ec2, info)
    rules = network.our_rules(group)
    if ip:
        cidr = network.one_address(ip, force=True)
        rules = [rule for rule in rules if rule[1] == cidr]
    if not rules:
        click.echo(f"no rule of {network.rule_owner()} in {group['GroupId']}: nothing to remove")
        return
    network.revoke(ec2, group["GroupId"], rules)
    for port, cidr, description in rules:
        click.echo(f"removed {cidr} on TCP {port} from {group['GroupId']} ({description})")


@click.command("rds-stop")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
def rds_stop(instance: str) -> None:
    """Stop an idle development instance (RDS starts it again after 7 days)."""
    rds = client("rds")
    with aws_call(f"stop {instance!r}"):
        rds.stop_db_instance(DBInstanceIdentifier=instance)
    click.echo(
        f"stopping {instance}: no instance hours are billed while it is stopped; its "
        "storage and snapshots still are"
    )
    click.echo(
        f"RDS starts a stopped instance again by itself after {STOPPED_DAYS} days "
        "(and then bills its hours): stop it again, or make rds-destroy"
    )


@click.command("rds-start")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
def rds_start(instance: str) -> None:
    """Start a stopped development instance (a few minutes)."""
    rds = client("rds")
    with aws_call(f"start {instance!r}"):
        rds.start_db_instance(DBInstanceIdentifier=instance)
    click.echo(f"starting {instance}: make doctor shows when it is available")


def retire_env_file(path: str, instance: str, endpoint: str | None) -> bool:
    """Switch the stack back to the local db if `path` points at `instance`."""
    from rdsctl.deploy import go_local

    if not Path(path).exists():
        return False
    values = dotenv_values(path)
    if values.get("RDS_INSTANCE") != instance and (
        not endpoint or values.get("DB_HOST") != endpoint
    ):
        return False
    go_local(path)
    return True


def delete_user_secrets(instance: str) -> list[str]:
    """The secrets make rds-users made for `instance` (its passwords are useless without it)."""
    secrets = client("secretsmanager")
    deleted = []
    with aws_call("delete the users' secrets"):
        listed = secrets.list_secrets(
            Filters=[
                {"Key": "tag-key", "Values": [f"{network.RULE_PREFIX}:target"]},
                {"Key": "tag-value", "Values": [instance]},
            ]
        )["SecretList"]
        for secret in listed:
            secrets.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
            deleted.append(secret["Name"])
    return deleted


@click.command("rds-destroy")
@click.option("--instance", envvar="RDS_INSTANCE", default="flask-rds-dev", show_default=True)
@click.option("--skip-final-snapshot", is_flag=True, envvar="SKIP_FINAL_SNAPSHOT")
@click.option("--env-file", envvar="RDS_ENV_FILE", default=".env.rds", show_default=True)
@click.option("--wait-minutes", default=30, show_default=True, envvar="RDS_WAIT_MINUTES")
def rds_destroy(instance: str, skip_final_snapshot: bool, env_file: str, wait_minutes: int) -> None:
    """Delete an instance rds-create made, after a final snapshot, and everything made for it:
    its rules, security group, parameter group, users' secrets, and .env.rds. Rerunnable."""
    rds, ec2 = client("rds"), client("ec2")
    info = instance_or_none(rds, instance)
    if info is not None:
        if not is_ours(rds, info):
            raise click.ClickException(
                f"{instance} was not created by make rds-create (no created-by=flask-rds-starter "
                "tag): refusing to delete it\n  fix: delete it in the RDS console if you mean to"
            )
        delete_instance(rds, info, skip_final_snapshot, wait_minutes)
    else:
        click.echo(f"{instance} is gone already: removing what was made for it")
    # What costs or points at the gone instance first; the security group last: AWS releases
    # the instance's network interfaces minutes after it is gone, and refuses until then.
    endpoint = ((info or {}).get("Endpoint") or {}).get("Address")
    if retire_env_file(env_file, instance, endpoint):
        click.echo(f"{env_file} pointed at {instance}: the stack is back on the local db")
    for name in delete_user_secrets(instance):
        click.echo(f"deleted secret {name}")
    delete_parameter_group(rds, instance)
    group = network.owned_group(ec2, instance)
    if group:
        network.revoke(ec2, group["GroupId"], network.our_rules(group, mine_only=False))
        delete_security_group(ec2, group["GroupId"], wait_minutes)
        click.echo(f"deleted security group {group['GroupId']} and its rules")


def delete_security_group(ec2: Any, group_id: str, wait_minutes: int) -> None:
    """Delete it, waiting while the deleted instance's network interfaces still use it."""
    from botocore.exceptions import ClientError

    deadline = time.monotonic() + wait_minutes * 60
    while True:
        with aws_call(f"delete the security group {group_id}"):
            try:
                ec2.delete_security_group(GroupId=group_id)
                return
            except ClientError as exc:
                in_use = exc.response.get("Error", {}).get("Code") == "DependencyViolation"
                if not in_use or time.monotonic() > deadline:
                    raise
        click.echo(f"  {group_id} is still in use (network interfaces being released): waiting")
        time.sleep(15)


NO_SNAPSHOT_STATES = ("failed", "incompatible-network", "incompatible-restore")


def delete_instance(
    rds: Any, info: Mapping[str, Any], skip_final_snapshot: bool, wait_minutes: int
) -> None:
    instance = info["DBInstanceIdentifier"]
    status = info.get("DBInstanceStatus")
    if status == "deleting":
        click.echo(f"{instance} is being deleted already: waiting until it is gone")
        wait_until_gone(rds, instance, wait_minutes)
        return
    if status in NO_SNAPSHOT_STATES and not skip_final_snapshot:
        raise click.ClickException(
            f"{instance} is {status}: RDS can delete it only without a final snapshot\n"
            "  fix: make rds-destroy SKIP_FINAL_SNAPSHOT=1 (its data cannot be saved now)"
        )
    snapshot = (
        None if skip_final_snapshot else f"{instance}-final-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    )
    endpoint = (info.get("Endpoint") or {}).get("Address", "no endpoint yet")
    click.echo(f"about to delete {instance} ({endpoint})")
    if snapshot:
        storage = int(info.get("AllocatedStorage") or 20)
        click.echo(
            f"  final snapshot: {snapshot}; it stays until you delete it, and costs "
            f"{cost.snapshot_line(storage)}"
        )
        click.echo(
            f"  delete it later: aws rds delete-db-snapshot --db-snapshot-identifier {snapshot}"
        )
    else:
        click.echo("  final snapshot: none (SKIP_FINAL_SNAPSHOT): the data is gone for good")
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
    wait_until_gone(rds, instance, wait_minutes)


def wait_until_gone(rds: Any, instance: str, wait_minutes: int) -> None:
    deadline = time.monotonic() + wait_minutes * 60
    while instance_or_none(rds, instance) is not None:
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"{instance} is still being deleted after {wait_minutes} minutes\n  fix: run "
                "make rds-destroy again later: it removes the rest once the instance is gone"
            )
        time.sleep(15)
    click.echo(f"deleted {instance}")


def delete_parameter_group(rds: Any, instance: str) -> None:
    from botocore.exceptions import ClientError

    name = parameters.group_name(instance)
    with aws_call(f"delete the parameter group {name}"):
        try:
            group = rds.describe_db_parameter_groups(DBParameterGroupName=name)
        except ClientError as exc:
            if "NotFound" not in exc.response.get("Error", {}).get("Code", ""):
                raise
            return
        arn = group["DBParameterGroups"][0]["DBParameterGroupArn"]
        tags = rds.list_tags_for_resource(ResourceName=arn)["TagList"]
        if {"Key": network.OWNER_TAG, "Value": instance} not in tags:
            click.echo(f"kept parameter group {name}: not made by rds-create for {instance}")
            return
        rds.delete_db_parameter_group(DBParameterGroupName=name)
    click.echo(f"deleted parameter group {name}")
