"""`rdsctl deploy-env`: point the Compose stack at RDS by writing .env.rds, after the doctor
passed as the app's user and as the migrator. The file names secrets, never a password."""

import secrets
from datetime import UTC, datetime
from pathlib import Path

import click
from dotenv import dotenv_values

from app.aws import read_secret, region_of
from app.settings import Settings
from rdsctl import doctor
from rdsctl.certs import ca_bundle
from rdsctl.envfile import go_local, write_env_file
from rdsctl.login import GET_BUNDLE
from rdsctl.parity import local_variables
from rdsctl.resolve import RdsTarget, resolve
from rdsctl.settings import OperatorSettings
from rdsctl.target import Target
from rdsctl.users import UserSecret, find_any, secret_names, secret_region

NO_MASTER = (
    "make rds-users (it creates the app and migrator users, their passwords in Secrets "
    "Manager), then make deploy-env again"
)


@click.command("deploy-env")
@click.option("--instance", "rds_instance", help="RDS instance identifier (RDS_INSTANCE).")
@click.option("--endpoint", "rds_endpoint", help="Host name, over --instance's (RDS_ENDPOINT).")
@click.option("--reader-endpoint", "rds_reader_endpoint", help="Reads' host (RDS_READER_ENDPOINT).")
@click.option("--port", "rds_port", type=int, help="RDS_PORT")
@click.option("--database", "rds_database", help="Database name (RDS_DATABASE; MYSQL_DATABASE).")
@click.option("--user", "rds_user", help="The app's user (RDS_USER; default: rds-users' app).")
@click.option("--secret-arn", "rds_secret_arn", help="The app user's secret (RDS_SECRET_ARN).")
@click.option("--migrate-secret-arn", "rds_migrate_secret_arn", help="RDS_MIGRATE_SECRET_ARN")
@click.option("--iam", "rds_iam", is_flag=True, help="The app logs in with IAM tokens (RDS_IAM).")
@click.option("--ca", "rds_ca", help="CA bundle (RDS_CA; default: AWS's, fetched into .certs/).")
@click.option("--region", "aws_region", help="AWS_REGION")
@click.option("--output", "rds_env_file", help="The file to write (RDS_ENV_FILE, .env.rds).")
@click.option("--tls", default="verify-full", hidden=True)
@click.option("--local", "local", is_flag=True, help="Undo: switch back to the local db.")
@click.pass_obj
def deploy_env(operator: OperatorSettings, /, tls: str, local: bool, **options: object) -> None:
    """Point the stack at RDS: check both users with the doctor, then write .env.rds (0600).

    The app and migrate read their passwords from Secrets Manager when they open a connection
    (or make an IAM token), so a rotation needs no new file. The app logs in as the app user,
    migrate as the migrator: never the master.
    """
    operator = operator.given(**options)  # the options over the environment
    output = operator.rds_env_file
    if local:
        go_local(output)
        return
    if tls != "verify-full":
        raise click.ClickException(
            f"DB_TLS={tls}: deploy-env connects to RDS over verified TLS only.\n  fix: {GET_BUNDLE}"
        )
    if operator.rds_password:
        raise click.ClickException(
            "RDS_PASSWORD is set, and deploy-env never writes a password.\n  fix: " + NO_MASTER
        )
    found = resolve(operator)
    values = target_values(found, operator.rds_ca)
    migrator = user_secret(operator.rds_migrate_secret_arn, found, "migrator")
    app = app_login(found, operator.rds_user, operator.rds_secret_arn, operator.rds_iam)
    refuse_the_master(found, app["DB_USER"], migrator.username)
    region = found.region or secret_region(migrator.arn) or region_of(found.host)
    if not region:
        raise click.ClickException("no AWS region: the containers need it.\n  fix: set AWS_REGION")
    values |= {
        "AWS_REGION": region,
        **app,
        "MIGRATE_DB_USER": migrator.username,
        "MIGRATE_DB_PASSWORD_SECRET_ARN": migrator.arn,
    }
    settings = Settings.from_env(values)
    checked(settings, found, operator, output)
    write(output, values, settings, found)


def target_values(found: RdsTarget, ca: str | None) -> dict[str, str]:
    values = {
        "DB_HOST": found.host,
        "DB_PORT": str(found.port),
        "DB_NAME": found.database,
        "DB_TLS": "verify-full",
        "DB_TLS_CA": str(ca_bundle(ca, found.host)),
    }
    if found.migrate_host:
        values["MIGRATE_DB_HOST"] = found.migrate_host
    if found.reader_host:
        values["DB_READER_HOST"] = found.reader_host
    return values


def app_login(found: RdsTarget, user: str | None, arn: str | None, iam: bool) -> dict[str, str]:
    """The app's login: an IAM token for a user of the plugin, or make rds-users' secret."""
    if not iam:
        secret = user_secret(arn, found, "app")
        return {"DB_USER": user or secret.username, "DB_PASSWORD_SECRET_ARN": secret.arn}
    if found.instance and not found.instance.get("IAMDatabaseAuthenticationEnabled"):
        raise click.ClickException(
            f"IAM database authentication is off on {found.identifier}.\n  fix: aws rds "
            f"modify-db-instance --db-instance-identifier {found.identifier} "
            "--enable-iam-database-authentication --apply-immediately"
        )
    return {"DB_USER": user or "app", "DB_IAM_AUTH": "1"}


def refuse_the_master(found: RdsTarget, *users: str) -> None:
    master = found.instance and found.instance.get("MasterUsername")  # else the doctor's check
    if master in users:
        raise click.ClickException(
            f"{master} is the instance's master user: the stack never logs in as it.\n"
            f"  fix: {NO_MASTER}"
        )


def checked(settings: Settings, found: RdsTarget, operator: OperatorSettings, output: str) -> None:
    """The doctor, as the app's user, as the migrator and on the reader endpoint, each with
    its parity table (an Aurora reader may have a parameter group of its own)."""
    local_vars = local_variables(Target.compose_db(operator))  # read once, for every table
    checks = [
        ("app", Target.from_settings(settings)),
        ("migrate", Target.from_settings(settings.for_migrations())),
    ]
    if settings.db_reader_host:  # the app's user, on the reader endpoint
        reads = settings.replace(db_host=settings.db_reader_host)
        checks.append(("reader", Target.from_settings(reads)))
    for role, target in checks:
        click.echo(f"\n{role}:")
        if not doctor.run(
            target,
            click.echo,
            role=role,
            allow_pending=True,
            local_vars=local_vars,
            instance=found.instance,
            my_ip=operator.my_ip,
        ):
            raise click.ClickException(f"the target failed a check: {output} was not written")


def write(output: str, values: dict[str, str], settings: Settings, found: RdsTarget) -> None:
    previous = dotenv_values(output) if Path(output).exists() else {}
    app_target = Target.from_settings(settings)
    everything = {
        "APP_ENV": "production",
        "SECRET_KEY": previous.get("SECRET_KEY") or secrets.token_hex(32),
        "MIGRATE_MODE": "reviewed",
        **values,
        "RDS_INSTANCE": found.identifier,
    }
    comments = [
        f"Written by make deploy-env at {datetime.now(UTC):%Y-%m-%d %H:%M UTC}.",
        "No database password here: the app and migrate read theirs from Secrets Manager when",
        "they connect (a rotation needs no new file). SECRET_KEY is the app's own secret:",
        "keep this file out of git (.gitignore does).",
        f"App: {app_target.display()}",
        f"Migrations: {Target.from_settings(settings.for_migrations()).display()}",
        *found.notes,
        "Undo: make deploy-env-local",
    ]
    write_env_file(output, everything, comments)
    click.echo(f"\nwrote {output} (mode 0600): {app_target.display()}")
    click.echo("next: make migrate (shows the SQL, asks, applies), then make up")


def user_secret(arn: str | None, found: RdsTarget, role: str) -> UserSecret:
    """The secret for `role`: the one given, else the one make rds-users made. Never the
    master user's: RDS's managed secrets are named rds!db-... or rds!cluster-...."""
    if (arn or "").split(":")[-1].startswith("rds!"):
        raise click.ClickException(
            f"{arn} is RDS's secret of the master user: the stack never logs in as it.\n"
            f"  fix: {NO_MASTER}"
        )
    if arn:
        data = read_secret(arn, found.region or secret_region(arn)) or {}
        if not data.get("username"):
            raise click.ClickException(
                f"the secret {arn} has no 'username' key.\n  fix: store the {role} user's "
                'secret as {"username": ..., "password": ...}, or run make rds-users'
            )
        return UserSecret(arn, str(data["username"]), str(data["password"]))
    names = secret_names([found.where, found.host], found.database, role)
    secret = find_any(names, found.region)
    if secret is None:
        raise click.ClickException(
            f"no {role} user: the secret {names[0]} does not exist.\n  fix: {NO_MASTER}"
        )
    return secret
