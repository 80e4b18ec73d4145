"""A database to check or deploy to, read from the same variables the app reads."""

from dataclasses import dataclass, field

import pymysql
from sqlalchemy.engine import URL

from app.config import ConfigError, secret, tls_connect_args
from app.credentials import connect_with, provider_from_config


@dataclass
class Target:
    """Where to connect, read from the same variables as the app (DB_HOST, DB_TLS, ...)."""

    host: str
    port: int
    database: str
    user: str
    password: str | None
    tls: str
    ca: str | None
    config: dict = field(default_factory=dict)
    connect_timeout: float = 5

    @classmethod
    def from_env(cls, env) -> "Target":
        if not env.get("DB_HOST"):
            raise ConfigError("no target: set DB_HOST (and DB_NAME, DB_USER, DB_PASSWORD)")
        return cls(
            host=env["DB_HOST"],
            port=int(env.get("DB_PORT") or 3306),
            database=env.get("DB_NAME") or "app",
            user=env.get("DB_USER") or "admin",
            password=secret(env, "DB_PASSWORD"),
            tls=env.get("DB_TLS") or "verify-full",
            ca=env.get("DB_TLS_CA"),
            config={
                "DB_PASSWORD_SECRET_ARN": env.get("DB_PASSWORD_SECRET_ARN"),
                "DB_IAM_AUTH": env.get("DB_IAM_AUTH") == "1",
                "AWS_REGION": env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"),
            },
            connect_timeout=float(env.get("DB_CONNECT_TIMEOUT") or 5),
        )

    def display(self) -> str:
        url = URL.create(
            "mysql+pymysql", self.user, self.password, self.host, self.port, self.database
        )
        return url.render_as_string(hide_password=True)

    def connect(self, database: str | None = None) -> pymysql.Connection:
        params = dict(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or "",
            database=database,
            charset="utf8mb4",
            connect_timeout=self.connect_timeout,
            read_timeout=30,
            **tls_connect_args(self.tls, self.ca),
        )
        url = URL.create("mysql+pymysql", self.user, host=self.host, port=self.port)
        provider = provider_from_config(self.config, url)
        if provider is None:
            return pymysql.connect(**params)
        return connect_with(provider, lambda **p: pymysql.connect(**p))(**params)
