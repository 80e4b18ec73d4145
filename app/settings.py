"""Every setting, parsed once from the environment into one frozen, typed object.

This module imports nothing from the app, so that `docker/gunicorn.conf.py` and the operator
tools (`rdsctl`) can read the settings without loading the app. Each bad value raises
ConfigError naming the variable and what it accepts; `python -m app.settings` checks the
environment (and .env) and prints either the settings or that one line.
"""

import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Self, TypeVar

DEFAULT_SECRET_KEY = "dev-only-not-a-secret"  # noqa: S105 - refused in production
TLS_MODES = ("disabled", "preferred", "required", "verify-full")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
T = TypeVar("T")


class ConfigError(ValueError):
    """A setting cannot work; the message names the variable and what to set."""


class Env:
    """Typed reads of one environment mapping; an empty value counts as unset."""

    def __init__(self, values: Mapping[str, str]):
        self.values = values

    def optional(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value else None

    def text(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def integer(self, name: str, default: int, *, minimum: int = 0, maximum: int = 2**31) -> int:
        says = f"a whole number from {minimum} to {maximum}"
        return self.parsed(name, default, int, lambda v: minimum <= v <= maximum, says)

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        says = f"a number, at least {minimum:g}"
        return self.parsed(name, default, float, lambda v: minimum <= v < math.inf, says)

    def parsed(
        self,
        name: str,
        default: T,
        convert: Callable[[str], T],
        valid: Callable[[T], bool],
        says: str,
    ) -> T:
        """NAME converted, or `default` when unset; ConfigError saying what it must be."""
        raw = self.optional(name)
        if raw is None:
            return default
        try:
            value = convert(raw.strip())
        except ValueError:
            raise ConfigError(f"{name}={raw!r}: must be {says}") from None
        if not valid(value):
            raise ConfigError(f"{name}={raw!r}: must be {says}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        raw = self.optional(name)
        if raw is None:
            return default
        if raw.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if raw.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}={raw!r}: must be 1 or 0")

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise ConfigError(f"{name}={value!r}: must be one of {', '.join(choices)}")
        return value

    def secret(self, name: str) -> str | None:
        """NAME, or the contents of the file named by NAME_FILE (a Docker secret, say)."""
        path = self.optional(f"{name}_FILE")
        if path:
            try:
                return Path(path).read_text().strip()
            except OSError as exc:
                raise ConfigError(f"{name}_FILE={path}: cannot be read ({exc.strerror})") from None
        return self.optional(name)


@dataclass(frozen=True)
class Settings:
    """What the app, gunicorn, the migrate container and the operator tools read.

    The defaults here are the defaults everywhere: .env.example repeats them, and the Compose
    file differs only where it says why.
    """

    app_env: str = "development"
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)
    log_level: str = "INFO"
    max_content_length: int = 64 * 1024
    # Swagger UI at /docs/: None means on in development, off in production.
    api_docs: bool | None = None
    testing: bool = False  # set by tests only, never from the environment

    # The database: DATABASE_URL, or DB_HOST and its parts, or (neither) SQLite in instance/.
    database_url: str | None = field(default=None, repr=False)
    db_host: str | None = None
    db_port: int = 3306
    db_name: str = "app"
    db_user: str | None = None
    db_password: str | None = field(default=None, repr=False)
    # preferred, as the mysql client's --ssl-mode: TLS whenever the server offers it, which
    # every MySQL 8+ server does; it works on a server without TLS too (MariaDB's default).
    # RDS targets get verify-full from make deploy-env; the Compose stack uses required.
    db_tls: str = "preferred"
    db_tls_ca: str | None = None
    db_password_secret_arn: str | None = None
    db_secret_max_age: int = 300  # seconds a password read from the secret is reused
    db_iam_auth: bool = False
    aws_region: str | None = None
    db_pool_size: int = 5
    db_pool_recycle: int = 3600
    db_connect_timeout: int = 5
    # None: no limit, for commands (a migration's DDL may run for minutes), never for requests.
    db_read_timeout: int | None = 30
    db_ping_after: float = 1.0

    # gunicorn (docker/gunicorn.conf.py); workers None means 2 x CPUs + 1, at most 12.
    gunicorn_workers: int | None = None
    # gthread, 4 threads a worker: it won on RDS-like links in make bench (docs/benchmarks.md).
    gunicorn_threads: int = 4
    gunicorn_timeout: int = 30
    gunicorn_graceful_timeout: int = 20
    gunicorn_keepalive: int = 5
    gunicorn_max_requests: int = 0
    gunicorn_preload: bool = True
    gunicorn_access_log: bool = True
    gunicorn_reload: bool = False  # the development override turns it on

    # The migrate container.
    migrate_wait_timeout: int = 60
    migrate_mode: str = "apply"
    # Seconds a migration waits for a table's metadata lock (lock_wait_timeout), and for another
    # migrator's named lock: a DDL queued behind a long transaction blocks every query on that
    # table while it waits, so the wait is short and explicit, not the server's default of a year.
    migrate_lock_timeout: int = 60
    # On RDS (make deploy-env), migrations log in as their own user, not as the app's.
    migrate_db_user: str | None = None
    migrate_db_password_secret_arn: str | None = None

    # The Compose db as published on this machine: the doctor's target when DB_HOST is unset.
    mysql_port: int = 3306
    mysql_database: str = "app"
    app_db_user: str = "app"
    app_db_password: str = field(default="app-local-only", repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Parse `environ` (default: os.environ); raise ConfigError at the first bad value."""
        env = Env(os.environ if environ is None else environ)
        settings = cls(
            app_env=env.choice("APP_ENV", "development", ("development", "production")),
            secret_key=env.text("SECRET_KEY", DEFAULT_SECRET_KEY),
            log_level=env.choice("LOG_LEVEL", "INFO", LOG_LEVELS),
            max_content_length=env.integer("MAX_CONTENT_LENGTH", 64 * 1024, minimum=1024),
            api_docs=env.flag("API_DOCS") if env.optional("API_DOCS") else None,
            database_url=env.optional("DATABASE_URL"),
            db_host=env.optional("DB_HOST"),
            db_port=env.integer("DB_PORT", 3306, minimum=1, maximum=65535),
            db_name=env.text("DB_NAME", "app"),
            db_user=env.optional("DB_USER"),
            db_password=env.secret("DB_PASSWORD"),
            db_tls=env.choice("DB_TLS", "preferred", TLS_MODES),
            db_tls_ca=env.optional("DB_TLS_CA"),
            db_password_secret_arn=env.optional("DB_PASSWORD_SECRET_ARN"),
            db_secret_max_age=env.integer("DB_SECRET_MAX_AGE", 300, minimum=1),
            db_iam_auth=env.flag("DB_IAM_AUTH"),
            aws_region=env.optional("AWS_REGION") or env.optional("AWS_DEFAULT_REGION"),
            db_pool_size=env.integer("DB_POOL_SIZE", 5, minimum=1, maximum=100),
            db_pool_recycle=env.integer("DB_POOL_RECYCLE", 3600, minimum=1),
            db_connect_timeout=env.integer("DB_CONNECT_TIMEOUT", 5, minimum=1, maximum=600),
            db_read_timeout=env.integer("DB_READ_TIMEOUT", 30, minimum=1),
            db_ping_after=env.number("DB_PING_AFTER", 1.0),
            gunicorn_workers=(
                env.integer("GUNICORN_WORKERS", 0, minimum=1, maximum=64)
                if env.optional("GUNICORN_WORKERS")
                else None
            ),
            gunicorn_threads=env.integer("GUNICORN_THREADS", 4, minimum=1, maximum=64),
            gunicorn_timeout=env.integer("GUNICORN_TIMEOUT", 30, minimum=1),
            gunicorn_graceful_timeout=env.integer("GUNICORN_GRACEFUL_TIMEOUT", 20, minimum=1),
            gunicorn_keepalive=env.integer("GUNICORN_KEEPALIVE", 5),
            gunicorn_max_requests=env.integer("GUNICORN_MAX_REQUESTS", 0),
            gunicorn_preload=env.flag("GUNICORN_PRELOAD", True),
            gunicorn_access_log=env.flag("GUNICORN_ACCESS_LOG", True),
            gunicorn_reload=env.flag("GUNICORN_RELOAD"),
            migrate_wait_timeout=env.integer("MIGRATE_WAIT_TIMEOUT", 60, minimum=1),
            migrate_mode=env.choice("MIGRATE_MODE", "apply", ("apply", "reviewed")),
            migrate_lock_timeout=env.integer("MIGRATE_LOCK_TIMEOUT", 60, minimum=1),
            migrate_db_user=env.optional("MIGRATE_DB_USER"),
            migrate_db_password_secret_arn=env.optional("MIGRATE_DB_PASSWORD_SECRET_ARN"),
            mysql_port=env.integer("MYSQL_PORT", 3306, minimum=1, maximum=65535),
            mysql_database=env.text("MYSQL_DATABASE", "app"),
            app_db_user=env.text("APP_DB_USER", "app"),
            app_db_password=env.text("APP_DB_PASSWORD", "app-local-only"),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse values and combinations that cannot work, saying what to set."""
        if self.database_url:
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                make_url(self.database_url)
            except ArgumentError:
                raise ConfigError(
                    "DATABASE_URL is not a database URL: write it as "
                    "mysql+pymysql://user:password@host:3306/name (or sqlite:///path)"
                ) from None
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

    def database_shown(self) -> str:
        """Where the app's database is, password hidden (for people, not for connecting)."""
        if self.database_url:
            from sqlalchemy.engine import make_url

            return make_url(self.database_url).render_as_string(hide_password=True)
        if self.db_host:
            user = self.db_user or ""
            return f"mysql+pymysql://{user}:***@{self.db_host}:{self.db_port}/{self.db_name}"
        return "sqlite:///instance/app.db (the default: no DATABASE_URL or DB_HOST)"

    def for_commands(self) -> Self:
        """The settings a command runs with (flask, rdsctl): no read timeout, which guards a
        request's worker; a command's statement (a migration's ALTER) may take minutes."""
        return replace(self, db_read_timeout=None)

    def for_migrations(self) -> Self:
        """The settings migrations run with: a command's, as the migrator user when one is
        set (MIGRATE_DB_USER and its secret, from make deploy-env)."""
        settings = self.for_commands()
        if self.migrate_db_user:
            settings = replace(
                settings,
                db_user=self.migrate_db_user,
                db_password=None,
                db_password_secret_arn=self.migrate_db_password_secret_arn,
                db_iam_auth=False,
            )
        return settings

    @property
    def docs_enabled(self) -> bool:
        return self.api_docs if self.api_docs is not None else self.app_env == "development"

    def replace(self, **changes: object) -> Self:
        """A copy with `changes` (tests); checked like the original."""
        settings = replace(self, **changes)  # type: ignore[arg-type]
        settings.check()
        return settings


def main() -> None:
    """`python -m app.settings`: check the environment and .env; print the settings or why not."""
    from dotenv import load_dotenv

    load_dotenv(override=False)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"settings: {exc}", file=sys.stderr)
        print("  fix: set it in .env or the environment (.env.example lists them)", file=sys.stderr)
        raise SystemExit(2) from None
    if "--quiet" in sys.argv:
        return
    print(f"database: {settings.database_shown()}")
    for item in fields(settings):
        if item.repr:
            print(f"{item.name.upper()}={getattr(settings, item.name)}")


if __name__ == "__main__":
    main()
