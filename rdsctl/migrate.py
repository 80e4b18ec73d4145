"""The migrate container's command, `rdsctl migrate`: wait for the database (bounded), then
upgrade it to the head. On a shared database (make deploy-env sets MIGRATE_MODE=reviewed) it
shows the SQL, asks, takes a snapshot if asked, and only then applies.

A revision that reads the database while it runs cannot be shown as SQL beforehand (offline,
there is no database to read). Guard such a read with `context.is_offline_mode()`, as
3b1f6c2d9a10 does; where that cannot be, the revision is named, and applied unseen only when
MIGRATE_UNRENDERED names it too.
"""

import sys
from datetime import UTC, datetime

import click
import flask_migrate

from app import create_app
from app.aws import AWSError, client
from app.cli import wait_for_database
from app.extensions import db
from app.revisions import RevisionState, database_state
from app.settings import Settings
from rdsctl.aws import aws_call, describe_instance
from rdsctl.settings import OperatorSettings


@click.command("migrate")
@click.pass_obj
def migrate_command(operator: OperatorSettings) -> None:
    """Wait for the database (MIGRATE_WAIT_TIMEOUT), then apply the migrations (MIGRATE_MODE)."""
    with create_app(Settings.from_env().for_migrations()).app_context():
        try:
            wait_for_database(operator.migrate_wait_timeout)
        except AWSError as exc:  # the login cannot be had here: waiting does not help
            raise click.ClickException(f"{exc.cause} (fix: {exc.fix})") from None
        if operator.migrate_mode == "reviewed":
            apply_reviewed(operator)
        else:
            flask_migrate.upgrade()


def apply_reviewed(operator: OperatorSettings) -> None:
    """Needs an app context; exits 3 when the SQL was shown but not confirmed."""
    state = database_state(db.engine)
    if state.unknown:
        raise click.ClickException(
            f"the database is at {state.where}, a revision this code does not have"
        )
    if not state.pending:
        click.echo(f"nothing to apply: database at {state.where}")
        return
    click.echo(f"pending migrations: {', '.join(state.pending)}. The SQL they will run:\n")
    unseen = show_sql(state)
    confirmed_unseen = set((operator.migrate_unrendered or "").replace(" ", "").split(","))
    if unseen - confirmed_unseen:
        click.echo(
            f"\nnot applied: {', '.join(sorted(unseen))} cannot be shown as SQL (it reads the "
            "database while it runs); read its upgrade(), then apply it unseen with make migrate "
            f"CONFIRM=yes MIGRATE_UNRENDERED={','.join(sorted(unseen))}"
        )
        sys.exit(3)
    if not operator.confirm:
        if not sys.stdin.isatty():
            click.echo("\nnot applied: review the SQL above, then run make migrate CONFIRM=yes")
            sys.exit(3)
        if not click.confirm(f"\napply {len(state.pending)} migration(s) to {db.engine.url.host}?"):
            click.echo("not applied")
            sys.exit(3)
    if operator.snapshot:
        if not operator.rds_instance:
            raise click.ClickException("SNAPSHOT=1 needs RDS_INSTANCE (make deploy-env writes it)")
        take_snapshot(operator.rds_instance, operator.aws_region)
    flask_migrate.upgrade()


def show_sql(state: RevisionState) -> set[str]:
    """Print each pending revision's SQL, rendered offline; the revisions that could not be."""
    unseen = set()
    previous = state.current[0] if state.current else None
    for revision in state.pending:
        try:  # from the revision before it (none: from the start)
            flask_migrate.upgrade(
                sql=True, revision=f"{previous}:{revision}" if previous else revision
            )
        except Exception as exc:  # noqa: BLE001 - any error of a revision's code, said and kept
            click.echo(f"-- {revision} cannot be shown as SQL: {type(exc).__name__}: {exc}")
            unseen.add(revision)
        previous = revision
    return unseen


def take_snapshot(instance: str, region: str | None) -> str:
    """A manual snapshot of the instance, or of an Aurora instance's cluster, waited for."""
    name = f"{instance}-pre-migrate-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    rds = client("rds", region)
    cluster = describe_instance(instance, region).get("DBClusterIdentifier")
    click.echo(f"taking snapshot {name} of {cluster or instance} (this can take several minutes)")
    wait = {"Delay": 15, "MaxAttempts": 120}
    with aws_call(f"snapshot {cluster or instance}"):
        if cluster:
            rds.create_db_cluster_snapshot(
                DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=name
            )
            rds.get_waiter("db_cluster_snapshot_available").wait(
                DBClusterSnapshotIdentifier=name, WaiterConfig=wait
            )
        else:
            rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=name)
            rds.get_waiter("db_snapshot_available").wait(
                DBSnapshotIdentifier=name, WaiterConfig=wait
            )
    click.echo(f"snapshot {name} is available")
    return name
