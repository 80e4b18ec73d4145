"""The doctor's check of privileges: the migrator may run the migrations, the app's user may do
nothing beyond reading and writing rows. Grants held through roles count."""

import re

import pymysql
from pymysql.connections import Connection

from rdsctl.checks import Failure
from rdsctl.target import Target

PRIVILEGES = {
    "migrate": {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "DROP", "INDEX"},
    "app": {"SELECT", "INSERT", "UPDATE", "DELETE"},
    "reader": {"SELECT", "INSERT", "UPDATE", "DELETE"},  # the app's user, on a reader endpoint
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
ROLE_GRANT = re.compile(r"^GRANT (`[^`]+`@`[^`]*`(?:,\s*`[^`]+`@`[^`]*`)*) TO ")


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
    granted = granted_privileges(user_grants(connection), target.database)
    beyond = granted & BEYOND_ROWS if role in ("app", "reader") else set()
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
