"""`.env.rds`, the file make deploy-env writes: the RDS target the stack uses while it exists.
Written atomically, mode 0600, with secrets' ARNs and never a password."""

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import click
from dotenv import dotenv_values

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
    "MIGRATE_DB_HOST",
    "MIGRATE_DB_USER",
    "MIGRATE_DB_PASSWORD_SECRET_ARN",
    "AWS_REGION",
    "RDS_INSTANCE",
)


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


def retire_env_file(path: str, instance: str, endpoints: set[str]) -> bool:
    """Switch the stack back to the local db if `path` points at `instance` (by name, or at one
    of its endpoints)."""
    if not Path(path).exists():
        return False
    values = dotenv_values(path)
    if values.get("RDS_INSTANCE") != instance and values.get("DB_HOST") not in endpoints:
        return False
    go_local(path)
    return True
