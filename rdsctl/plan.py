"""What make rds-create would make, shown before it makes anything: the CreateDBInstance
parameters, and a line per choice saying what changing it later costs."""

from dataclasses import dataclass, field
from typing import Any

from rdsctl import aurora, cost, network, parameters, versions
from rdsctl.aws import aws_call
from rdsctl.settings import OperatorSettings

PlanLines = list[tuple[str, str, str]]
# The managed master password's limits (RDS User Guide, "Password management with Amazon RDS
# and AWS Secrets Manager", read 2026-12).
MANAGED_MASTER_LIMITS = (
    "no read replica of this instance and no Blue/Green deployment while RDS manages it; "
    "before either: aws rds modify-db-instance --db-instance-identifier {id} "
    "--no-manage-master-user-password --master-user-password <new one> (RDS deletes the secret)"
)


@dataclass
class Plan:
    params: dict[str, Any]
    lines: PlanLines
    vpc: str
    given_groups: list[str]
    family: str
    group_parameters: dict[str, str] = field(default_factory=dict)


def plan_for(operator: OperatorSettings, rds: Any, ec2: Any, sts: Any) -> Plan:
    """The CreateDBInstance parameters (CreateDBCluster's for Aurora), the lines to show, and
    what else to make."""
    identifier, aurora_ = operator.instance_name, operator.rds_engine == aurora.ENGINE
    major = versions.major_line(operator.mysql_image, operator.rds_engine_version)
    version = versions.resolve(rds, major, engine=operator.rds_engine)
    with aws_call("find which AWS account these credentials belong to"):
        account = str(sts.get_caller_identity()["Account"])
    subnet_group = subnet_group_of(rds, operator.rds_subnet_group)
    vpc = network.choose_vpc(ec2, operator.rds_vpc_id, subnet_group)
    given_groups = [g for g in (operator.rds_security_group_ids or "").split(",") if g]
    existing = None if given_groups else network.owned_group(ec2, identifier, vpc)
    params = (
        aurora.cluster_parameters(operator, version)
        if aurora_
        else create_parameters(operator, version)
    )
    if operator.rds_subnet_group:
        params["DBSubnetGroupName"] = operator.rds_subnet_group
    groups_line = (
        ", ".join(given_groups) + " (yours: rds-allow-my-ip adds rules there)"
        if given_groups
        else f"{existing['GroupId']} (made by an earlier run, reused)"
        if existing
        else f"new: {identifier}-mysql, no inbound rule (not the VPC's default group)"
    )
    where = f"VPC {vpc}, subnet group {operator.rds_subnet_group or 'default (the default VPC)'}"
    lines = [
        ("AWS account", account, "check it: a wrong AWS_PROFILE creates it elsewhere"),
        ("region", str(rds.meta.region_name), "fixed: another region means another instance"),
        ("identifier", identifier, "cannot be renamed in place without downtime"),
        *(
            aurora_lines(operator, version, params)
            if aurora_
            else [*engine_lines(version, major), *instance_lines(params)]
        ),
        (
            "network",
            f"{where}, {params['NetworkType']}",
            "another subnet group: a modify, with "
            "an outage (not while Multi-AZ or with read replicas)",
        ),
        ("security group", groups_line, "changeable any time"),
        (
            "publicly accessible",
            "YES: reachable from the internet, limited by its security group"
            if operator.rds_public
            else "no: reachable only inside its VPC (RDS_PUBLIC=1 to reach it from a laptop)",
            "changeable any time",
        ),
    ]
    if not aurora_:
        lines += [parameter_group_line(params, version, operator), *cost_lines(params, rds)]
    return Plan(
        params,
        lines,
        vpc,
        given_groups,
        version.family,
        parameters.group_parameters(operator.rds_require_tls),
    )


def parameter_group_line(
    params: dict[str, Any], version: versions.Version, operator: OperatorSettings
) -> tuple[str, str, str]:
    return (
        "parameter group",
        f"{params['DBParameterGroupName']} ({version.family}): from "
        "docker/mysql/conf.d/rds.cnf, require_secure_transport "
        + ("ON" if operator.rds_require_tls else "OFF")
        + "; max_connections left to RDS's formula of the class's memory",
        "changeable; some need a reboot",
    )


def subnet_group_of(rds: Any, name: str | None) -> dict[str, Any] | None:
    if not name:
        return None
    with aws_call(f"describe the DB subnet group {name}"):
        return dict(rds.describe_db_subnet_groups(DBSubnetGroupName=name)["DBSubnetGroups"][0])


def create_parameters(operator: OperatorSettings, version: versions.Version) -> dict[str, Any]:
    identifier = operator.instance_name
    return {
        "DBInstanceIdentifier": identifier,
        "Engine": "mysql",
        "EngineVersion": version.engine_version,
        "EngineLifecycleSupport": versions.NO_EXTENDED_SUPPORT,
        "DBInstanceClass": operator.rds_instance_class,
        "AllocatedStorage": operator.rds_storage_gb,
        "StorageType": "gp3",
        "DBName": operator.mysql_database,
        "MasterUsername": operator.new_master_user,
        "ManageMasterUserPassword": True,
        "StorageEncrypted": True,
        "PubliclyAccessible": operator.rds_public,
        "DeletionProtection": operator.rds_deletion_protection,
        "BackupRetentionPeriod": operator.rds_backup_days,
        "CACertificateIdentifier": operator.rds_ca_certificate,
        "CopyTagsToSnapshot": True,
        "DBParameterGroupName": parameters.group_name(identifier),
        # IPv4 by default (the default VPC's subnets have no IPv6 range); DUAL for IPv6 rules.
        "NetworkType": operator.rds_network_type,
        "Tags": network.tags(identifier, operator.compose_project_name),
    }


def engine_lines(version: versions.Version, major: str) -> PlanLines:
    ends = f"{version.standard_support_ends:%Y-%m-%d}" if version.standard_support_ends else "?"
    return [
        (
            "engine",
            f"mysql {version.engine_version} (RDS's default of the {major} line, the "
            f"local db's), standard support until {ends}",
            "major upgrades are one way, with downtime",
        ),
        (
            "extended support",
            f"never bought (EngineLifecycleSupport {versions.NO_EXTENDED_SUPPORT})",
            "changeable any time",
        ),
    ]


def instance_lines(params: dict[str, Any]) -> PlanLines:
    identifier = params["DBInstanceIdentifier"]
    return [
        ("instance class", params["DBInstanceClass"], "changeable, a few minutes of downtime"),
        (
            "storage",
            f"{params['AllocatedStorage']} GiB gp3, encrypted (aws/rds key)",
            "can grow, never shrink; encryption is fixed",
        ),
        ("initial database", params["DBName"], "fixed: another one must be made by hand"),
        (
            "master user",
            params["MasterUsername"] + ", password managed by RDS in Secrets Manager "
            "(rotated every 7 days), never shown",
            "the user name is fixed; " + MANAGED_MASTER_LIMITS.format(id=identifier),
        ),
        *kept_lines(params["CACertificateIdentifier"], params),
    ]


def kept_lines(ca: str, params: dict[str, Any]) -> PlanLines:
    return [
        ("CA certificate", ca, "changeable, with a restart"),
        (
            "deletion protection",
            "on" if params["DeletionProtection"] else "off",
            "changeable any time",
        ),
        (
            "backups",
            f"kept {params['BackupRetentionPeriod']} day(s); tags copied to snapshots",
            "changeable any time",
        ),
        ("tags", "created-by=flask-rds-starter", "rds-destroy deletes only tagged resources"),
    ]


def cost_lines(params: dict[str, Any], rds: Any) -> PlanLines:
    estimate = cost.estimate(
        params["DBInstanceClass"],
        params["AllocatedStorage"],
        str(rds.meta.region_name),
        public=params["PubliclyAccessible"],
        secrets=3,
    )
    return [("cost" if i == 0 else "", line, "") for i, line in enumerate(estimate.lines())]


def aurora_lines(
    operator: OperatorSettings, version: versions.Version, params: dict[str, Any]
) -> list[tuple[str, str, str]]:
    """An Aurora cluster's lines, where an instance has its engine and instance lines."""
    scaling, name = params["ServerlessV2ScalingConfiguration"], params["DBClusterIdentifier"]
    ends = f"{version.standard_support_ends:%Y-%m-%d}" if version.standard_support_ends else "?"
    estimate = cost.serverless_estimate(
        scaling["MaxCapacity"], public=operator.rds_public, secrets=3
    )
    return [
        (
            "engine",
            f"aurora-mysql {version.engine_version} ({version.major} line, the local db's; one "
            f"that scales to 0 ACU), standard support until {ends}",
            "major upgrades are one way, with downtime",
        ),
        (
            "cluster",
            f"{name}, Aurora Serverless v2: its writer {operator.instance_name} (db.serverless)",
            "add readers any time (aws rds create-db-instance --db-cluster-identifier ...)",
        ),
        (
            "capacity",
            f"Serverless v2, minimum 0 ACU, maximum {scaling['MaxCapacity']:g} ACU (1 ACU ~ 2 GiB)",
            "changeable any time",
        ),
        (
            "pause",
            f"after {scaling['SecondsUntilAutoPause']} s with no connection: no compute "
            "billed while paused; the next connection waits ~15 s for it (30 s or more after "
            "a day paused); " + aurora.PAUSE_LIMITS,
            "changeable any time (RDS_PAUSE_SECONDS, 300 to 86400)",
        ),
        (
            "extended support",
            f"never bought (EngineLifecycleSupport {versions.NO_EXTENDED_SUPPORT})",
            "changeable any time",
        ),
        ("storage", "Aurora's, grows and shrinks as used, encrypted", "encryption is fixed"),
        ("initial database", params["DatabaseName"], "fixed: another one must be made by hand"),
        (
            "master user",
            f"{params['MasterUsername']}, password managed by RDS in Secrets Manager "
            "(rotated every 7 days), never shown",
            "the user name is fixed; " + aurora.MANAGED_MASTER_LIMITS.format(id=name),
        ),
        (
            "parameter groups",
            f"{params['DBClusterParameterGroupName']} (the cluster's settings) and "
            f"{parameters.group_name(operator.instance_name)} (the writer's), "
            f"{version.family}, from docker/mysql/conf.d/rds.cnf; max_connections left to "
            "Aurora's formula of the capacity",
            "changeable; some need a reboot",
        ),
        *kept_lines(operator.rds_ca_certificate, params),
        *[("cost" if i == 0 else "", line, "") for i, line in enumerate(estimate.lines())],
    ]
