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

from app.aws import region_of, secret_password
from app.settings import ConfigError, Settings
from rdsctl import doctor
from rdsctl.aws import describe_instance
from rdsctl.doctor import GET_BUNDLE
from rdsctl.target import Target

ENV_FILE = ".env.rds"
CA_DIR = Path(".certs")
CA_FILE = CA_DIR / "rds-global-bundle.pem"
CA_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"


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
        return Target.compose_db(Settings.from_env(env))
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
        target = Target.from_settings(Settings.from_env(env))
    except ConfigError as exc:
        doctor.settings_failed(click.echo, exc)
        sys.exit(1)
    role = role or ("app" if target.local else "migrate")
    local = None if target.local else local_db(env)
    if not doctor.run(target, click.echo, role=role, allow_pending=allow_pending, local=local):
        sys.exit(1)


def ca_bundle(given: str | None) -> Path:
    """A CA bundle inside the project (the containers mount .certs/), fetched once if need be."""
    if given:
        source = Path(given)
        if not source.is_file():
            raise click.ClickException(f"CA bundle {given} not found.\n  fix: {GET_BUNDLE}")
        if source.resolve().is_relative_to(Path.cwd().resolve()):
            return source.resolve().relative_to(Path.cwd().resolve())
        CA_DIR.mkdir(exist_ok=True)
        shutil.copyfile(source, CA_DIR / source.name)
        return CA_DIR / source.name
    if not CA_FILE.exists():
        click.echo(f"fetching the RDS CA bundle from {CA_URL}")
        try:
            with urllib.request.urlopen(CA_URL, timeout=20) as response:  # noqa: S310 - fixed https URL
                data = response.read()
        except OSError as exc:
            raise click.ClickException(
                f"cannot fetch the RDS CA bundle ({exc}).\n  fix: {GET_BUNDLE}"
            ) from None
        CA_DIR.mkdir(exist_ok=True)
        CA_FILE.write_bytes(data)
    return CA_FILE


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


@click.command("deploy-env")
@click.option(
    "--instance", envvar="RDS_INSTANCE", help="RDS instance identifier: look up the rest."
)
@click.option(
    "--endpoint", envvar="RDS_ENDPOINT", help="Host name (instead of, or over, --instance)."
)
@click.option("--port", envvar="RDS_PORT", type=int)
@click.option("--database", envvar="RDS_DATABASE", help="Database name (default MYSQL_DATABASE).")
@click.option("--user", envvar="RDS_USER", help="Default: the instance's master user.")
@click.option(
    "--secret-arn", envvar="RDS_SECRET_ARN", help="Secrets Manager secret with the password."
)
@click.option("--iam", is_flag=True, envvar="RDS_IAM", help="IAM database authentication tokens.")
@click.option("--ca", envvar="RDS_CA", help="CA bundle (default: fetch AWS's global bundle once).")
@click.option("--tls", default="verify-full", hidden=True)
@click.option("--region", envvar="AWS_REGION")
@click.option("--output", default=ENV_FILE, show_default=True)
@click.option("--local", "go_local", is_flag=True, help="Undo: switch back to the local db.")
def deploy_env(instance: str | None, endpoint: str | None, port: int | None,
               database: str | None, user: str | None, secret_arn: str | None, iam: bool,
               ca: str | None, tls: str, region: str | None, output: str,
               go_local: bool) -> None:  # fmt: skip
    """Point the stack at RDS: check the target with the doctor, then write .env.rds (0600)."""
    if go_local:
        if Path(output).exists():
            os.replace(output, output + ".off")
            click.echo(f"switched back to the local database ({output} moved to {output}.off)")
        else:
            click.echo("already on the local database")
        return
    if tls != "verify-full":
        raise click.ClickException(
            f"DB_TLS={tls}: deploy-env connects to RDS over verified TLS only.\n  fix: {GET_BUNDLE}"
        )
    settings = resolve_target(instance, endpoint, port, database, user, secret_arn, region)
    settings["DB_TLS"] = "verify-full"
    settings["DB_TLS_CA"] = str(ca_bundle(ca))
    if iam:
        settings["DB_IAM_AUTH"] = "1"
        settings["AWS_REGION"] = region or region_of(settings["DB_HOST"])
        settings.pop("DB_PASSWORD", None)
    elif not settings.get("_secret_arn"):
        settings["DB_PASSWORD"] = os.environ.get("RDS_PASSWORD") or click.prompt(
            f"password for {settings['DB_USER']}", hide_input=True
        )

    secret_arn = settings.get("_secret_arn")
    target_env = {k: v for k, v in settings.items() if not k.startswith("_") and v}
    if secret_arn:
        target_env["DB_PASSWORD_SECRET_ARN"] = secret_arn
    target = Target.from_settings(Settings.from_env(target_env))
    if not doctor.run(target, click.echo, allow_pending=True, local=local_db(os.environ)):
        raise click.ClickException(f"the target failed a check: {output} was not written")

    if secret_arn:  # read once more after the doctor's checks: what the secret holds now
        settings["DB_PASSWORD"] = secret_password(secret_arn, settings.get("AWS_REGION"))[1]
    previous = dotenv_values(output) if Path(output).exists() else {}
    values = {
        "APP_ENV": "production",
        "SECRET_KEY": previous.get("SECRET_KEY") or secrets.token_hex(32),
        "MIGRATE_MODE": "reviewed",
        **{k: v for k, v in settings.items() if not k.startswith("_")},
    }
    comments = [
        f"Written by make deploy-env at {datetime.now(UTC):%Y-%m-%d %H:%M UTC}.",
        "It holds a password: keep it out of git (.gitignore does) and do not share it.",
        f"Target: {target.display()}",
        *settings.get("_notes", []),
        "Undo: make deploy-env-local",
    ]
    write_env_file(output, values, comments)
    click.echo(f"\nwrote {output} (mode 0600): {target.display()}")
    click.echo("next: make migrate (shows the SQL, asks, applies), then make up")


def resolve_target(instance: str | None, endpoint: str | None, port: int | None,
                   database: str | None, user: str | None, secret_arn: str | None,
                   region: str | None) -> dict[str, Any]:  # fmt: skip
    """DB_* settings from explicit values, filled in from the RDS instance when one is named."""
    notes = []
    if instance:
        info = describe_instance(instance, region)
        endpoint = endpoint or info["Endpoint"]["Address"]
        port = port or info["Endpoint"]["Port"]
        database = database or info.get("DBName")
        user = user or info["MasterUsername"]
        managed = (info.get("MasterUserSecret") or {}).get("SecretArn")
        secret_arn = secret_arn or managed
        region = region or region_of(info["Endpoint"]["Address"])
        notes.append(f"RDS instance {instance}: {info['Engine']} {info['EngineVersion']}")
        if not info.get("DBName") and not database:
            notes.append("the instance has no initial database name")
    if not endpoint:
        raise click.ClickException(
            "no target: give RDS_INSTANCE=<identifier> or RDS_ENDPOINT=<host> (make deploy-env)"
        )
    settings = {
        "DB_HOST": endpoint,
        "DB_PORT": str(port or 3306),
        "DB_NAME": database or os.environ.get("MYSQL_DATABASE") or "app",
        "DB_USER": user or "admin",
        "RDS_INSTANCE": instance,
        "AWS_REGION": region,
        "_notes": notes,
    }
    if secret_arn:  # the doctor reads the password from it; deploy-env writes it afterwards
        notes.append(f"Password read from Secrets Manager {secret_arn}; after a rotation run")
        notes.append("make deploy-env again (the doctor and migrate re-read it on error 1045).")
        settings["_secret_arn"] = secret_arn
    return settings
