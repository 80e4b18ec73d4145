"""Aurora MySQL Serverless v2, for make rds-create RDS_ENGINE=aurora-mysql: a cluster
(<name>-cluster) that scales from 0 ACU and pauses when idle, and its writer instance (<name>,
db.serverless), which every other command knows by RDS_INSTANCE as it knows an RDS for MySQL
instance. The same guarantees as an instance: a security group of its own, parameter groups
from docker/mysql/conf.d/rds.cnf (cluster-level settings in the cluster's group, the rest in
the writer's), the engine line from RDS's lifecycle API, deletion protection, tags, a plan.
"""

import time
from typing import Any

import click

from rdsctl import network, parameters, versions
from rdsctl.aws import aws_call, cluster_or_none, poll
from rdsctl.settings import OperatorSettings

ENGINE = "aurora-mysql"
# The cluster-level parameters among rds.cnf's (Aurora User Guide, "Aurora MySQL configuration
# parameters", its cluster-level table, read 2026-12); the others belong to the instance.
# skip_name_resolve is cluster-level and not modifiable: rdsctl/parameters.py leaves it to RDS.
CLUSTER_LEVEL = {
    "character_set_server",
    "collation_server",
    "time_zone",
    "lower_case_table_names",
    "require_secure_transport",
    "tls_version",
}
# CreateDBClusterParameterGroup's reference: wait at least 5 minutes before a new cluster uses
# a new cluster parameter group, the character set of its first database above all.
NEW_GROUP_WAIT = 300
PAUSE_LIMITS = (
    "it does not pause while a connection is open (the app closes idle ones after "
    "DB_IDLE_CLOSE), nor with an RDS Proxy, binary log replication or a global database "
    "(Aurora User Guide, 'Scaling to Zero ACUs with automatic pause and resume')"
)
MANAGED_MASTER_LIMITS = (
    "no Blue/Green deployment or global database while RDS manages it; before either: aws rds "
    "modify-db-cluster --db-cluster-identifier {id} --no-manage-master-user-password "
    "--master-user-password <new one> (RDS deletes the secret)"
)


def settle(seconds: float) -> None:
    time.sleep(seconds)


def cluster_name(instance: str) -> str:
    return f"{instance}-cluster"


def split(values: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """rds.cnf's parameters for RDS: (the cluster's, the writer's)."""
    cluster = {k: v for k, v in values.items() if k in CLUSTER_LEVEL}
    return cluster, {k: v for k, v in values.items() if k not in CLUSTER_LEVEL}


def cluster_parameters(operator: OperatorSettings, version: versions.Version) -> dict[str, Any]:
    """CreateDBCluster's parameters."""
    instance = operator.instance_name
    return {
        "DBClusterIdentifier": cluster_name(instance),
        "Engine": ENGINE,
        "EngineVersion": version.engine_version,
        "EngineLifecycleSupport": versions.NO_EXTENDED_SUPPORT,
        "DatabaseName": operator.mysql_database,
        "MasterUsername": operator.new_master_user,
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "DeletionProtection": operator.rds_deletion_protection,
        "BackupRetentionPeriod": max(operator.rds_backup_days, 1),  # Aurora keeps at least 1
        "CopyTagsToSnapshot": True,
        "DBClusterParameterGroupName": parameters.group_name(instance, cluster=True),
        "NetworkType": operator.rds_network_type,
        "ServerlessV2ScalingConfiguration": {
            "MinCapacity": 0,
            "MaxCapacity": operator.rds_max_acu,
            "SecondsUntilAutoPause": operator.rds_pause_seconds,
        },
        "Tags": network.tags(operator.instance_name, operator.compose_project_name),
    }


def writer_parameters(operator: OperatorSettings) -> dict[str, Any]:
    """CreateDBInstance's parameters for the cluster's writer."""
    instance = operator.instance_name
    return {
        "DBInstanceIdentifier": instance,
        "DBClusterIdentifier": cluster_name(instance),
        "Engine": ENGINE,
        "DBInstanceClass": "db.serverless",
        "DBParameterGroupName": parameters.group_name(instance),
        "PubliclyAccessible": operator.rds_public,
        "CACertificateIdentifier": operator.rds_ca_certificate,
        "Tags": network.tags(operator.instance_name, operator.compose_project_name),
    }


def ours_or_none(rds: Any, cluster: str) -> dict[str, Any] | None:
    """The cluster of that name if make rds-create made it, None if there is none; refused
    if another made it (checked before anything is planned or made)."""
    existing = cluster_or_none(rds, cluster)
    if existing is not None and network.CREATED_BY not in existing.get("TagList", []):
        raise click.ClickException(
            f"a cluster named {cluster} exists and was not made by make rds-create\n"
            "  fix: pick another RDS_INSTANCE"
        )
    return existing


def create(
    rds: Any, operator: OperatorSettings, plan: Any, groups: list[str], existing: Any
) -> None:
    """The cluster's parameter group (waited for when new), the cluster (unless an earlier
    run made it: `existing`, from ours_or_none), its writer."""
    instance = operator.instance_name
    cluster_values, writer_values = split(plan.group_parameters)
    parameters.ensure_group(rds, instance, plan.family, writer_values)
    if parameters.ensure_group(rds, instance, plan.family, cluster_values, cluster=True):
        click.echo(
            f"waiting {NEW_GROUP_WAIT // 60} minutes: AWS asks that a new cluster parameter "
            "group settle before a cluster first uses it"
        )
        settle(NEW_GROUP_WAIT)
    name = plan.params["DBClusterIdentifier"]
    if existing is not None:
        click.echo(f"{name} exists and is ours (made by an earlier run): its writer next")
    else:
        with aws_call(f"create the Aurora cluster {name!r}"):
            rds.create_db_cluster(**plan.params, VpcSecurityGroupIds=groups)
    with aws_call(f"create the cluster's writer {instance!r}"):
        rds.create_db_instance(**writer_parameters(operator))


def delete_cluster(
    rds: Any, cluster: dict[str, Any], snapshot: str | None, wait_minutes: int
) -> None:
    """Delete the cluster (its instances deleted first), with its final snapshot."""
    name = cluster["DBClusterIdentifier"]
    if cluster.get("Status") != "deleting":
        with aws_call(f"delete the Aurora cluster {name!r}"):
            if cluster.get("DeletionProtection"):
                rds.modify_db_cluster(
                    DBClusterIdentifier=name, DeletionProtection=False, ApplyImmediately=True
                )
            final = (
                {"FinalDBSnapshotIdentifier": snapshot} if snapshot else {"SkipFinalSnapshot": True}
            )
            rds.delete_db_cluster(DBClusterIdentifier=name, **final)
        click.echo(f"deleting {name}" + (f"; final snapshot {snapshot}" if snapshot else ""))
    if poll(lambda _: cluster_or_none(rds, name) is None or None, wait_minutes * 60, 15) is None:
        raise click.ClickException(
            f"{name} is still being deleted after {wait_minutes} minutes\n  fix: run make "
            "rds-destroy again later: it removes the rest once the cluster is gone"
        )
    click.echo(f"deleted {name}")
