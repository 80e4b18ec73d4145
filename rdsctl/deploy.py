"""Switching the stack to RDS: `rdsctl doctor` and `rdsctl deploy-env`."""

import os
import secrets
import shutil
import sys
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from dotenv import dotenv_values

from app.aws import AWSError, read_secret, region_of
from app.env import ConfigError
from app.settings import Settings
from rdsctl import doctor
from rdsctl.aws import describe_instance, instance_port, is_proxy_endpoint
from rdsctl.doctor import GET_BUNDLE, GET_PROXY_ROOTS
from rdsctl.settings import OperatorSettings
from rdsctl.target import Target
from rdsctl.users import UserSecret, find_any, secret_names

ENV_FILE = ".env.rds"
CA_DIR = Path(".certs")
CA_FILE = CA_DIR / "rds-global-bundle.pem"
CA_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
# RDS Proxy presents an ACM certificate: clients trust Amazon Trust Services' roots.
PROXY_CA_FILE = CA_DIR / "amazon-trust-roots.pem"
AMAZON_ROOT_URLS = [
    f"https://www.amazontrust.com/repository/{name}.pem"
    for name in ("AmazonRootCA1", "AmazonRootCA2", "AmazonRootCA3", "AmazonRootCA4", "SFSRootCAG2")
]


def environment(env_file: str | None) -> dict[str, str]:
    """The process environment, overlaid with an env file's values when one is named."""
    env = dict(os.environ)
    if env_file:
        if not Path(env_file).exists():
            raise click.ClickException(f"{env_file} does not exist: run make deploy-env first")
        target = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        # The file names the whole target: a DATABASE_URL or DB_* from .env (for make run)
        # must not override or complete it.
        env = {k: v for k, v in env.items() if not k.startswith(("DB_", "DATABASE_URL"))}
        env.update(target)
    return env


def local_db(env: Mapping[str, str]) -> Target | None:
    """The Compose db to compare server settings with, if its settings parse."""
    try:
        return Target.compose_db(OperatorSettings.from_env(dict(env)))
    except ConfigError:
        return None


@click.command("doctor")
@click.option("--env-file", help="Read the target from this file (e.g. .env.rds).")
@click.option(
    "--role",
    type=click.Choice(["migrate", "app"]),
    default=None,
    help="The privileges to check (default: app for the local db, else migrate).",
)
@click.option("--allow-pending", is_flag=True, help="Pending migrations are not a failure.")
def doctor_command(env_file: str | None, role: str | None, allow_pending: bool) -> None:
    """Check a database target step by step; exit 1 at the first failure.

    The target is the database the app would use: DATABASE_URL, else DB_HOST and its parts
    (from the environment, .env, or --env-file), else the local Compose db as the app user.
    """
    env = environment(env_file)
    try:
        settings = Settings.from_env(env)
        role = role or ("app" if not (settings.db_host or settings.database_url) else "migrate")
        chosen = settings.for_migrations() if role == "migrate" else settings
        target = Target.from_settings(chosen, OperatorSettings.from_env(env))
    except ConfigError as exc:
        doctor.settings_failed(click.echo, exc)
        sys.exit(1)
    local = None if target.local else local_db(env)
    instance = None
    if env.get("RDS_INSTANCE") and not target.local:
        try:
            instance = describe_instance(env["RDS_INSTANCE"], settings.aws_region)
        except AWSError as exc:
            click.echo(f"  note  instance         not checked: {exc.cause}")
    passed = doctor.run(
        target, click.echo, role=role, allow_pending=allow_pending, local=local, instance=instance
    )
    if not passed:
        sys.exit(1)


def ca_bundle(given: str | None, host: str = "") -> Path:
    """A CA bundle inside the project (the containers mount .certs/), fetched once if need be:
    RDS's global bundle for an instance endpoint; Amazon Trust Services' roots for an RDS Proxy
    endpoint, which presents an ACM certificate, not one from the RDS CAs."""
    if given:
        source = Path(given)
        if not source.is_file():
            raise click.ClickException(f"CA bundle {given} not found.\n  fix: {GET_BUNDLE}")
        if source.resolve().is_relative_to(Path.cwd().resolve()):
            return source.resolve().relative_to(Path.cwd().resolve())
        CA_DIR.mkdir(exist_ok=True)
        shutil.copyfile(source, CA_DIR / source.name)
        return CA_DIR / source.name
    if is_proxy_endpoint(host):
        return fetched(PROXY_CA_FILE, AMAZON_ROOT_URLS, GET_PROXY_ROOTS)
    return fetched(CA_FILE, [CA_URL], GET_BUNDLE)


def fetched(path: Path, urls: list[str], fix: str) -> Path:
    """`path`, or the PEM files at `urls` concatenated into it (once)."""
    if path.exists():
        return path
    parts = []
    for url in urls:
        click.echo(f"fetching {url}")
        try:
            with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - fixed https URL
                parts.append(response.read().strip() + b"\n")
        except OSError as exc:
            raise click.ClickException(f"cannot fetch {url} ({exc}).\n  fix: {fix}") from None
    CA_DIR.mkdir(exist_ok=True)
    path.write_bytes(b"".join(parts))
    return path


def secret_region(arn: str) -> str | None:
    """The region in a secret's ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 6 and parts[2] == "secretsmanager" else None


def write_env_file(path: str, values: Mapping[str, object], comments: list[str]) -> None:
    """Write KEY='value' lines, readable by Compose and python-dotenv, mode 0600, atomically."""
    lines = [f"# {line}" for line in comments]
    for key, value in values.items():
        if value is None:
            continue
        value = str(value)
        if "'" in value or "\n" in value:
            raise click.ClickException(
                f"{key} contains a quote or newline; an env file cannot hold it"
            )
        lines.append(f"{key}='{value}'")
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write("\n".join(lines) + "\n")
    os.replace(tmp, path)
    os.chmod(path, 0o600)


# What OUTPUT.off keeps as a record of the target: names and ARNs, nothing secret (SECRET_KEY,
# and a DB_PASSWORD that a file written before deploy-env wrote only ARNs may still hold).
RECORD = (
    "DB_HOST",
    "DB_PORT",
    "DB_NAME",
    "DB_USER",
    "DB_TLS",
    "DB_TLS_CA",
    "DB_IAM_AUTH",
    "DB_PASSWORD_SECRET_ARN",
    "MIGRATE_DB_USER",
    "MIGRATE_DB_PASSWORD_SECRET_ARN",
    "AWS_REGION",
    "RDS_INSTANCE",
)


def go_local(output: str) -> None:
    """Switch back to the local db: the target stays in OUTPUT.off as a record, without a
    secret; nothing secret is left on disk."""
    if not Path(output).exists():
        click.echo("already on the local database")
        return
    kept = {k: v for k, v in dotenv_values(output).items() if k in RECORD}
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M UTC}"
    comments = [
        f"The RDS target make deploy-env wrote, switched off at {when}.",
        "No secret is kept here: make deploy-env writes a new file.",
    ]
    write_env_file(output + ".off", kept, comments)
    os.remove(output)
    click.echo(f"switched back to the local database ({output} is now {output}.off, no secret)")


NO_MASTER = (
    "make rds-users (it creates the app and migrator users, their passwords in Secrets "
    "Manager), then make deploy-env again"
)


@click.command("deploy-env")
@click.option(
    "--instance", envvar="RDS_INSTANCE", help="RDS instance identifier: look up the rest."
)
@click.option(
    "--endpoint", envvar="RDS_ENDPOINT", help="Host name (instead of, or over, --instance)."
)
@click.option("--port", envvar="RDS_PORT", type=int)
@click.option("--database", envvar="RDS_DATABASE", help="Database name (default MYSQL_DATABASE).")
@click.option("--user", envvar="RDS_USER", help="The app's user (default: make rds-users' app).")
@click.option(
    "--secret-arn", envvar="RDS_SECRET_ARN", help="The app user's secret (default: rds-users')."
)
@click.option(
    "--migrate-secret-arn",
    envvar="RDS_MIGRATE_SECRET_ARN",
    help="The migrator's secret (default: rds-users').",
)
@click.option("--iam", is_flag=True, envvar="RDS_IAM", help="The app logs in with IAM tokens.")
@click.option("--ca", envvar="RDS_CA", help="CA bundle (default: AWS's, fetched into .certs/).")
@click.option("--tls", default="verify-full", hidden=True)
@click.option("--region", envvar="AWS_REGION")
@click.option("--output", default=ENV_FILE, show_default=True)
@click.option("--local", "local", is_flag=True, help="Undo: switch back to the local db.")
def deploy_env(
    instance: str | None,
    endpoint: str | None,
    port: int | None,
    database: str | None,
    user: str | None,
    secret_arn: str | None,
    migrate_secret_arn: str | None,
    iam: bool,
    ca: str | None,
    tls: str,
    region: str | None,
    output: str,
    local: bool,
) -> None:
    """Point the stack at RDS: check both users with the doctor, then write .env.rds (0600).

    The file names secrets, never a password: the app and migrate read the password from
    Secrets Manager when they open a connection (or make an IAM token), so a rotation needs
    no new file. The app logs in as the app user, migrate as the migrator: never the master.
    """
    if local:
        go_local(output)
        return
    if tls != "verify-full":
        raise click.ClickException(
            f"DB_TLS={tls}: deploy-env connects to RDS over verified TLS only.\n  fix: {GET_BUNDLE}"
        )
    if os.environ.get("RDS_PASSWORD"):
        raise click.ClickException(
            "RDS_PASSWORD is set, and deploy-env never writes a password.\n  fix: " + NO_MASTER
        )
    found = resolve_target(instance, endpoint, port, database, None, None, region)
    info = found.get("_instance") or {}
    master_user = info.get("MasterUsername")  # known with --instance; else the doctor's check
    region = found.get("AWS_REGION") or region
    where = instance or found["DB_HOST"]
    base = {
        "DB_HOST": found["DB_HOST"],
        "DB_PORT": found["DB_PORT"],
        "DB_NAME": found["DB_NAME"],
        "DB_TLS": "verify-full",
        "DB_TLS_CA": str(ca_bundle(ca, found["DB_HOST"])),
    }
    places = [where, found["DB_HOST"]]
    migrator = user_secret(migrate_secret_arn, places, found["DB_NAME"], "migrator", region)
    region = region or secret_region(migrator.arn)
    if iam:
        app_user = user or "app"
        if info and not info.get("IAMDatabaseAuthenticationEnabled"):
            raise click.ClickException(
                f"IAM database authentication is off on {instance}.\n  fix: aws rds "
                f"modify-db-instance --db-instance-identifier {instance} "
                "--enable-iam-database-authentication --apply-immediately"
            )
        app = {"DB_USER": app_user, "DB_IAM_AUTH": "1"}
        region = region or region_of(found["DB_HOST"])
    else:
        secret = user_secret(secret_arn, places, found["DB_NAME"], "app", region)
        app_user = user or secret.username
        app = {"DB_USER": app_user, "DB_PASSWORD_SECRET_ARN": secret.arn}
    if master_user in (app_user, migrator.username):
        raise click.ClickException(
            f"{master_user} is the instance's master user: the stack never logs in as it.\n"
            f"  fix: {NO_MASTER}"
        )
    if not region:
        raise click.ClickException("no AWS region: the containers need it.\n  fix: set AWS_REGION")
    common = {**base, "AWS_REGION": region}
    migrate = {"MIGRATE_DB_USER": migrator.username, "MIGRATE_DB_PASSWORD_SECRET_ARN": migrator.arn}
    settings = Settings.from_env({**common, **app, **migrate})
    app_target = Target.from_settings(settings)
    migrate_target = Target.from_settings(settings.for_migrations())
    local_target = local_db(os.environ)
    for role, target in (("app", app_target), ("migrate", migrate_target)):
        click.echo(f"\n{role}:")
        if not doctor.run(
            target,
            click.echo,
            role=role,
            allow_pending=True,
            local=local_target,
            instance=info or None,
        ):
            raise click.ClickException(f"the target failed a check: {output} was not written")
        local_target = None  # the parity table once is enough

    previous = dotenv_values(output) if Path(output).exists() else {}
    values = {
        "APP_ENV": "production",
        "SECRET_KEY": previous.get("SECRET_KEY") or secrets.token_hex(32),
        "MIGRATE_MODE": "reviewed",
        **common,
        **app,
        **migrate,
        "RDS_INSTANCE": instance,
    }
    comments = [
        f"Written by make deploy-env at {datetime.now(UTC):%Y-%m-%d %H:%M UTC}.",
        "No database password here: the app and migrate read theirs from Secrets Manager when",
        "they connect (a rotation needs no new file). SECRET_KEY is the app's own secret:",
        "keep this file out of git (.gitignore does).",
        f"App: {app_target.display()}",
        f"Migrations: {migrate_target.display()}",
        *found["_notes"],
        "Undo: make deploy-env-local",
    ]
    write_env_file(output, values, comments)
    click.echo(f"\nwrote {output} (mode 0600): {app_target.display()}")
    click.echo("next: make migrate (shows the SQL, asks, applies), then make up")


def user_secret(
    arn: str | None, places: list[str], database: str, role: str, region: str | None
) -> UserSecret:
    """The secret for `role`: the one given, else the one make rds-users made. Never the
    master user's: RDS's managed secrets are named rds!db-... or rds!cluster-...."""
    if (arn or "").split(":")[-1].startswith("rds!"):
        raise click.ClickException(
            f"{arn} is RDS's secret of the master user: the stack never logs in as it.\n"
            f"  fix: {NO_MASTER}"
        )
    if arn:
        data = read_secret(arn, region or secret_region(arn)) or {}
        if not data.get("username"):
            raise click.ClickException(
                f"the secret {arn} has no 'username' key.\n  fix: store the {role} user's "
                'secret as {"username": ..., "password": ...}, or run make rds-users'
            )
        return UserSecret(arn, str(data["username"]), str(data["password"]))
    names = secret_names(places, database, role)
    found = find_any(names, region)
    if found is None:
        name = names[0]
        raise click.ClickException(
            f"no {role} user: the secret {name} does not exist.\n  fix: {NO_MASTER}"
        )
    return found


def resolve_target(
    instance: str | None,
    endpoint: str | None,
    port: int | None,
    database: str | None,
    user: str | None,
    secret_arn: str | None,
    region: str | None,
) -> dict[str, Any]:
    """DB_* settings from explicit values, filled in from the RDS instance when one is named.
    DB_USER is the master user (given, or the instance's); _secret_arn its secret."""
    notes = []
    info: dict[str, Any] = {}
    if instance:
        info = describe_instance(instance, region)
        address = (info.get("Endpoint") or {}).get("Address")
        if not address and not endpoint:
            raise click.ClickException(
                f"{instance} has no endpoint yet (status {info.get('DBInstanceStatus')}).\n"
                "  fix: wait until it is available (make rds-create waits), then run this again"
            )
        endpoint = endpoint or address
        port = port or instance_port(info)
        database = database or info.get("DBName")
        user = user or info["MasterUsername"]
        managed = (info.get("MasterUserSecret") or {}).get("SecretArn")
        secret_arn = secret_arn or managed
        region = region or region_of(address or "")
        notes.append(f"RDS instance {instance}: {info['Engine']} {info['EngineVersion']}")
    if not endpoint:
        raise click.ClickException(
            "no target: give RDS_INSTANCE=<identifier> or RDS_ENDPOINT=<host> (make deploy-env)"
        )
    return {
        "DB_HOST": endpoint,
        "DB_PORT": str(port or 3306),
        "DB_NAME": database or os.environ.get("MYSQL_DATABASE") or "app",
        "DB_USER": user or "admin",
        "AWS_REGION": region or region_of(endpoint),
        "_secret_arn": secret_arn,
        "_instance": info,
        "_notes": notes,
    }
