"""`rdsctl rds-destroy`: delete an instance rds-create made, after a final snapshot, and what was
made for it; nothing made for another instance, and nothing before it is listed and confirmed.

What goes: the instance (deletion protection turned off first), the users' secrets of make
rds-users (tagged with exactly this instance; kept 7 days, restorable), the snapshots make
migrate SNAPSHOT=1 took, the parameter group, the security group and its rules, and .env.rds
if it points there. The final snapshot stays, and its cost is said.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import click

from app.aws import client
from rdsctl import aurora, cost, network, parameters
from rdsctl.aws import aws_call, cluster_or_none, confirmed, instance_or_none, poll
from rdsctl.envfile import retire_env_file
from rdsctl.provision import is_ours
from rdsctl.rules import our_rules, revoke
from rdsctl.settings import OperatorSettings

NO_SNAPSHOT_STATES = ("failed", "incompatible-network", "incompatible-restore")
SECRET_TARGET = f"{network.RULE_PREFIX}:target"  # the tag make rds-users puts on its secrets
RECOVERY_DAYS = 7  # the shortest window Secrets Manager allows


@dataclass
class Leftovers:
    """What was made for an instance, found by exact tags and names."""

    secrets: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[str] = field(default_factory=list)  # make migrate SNAPSHOT=1's
    parameter_group: str | None = None
    security_group: dict[str, Any] | None = None
    cluster: dict[str, Any] | None = None  # an Aurora instance's cluster, ours
    cluster_parameter_group: str | None = None

    def lines(self) -> list[str]:
        lines = []
        if self.cluster:
            lines.append(f"the Aurora cluster {self.cluster['DBClusterIdentifier']}")
        lines += [
            f"the secret {s['Name']} (kept {RECOVERY_DAYS} days, restorable)" for s in self.secrets
        ]
        lines += [f"the snapshot {name} (make migrate SNAPSHOT=1's)" for name in self.snapshots]
        for group in (self.parameter_group, self.cluster_parameter_group):
            if group:
                lines.append(f"the parameter group {group}")
        if self.security_group:
            lines.append(f"the security group {self.security_group['GroupId']} and its rules")
        return lines


def leftovers_of(instance: str, rds: Any, ec2: Any) -> Leftovers:
    cluster = cluster_or_none(rds, aurora.cluster_name(instance))
    ours = cluster is not None and network.CREATED_BY in cluster.get("TagList", [])
    return Leftovers(
        secrets=our_secrets(instance),
        snapshots=pre_migrate_snapshots(rds, instance, cluster if ours else None),
        parameter_group=our_parameter_group(rds, instance),
        security_group=network.owned_group(ec2, instance),
        cluster=cluster if ours else None,
        cluster_parameter_group=our_parameter_group(rds, instance, cluster=True),
    )


def our_secrets(instance: str) -> list[dict[str, Any]]:
    """make rds-users' secrets for `instance`: their target tag is this name exactly (a
    ListSecrets filter on tag-value matches a prefix: flask-rds would match flask-rds-dev)."""
    secrets = client("secretsmanager")
    found = []
    with aws_call("list the users' secrets"):
        pages = secrets.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "tag-key", "Values": [SECRET_TARGET]}]
        )
        for secret in (s for page in pages for s in page["SecretList"]):
            tags = {t["Key"]: t["Value"] for t in secret.get("Tags", [])}
            if tags.get(SECRET_TARGET) == instance:
                found.append(secret)
    return found


def pre_migrate_snapshots(
    rds: Any, instance: str, cluster: dict[str, Any] | None = None
) -> list[str]:
    """make migrate SNAPSHOT=1's: of the instance, or of an Aurora instance's cluster."""
    with aws_call(f"list the snapshots of {instance!r}"):
        if cluster:
            found = rds.describe_db_cluster_snapshots(
                DBClusterIdentifier=cluster["DBClusterIdentifier"], SnapshotType="manual"
            )["DBClusterSnapshots"]
            names = [s["DBClusterSnapshotIdentifier"] for s in found]
        else:
            found = rds.describe_db_snapshots(DBInstanceIdentifier=instance, SnapshotType="manual")
            names = [s["DBSnapshotIdentifier"] for s in found["DBSnapshots"]]
    return [name for name in names if name.startswith(f"{instance}-pre-migrate-")]


def our_parameter_group(rds: Any, instance: str, cluster: bool = False) -> str | None:
    from botocore.exceptions import ClientError

    name, kind = parameters.group_name(instance, cluster), "DBCluster" if cluster else "DB"
    describe = (
        rds.describe_db_cluster_parameter_groups if cluster else rds.describe_db_parameter_groups
    )
    with aws_call(f"look up the parameter group {name}"):
        try:
            found = describe(**{f"{kind}ParameterGroupName": name})[f"{kind}ParameterGroups"]
        except ClientError as exc:
            if "NotFound" in exc.response.get("Error", {}).get("Code", ""):
                return None
            raise
        if not found:
            return None
        arn = found[0][f"{kind}ParameterGroupArn"]
        tags = rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    return name if {"Key": network.OWNER_TAG, "Value": instance} in tags else None


@click.command("rds-destroy")
@click.option("--instance", help="RDS_INSTANCE (flask-rds-dev)")
@click.option("--skip-final-snapshot", is_flag=True, help="SKIP_FINAL_SNAPSHOT=1")
@click.option("--env-file", help="RDS_ENV_FILE (.env.rds)")
@click.pass_obj
def rds_destroy(
    operator: OperatorSettings,
    instance: str | None,
    skip_final_snapshot: bool,
    env_file: str | None,
) -> None:
    """Delete an instance rds-create made, after a final snapshot, and everything made for it:
    its rules, security group, parameter group, users' secrets, snapshots, and .env.rds.
    Lists what it will delete and asks first (CONFIRM=yes). Rerunnable."""
    instance = instance or operator.instance_name
    skip_final_snapshot = skip_final_snapshot or operator.skip_final_snapshot
    rds, ec2 = client("rds"), client("ec2")
    info = instance_or_none(rds, instance)
    if info is not None and not is_ours(rds, info):
        raise click.ClickException(
            f"{instance} was not created by make rds-create (no created-by=flask-rds-starter "
            "tag): refusing to delete it\n  fix: delete it in the RDS console if you mean to"
        )
    leftovers = leftovers_of(instance, rds, ec2)
    snapshot = (
        None if skip_final_snapshot else f"{instance}-final-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    )
    if info is None and not leftovers.lines():  # an Aurora cluster is among the leftovers
        click.echo(f"no instance {instance}, and nothing made for one: nothing to delete")
        return
    show(instance, info, leftovers, snapshot)
    if not confirmed(f"delete all of that for {instance}?", operator.confirm):
        raise SystemExit(3)
    if info is not None:
        delete_instance(rds, info, snapshot, operator.rds_wait_minutes)
    if leftovers.cluster:
        aurora.delete_cluster(rds, leftovers.cluster, snapshot, operator.rds_wait_minutes)
    endpoints = {((info or {}).get("Endpoint") or {}).get("Address")}
    endpoints |= {(leftovers.cluster or {}).get(k) for k in ("Endpoint", "ReaderEndpoint")}
    env_file = env_file or operator.rds_env_file
    if retire_env_file(env_file, instance, {e for e in endpoints if e}):
        click.echo(f"{env_file} pointed at {instance}: the stack is back on the local db")
    delete_leftovers(rds, ec2, leftovers, operator.rds_wait_minutes)


def show(
    instance: str, info: dict[str, Any] | None, leftovers: Leftovers, snapshot: str | None
) -> None:
    if info is None:
        click.echo(f"no instance {instance} (gone already, or never made); what was made for it:")
    else:
        endpoint = (info.get("Endpoint") or {}).get("Address", "no endpoint yet")
        click.echo(f"about to delete {instance} ({endpoint}), and:")
        if info.get("DBInstanceStatus") in NO_SNAPSHOT_STATES and snapshot:
            raise click.ClickException(
                f"{instance} is {info['DBInstanceStatus']}: RDS can delete it only without a "
                "final snapshot\n  fix: make rds-destroy SKIP_FINAL_SNAPSHOT=1 (its data cannot "
                "be saved now)"
            )
    for line in leftovers.lines():
        click.echo(f"  {line}")
    if leftovers.cluster and snapshot:
        click.echo(
            f"  kept: the cluster's final snapshot {snapshot} (billed per GiB-month of its data)"
        )
        click.echo(
            "  delete it later: aws rds delete-db-cluster-snapshot "
            f"--db-cluster-snapshot-identifier {snapshot}"
        )
    elif info is not None and snapshot:
        storage = int(info.get("AllocatedStorage") or 20)
        click.echo(
            f"  kept: the final snapshot {snapshot}, which costs {cost.snapshot_line(storage)}"
        )
        click.echo(
            f"  delete it later: aws rds delete-db-snapshot --db-snapshot-identifier {snapshot}"
        )
    elif info is not None or leftovers.cluster:
        click.echo("  final snapshot: none (SKIP_FINAL_SNAPSHOT): the data is gone for good")


def delete_instance(
    rds: Any, info: dict[str, Any], snapshot: str | None, wait_minutes: int
) -> None:
    instance, member = info["DBInstanceIdentifier"], info.get("DBClusterIdentifier")
    if member:  # an Aurora instance: its cluster holds the data, the protection, the snapshot
        snapshot = None
    if info.get("DBInstanceStatus") != "deleting":
        with aws_call(f"delete {instance!r}"):
            if info.get("DeletionProtection") and not member:
                rds.modify_db_instance(
                    DBInstanceIdentifier=instance, DeletionProtection=False, ApplyImmediately=True
                )
            final = (
                {"FinalDBSnapshotIdentifier": snapshot} if snapshot else {"SkipFinalSnapshot": True}
            )
            rds.delete_db_instance(DBInstanceIdentifier=instance, **({} if member else final))
        click.echo(f"deleting {instance}" + (f"; final snapshot {snapshot}" if snapshot else ""))
    if (
        poll(lambda _: instance_or_none(rds, instance) is None or None, wait_minutes * 60, 15)
        is None
    ):
        raise click.ClickException(
            f"{instance} is still being deleted after {wait_minutes} minutes\n  fix: run make "
            "rds-destroy again later: it removes the rest once the instance is gone"
        )
    click.echo(f"deleted {instance}")


def delete_leftovers(rds: Any, ec2: Any, leftovers: Leftovers, wait_minutes: int) -> None:
    """What costs or points at the gone instance first; the security group last: AWS releases
    the instance's network interfaces minutes after it is gone, and refuses until then."""
    secrets = client("secretsmanager")
    for secret in leftovers.secrets:
        with aws_call(f"delete the secret {secret['Name']}"):
            secrets.delete_secret(SecretId=secret["ARN"], RecoveryWindowInDays=RECOVERY_DAYS)
        click.echo(
            f"deleted secret {secret['Name']} (restorable for {RECOVERY_DAYS} days: make "
            "rds-users restores it, or aws secretsmanager restore-secret)"
        )
    for name in leftovers.snapshots:
        with aws_call(f"delete the snapshot {name}"):
            if leftovers.cluster:
                rds.delete_db_cluster_snapshot(DBClusterSnapshotIdentifier=name)
            else:
                rds.delete_db_snapshot(DBSnapshotIdentifier=name)
        click.echo(f"deleted snapshot {name}")
    if leftovers.parameter_group:
        with aws_call(f"delete the parameter group {leftovers.parameter_group}"):
            rds.delete_db_parameter_group(DBParameterGroupName=leftovers.parameter_group)
        click.echo(f"deleted parameter group {leftovers.parameter_group}")
    if leftovers.cluster_parameter_group:
        name = leftovers.cluster_parameter_group
        with aws_call(f"delete the parameter group {name}"):
            rds.delete_db_cluster_parameter_group(DBClusterParameterGroupName=name)
        click.echo(f"deleted parameter group {name}")
    if leftovers.security_group:
        group_id = leftovers.security_group["GroupId"]
        revoke(ec2, group_id, our_rules(leftovers.security_group, mine_only=False))
        delete_security_group(ec2, group_id, wait_minutes)
        click.echo(f"deleted security group {group_id} and its rules")


def delete_security_group(ec2: Any, group_id: str, wait_minutes: int) -> None:
    """Delete it, waiting while the deleted instance's network interfaces still use it."""
    from botocore.exceptions import ClientError

    def deleted(_: float) -> bool | None:
        try:
            ec2.delete_security_group(GroupId=group_id)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "DependencyViolation":
                raise
        click.echo(f"  {group_id} is still in use (network interfaces being released): waiting")
        return None

    with aws_call(f"delete the security group {group_id}"):
        if poll(deleted, wait_minutes * 60, 15) is None:
            ec2.delete_security_group(GroupId=group_id)  # the last try: its error says why
