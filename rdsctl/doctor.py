"""`rdsctl doctor`: check a database target step by step, stop at the first failure.

Each failure is one line of cause and one line of fix. The steps follow what goes wrong when a
laptop first talks to RDS: the endpoint, the security group, TLS, the master user, the initial
database, privileges, migrations; then a table of server settings beside the local `db`.
"""

import ipaddress
import re
import socket
import time
from collections.abc import Callable
from typing import Any

import pymysql
from pymysql.connections import Connection

from app.aws import AWSError
from app.env import ConfigError
from app.revisions import revision_state
from rdsctl.aws import is_proxy_endpoint
from rdsctl.target import Target

Echo = Callable[[str], object]
SETTINGS_FIX = "set it in .env or the environment; .env.example lists every setting"

GET_BUNDLE = (
    "get the RDS CA bundle: curl -o .certs/rds-global-bundle.pem "
    "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem "
    "and set DB_TLS=verify-full DB_TLS_CA=.certs/rds-global-bundle.pem"
)
GET_PROXY_ROOTS = (
    "an RDS Proxy endpoint presents an ACM certificate: trust Amazon Trust Services' roots "
    "(https://www.amazontrust.com/repository/AmazonRootCA1.pem and its siblings; make "
    "deploy-env fetches them into .certs/amazon-trust-roots.pem)"
)
PARITY_VARIABLES = [
    "version",
    "sql_mode",
    "time_zone",
    "character_set_server",
    "collation_server",
    "max_connections",
    "wait_timeout",
    "require_secure_transport",
    "lower_case_table_names",
    "innodb_lock_wait_timeout",
    "transaction_isolation",
    "max_allowed_packet",
    "log_bin_trust_function_creators",
]
# Spelled differently by some servers (MariaDB 10.11 has only tx_isolation).
ALIASES = {"tx_isolation": "transaction_isolation"}
# Written differently, meaning the same: RDS reports time_zone SYSTEM on a UTC host.
SAME_AS_UTC = {"UTC", "+00:00", "SYSTEM (UTC)"}
PRIVILEGES = {
    "migrate": {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "INDEX"},
    "app": {"SELECT", "INSERT", "UPDATE", "DELETE"},
}
# What the app's user must not hold: the running app only reads and writes rows.
BEYOND_ROWS = {
    "CREATE",
    "ALTER",
    "DROP",
    "INDEX",
    "CREATE VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "TRIGGER",
    "EVENT",
    "CREATE USER",
    "FILE",
    "PROCESS",
    "RELOAD",
    "SHUTDOWN",
    "SUPER",
}


class Failure(Exception):
    def __init__(self, step: str, cause: str, fix: str):
        super().__init__(cause)
        self.step, self.cause, self.fix = step, cause, fix


def classify(target: Target, exc: pymysql.err.MySQLError) -> Failure:
    """The step and the cause of a failed connection, with its fix."""
    code = exc.args[0] if exc.args else 0
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    db = target.database
    create_db = (
        f"as the master user: CREATE DATABASE `{db}` CHARACTER SET utf8mb4 "
        "COLLATE utf8mb4_0900_ai_ci;"
    )
    if code == 1045 and target.settings.db_iam_auth:
        return Failure(
            "login",
            f"IAM authentication refused for user {target.user!r} ({code})",
            f"the user must exist IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS' (make "
            "rds-users RDS_IAM=1), the instance must have IAM database authentication on, and "
            "your AWS identity needs rds-db:connect on arn:aws:rds-db:REGION:ACCOUNT:dbuser:"
            f"DB_RESOURCE_ID/{target.user} (the token is made by whoever runs this)",
        )
    if code == 1045:
        return Failure(
            "login",
            f"access denied for user {target.user!r} ({code}): wrong user name or password",
            "check the user and its secret (DB_PASSWORD_SECRET_ARN): make rds-users sets the "
            "app and migrator users' passwords to what their secrets hold; the master user is "
            "the instance's 'Master username' (RDS console), not your AWS login",
        )
    if code == 3159:
        return Failure(
            "TLS required",
            f"the server requires TLS and this connection did not use it ({code})",
            GET_BUNDLE,
        )
    if code == 1049:
        return Failure(
            "database",
            f"database {db!r} does not exist ({code}): RDS's 'Initial database name' was left "
            "empty when the instance was created",
            create_db,
        )
    if code == 1044:
        return Failure(
            "database",
            f"user {target.user!r} may not use database {db!r} ({code}): it does not exist, or "
            "the user has no grant on it",
            f"{create_db} GRANT ALL ON `{db}`.* TO '{target.user}'@'%';",
        )
    if "CERTIFICATE_VERIFY_FAILED" in message and "mismatch" in message:
        return Failure(
            "TLS",
            f"the server's certificate does not name {target.host!r}",
            "connect to the endpoint name the certificate names (the RDS endpoint itself, not an "
            "IP address or a DNS alias of your own)",
        )
    if "CERTIFICATE_VERIFY_FAILED" in message:
        where = target.ca or "the system store"
        return Failure(
            "TLS",
            f"the server's certificate is not signed by a CA in {where}",
            GET_PROXY_ROOTS
            if is_proxy_endpoint(target.host)
            else "DB_TLS_CA must be the RDS CA bundle; " + GET_BUNDLE,
        )
    if "doesn't support it" in message:
        return Failure(
            "TLS",
            "the server offers no TLS",
            "RDS always offers TLS: check that DB_HOST is the RDS endpoint",
        )
    return Failure("connect", f"{message} ({code})", "see the server's message")


def step_refuse_plain_text(target: Target) -> None:
    if target.host.rstrip(".").endswith(".rds.amazonaws.com") and target.tls != "verify-full":
        raise Failure(
            "TLS",
            f"DB_TLS={target.tls}: connections to RDS are made over verified TLS only",
            GET_BUNDLE,
        )


UNREACHABLE = {
    "stopped": "aws rds start-db-instance --db-instance-identifier {id} (it takes minutes)",
    "stopping": "wait until it has stopped, then start it again",
    "creating": "wait until it is available (make rds-create waits)",
    "starting": "wait until it is available: a start takes a few minutes",
    "rebooting": "wait until it is available again",
    "deleting": "it is being deleted: pick another instance",
    "failed": "see the instance's events: aws rds describe-events --source-identifier {id}",
    "storage-full": "raise its storage: aws rds modify-db-instance --allocated-storage ...",
}


def step_instance(instance: dict[str, Any]) -> str:
    identifier = instance.get("DBInstanceIdentifier", "?")
    status = str(instance.get("DBInstanceStatus", "?"))
    if status in UNREACHABLE or status.startswith(("incompatible-", "inaccessible-")):
        fix = UNREACHABLE.get(status, "see the RDS console's events for the instance")
        raise Failure("instance", f"{identifier} is {status}", fix.format(id=identifier))
    public = "publicly accessible" if instance.get("PubliclyAccessible") else "private"
    return f"{identifier} {status}, {public}"


def note_private(echo: Echo, instance: dict[str, Any], resolved: str) -> None:
    """A private instance's endpoint resolves to a VPC address: say so before TCP times out."""
    addresses = resolved.split(" -> ", 1)[-1].split(", ")
    private = all(ipaddress.ip_address(a).is_private for a in addresses if a)
    if private and not instance.get("PubliclyAccessible"):
        echo(
            f"  note  {'network':<16} not publicly accessible: its endpoint is a VPC "
            "address, reachable from inside the VPC only (a VPN, a bastion, or make it "
            "public)"
        )


def network_fix(instance: dict[str, Any], port: int) -> str | None:
    """After a failed TCP connect: what the instance's network settings say is wrong."""
    if not instance.get("PubliclyAccessible"):
        identifier = instance.get("DBInstanceIdentifier", "?")
        return (
            "the instance is not publicly accessible: connect from inside its VPC, or aws rds "
            f"modify-db-instance --db-instance-identifier {identifier} --publicly-accessible "
            "--apply-immediately (and allow only your address: make rds-allow-my-ip)"
        )
    try:
        allowed = allowed_networks(instance, port)
    except AWSError:
        return None
    if not allowed:
        return f"no inbound rule of its security groups opens TCP {port}: make rds-allow-my-ip"
    mine = public_address()
    shown = ", ".join(str(n) for n in allowed[:5])
    if mine is None:
        return f"its security groups allow TCP {port} from {shown}: is this machine in one?"
    if any(mine in network for network in allowed):
        return (
            f"a security group rule covers {mine}; check the route from here (VPN, "
            "firewall, the subnet's network ACL)"
        )
    return f"no security group rule covers {mine} (allowed: {shown}): make rds-allow-my-ip"


def step_security_group(instance: dict[str, Any], port: int, addresses: list[str]) -> str | None:
    """Before connecting to a public instance from outside its VPC: does a rule of its
    security groups let this machine in? None when there is nothing to check."""
    if not instance.get("PubliclyAccessible"):
        return None
    if not any(ipaddress.ip_address(a).is_global for a in addresses if a):
        return None  # a VPC address: this machine is inside (VPN, peering), rules differ
    try:
        allowed = allowed_networks(instance, port)
    except AWSError as exc:
        return f"not checked: {exc.cause}"
    shown = ", ".join(str(n) for n in allowed[:5]) or "no network"
    mine = public_address()
    if mine is None:
        return f"TCP {port} open to {shown}; this machine's address is unknown (MY_IP)"
    if any(mine in network for network in allowed):
        return f"a rule lets this machine in ({mine})"
    raise Failure(
        "security group",
        f"no security group rule covers {mine} (allowed: {shown})",
        "make rds-allow-my-ip (one rule for this machine's address)",
    )


def allowed_networks(instance: dict[str, Any], port: int) -> list[Any]:
    """The networks the instance's security groups let in on TCP `port`."""
    from app.aws import client
    from rdsctl.aws import aws_call

    groups = [g["VpcSecurityGroupId"] for g in instance.get("VpcSecurityGroups", [])]
    if not groups:
        return []
    arn = str(instance.get("DBInstanceArn", ""))  # arn:aws:rds:REGION:ACCOUNT:db:NAME
    ec2 = client("ec2", arn.split(":")[3] if arn.count(":") >= 5 else None)
    with aws_call("read the instance's security groups"):
        described = ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]
    networks = []
    for group in described:
        for rule in group.get("IpPermissions", []):
            protocol = str(rule.get("IpProtocol"))
            if protocol not in ("tcp", "6", "-1"):
                continue
            if protocol != "-1" and not rule.get("FromPort", 0) <= port <= rule.get("ToPort", -1):
                continue
            for entry in rule.get("IpRanges", []):
                networks.append(ipaddress.ip_network(entry["CidrIp"], strict=False))
            for entry in rule.get("Ipv6Ranges", []):
                networks.append(ipaddress.ip_network(entry["CidrIpv6"], strict=False))
    return networks


def public_address() -> Any:
    """This machine's public address: MY_IP, else checkip.amazonaws.com; None if unknown."""
    import os
    import urllib.request

    given = os.environ.get("MY_IP")
    try:
        if not given:
            url = "https://checkip.amazonaws.com"
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - fixed URL
                given = response.read().decode().strip()
        return ipaddress.ip_address(given.split("/")[0])
    except (OSError, ValueError):
        return None


def step_resolve(target: Target) -> str:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Failure(
            "name resolution",
            f"{target.host!r} does not resolve ({exc.strerror})",
            "check the endpoint (RDS console, Connectivity & security: Endpoint); an instance "
            "still being created has none yet",
        ) from None
    addresses = sorted({str(info[4][0]) for info in infos})
    return f"{target.host} -> {', '.join(addresses)}"


def step_tcp(target: Target) -> str:
    """A TCP connection, timed; the fix differs for the local db and a remote one."""
    start = time.monotonic()
    try:
        with socket.create_connection((target.host, target.port), timeout=target.connect_timeout):
            pass
    except OSError as exc:
        if isinstance(exc, TimeoutError | socket.timeout):
            cause = f"no answer from {target.host}:{target.port} in {target.connect_timeout:.0f}s"
        else:
            reason = exc.strerror or exc.__class__.__name__
            cause = f"cannot connect to {target.host}:{target.port} ({reason})"
        if target.local:
            raise Failure(
                "TCP connect",
                cause,
                "start the local db with make up (it is published on MYSQL_PORT), or set "
                "DB_HOST or DATABASE_URL to check another database",
            ) from None
        raise Failure(
            "TCP connect",
            cause,
            f"allow inbound TCP {target.port} from this machine's address in the instance's "
            "security group (make rds-allow-my-ip), and set the instance to 'Publicly "
            "accessible' to reach it from outside its VPC",
        ) from None
    return f"{target.host}:{target.port} in {(time.monotonic() - start) * 1000:.0f} ms"


def step_login(target: Target) -> Connection:
    """TLS and login happen in one MySQL handshake; a failure says which part failed."""
    try:
        return target.connect()
    except pymysql.err.MySQLError as exc:
        raise classify(target, exc) from None


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


def granted_privileges(grants: list[str], database: str) -> set[str]:
    """Privileges that apply to `database` in SHOW GRANTS output."""
    found = set()
    for grant in grants:
        match = re.match(r"GRANT (.+?) ON (\S+) TO ", grant)
        if not match:
            continue
        on = match.group(2).replace("`", "")
        if on in ("*.*", f"{database}.*"):
            privileges = {p.strip().upper() for p in match.group(1).split(",")}
            if "ALL PRIVILEGES" in privileges or "ALL" in privileges:
                return PRIVILEGES["migrate"] | PRIVILEGES["app"]
            found |= privileges
    return found


ROLE_GRANT = re.compile(r"^GRANT (`[^`]+`@`[^`]*`(?:,\s*`[^`]+`@`[^`]*`)*) TO ")


def user_grants(connection: Connection) -> list[str]:
    """SHOW GRANTS for the current user, with the privileges of the roles it holds expanded
    (RDS's master user holds rds_superuser_role from MySQL 8.0.36 on)."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW GRANTS")
        grants = [str(row[0]) for row in cursor.fetchall()]
        roles = [m.group(1) for g in grants if (m := ROLE_GRANT.match(g))]
        if roles:
            try:
                cursor.execute(f"SHOW GRANTS FOR CURRENT_USER() USING {', '.join(roles)}")
                grants += [str(row[0]) for row in cursor.fetchall()]
            except pymysql.err.MySQLError:
                pass  # a server without USING (MariaDB): the direct grants are what we know
    return grants


def step_privileges(target: Target, connection: Connection, role: str) -> str:
    grants = user_grants(connection)
    granted = granted_privileges(grants, target.database)
    beyond = granted & BEYOND_ROWS if role == "app" else set()
    if beyond:
        raise Failure(
            "privileges",
            f"user {target.user!r} holds {', '.join(sorted(beyond))}: more than rows, which is "
            "all the running app needs (is it the master user?)",
            "make rds-users creates an app user that may only read and write rows, and make "
            "deploy-env points the app at it",
        )
    missing = PRIVILEGES[role] - granted
    if missing:
        wanted = ", ".join(sorted(PRIVILEGES[role]))
        raise Failure(
            "privileges",
            f"user {target.user!r} lacks {', '.join(sorted(missing))} on {target.database!r}",
            f"as the master user: GRANT {wanted} ON `{target.database}`.* TO '{target.user}'@'%';",
        )
    return f"{role} role: {', '.join(sorted(PRIVILEGES[role]))}"


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


def server_variables(connection: Connection) -> dict[str, str]:
    """The parity variables as this session sees them; '-' for one the server lacks."""
    names = [*PARITY_VARIABLES, *ALIASES, "system_time_zone"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SHOW VARIABLES WHERE Variable_name IN (" + ", ".join(["%s"] * len(names)) + ")",
            names,
        )
        found = {str(name): str(value) for name, value in cursor.fetchall()}
    for alias, name in ALIASES.items():
        if alias in found:
            found.setdefault(name, found[alias])
    if found.get("time_zone") == "SYSTEM":
        found["time_zone"] = f"SYSTEM ({found.get('system_time_zone', '?')})"
    return {name: found.get(name, "-") for name in PARITY_VARIABLES}


def same(ours: str, theirs: str) -> bool:
    return ours == theirs or {ours, theirs} <= SAME_AS_UTC


def parity_table(target_vars: dict[str, str], local: Target | None) -> list[str]:
    local_vars = None
    if local is not None:
        try:
            with local.connect() as connection:
                local_vars = server_variables(connection)
        except pymysql.err.MySQLError:
            local_vars = None
    lines = [f"{'setting':<26} {'local db':<28} target"]
    for name in PARITY_VARIABLES:
        theirs = target_vars[name]
        ours = local_vars[name] if local_vars else "-"
        flag = "  <- differs" if local_vars and not same(ours, theirs) else ""
        lines.append(f"{name:<26} {_short(ours):<28} {_short(theirs)}{flag}")
    if local_vars is None:
        lines.append("(local db not reachable: make up, then run the doctor again to compare)")
    return lines


def _short(value: str, width: int = 27) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def run(
    target: Target,
    echo: Echo,
    *,
    role: str = "migrate",
    allow_pending: bool = False,
    local: Target | None = None,
    instance: dict[str, Any] | None = None,
) -> bool:
    """Run every step; print a line per step; return False at the first failure. With the
    instance's description (describe_db_instances), its status and network are checked too."""
    echo(f"doctor: {target.display()} (TLS {target.tls})")
    if is_proxy_endpoint(target.host):
        echo(
            "  warning: this is an RDS Proxy endpoint; run migrations against the instance "
            "endpoint (the migration lock pins a proxy connection)"
        )
    connection = None
    try:
        step_refuse_plain_text(target)
        if instance:
            ok(echo, "instance", step_instance(instance))
        resolved = step_resolve(target)
        ok(echo, "name resolution", resolved)
        if instance:
            note_private(echo, instance, resolved)
            addresses = resolved.split(" -> ", 1)[-1].split(", ")
            port = (instance.get("Endpoint") or {}).get("Port", target.port)
            found = step_security_group(instance, port, addresses)
            if found:
                ok(echo, "security group", found)
        try:
            tcp = step_tcp(target)
        except Failure as failure:
            if instance:
                port = (instance.get("Endpoint") or {}).get("Port", target.port)
                failure.fix = network_fix(instance, port) or failure.fix
            raise
        ok(echo, "TCP connect", tcp)
        try:
            connection = step_login(target)
        except Failure as failure:
            if failure.step == "login" and target.tls in ("required", "verify-ca", "verify-full"):
                # the client insists on TLS before it sends the password: the handshake passed
                ok(echo, "TLS", f"handshake done (DB_TLS={target.tls})")
            elif failure.step == "login":
                echo(
                    f"  ?     {'TLS':<16} not known: DB_TLS={target.tls} falls back to plain "
                    "text, and the login failed before the session could be asked"
                )
            raise
        ok(echo, "TLS", tls_detail(target, connection))
        ok(echo, "login", f"as {target.user}")
        ok(echo, "database", step_database(target, connection))
        ok(echo, "privileges", step_privileges(target, connection, role))
        ok(echo, "migrations", step_migrations(connection, allow_pending))
        target_vars = server_variables(connection)
    except Failure as failure:
        echo(f"  FAIL  {failure.step:<16} {failure.cause}")
        echo(f"        {'fix':<16} {failure.fix}")
        return False
    except ConfigError as exc:
        settings_failed(echo, exc)
        return False
    except AWSError as exc:
        echo(f"  FAIL  {'AWS':<16} {exc.cause}")
        echo(f"        {'fix':<16} {exc.fix}")
        return False
    finally:
        if connection is not None:
            connection.close()
    echo("")
    for line in parity_table(target_vars, local):
        echo("  " + line)
    return True


def ok(echo: Echo, step: str, detail: str) -> None:
    echo(f"  ok    {step:<16} {detail}")


def settings_failed(echo: Echo, error: ConfigError) -> None:
    echo(f"  FAIL  {'settings':<16} {error}")
    echo(f"        {'fix':<16} {SETTINGS_FIX}")
