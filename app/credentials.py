"""Database passwords that change: Secrets Manager (rotated) and IAM tokens (15 minutes).

A static password is in the URL as usual. With DB_PASSWORD_SECRET_ARN or DB_IAM_AUTH=1 the
engine asks a provider whenever it opens a new connection instead. A provider that cannot
reach AWS raises app.aws.AWSError, which a request answers with 503 and the CLI with cause and
fix. Nothing here logs a password.
"""

import logging
import threading
import time
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
    # Seconds to keep trying after the server refuses every candidate (0: one retry only).
    retry_window: float

    def password(self) -> str: ...

    def candidates(self) -> list[str]: ...

    def accepted(self, password: str) -> None: ...


class SecretPassword:
    """The password in a Secrets Manager secret: read when a new connection needs it, reused
    for `max_age` seconds (no AWS call per connection), read again at once after a refusal.

    Rotation, as Secrets Manager runs it (RDS rotates a managed master secret every 7 days by
    default): setSecret changes the password on the server while the AWSCURRENT version still
    holds the old one and AWSPENDING the new one, until finishSecret moves the AWSCURRENT
    label. So after error 1045 both versions are tried, and for `retry_window` seconds again,
    which rides out that window without a restart.
    """

    retry_window = 10.0

    def __init__(self, secret_id: str, region: str | None, max_age: float = 300):
        self.secret_id = secret_id
        self.region = region
        self.max_age = max_age
        self._password: str | None = None
        self._read_at = 0.0
        self._client: Any = None
        self._lock = threading.Lock()

    def password(self) -> str:
        with self._lock:
            if self._password is None or time.monotonic() - self._read_at > self.max_age:
                self._password = self._read("AWSCURRENT")
                self._read_at = time.monotonic()
            return self._password

    def candidates(self) -> list[str]:
        """The current and the pending password, read now (after the server refused one)."""
        with self._lock:
            found = [self._read("AWSCURRENT"), self._read("AWSPENDING")]
        return [p for i, p in enumerate(found) if p is not None and p not in found[:i]]

    def accepted(self, password: str) -> None:
        with self._lock:
            self._password, self._read_at = password, time.monotonic()

    def _read(self, stage: str) -> Any:
        if self._client is None:  # made once: a client is slow to make; kept while it works
            self._client = aws.client("secretsmanager", self.region)
        try:
            data = aws.read_secret(self.secret_id, self.region, stage=stage, secrets=self._client)
        except aws.AWSError:
            self._client = None  # the next read starts a new session: credentials may be new
            raise
        return None if data is None else str(data["password"])


class IAMToken:
    """A fresh IAM authentication token for each connection (valid 15 minutes)."""

    retry_window = 0.0  # a refused token is not a rotation: one retry, then the error

    def __init__(self, host: str, port: int, user: str, region: str | None):
        self.host, self.port, self.user, self.region = host, port, user, region
        self._rds: Any = None  # made once: signing a token is local, but a client is slow to make

    def password(self) -> str:
        if self._rds is None:
            self._rds = aws.client("rds", self.region or aws.region_of(self.host))
        return aws.iam_token(self.host, self.port, self.user, self.region, rds=self._rds)

    def candidates(self) -> list[str]:
        return [self.password()]

    def accepted(self, password: str) -> None:
        pass


def connect_with(
    provider: PasswordProvider,
    connect: Callable[..., Any],
    sleep: Callable[[float], object] = time.sleep,
) -> Callable[..., Any]:
    """Open a connection with the provider's password. After error 1045, try the provider's
    candidates, and again with backoff until its retry window closes; then raise the 1045."""

    def attempt(params: dict[str, Any], password: str) -> Any:
        try:
            return connect(**{**params, "password": password})
        except pymysql.err.OperationalError as exc:
            if exc.args[0] != ACCESS_DENIED:
                raise
            return exc

    def open_connection(**params: Any) -> Any:
        result = attempt(params, provider.password())
        if not isinstance(result, Exception):
            return result
        log.warning("the database refused the password; reading it again (rotation?)")
        deadline = time.monotonic() + provider.retry_window
        delay = 0.25
        while True:
            for password in provider.candidates():
                result = attempt(params, password)
                if not isinstance(result, Exception):
                    provider.accepted(password)
                    log.info("logged in with the password read again")
                    return result
            if time.monotonic() + delay > deadline:
                raise result
            sleep(delay)
            delay = min(delay * 2, 2.0)

    return open_connection


def provider_for(settings: Settings, url: URL) -> PasswordProvider | None:
    """The provider the settings ask for, if any, for a connection to `url`. IAM wins over a
    secret: with DB_IAM_AUTH=1 a password, from wherever, is never sent."""
    region = settings.aws_region or aws.region_of(url.host or "")
    if settings.db_iam_auth:
        return IAMToken(url.host or "", url.port or 3306, url.username or "", region)
    if settings.db_password_secret_arn:
        return SecretPassword(settings.db_password_secret_arn, region, settings.db_secret_max_age)
    return None


def install(engine: Engine, settings: Settings) -> None:
    """Make `engine` take its password from the configured provider, if there is one."""
    provider = provider_for(settings, engine.url)
    if provider is None:
        return

    @event.listens_for(engine, "do_connect")
    def supply_password(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return connect_with(provider, lambda **p: dialect.connect(*cargs, **p))(**cparams)
