"""Where an RDS database is, from what the operator gave: an instance identifier (looked up),
an endpoint, or both. For make deploy-env and make rds-users."""

from dataclasses import dataclass, field
from typing import Any

import click

from app.aws import client, region_of
from rdsctl.aws import (
    describe_cluster,
    describe_instance,
    instance_port,
    is_proxy_endpoint,
)
from rdsctl.settings import OperatorSettings


@dataclass(frozen=True)
class RdsTarget:
    host: str  # the endpoint the app connects to
    port: int
    database: str
    master_user: str
    master_secret_arn: str | None  # RDS's managed secret of the master user, when known
    region: str | None
    instance: dict[str, Any] | None = None  # describe_db_instances' answer (RDS_INSTANCE)
    identifier: str | None = None
    migrate_host: str | None = None  # the instance's own endpoint, when `host` is a proxy
    reader_host: str | None = None  # an Aurora cluster's reader endpoint
    notes: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        """What the users' secrets are named after: the identifier, else the endpoint."""
        return self.identifier or self.host


def resolve(operator: OperatorSettings) -> RdsTarget:
    """The target the operator named (RDS_INSTANCE, RDS_ENDPOINT and the rest), filled in from
    the instance's description when an identifier is given: an Aurora instance's cluster
    writer endpoint (it follows a failover; the instance's does not), and, behind an RDS Proxy
    endpoint, the instance's own for migrations."""
    instance, endpoint, region = operator.rds_instance, operator.rds_endpoint, operator.aws_region
    if not instance and not endpoint:
        raise click.ClickException(
            "no target: give RDS_INSTANCE=<identifier> or RDS_ENDPOINT=<host> (make deploy-env)"
        )
    info = describe_instance(instance, region) if instance else {}
    notes = [f"RDS instance {instance}: {info['Engine']} {info['EngineVersion']}"] if info else []
    own = dict(info)
    if info.get("DBClusterIdentifier"):
        own = cluster_writer(info["DBClusterIdentifier"], region)
        notes.append(
            f"Aurora cluster {info['DBClusterIdentifier']}: its writer endpoint, and its reader "
            "endpoint for reads (DB_READER_HOST)"
        )
    own_host = (own.get("Endpoint") or {}).get("Address")
    if info and not own_host and not endpoint:
        raise click.ClickException(
            f"{instance} has no endpoint yet (status {info.get('DBInstanceStatus')}).\n"
            "  fix: wait until it is available (make rds-create waits), then run this again"
        )
    host = endpoint or own_host or ""
    migrate_host = None
    if is_proxy_endpoint(host):
        if not own_host:
            raise click.ClickException(
                f"{host} is an RDS Proxy endpoint: migrations go to the instance's own endpoint "
                "(the migration lock would pin a proxy connection)\n  fix: give RDS_INSTANCE=<the "
                "instance behind the proxy> too"
            )
        migrate_host = own_host
        notes.append("RDS Proxy: the app through the proxy, migrations to the instance itself")
    return RdsTarget(
        host=host,
        port=operator.rds_port or instance_port(own) or 3306,
        database=operator.rds_database
        or info.get("DBName")
        or own.get("DatabaseName")  # an Aurora cluster's
        or operator.mysql_database,
        master_user=operator.rds_master_user
        or info.get("MasterUsername")
        or own.get("MasterUsername")
        or "admin",
        master_secret_arn=operator.rds_master_secret_arn
        or (own.get("MasterUserSecret") or {}).get("SecretArn"),
        region=region or region_of(own_host or host),
        instance=info or None,
        identifier=instance,
        migrate_host=migrate_host,
        reader_host=operator.rds_reader_endpoint or own.get("ReaderEndpoint"),
        notes=notes,
    )


def cluster_writer(cluster: str, region: str | None) -> dict[str, Any]:
    """An Aurora cluster's description, shaped like an instance's: its writer endpoint."""
    found = describe_cluster(client("rds", region), cluster)
    writer = (
        {"Address": found.get("Endpoint"), "Port": found.get("Port")}
        if found.get("Endpoint")
        else None
    )
    return {**found, "Endpoint": writer}
