"""The doctor's checks of the MySQL handshake: TLS, the login, the database; and what a failed
connection means, with its fix (make rds-users uses it too)."""

import time
from collections.abc import Callable

import pymysql
from pymysql.connections import Connection

from app.engine import RESUMING, resuming
from rdsctl.aws import is_proxy_endpoint
from rdsctl.checks import Failure
from rdsctl.target import Target

GET_BUNDLE = (
    "get the RDS CA bundle: curl -o .certs/rds-global-bundle.pem "
    "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem "
    "and set DB_TLS=verify-full DB_TLS_CA=.certs/rds-global-bundle.pem"
)
GET_PROXY_ROOTS = (
    "an RDS Proxy endpoint presents an ACM certificate: trust Amazon Trust Services' roots "
    "(https://www.amazontrust.com/repository/AmazonRootCA1.pem and its siblings; make "
    "deploy-env fetches them into .certs/)"
)
IAM_FIX = (
    "the user must exist IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' (make rds-users "
    "RDS_IAM=1), the instance must have IAM database authentication on, and your AWS identity "
    "needs rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:DB_RESOURCE_ID/{user} (the "
    "token is made by whoever runs this)"
)
LOGIN_FIX = (
    "check the user and its secret (DB_PASSWORD_SECRET_ARN): make rds-users sets the app and "
    "migrator users' passwords to what their secrets hold; the master user is the instance's "
    "'Master username' (RDS console), not your AWS login"
)


def classify(target: Target, exc: pymysql.err.MySQLError) -> Failure:
    """The step and the cause of a failed connection, with its fix."""
    code = exc.args[0] if exc.args else 0
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    by_code = refused_by_server(target, code)
    if by_code is not None:
        return by_code
    if "CERTIFICATE_VERIFY_FAILED" in message and "mismatch" in message:
        return Failure(
            "TLS",
            f"the server's certificate does not name {target.host!r}",
            "connect to the endpoint name the certificate names (the RDS endpoint itself, not an "
            "IP address or a DNS alias of your own)",
        )
    if "CERTIFICATE_VERIFY_FAILED" in message:
        fix = (
            GET_PROXY_ROOTS
            if is_proxy_endpoint(target.host)
            else "DB_TLS_CA must be the RDS CA bundle; " + GET_BUNDLE
        )
        return Failure(
            "TLS",
            f"the server's certificate is not signed by a CA in {target.ca or 'the system store'}",
            fix,
        )
    if "doesn't support it" in message:
        return Failure(
            "TLS",
            "the server offers no TLS",
            "RDS always offers TLS: check that DB_HOST is the RDS endpoint",
        )
    return Failure("connect", f"{message} ({code})", "see the server's message")


def refused_by_server(target: Target, code: int) -> Failure | None:
    """The server's own refusals, by error code."""
    db, user = target.database, target.user
    create_db = (
        f"as the master user: CREATE DATABASE `{db}` CHARACTER SET utf8mb4 "
        "COLLATE utf8mb4_0900_ai_ci;"
    )
    if code == 1045 and target.settings.db_iam_auth:
        cause = f"IAM authentication refused for user {user!r} ({code})"
        return Failure("login", cause, IAM_FIX.format(user=user))
    if code == 1045:
        cause = f"access denied for user {user!r} ({code}): wrong user name or password"
        return Failure("login", cause, LOGIN_FIX)
    if code == 3159:
        cause = f"the server requires TLS and this connection did not use it ({code})"
        return Failure("TLS required", cause, GET_BUNDLE)
    if code == 1049:
        cause = (
            f"database {db!r} does not exist ({code}): RDS's 'Initial database name' was left "
            "empty when the instance was created"
        )
        return Failure("database", cause, create_db)
    if code == 1044:
        cause = (
            f"user {user!r} may not use database {db!r} ({code}): it does not exist, or the "
            "user has no grant on it"
        )
        return Failure("database", cause, f"{create_db} GRANT ALL ON `{db}`.* TO '{user}'@'%';")
    return None


def step_refuse_plain_text(target: Target) -> None:
    if target.host.rstrip(".").endswith(".rds.amazonaws.com") and target.tls != "verify-full":
        raise Failure(
            "TLS",
            f"DB_TLS={target.tls}: connections to RDS are made over verified TLS only",
            GET_BUNDLE,
        )


RESUME_WAIT = 60  # seconds the tools wait for a cluster resuming from pause (15-30 s, AWS)


def step_login(target: Target, echo: Callable[[str], object] = print) -> Connection:
    """TLS and login happen in one MySQL handshake; a failure says which part failed. A server
    that takes the connection and does not greet it (a cluster resuming from pause) is waited
    for, RESUME_WAIT seconds at most, said once."""
    deadline, said = time.monotonic() + RESUME_WAIT, False
    while True:
        try:
            return target.connect()
        except pymysql.err.MySQLError as exc:
            if not resuming(exc) or time.monotonic() >= deadline:
                raise classify(target, exc) from None
            if not said:
                echo(f"  ...   {'resume':<16} {RESUMING}: waiting up to {RESUME_WAIT} s")
                said = True


def tls_detail(target: Target, connection: Connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        row = cursor.fetchone()
    version = row[1] if row else ""
    if not version:
        return "not encrypted (DB_TLS=" + target.tls + ")"
    if target.tls == "verify-full":
        return f"{version}, certificate and host name verified against {target.ca}"
    return f"{version}, certificate NOT verified (DB_TLS={target.tls})"


def step_database(target: Target, connection: Connection) -> str:
    try:
        connection.select_db(target.database)
    except pymysql.err.MySQLError as exc:
        raise classify(target, exc) from None
    return target.database
