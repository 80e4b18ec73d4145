"""Flask's configuration and the database engine's options, built from the Settings."""

import ssl
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from app.env import ConfigError
from app.settings import Settings


def flask_config(settings: Settings, instance_path: str) -> dict[str, Any]:
    """The keys Flask and Flask-SQLAlchemy read, and the settings themselves as SETTINGS."""
    url, reader = database_url(settings, instance_path), reader_url(settings, instance_path)
    binds = {"reader": {"url": reader, **engine_options(settings, reader)}} if reader else {}
    return {
        "SETTINGS": settings,
        "TESTING": settings.testing,
        "SECRET_KEY": settings.secret_key,
        "MAX_CONTENT_LENGTH": settings.max_content_length,
        "SQLALCHEMY_DATABASE_URI": url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(settings, url),
        "SQLALCHEMY_BINDS": binds,
    }


def database_url(settings: Settings, instance_path: str) -> URL:
    """DATABASE_URL, or a URL built from DB_HOST and friends, or SQLite in the instance folder.

    Building from parts keeps passwords with URL-special characters working unescaped.
    """
    if settings.database_url:
        return make_url(settings.database_url)  # checked by Settings
    if settings.db_host:
        return URL.create(
            "mysql+pymysql",
            username=settings.db_user,
            password=settings.db_password,
            host=settings.db_host,
            port=settings.db_port,
            database=settings.db_name,
        )
    return make_url("sqlite:///" + str(Path(instance_path) / "app.db"))


def reader_url(settings: Settings, instance_path: str) -> URL | None:
    """DATABASE_READER_URL, or the writer's URL with DB_READER_HOST (and DB_READER_PORT) in
    it: the same users and database, as on a replica or Aurora's reader endpoint."""
    if settings.database_reader_url:
        return make_url(settings.database_reader_url)
    if settings.db_reader_host:
        writer = database_url(settings, instance_path)
        return writer.set(host=settings.db_reader_host, port=settings.db_reader_port or writer.port)
    return None


def engine_options(settings: Settings, url: URL) -> dict[str, Any]:
    """Engine options for MySQL behind RDS; SQLite gets only what applies to it."""
    if url.get_backend_name() != "mysql":
        return {"pool_pre_ping": True}  # free on SQLite
    # Autocommit, with a transaction begun before the first write or locking read and ended
    # by the session's commit or rollback; idle connections pinged (app/engine.py).
    return dict(
        isolation_level="AUTOCOMMIT",
        pool_reset_on_return="rollback",
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_timeout=10,
        # Below MySQL's wait_timeout (28800 s on RDS), so the server never closes them first.
        pool_recycle=settings.db_pool_recycle,
        connect_args=connect_args(settings),
    )


def migration_engine(settings: Settings, instance_path: str) -> sa.Engine:
    """The engine migrations run on (migrations/env.py): the migrator's login where one is set,
    no read timeout (Settings.for_migrations), transactions as the server opens them, and no
    pool: one run, one connection."""
    from app import credentials
    from app import engine as app_engine

    settings = settings.for_migrations()
    url = database_url(settings, instance_path)
    if url.get_backend_name() != "mysql":
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args(settings))
    app_engine.handshake_then_reads(engine, settings.db_read_timeout)
    credentials.install(engine, settings)
    return engine


def connect_args(settings: Settings) -> dict[str, Any]:
    """PyMySQL's connect() arguments: utf8mb4, timeouts and TLS. The read timeout bounds the
    server's greeting here; app/engine.py sets the queries' one once connected."""
    return {
        "charset": "utf8mb4",
        "connect_timeout": settings.db_connect_timeout,
        "read_timeout": settings.db_connect_timeout,
        "write_timeout": settings.db_read_timeout,
        **tls_connect_args(settings.db_tls, settings.db_tls_ca),
    }


def tls_connect_args(mode: str, ca_file: str | None) -> dict[str, Any]:
    """PyMySQL's TLS arguments for DB_TLS, built here only.

    PyMySQL is easy to get wrong (ssl_ca alone encrypts without verifying), so each mode is
    spelled out as an SSLContext that says exactly what is checked.
    """
    if mode == "disabled":
        return {"ssl_disabled": True}
    if mode == "preferred":
        return {}  # PyMySQL's default: TLS when the server offers it, certificate not checked
    if mode == "required":
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # encrypted, but anyone's certificate is accepted
        return {"ssl": context}
    if mode == "verify-full":
        if not ca_file:
            raise ConfigError("DB_TLS=verify-full needs DB_TLS_CA, the CA bundle to verify with")
        try:
            context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"DB_TLS_CA={ca_file}: not a readable CA bundle ({exc})") from None
        return {"ssl": context}  # CERT_REQUIRED and check_hostname are the defaults
    raise ConfigError(f"DB_TLS={mode!r}: must be one of disabled, preferred, required, verify-full")
