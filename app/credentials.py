"""Database passwords that change: Secrets Manager (rotated) and IAM tokens (15 minutes).

A static password is in the URL as usual. With DB_PASSWORD_SECRET_ARN or DB_IAM_AUTH=1 the
engine asks a provider at every new connection instead.
"""

import logging
import threading

import pymysql
from sqlalchemy import event

from app import aws

log = logging.getLogger(__name__)
ACCESS_DENIED = 1045


class SecretPassword:
    """The password in a Secrets Manager secret, cached until the server refuses it."""

    def __init__(self, secret_id: str, region: str | None):
        self.secret_id = secret_id
        self.region = region
        self._password = None
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
        self._rds = None  # made once: signing a token is local, but a client is slow to make

    def password(self) -> str:
        if self._rds is None:
            self._rds = aws.client("rds", self.region or aws.region_of(self.host))
        return aws.iam_token(self.host, self.port, self.user, self.region, rds=self._rds)

    refresh = password


def connect_with(provider, connect):
    """Open a connection with the provider's password; after 1045, refresh it once and retry."""

    def open_connection(**params):
        params["password"] = provider.password()
        try:
            return connect(**params)
        except pymysql.err.OperationalError as exc:
            if exc.args[0] != ACCESS_DENIED:
                raise
        params["password"] = provider.refresh()
        return connect(**params)

    return open_connection


def provider_from_config(config: dict, url) -> SecretPassword | IAMToken | None:
    region = config.get("AWS_REGION") or aws.region_of(url.host or "")
    if config.get("DB_PASSWORD_SECRET_ARN"):
        return SecretPassword(config["DB_PASSWORD_SECRET_ARN"], region)
    if config.get("DB_IAM_AUTH"):
        return IAMToken(url.host, url.port or 3306, url.username, region)
    return None


def install(engine, config: dict) -> None:
    """Make `engine` take its password from the configured provider, if there is one."""
    provider = provider_from_config(config, engine.url)
    if provider is None:
        return

    @event.listens_for(engine, "do_connect")
    def supply_password(dialect, connection_record, cargs, cparams):
        return connect_with(provider, lambda **p: dialect.connect(*cargs, **p))(**cparams)
