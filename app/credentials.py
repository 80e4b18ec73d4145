"""Database passwords that change: Secrets Manager (rotated) and IAM tokens (15 minutes).

A static password is in the URL as usual. With DB_PASSWORD_SECRET_ARN or DB_IAM_AUTH=1 the
engine asks a provider at every new connection instead. A provider that cannot reach AWS
raises app.aws.AWSError, which a request answers with 503 and the CLI with cause and fix.
"""

import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

import pymysql
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

from app import aws
from app.settings import Settings

log = logging.getLogger(__name__)
ACCESS_DENIED = 1045


class PasswordProvider(Protocol):
    def password(self) -> str: ...

    def refresh(self) -> str: ...


class SecretPassword:
    """The password in a Secrets Manager secret, cached until the server refuses it."""

    def __init__(self, secret_id: str, region: str | None):
        self.secret_id = secret_id
        self.region = region
        self._password: str | None = None
        self._lock = threading.Lock()

    def password(self) -> str:
        with self._lock:
            if self._password is None:
                self._password = aws.secret_password(self.secret_id, self.region)[1]
            return self._password

    def refresh(self) -> str:
        """Called after a 1045: the secret may have rotated since it was read."""
        with self._lock:
            self._password = None
        log.info("database refused the cached password; reading the secret again")
        return self.password()


class IAMToken:
    """A fresh IAM authentication token for each connection."""

    def __init__(self, host: str, port: int, user: str, region: str | None):
        self.host, self.port, self.user, self.region = host, port, user, region
        self._rds: Any = None  # made once: signing a token is local, but a client is slow to make

    def password(self) -> str:
        if self._rds is None:
            self._rds = aws.client("rds", self.region or aws.region_of(self.host))
        return aws.iam_token(self.host, self.port, self.user, self.region, rds=self._rds)

    def refresh(self) -> str:
        return self.password()


def connect_with(provider: PasswordProvider, connect: Callable[..., Any]) -> Callable[..., Any]:
    """Open a connection with the provider's password; after 1045, refresh it once and retry."""

    def open_connection(**params: Any) -> Any:
        params["password"] = provider.password()
        try:
            return connect(**params)
        except pymysql.err.OperationalError as exc:
            if exc.args[0] != ACCESS_DENIED:
                raise
        params["password"] = provider.refresh()
        return connect(**params)

    return open_connection


def provider_for(settings: Settings, url: URL) -> PasswordProvider | None:
    """The provider the settings ask for, if any, for a connection to `url`."""
    region = settings.aws_region or aws.region_of(url.host or "")
    if settings.db_password_secret_arn:
        return SecretPassword(settings.db_password_secret_arn, region)
    if settings.db_iam_auth:
        return IAMToken(url.host or "", url.port or 3306, url.username or "", region)
    return None


def install(engine: Engine, settings: Settings) -> None:
    """Make `engine` take its password from the configured provider, if there is one."""
    provider = provider_for(settings, engine.url)
    if provider is None:
        return

    @event.listens_for(engine, "do_connect")
    def supply_password(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return connect_with(provider, lambda **p: dialect.connect(*cargs, **p))(**cparams)
