"""A development RDS instance: `rdsctl rds-create`, `rds-stop`, `rds-start` (make targets of the
same names). rds-allow-my-ip and rds-revoke-my-ip are in rdsctl/rules.py, rds-destroy in
rdsctl/destroy.py.

rds-create shows a plan first (account, region, network, version, cost: rdsctl/plan.py) and
makes everything the instance needs of its own: a security group with no inbound rule, a
parameter group from the local server's settings. It is rerunnable: an instance it made is
adopted and waited for; one of that name that it did not make is refused.
"""

from collections.abc import Callable, Mapping
from typing import Any

import click

from app.aws import client
from rdsctl import aurora, network, parameters
from rdsctl.aws import (
    aws_call,
    confirmed,
    describe_cluster,
    describe_instance,
    instance_or_none,
    poll,
)
from rdsctl.plan import plan_for
from rdsctl.settings import OperatorSettings

STOPPED_DAYS = 7
FAILED = ("failed", "incompatible-parameters", "incompatible-network", "storage-full")


def is_ours(rds: Any, info: Mapping[str, Any]) -> bool:
    tags = info.get("TagList")
    if tags is None:
        with aws_call(f"read the tags of {info['DBInstanceIdentifier']!r}"):
            tags = rds.list_tags_for_resource(ResourceName=info["DBInstanceArn"])["TagList"]
    return network.CREATED_BY in tags


@click.command("rds-create")
@click.pass_obj
def rds_create(operator: OperatorSettings) -> None:
    """Create a development RDS for MySQL instance: plan, confirm, create, wait (rerunnable)."""
    rds, ec2 = client("rds"), client("ec2")
    identifier = operator.instance_name
    existing = instance_or_none(rds, identifier)
    if existing is not None:
        adopt(rds, existing)
    else:
        on_aurora = operator.rds_engine == aurora.ENGINE
        # a cluster of that name: ours from an earlier run, or refused before the plan
        cluster = aurora.ours_or_none(rds, aurora.cluster_name(identifier)) if on_aurora else None
        plan = plan_for(operator, rds, ec2, client("sts"))
        click.echo("Plan for the RDS instance (and what each costs to change later):")
        for name, value, later in plan.lines:
            click.echo(f"  {name:<20} {value}")
            if later:
                click.echo(f"  {'':<20}   later: {later}")
        if operator.dry_run:
            click.echo("DRY_RUN=1: nothing created")
            return
        if not confirmed(f"create {identifier}?", operator.confirm):
            raise SystemExit(3)
        groups = plan.given_groups or [network.ensure_group(ec2, identifier, plan.vpc)]
        if on_aurora:
            aurora.create(rds, operator, plan, groups, cluster)
        else:
            parameters.ensure_group(rds, identifier, plan.family, plan.group_parameters)
            with aws_call(f"create RDS instance {identifier!r}"):
                rds.create_db_instance(**plan.params, VpcSecurityGroupIds=groups)
    info = wait_until_available(
        identifier, operator.rds_wait_minutes * 60, operator.rds_poll_seconds
    )
    endpoint = info["Endpoint"]
    click.echo(f"available: {endpoint['Address']}:{endpoint['Port']}")
    if info.get("DBClusterIdentifier"):
        cluster = describe_cluster(rds, info["DBClusterIdentifier"])
        click.echo(f"  the cluster's writer endpoint: {cluster.get('Endpoint')}")
        click.echo(f"  its reader endpoint: {cluster.get('ReaderEndpoint')}")
    click.echo("next:" + (" make rds-allow-my-ip," if info.get("PubliclyAccessible") else ""))
    click.echo(f"  make rds-users RDS_INSTANCE={identifier}")
    click.echo(f"  make deploy-env RDS_INSTANCE={identifier}")


def adopt(rds: Any, existing: Mapping[str, Any]) -> None:
    identifier, status = existing["DBInstanceIdentifier"], existing["DBInstanceStatus"]
    if not is_ours(rds, existing):
        raise click.ClickException(
            f"an instance named {identifier} exists and was not made by make rds-create (no "
            "created-by=flask-rds-starter tag)\n  fix: pick another RDS_INSTANCE, or use it as "
            f"it is: make rds-users deploy-env RDS_INSTANCE={identifier}"
        )
    if status in ("stopped", "stopping", "deleting"):
        fix = (
            "make rds-start, then make rds-create again to wait"
            if status != "deleting"
            else "wait until it is gone, or pick another RDS_INSTANCE"
        )
        raise click.ClickException(f"{identifier} exists and is ours, but {status}\n  fix: {fix}")
    click.echo(f"{identifier} exists and is ours ({status}): waiting")


def wait_until_available(
    identifier: str, timeout: float, every: float, **clock: Callable[..., Any]
) -> dict[str, Any]:
    """Describe the instance every `every` seconds until it is available, the last time at
    the end of `timeout` (rdsctl.aws.poll)."""
    last: dict[str, Any] = {}

    def available(elapsed: float) -> dict[str, Any] | None:
        last.update(describe_instance(identifier))
        status = last["DBInstanceStatus"]
        click.echo(f"  {identifier}: {status} ({elapsed // 60:.0f}m {elapsed % 60:02.0f}s)")
        if status in FAILED:
            raise click.ClickException(
                f"{identifier} is {status}\n  fix: see the RDS console's events for the instance"
            )
        return dict(last) if status == "available" and last.get("Endpoint") else None

    info = poll(available, timeout, every, **clock)
    if info is None:
        raise click.ClickException(
            f"{identifier} is still {last.get('DBInstanceStatus')} after {timeout / 60:.0f} "
            "minutes\n  fix: it keeps going; run make rds-create again later to wait for it"
        )
    return info


@click.command("rds-stop")
@click.option("--instance", help="RDS_INSTANCE (flask-rds-dev)")
@click.pass_obj
def rds_stop(operator: OperatorSettings, instance: str | None) -> None:
    """Stop an idle development instance (RDS starts it again after 7 days); an Aurora
    instance's whole cluster."""
    instance, rds = instance or operator.instance_name, client("rds")
    cluster = on_itself_or_its_cluster(instance, "stop", rds.stop_db_instance, rds.stop_db_cluster)
    click.echo(
        f"stopping {cluster or instance}: no instance hours are billed while it is stopped; "
        "its storage and snapshots still are"
        + ("" if not cluster else " (a cluster that scales to 0 ACU pauses by itself, too)")
    )
    click.echo(
        f"RDS starts a stopped instance again by itself after {STOPPED_DAYS} days "
        "(and then bills its hours): stop it again, or make rds-destroy"
    )


@click.command("rds-start")
@click.option("--instance", help="RDS_INSTANCE (flask-rds-dev)")
@click.pass_obj
def rds_start(operator: OperatorSettings, instance: str | None) -> None:
    """Start a stopped development instance, or an Aurora instance's cluster (minutes)."""
    instance, rds = instance or operator.instance_name, client("rds")
    cluster = on_itself_or_its_cluster(
        instance, "start", rds.start_db_instance, rds.start_db_cluster
    )
    click.echo(f"starting {cluster or instance}: make doctor shows when it is available")


def on_itself_or_its_cluster(
    instance: str, verb: str, on_instance: Callable[..., Any], on_cluster: Callable[..., Any]
) -> str | None:
    """Call on the instance, or on an Aurora instance's whole cluster; the cluster's name."""
    cluster = describe_instance(instance).get("DBClusterIdentifier")
    with aws_call(f"{verb} {cluster or instance!r}"):
        if cluster:
            on_cluster(DBClusterIdentifier=cluster)
        else:
            on_instance(DBInstanceIdentifier=instance)
    return str(cluster) if cluster else None
