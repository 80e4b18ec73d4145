"""The doctor's last table: the target's server settings beside the local `db`'s, each
difference flagged."""

import pymysql
from pymysql.connections import Connection

from rdsctl.target import Target

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


def local_variables(local: Target) -> dict[str, str] | None:
    """The parity variables of the local db, None where it does not answer."""
    try:
        with local.connect() as connection:
            return server_variables(connection)
    except pymysql.err.MySQLError:
        return None


def parity_table(target_vars: dict[str, str], local_vars: dict[str, str] | None) -> list[str]:
    lines = [f"{'setting':<26} {'local db':<28} target"]
    for name in PARITY_VARIABLES:
        theirs = target_vars[name]
        ours = local_vars[name] if local_vars else "-"
        flag = "  <- differs" if local_vars and not same(ours, theirs) else ""
        lines.append(f"{name:<26} {short(ours):<28} {short(theirs)}{flag}")
    if local_vars is None:
        lines.append("(local db not reachable: make up, then run the doctor again to compare)")
    return lines


def short(value: str, width: int = 27) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."
