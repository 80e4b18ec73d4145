"""The migrate container's command, `rdsctl migrate`: wait for the database (bounded), then
upgrade it to the head. On a shared database (make deploy-env sets MIGRATE_MODE=reviewed) it
shows the SQL, asks, takes a snapshot if asked, and only then applies."""

import sys
from datetime import UTC, datetime

import click
import flask_migrate

from app import create_app
from app.aws import client
from app.cli import wait_for_database
from app.extensions import db
from app.revisions import database_state
from app.settings import Settings
from rdsctl.aws import aws_call
from rdsctl.settings import OperatorSettings


@click.command("migrate")
def migrate_command() -> None:
    """Wait for the database (MIGRATE_WAIT_TIMEOUT), then apply the migrations (MIGRATE_MODE)."""
    settings, operator = Settings.from_env().for_migrations(), OperatorSettings.from_env()
    with create_app(settings).app_context():
        wait_for_database(operator.migrate_wait_timeout)
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
    start = f"{state.current[0]}:heads" if state.current else "heads"
    flask_migrate.upgrade(sql=True, revision=start)
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


def take_snapshot(instance: str, region: str | None) -> str:
    name = f"{instance}-pre-migrate-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    click.echo(f"taking snapshot {name} of {instance} (this can take several minutes)")
    rds = client("rds", region)
    with aws_call(f"snapshot {instance}"):
        rds.create_db_snapshot(DBInstanceIdentifier=instance, DBSnapshotIdentifier=name)
        rds.get_waiter("db_snapshot_available").wait(
            DBSnapshotIdentifier=name, WaiterConfig={"Delay": 15, "MaxAttempts": 120}
        )
    click.echo(f"snapshot {name} is available")
    return name
