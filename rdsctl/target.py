"""A database to check or deploy to, from the same Settings the app reads."""

from dataclasses import dataclass, field

import pymysql
from pymysql.connections import Connection
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.config import tls_connect_args
from app.credentials import connect_with, provider_for
from app.env import ConfigError
from app.settings import Settings
from rdsctl.settings import OperatorSettings


@dataclass(frozen=True)
class Target:
    """Where to connect. `local` marks the Compose db as published on this machine."""

    host: str
    port: int
    database: str
    user: str
    password: str | None = field(default=None, repr=False)
    tls: str = "preferred"
    ca: str | None = None
    settings: Settings = field(default_factory=Settings, repr=False)
    connect_timeout: float = 5
    local: bool = False

    @classmethod
    def from_settings(
        cls, settings: Settings, operator: OperatorSettings | None = None
    ) -> "Target":
        """The database the app would use: DATABASE_URL, else DB_HOST and its parts, else the
        Compose db on 127.0.0.1:MYSQL_PORT as the app user (make up)."""
        if settings.database_url:
            try:
                url = make_url(settings.database_url)
            except ArgumentError:
                raise ConfigError("DATABASE_URL is not a database URL") from None
            if url.get_backend_name() != "mysql":
                raise ConfigError(
                    f"DATABASE_URL names {url.get_backend_name()}, not MySQL: the doctor checks "
                    "MySQL targets (unset DATABASE_URL to check the local db)"
                )
            host, port, database = url.host or "localhost", url.port or 3306, url.database or ""
            user, password = url.username or "", url.password
        elif settings.db_host:
            host, port, database = settings.db_host, settings.db_port, settings.db_name
            user, password = settings.db_user or "", settings.db_password
        else:
            return cls.compose_db(
                operator or OperatorSettings(), settings.db_tls, settings.db_tls_ca
            )
        return cls(
            host,
            port,
            database,
            user,
            str(password) if password is not None else None,
            tls=settings.db_tls,
            ca=settings.db_tls_ca,
            settings=settings,
            connect_timeout=settings.db_connect_timeout,
        )

    @classmethod
    def compose_db(
        cls, operator: OperatorSettings, tls: str = "preferred", ca: str | None = None
    ) -> "Target":
        """The Compose `db` as published on this machine, as the app user."""
        return cls(
            host="127.0.0.1",
            port=operator.mysql_port,
            database=operator.mysql_database,
            user=operator.app_db_user,
            password=operator.app_db_password,
            tls=tls,
            ca=ca,
            connect_timeout=2,
            local=True,
        )

    def url(self) -> URL:
        return URL.create(
            "mysql+pymysql", self.user, self.password, self.host, self.port, self.database
        )

    def display(self) -> str:
        return self.url().render_as_string(hide_password=True)

    def connect(self, database: str | None = None) -> Connection:
        params = dict(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or "",
            database=database,
            charset="utf8mb4",
            connect_timeout=self.connect_timeout,
            read_timeout=self.connect_timeout,  # the greeting: a resuming cluster holds it
            **tls_connect_args(self.tls, self.ca),
        )
        provider = None if self.local else provider_for(self.settings, self.url())
        connect = pymysql.connect if provider is None else connect_with(provider, pymysql.connect)
        connection: Connection = connect(**params)
        # the queries' read timeout from now on (PyMySQL has no public setter: app/engine.py)
        connection._read_timeout = 30  # type: ignore[attr-defined]
        return connection
