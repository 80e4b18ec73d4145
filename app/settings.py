"""The service's settings (the app, gunicorn's settings, the migrations), parsed once from the
environment into one frozen, typed object; the operator tools have theirs (rdsctl/settings.py).

Each field is read from the variable of its name in capitals (db_pool_size: DB_POOL_SIZE), and
its default is written here only; .env.example documents every variable (a test holds the two
together). A bad value is one ConfigError line naming the variable and what it accepts.
`python -m app.settings` checks the environment and .env and prints the settings or that line.
This module imports nothing of the app, so gunicorn's settings and rdsctl can read it alone.
"""

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.env import ConfigError, load_env_file, parse, reparse

DEFAULT_SECRET_KEY = "dev-only-not-a-secret"  # noqa: S105 - refused in production
# The database URLs this project ships a driver for.
DRIVERS = {"mysql": "pymysql", "mariadb": "pymysql", "sqlite": "pysqlite"}
URL_FORM = "mysql+pymysql://user:password@host:3306/name (or sqlite:///path)"


class Settings(BaseModel):
    """What the service reads. The Compose files differ from these defaults only where they
    say why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    app_env: Literal["development", "production"] = "development"
    secret_key: str = Field(DEFAULT_SECRET_KEY, repr=False)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    max_content_length: int = Field(64 * 1024, ge=1024, le=2**31)
    # Swagger UI at /docs/: None means on in development, off in production.
    api_docs: bool | None = None
    testing: bool = Field(False, exclude=True)  # set by tests only, never from the environment

    # The database: DATABASE_URL, or DB_HOST and its parts, or (neither) SQLite in instance/.
    database_url: str | None = Field(None, repr=False)
    db_host: str | None = None
    db_port: int = Field(3306, ge=1, le=65535)
    db_name: str = "app"
    db_user: str | None = None
    db_password: str | None = Field(None, repr=False)  # or DB_PASSWORD_FILE
    # preferred, as the mysql client's --ssl-mode: TLS whenever the server offers it (every
    # MySQL 8+ server does). The Compose stack uses required; make deploy-env writes verify-full.
    db_tls: Literal["disabled", "preferred", "required", "verify-full"] = "preferred"
    db_tls_ca: str | None = None
    db_password_secret_arn: str | None = None
    db_secret_max_age: int = Field(300, ge=1)  # seconds a password read from the secret is reused
    db_iam_auth: bool = False
    aws_region: str | None = None  # or AWS_DEFAULT_REGION
    db_pool_size: int = Field(5, ge=1, le=100)
    db_pool_recycle: int = Field(3600, ge=1)
    db_connect_timeout: int = Field(5, ge=1, le=600)
    # None: no limit, for migrations (a DDL may run for minutes), never for requests.
    db_read_timeout: int | None = Field(30, ge=1)
    db_ping_after: float = Field(1.0, ge=0, allow_inf_nan=False)
    db_idle_close: float = Field(60, ge=0, allow_inf_nan=False)  # 0: never
    # Reads on a replica (app/readers.py): DATABASE_READER_URL, or DB_READER_HOST with the
    # writer's port, user, database and TLS. Unset: every query goes to the writer.
    database_reader_url: str | None = Field(None, repr=False)
    db_reader_host: str | None = None
    db_reader_port: int | None = Field(None, ge=1, le=65535)
    db_reader_after_write: float = Field(2.0, ge=0, allow_inf_nan=False)  # seconds
    db_reader_max_lag: float = Field(5.0, gt=0, allow_inf_nan=False)  # seconds

    # gunicorn (docker/gunicorn.conf.py); workers None means 2 x CPUs + 1, at most 12.
    gunicorn_workers: int | None = Field(None, ge=1, le=64)
    gunicorn_threads: int = Field(4, ge=1, le=64)  # gthread: docs/benchmarks.md
    gunicorn_timeout: int = Field(30, ge=1)
    gunicorn_graceful_timeout: int = Field(20, ge=1)
    gunicorn_keepalive: int = Field(5, ge=0)
    gunicorn_max_requests: int = Field(0, ge=0)
    gunicorn_preload: bool = True
    gunicorn_access_log: bool = True
    gunicorn_reload: bool = False  # the development override turns it on

    # Migrations: how long they wait for another migrator's lock; how long a DDL waits for a
    # table's metadata lock a try (every query on that table queues behind it while it waits,
    # so a few seconds, not the server's default of a year), and how many tries; on RDS, the
    # migrator's own login and, behind an RDS Proxy, the instance's own endpoint.
    migrate_lock_timeout: int = Field(60, ge=1)
    migrate_ddl_wait: int = Field(5, ge=1)
    migrate_ddl_tries: int = Field(6, ge=1, le=20)
    migrate_db_host: str | None = None
    migrate_db_user: str | None = None
    migrate_db_password_secret_arn: str | None = None

    @model_validator(mode="after")
    def _combinations_that_work(self) -> Self:
        if self.database_url:
            check_database_url(self.database_url)
        if self.database_reader_url:
            check_database_url(self.database_reader_url, "DATABASE_READER_URL")
        if (self.database_reader_url or self.db_reader_host) and not self.on_mysql:
            raise ConfigError(
                "a reader (DB_READER_HOST, DATABASE_READER_URL) needs the writer on MySQL too: "
                "set DB_HOST or a mysql+pymysql:// DATABASE_URL"
            )
        if self.db_tls == "verify-full" and not self.db_tls_ca:
            raise ConfigError(
                "DB_TLS=verify-full needs DB_TLS_CA, the CA bundle to verify the server with"
            )
        if self.db_tls_ca and not Path(self.db_tls_ca).is_file():
            raise ConfigError(f"DB_TLS_CA={self.db_tls_ca}: no such file")
        if self.db_iam_auth and self.db_tls != "verify-full":
            raise ConfigError(
                "DB_IAM_AUTH=1 sends a token as the password: it needs DB_TLS=verify-full"
            )
        if self.migrate_db_user and not self.migrate_db_password_secret_arn:
            raise ConfigError(
                "MIGRATE_DB_USER needs MIGRATE_DB_PASSWORD_SECRET_ARN, the secret with its "
                "password (make deploy-env writes both)"
            )
        if self.app_env == "production" and self.secret_key == DEFAULT_SECRET_KEY:
            raise ConfigError(
                "SECRET_KEY is missing or left at its development default; production needs a "
                'random one: python -c "import secrets; print(secrets.token_hex(32))"'
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """From `environ`, or from the environment over .env (load_env_file)."""
        if environ is None:
            load_env_file()
            environ = os.environ
        return parse(cls, environ, {"aws_region": ("AWS_REGION", "AWS_DEFAULT_REGION")})

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes` (tests), checked like the original."""
        return reparse(self, changes)

    def for_migrations(self) -> Self:
        """As the migrations run: no read timeout, and as the migrator when one is set
        (MIGRATE_DB_USER and its secret, from make deploy-env)."""
        changes: dict[str, Any] = {"db_read_timeout": None}
        if self.migrate_db_host:
            changes["db_host"] = self.migrate_db_host
        if self.migrate_db_user:
            changes |= {
                "db_user": self.migrate_db_user,
                "db_password": None,
                "db_password_secret_arn": self.migrate_db_password_secret_arn,
                "db_iam_auth": False,
            }
        return self.model_copy(update=changes)

    def database_shown(self) -> str:
        """Where the app's database is, password hidden (for people, not for connecting)."""
        if self.database_url:
            from sqlalchemy.engine import make_url

            return make_url(self.database_url).render_as_string(hide_password=True)
        if self.db_host:
            user = self.db_user or ""
            return f"mysql+pymysql://{user}:***@{self.db_host}:{self.db_port}/{self.db_name}"
        return "sqlite:///instance/app.db (the default: no DATABASE_URL or DB_HOST)"

    @property
    def on_mysql(self) -> bool:
        if self.database_url:
            return self.database_url.startswith(("mysql", "mariadb"))
        return self.db_host is not None

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.app_env == "development"


def check_database_url(url: str, name: str = "DATABASE_URL") -> None:
    """A URL SQLAlchemy reads, naming a database and a driver this project ships."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL: write it as {URL_FORM}") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in DRIVERS:
        raise ConfigError(
            f"{name} names {backend}, which this project does not run on: it runs on "
            f"MySQL and SQLite, {URL_FORM}"
        )
    if driver != DRIVERS[backend]:
        raise ConfigError(
            f"{name} asks for the {driver} driver, which this project does not ship: "
            f"write {backend}+{DRIVERS[backend]}://... ({URL_FORM})"
        )


def main(argv: list[str] | None = None) -> None:
    """`python -m app.settings`: check the environment and .env; print the settings or why not."""
    parser = argparse.ArgumentParser(
        prog="python -m app.settings",
        description="Check the settings in the environment and .env, and print them "
        "(passwords and keys are never shown).",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when they are good")
    arguments = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        print("  fix: set it in .env or the environment (.env.example lists them)", file=sys.stderr)
        raise SystemExit(2) from None
    if arguments.quiet:
        return
    lines = [f"database: {settings.database_shown()}"]
    shown = [
        name for name, field in Settings.model_fields.items() if field.repr and not field.exclude
    ]
    lines += [f"{name.upper()}={getattr(settings, name)}" for name in shown]
    try:
        print("\n".join(lines))
    except BrokenPipeError:  # | head -1: the reader had what it wanted
        sys.stdout = None  # no second error when Python flushes it at exit


if __name__ == "__main__":
    main()
