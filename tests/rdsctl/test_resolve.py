"""rdsctl/resolve.py against moto: an Aurora instance's cluster writer endpoint, and an RDS
Proxy endpoint's instance behind it for migrations."""

import click
import pytest

from rdsctl.resolve import resolve
from rdsctl.settings import OperatorSettings
from tests.support.rds import make_instance

PROXY = "app.proxy-abc123.eu-west-1.rds.amazonaws.com"


def test_an_aurora_instance_gives_its_clusters_writer_endpoint(aws_env):
    """After a failover the instance named may be a reader: the app writes to the cluster's
    writer endpoint, which follows the writer."""
    rds = aws_env.client("rds")
    cluster = rds.create_db_cluster(
        DBClusterIdentifier="orders",
        Engine="aurora-mysql",
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        DatabaseName="app",
    )["DBCluster"]
    rds.create_db_instance(
        DBInstanceIdentifier="orders-1",
        DBClusterIdentifier="orders",
        Engine="aurora-mysql",
        DBInstanceClass="db.r6g.large",
    )
    instance = rds.describe_db_instances(DBInstanceIdentifier="orders-1")["DBInstances"][0]
    found = resolve(OperatorSettings(rds_instance="orders-1", aws_region="eu-west-1"))
    assert found.host == cluster["Endpoint"] != instance["Endpoint"]["Address"]
    assert found.master_secret_arn == cluster["MasterUserSecret"]["SecretArn"]
    assert found.reader_host == cluster["ReaderEndpoint"]
    assert any(
        note.startswith("Aurora cluster orders: its writer endpoint") for note in found.notes
    )


def test_behind_an_rds_proxy_migrations_go_to_the_instance(aws_env):
    instance = make_instance(aws_env, "proxied-db", DBName="app")
    operator = OperatorSettings(
        rds_instance="proxied-db", rds_endpoint=PROXY, aws_region="eu-west-1"
    )
    found = resolve(operator)
    assert found.host == PROXY
    assert found.migrate_host == instance["Endpoint"]["Address"]
    with pytest.raises(click.ClickException, match="give RDS_INSTANCE"):
        resolve(OperatorSettings(rds_endpoint=PROXY, aws_region="eu-west-1"))
