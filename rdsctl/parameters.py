"""The instance's parameter group, generated from the local server's docker/mysql/conf.d/rds.cnf,
so that local and RDS agree by construction: each setting there is either set in the group, or
listed in RDS_MANAGED with the reason it is not (tests/rdsctl/test_parameters.py checks both ways).
"""

import configparser
from pathlib import Path
from typing import Any

from rdsctl import network
from rdsctl.aws import aws_call

RDS_CNF = Path(__file__).resolve().parent.parent / "docker" / "mysql" / "conf.d" / "rds.cnf"

# RDS for MySQL's default max_connections is {DBInstanceClassMemory/12582880} (RDS User Guide,
# "Maximum number of database connections"), DBInstanceClassMemory being the class's memory less
# what the operating system and RDS's processes keep. It follows the class when it grows, so the
# group leaves it alone. RDS does not publish what it keeps; 300 MiB (an estimate) puts a 1 GiB
# class at 60, as users report for db.t3.micro and db.t4g.micro: rds.cnf's value, which make
# doctor shows beside the instance's own.
MAX_CONNECTIONS_DIVISOR = 12_582_880
MIRRORED_CLASS_MEMORY = 1024 * 2**20 - 300 * 2**20  # db.t4g.micro, the class rds-create starts on

# Local settings the group does not carry, and why.
RDS_MANAGED = {
    "max_connections": "RDS's default, {DBInstanceClassMemory/12582880}, follows the class's "
    "memory when the class grows; a fixed value would not (rds.cnf's is the formula's for "
    "db.t4g.micro)",
    "innodb_buffer_pool_size": "RDS sizes it from the instance class "
    "({DBInstanceClassMemory*3/4}); the local value is sized for a laptop",
    "performance_schema": "off locally to save memory; on RDS it follows Performance "
    "Insights / Database Insights, which the console sets",
    "skip_name_resolve": "RDS manages host name resolution for its own monitoring; grants "
    "here use '%' only, so neither side resolves names",
    "tls_version": "RDS sets the TLS versions of each engine version (TLS 1.2 and 1.3 on "
    "8.4), the same as the local list",
}
# Parameters whose value on RDS is chosen at rds-create time, not copied from the file.
SELECTABLE = {
    "require_secure_transport": "RDS_REQUIRE_TLS (default 1: every connection of "
    "this project uses TLS; the local server leaves it OFF, RDS's default)"
}
# A server option locally, a parameter of another name on RDS.
RENAMED = {"default_time_zone": "time_zone"}
VALUES = {("time_zone", "'+00:00'"): "UTC"}  # the named zone RDS accepts for +00:00


def local_settings(path: Path = RDS_CNF) -> dict[str, str]:
    """The [mysqld] settings of the local server's file, names in RDS's spelling."""
    parser = configparser.ConfigParser(allow_no_value=True, interpolation=None)
    parser.read(path)
    return {
        name.replace("-", "_"): (value if value is not None else "1")
        for name, value in parser["mysqld"].items()
    }


def group_parameters(require_tls: bool, path: Path = RDS_CNF) -> dict[str, str]:
    """The group's parameters: the file's, less RDS_MANAGED, plus the selectable ones."""
    parameters = {}
    for name, value in local_settings(path).items():
        if name in RDS_MANAGED or name in SELECTABLE:
            continue
        rds_name = RENAMED.get(name, name)
        parameters[rds_name] = VALUES.get((rds_name, value), value.strip("'\""))
    parameters["require_secure_transport"] = "1" if require_tls else "0"
    return parameters


def max_connections(class_memory: int) -> int:
    """RDS for MySQL's default max_connections for a class that leaves `class_memory` bytes."""
    return class_memory // MAX_CONNECTIONS_DIVISOR


def group_name(instance: str, cluster: bool = False) -> str:
    return f"{instance}-cluster-params" if cluster else f"{instance}-params"


def ensure_group(
    rds: Any, instance: str, family: str, parameters: dict[str, str], cluster: bool = False
) -> bool:
    """Our parameter group for `instance` (made, or found again on a rerun), set to
    `parameters`; an Aurora cluster's group with `cluster`. pending-reboot applies a static
    parameter too: the group is attached at creation, so every value is in force when the
    instance first starts. True when the group was made now."""
    from botocore.exceptions import ClientError

    name = group_name(instance, cluster)
    create, modify, key = (
        (rds.create_db_cluster_parameter_group, rds.modify_db_cluster_parameter_group, "DBCluster")
        if cluster
        else (rds.create_db_parameter_group, rds.modify_db_parameter_group, "DB")
    )
    tags = network.tags(instance)
    description = f"{instance}: generated from docker/mysql/conf.d/rds.cnf"
    created = True
    with aws_call(f"create the parameter group {name}"):
        try:
            create(
                **{f"{key}ParameterGroupName": name},
                DBParameterGroupFamily=family,
                Description=description,
                Tags=tags,
            )
        except ClientError as exc:
            if "AlreadyExists" not in exc.response.get("Error", {}).get("Code", ""):
                raise
            created = False
    items = [
        {"ParameterName": parameter, "ParameterValue": value, "ApplyMethod": "pending-reboot"}
        for parameter, value in parameters.items()
    ]
    with aws_call(f"set the parameters of {name}"):
        for start in range(0, len(items), 20):  # at most 20 per call
            modify(**{f"{key}ParameterGroupName": name}, Parameters=items[start : start + 20])
    return created
