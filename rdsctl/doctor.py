"""`rdsctl doctor`: check a database target step by step, stop at the first failure.

Each failure is one line of cause and one line of fix. The steps follow what goes wrong when a
laptop first talks to RDS: the instance, the endpoint, the network (rdsctl/reach.py), TLS and
the login (rdsctl/login.py), privileges (rdsctl/grants.py), migrations; then a table of server
settings beside the local `db`'s (rdsctl/parity.py).
"""

import ipaddress
import sys
from typing import Any

import click
from pymysql.connections import Connection

from app.aws import AWSError
from app.env import ConfigError
from app.revisions import revision_state
from app.settings import Settings
from rdsctl import reach
from rdsctl.aws import describe_instance, is_proxy_endpoint
from rdsctl.checks import Echo, Failure, failed, note, ok, settings_failed
from rdsctl.envfile import environment
from rdsctl.grants import step_privileges
from rdsctl.login import step_database, step_login, step_refuse_plain_text, tls_detail
from rdsctl.parity import local_variables, parity_table, server_variables
from rdsctl.settings import OperatorSettings
from rdsctl.target import Target


def run(
    target: Target,
    echo: Echo,
    *,
    role: str = "migrate",
    allow_pending: bool = False,
    local_vars: dict[str, str] | None = None,
    instance: dict[str, Any] | None = None,
    my_ip: str | None = None,
) -> bool:
    """Run every step; print a line per step; return False at the first failure; then the
    parity table against `local_vars` (the local db's, parity.local_variables). With the
    instance's description (describe_db_instances), its state and network are checked too."""
    echo(f"doctor: {target.display()} (TLS {target.tls})")
    if is_proxy_endpoint(target.host):
        echo(
            "  warning: this is an RDS Proxy endpoint; run migrations against the instance "
            "endpoint (the migration lock pins a proxy connection)"
        )
    connection = None
    try:
        check_the_way(target, echo, instance, my_ip)
        connection = check_the_login(target, echo)
        ok(echo, "database", step_database(target, connection))
        ok(echo, "privileges", step_privileges(target, connection, role))
        ok(echo, "migrations", step_migrations(connection, allow_pending))
        target_vars = server_variables(connection)
    except Failure as failure:
        failed(echo, failure.step, failure.cause, failure.fix)
        return False
    except ConfigError as exc:
        settings_failed(echo, exc)
        return False
    except AWSError as exc:
        failed(echo, "AWS", exc.cause, exc.fix)
        return False
    finally:
        if connection is not None:
            connection.close()
    echo("")
    for line in parity_table(target_vars, local_vars):
        echo("  " + line)
    return True


def check_the_way(
    target: Target, echo: Echo, instance: dict[str, Any] | None, my_ip: str | None
) -> None:
    """The instance's state, the endpoint's name, and a TCP connection. A connection that
    works wins over what the security groups seem to say: that is a note at most."""
    step_refuse_plain_text(target)
    if instance:
        ok(echo, "instance", reach.step_instance(instance))
    addresses = reach.step_resolve(target)
    ok(echo, "name resolution", f"{target.host} -> {', '.join(addresses)}")
    if not instance:
        ok(echo, "TCP connect", reach.step_tcp(target))
        return
    reach.note_private(echo, instance, addresses)
    port = (instance.get("Endpoint") or {}).get("Port", target.port)
    try:
        tcp = reach.step_tcp(target)
    except Failure as failure:
        failure.fix = reach.network_fix(instance, port, reach.public_address(my_ip)) or failure.fix
        raise
    ok(echo, "TCP connect", tcp)
    if any(ipaddress.ip_address(a).is_global for a in addresses):  # else a VPN, a peering
        seen = reach.rules_note(instance, port, reach.public_address(my_ip))
        if seen:
            note(echo, "security group", seen)


def check_the_login(target: Target, echo: Echo) -> Connection:
    try:
        connection = step_login(target, echo)
    except Failure as failure:
        if failure.step == "login" and target.tls in ("required", "verify-ca", "verify-full"):
            # the client insists on TLS before it sends the password: the handshake passed
            ok(echo, "TLS", f"handshake done (DB_TLS={target.tls})")
        elif failure.step == "login":
            echo(
                f"  ?     {'TLS':<16} not known: DB_TLS={target.tls} falls back to plain text, "
                "and the login failed before the session could be asked"
            )
        raise
    ok(echo, "TLS", tls_detail(target, connection))
    ok(echo, "login", f"as {target.user}")
    return connection


def database_revisions(connection: Connection) -> tuple[str, ...]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW TABLES LIKE 'alembic_version'")
        if not cursor.fetchone():
            return ()
        cursor.execute("SELECT version_num FROM alembic_version")
        return tuple(row[0] for row in cursor.fetchall())


def step_migrations(connection: Connection, allow_pending: bool) -> str:
    state = revision_state(database_revisions(connection))
    if state.unknown:
        raise Failure(
            "migrations",
            f"the database is at {state.where}, a revision this code does not have",
            "deploy the code that wrote that revision, or check you chose the right database",
        )
    if state.pending and not allow_pending:
        raise Failure(
            "migrations",
            f"pending migrations: {', '.join(state.pending)} (database at {state.where})",
            "make migrate: it applies them (on RDS it shows the SQL and asks first)",
        )
    if state.pending:
        return f"database at {state.where}; to apply: {', '.join(state.pending)}"
    return f"at head ({state.where})"


@click.command("doctor")
@click.option("--env-file", help="Read the target from this file (e.g. .env.rds).")
@click.option(
    "--role",
    type=click.Choice(["migrate", "app", "reader"]),
    default=None,
    help="The privileges to check (default: app for the local db, else migrate); reader: the "
    "app's user on DB_READER_HOST.",
)
@click.option("--allow-pending", is_flag=True, help="Pending migrations are not a failure.")
def doctor_command(env_file: str | None, role: str | None, allow_pending: bool) -> None:
    """Check a database target step by step; exit 1 at the first failure.

    The target is the database the app would use: DATABASE_URL, else DB_HOST and its parts
    (from the environment, .env, or --env-file), else the local Compose db as the app user.
    """
    env = environment(env_file)
    try:
        settings, operator = Settings.from_env(env), OperatorSettings.from_env(env)
        role = role or ("app" if not (settings.db_host or settings.database_url) else "migrate")
        chosen = settings.for_migrations() if role == "migrate" else settings
        if role == "reader":
            if not settings.db_reader_host:
                raise ConfigError("--role reader needs DB_READER_HOST (make deploy-env writes it)")
            chosen = settings.replace(db_host=settings.db_reader_host)
        target = Target.from_settings(chosen, operator)
    except ConfigError as exc:
        settings_failed(click.echo, exc)
        sys.exit(1)
    instance = None
    if operator.rds_instance and not target.local:
        try:
            instance = describe_instance(operator.rds_instance, settings.aws_region)
        except AWSError as exc:
            note(click.echo, "instance", f"not checked: {exc.cause}")
    passed = run(
        target,
        click.echo,
        role=role,
        allow_pending=allow_pending,
        instance=instance,
        local_vars=None if target.local else local_variables(Target.compose_db(operator)),
        my_ip=operator.my_ip,
    )
    if not passed:
        sys.exit(1)
