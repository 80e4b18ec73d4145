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
from typing import Any, NamedTuple, Protocol

import pymysql
from sqlalchemy import Engine, event
from sqlalchemy.engine import URL

from app import aws
from app.settings import Settings

log = logging.getLogger(__name__)
ACCESS_DENIED = 1045
RETRY_AFTER_AWS_FAILURE = 30.0  # seconds a cached password is kept when AWS cannot be reached


class Login(NamedTuple):
    user: str | None  # None: the configured user
    password: str

    def __repr__(self) -> str:
        return f"Login(user={self.user!r}, password=***)"


class PasswordProvider(Protocol):
    # Seconds to keep trying after the server refuses every candidate (0: one retry only).
    retry_window: float

    def login(self) -> Login: ...

    def candidates(self) -> list[Login]: ...

    def accepted(self, login: Login) -> None: ...


class SecretPassword:
    """The login in a Secrets Manager secret: read when a new connection needs it, reused for
    `max_age` seconds (no AWS call per connection), read again at once after a refusal.

    Rotation, as Secrets Manager runs it (RDS rotates a managed master secret every 7 days by
    default): setSecret changes the password on the server while the AWSCURRENT version still
    holds the old one and AWSPENDING the new one, until finishSecret moves the AWSCURRENT
    label. So after error 1045 both versions are tried, and for `retry_window` seconds again,
    which rides out that window without a restart. The secret's username is used when it has
    one: the alternating-users rotation switches between `app` and `app_clone`.

    When AWS cannot be reached, a password that still works is kept: only a refused password,
    or none at all, makes the AWS error the connection's error.
    """

    retry_window = 10.0

    def __init__(self, secret_id: str, region: str | None, max_age: float = 300):
        self.secret_id = secret_id
        self.region = region
        self.max_age = max_age
        self._login: Login | None = None
        self._read_at = 0.0
        self._client: Any = None
        self._lock = threading.Lock()

    def login(self) -> Login:
        with self._lock:
            if self._login is not None and time.monotonic() - self._read_at <= self.max_age:
                return self._login
            try:
                found = self._current()
            except aws.AWSError as exc:
                if self._login is None:
                    raise
                log.warning(
                    "cannot read the secret again (%s); keeping the password read "
                    "before, and trying again in %.0fs",
                    exc.cause,
                    RETRY_AFTER_AWS_FAILURE,
                )
                self._read_at = time.monotonic() - self.max_age + RETRY_AFTER_AWS_FAILURE
                return self._login
            self._login, self._read_at = found, time.monotonic()
            return found

    def candidates(self) -> list[Login]:
        """The current and the pending login, read now (after the server refused one)."""
        with self._lock:
            current = self._current()
            try:
                pending = self._read("AWSPENDING")
            except aws.AWSError:  # a policy that allows AWSCURRENT only, a throttle: go on
                pending = None
        return [current] + ([pending] if pending and pending != current else [])

    def _current(self) -> Login:
        found = self._read("AWSCURRENT")
        if found is None:  # read_secret raises for a missing AWSCURRENT; never here
            raise aws.AWSError(
                f"the secret {self.secret_id} has no current version",
                "check DB_PASSWORD_SECRET_ARN",
            )
        return found

    def accepted(self, login: Login) -> None:
        with self._lock:
            self._login, self._read_at = login, time.monotonic()

    def _read(self, stage: str) -> Login | None:
        if self._client is None:  # made once: a client is slow to make; kept while it works
            self._client = aws.client("secretsmanager", self.region)
        try:
            data = aws.read_secret(self.secret_id, self.region, stage=stage, secrets=self._client)
        except aws.AWSError:
            self._client = None  # the next read starts a new session: credentials may be new
            raise
        if data is None:
            return None
        return Login(data.get("username"), str(data["password"]))


class IAMToken:
    """A fresh IAM authentication token for each connection (valid 15 minutes)."""

    retry_window = 0.0  # a refused token is not a rotation: one retry, then the error

    def __init__(self, host: str, port: int, user: str, region: str | None):
        self.host, self.port, self.user, self.region = host, port, user, region
        self._rds: Any = None  # made once: signing a token is local, but a client is slow to make

    def login(self) -> Login:
        if self._rds is None:
            self._rds = aws.client("rds", self.region or aws.region_of(self.host))
        return Login(
            None, aws.iam_token(self.host, self.port, self.user, self.region, rds=self._rds)
        )

    def candidates(self) -> list[Login]:
        self._rds = None  # a new session: the credentials that signed the refused token may
        return [self.login()]  # have expired, and their files been renewed since

    def accepted(self, login: Login) -> None:
        pass


def connect_with(
    provider: PasswordProvider,
    connect: Callable[..., Any],
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Callable[..., Any]:
    """Open a connection with the provider's login. After error 1045, try the provider's
    candidates, and again with backoff until its retry window closes (the last try at its
    end, not before it); then raise the 1045."""

    def attempt(params: dict[str, Any], login: Login) -> Any:
        try:
            return connect(
                **{**params, "user": login.user or params.get("user"), "password": login.password}
            )
        except pymysql.err.OperationalError as exc:
            if exc.args[0] != ACCESS_DENIED:
                raise
            return exc

    def open_connection(**params: Any) -> Any:
        result = attempt(params, provider.login())
        if not isinstance(result, Exception):
            return result
        log.warning("the database refused the password; reading it again (rotation?)")
        deadline = clock() + provider.retry_window
        delay = 0.25
        while True:
            for login in provider.candidates():
                result = attempt(params, login)
                if not isinstance(result, Exception):
                    provider.accepted(login)
                    log.info("logged in with the password read again")
                    return result
            remaining = deadline - clock()
            if remaining <= 0:  # the last try was at or after the window's end
                raise result
            sleep(min(delay, remaining))
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
    """Make `engine` take its login from the configured provider, if there is one."""
    provider = provider_for(settings, engine.url)
    if provider is None:
        return

    @event.listens_for(engine, "do_connect")
    def supply_password(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        return connect_with(provider, lambda **p: dialect.connect(*cargs, **p))(**cparams)
