"""rdsctl/aurora.py: make rds-create RDS_ENGINE=aurora-mysql against moto's server (its clusters
have Serverless v2 scaling, writer and reader endpoints, and the rds!cluster- secret; the
version calls moto lacks are canned, tests/support/canned.py), then deploy-env's lookup and
rds-destroy."""

import pytest
from dotenv import dotenv_values

from rdsctl import aurora, network
from rdsctl.resolve import resolve
from rdsctl.settings import OperatorSettings
from tests.support.rds import create, scheduled, user_secrets
from tests.support.standin import on_standin, users_secrets

AURORA = {"RDS_ENGINE": "aurora-mysql", "RDS_MAX_ACU": "4", "RDS_PAUSE_SECONDS": "600"}


@pytest.fixture(autouse=True)
def _no_five_minute_wait(monkeypatch):
    """A new cluster parameter group settles 5 minutes before its first use; not here."""
    waited = []
    monkeypatch.setattr(aurora, "settle", waited.append)
    return waited


def cluster(boto3, name):
    rds = boto3.client("rds")
    return rds.describe_db_clusters(DBClusterIdentifier=f"{name}-cluster")["DBClusters"][0]


def test_the_plan_names_serverless_v2_from_0_acu_the_pause_and_the_costs(aws_env, cli, sent):
    result = create(cli, "plan-aur", DRY_RUN="1", **AURORA)
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "aurora-mysql 8.4.7 (8.4 line, the local db's; one that scales to 0 ACU)" in out
    assert "Serverless v2, minimum 0 ACU, maximum 4 ACU" in out
    assert "after 600 s with no connection: no compute billed while paused" in out
    assert "~15 s" in out and "RDS Proxy" in out
    assert "ACU x $0.12" in out and "$0.1 a GiB-month" in out and "a million requests" in out
    assert "an ESTIMATE" in out and "not read from AWS here" in out
    assert "no Blue/Green deployment" in out
    assert "DRY_RUN=1: nothing created" in out
    assert not aws_env.client("rds").describe_db_clusters()["DBClusters"]


def test_create_makes_a_cluster_from_0_acu_and_its_writer(aws_env, cli, sent, _no_five_minute_wait):
    result = create(cli, "made-aur", **AURORA)
    assert result.exit_code == 0, result.output
    [made] = [p for p in sent["rds"] if "DBClusterIdentifier" in p and "MasterUsername" in p]
    assert made["ServerlessV2ScalingConfiguration"] == {
        "MinCapacity": 0,
        "MaxCapacity": 4.0,
        "SecondsUntilAutoPause": 600,
    }
    assert made["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert made["DeletionProtection"] is True and made["ManageMasterUserPassword"] is True
    found = cluster(aws_env, "made-aur")
    assert found["ServerlessV2ScalingConfiguration"]["MinCapacity"] == 0
    assert {"Key": "created-by", "Value": "flask-rds-starter"} in found["TagList"]
    [group_id] = [g["VpcSecurityGroupId"] for g in found["VpcSecurityGroups"]]
    own = network.owned_group(aws_env.client("ec2"), "made-aur")
    assert own["GroupId"] == group_id and own["IpPermissions"] == []
    [writer] = [p for p in sent["rds"] if p.get("DBInstanceClass") == "db.serverless"]
    assert writer["DBClusterIdentifier"] == "made-aur-cluster"
    assert writer["DBParameterGroupName"] == "made-aur-params"
    assert _no_five_minute_wait == [aurora.NEW_GROUP_WAIT]  # a new cluster group settled first
    assert "its reader endpoint: made-aur-cluster.cluster-ro-" in result.output


def test_rds_cnf_is_split_between_the_clusters_group_and_the_writers(aws_env, cli, sent):
    assert create(cli, "split-aur", **AURORA).exit_code == 0
    cluster_set = {
        item["ParameterName"]
        for p in sent["rds"]
        if p.get("DBClusterParameterGroupName") == "split-aur-cluster-params"
        for item in p.get("Parameters", [])
    }
    writer_set = {
        item["ParameterName"]
        for p in sent["rds"]
        if p.get("DBParameterGroupName") == "split-aur-params"
        for item in p.get("Parameters", [])
    }
    assert {"character_set_server", "collation_server", "time_zone"} <= cluster_set
    assert {"require_secure_transport", "lower_case_table_names"} <= cluster_set
    assert {"sql_mode", "wait_timeout", "log_bin_trust_function_creators"} <= writer_set
    assert not cluster_set & writer_set
    # RDS's own: max_connections (a formula of the capacity), tls_version (the engine's)
    assert not {"max_connections", "tls_version"} & (cluster_set | writer_set)


def test_deploy_env_finds_the_writer_and_the_reader_endpoints(aws_env, cli, sent):
    assert create(cli, "ends-aur", **AURORA).exit_code == 0
    found = resolve(OperatorSettings(rds_instance="ends-aur", aws_region="eu-west-1"))
    described = cluster(aws_env, "ends-aur")
    assert found.host == described["Endpoint"] and ".cluster-" in found.host
    assert found.reader_host == described["ReaderEndpoint"] and ".cluster-ro-" in found.reader_host
    assert found.master_secret_arn == described["MasterUserSecret"]["SecretArn"]
    assert ":secret:rds!cluster-" in found.master_secret_arn


def test_destroy_removes_the_cluster_and_what_was_made_for_it_and_nothing_else(aws_env, cli, sent):
    for name in ("gone-aur", "gone-aur-2"):
        assert create(cli, name, **AURORA).exit_code == 0
    mine, theirs = user_secrets(aws_env, "gone-aur"), user_secrets(aws_env, "gone-aur-2")
    result = cli.invoke(["rds-destroy", "--instance", "gone-aur"], env={"CONFIRM": "yes"})
    assert result.exit_code == 0, result.output
    assert "the Aurora cluster gone-aur-cluster" in result.output
    rds = aws_env.client("rds")
    clusters = {c["DBClusterIdentifier"] for c in rds.describe_db_clusters()["DBClusters"]}
    assert "gone-aur-cluster" not in clusters and "gone-aur-2-cluster" in clusters
    instances = {i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]}
    assert "gone-aur" not in instances and "gone-aur-2" in instances
    deleted = [p for p in sent["rds"] if p.get("DBInstanceIdentifier") == "gone-aur"]
    assert "FinalDBSnapshotIdentifier" not in deleted[-1]  # AWS refuses it for a cluster's instance
    final = [p for p in sent["rds"] if "FinalDBSnapshotIdentifier" in p]
    assert final[-1]["DBClusterIdentifier"] == "gone-aur-cluster"
    groups = {
        g["DBClusterParameterGroupName"]
        for g in rds.describe_db_cluster_parameter_groups()["DBClusterParameterGroups"]
    }
    assert "gone-aur-cluster-params" not in groups and "gone-aur-2-cluster-params" in groups
    writers = {
        g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
    }
    assert "gone-aur-params" not in writers and "gone-aur-2-params" in writers
    assert network.owned_group(aws_env.client("ec2"), "gone-aur") is None
    assert network.owned_group(aws_env.client("ec2"), "gone-aur-2") is not None
    assert all(scheduled(aws_env, arn) for arn in mine)
    assert not any(scheduled(aws_env, arn) for arn in theirs)


def test_deploy_env_writes_both_endpoints_and_the_doctor_checks_the_reader(
    aws_module, cli, users, standin, certs, tmp_path
):
    """The stand-in serves as the writer and the reader endpoint (moto's do not exist)."""
    rds = aws_module.client("rds")
    rds.create_db_cluster(
        DBClusterIdentifier="deployed-aur-cluster",
        Engine="aurora-mysql",
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        DatabaseName="app",
        ServerlessV2ScalingConfiguration={"MinCapacity": 0, "MaxCapacity": 2},
    )
    rds.create_db_instance(
        DBInstanceIdentifier="deployed-aur",
        DBClusterIdentifier="deployed-aur-cluster",
        Engine="aurora-mysql",
        DBInstanceClass="db.serverless",
    )
    out = tmp_path / ".env.rds"
    result = cli.invoke(
        [
            "deploy-env",
            "--instance",
            "deployed-aur",
            *on_standin(standin, certs, "--reader-endpoint", "localhost"),
            *users_secrets(users),
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    values = dotenv_values(out)
    assert values["DB_HOST"] == values["DB_READER_HOST"] == "localhost"
    reader = result.output.split("\nreader:\n", 1)[1]
    assert "ok    login            as app" in reader and "ok    privileges" in reader
    assert "ok    TLS" in reader and "verify-full" in reader
    assert "character_set_server" in reader  # its parity table
    assert "Aurora cluster deployed-aur-cluster" in out.read_text()


def test_stop_and_start_act_on_the_cluster(aws_env, cli, sent):
    assert create(cli, "stop-aur", **AURORA).exit_code == 0
    stopped = cli.invoke(["rds-stop", "--instance", "stop-aur"])
    assert stopped.exit_code == 0, stopped.output
    assert "stopping stop-aur-cluster" in stopped.output and "pauses by itself" in stopped.output
    assert cluster(aws_env, "stop-aur")["Status"] == "stopped"
    started = cli.invoke(["rds-start", "--instance", "stop-aur"])
    assert started.exit_code == 0, started.output
    assert cluster(aws_env, "stop-aur")["Status"] in ("available", "starting")


def test_a_cluster_not_ours_is_refused_before_anything_is_made(
    aws_env, cli, sent, _no_five_minute_wait
):
    aws_env.client("rds").create_db_cluster(
        DBClusterIdentifier="theirs-cluster",
        Engine="aurora-mysql",
        MasterUsername="admin",
        MasterUserPassword="their-password",
    )
    result = create(cli, "theirs", **AURORA)
    assert result.exit_code == 1
    assert "a cluster named theirs-cluster exists and was not made by make rds-create" in (
        result.output
    )
    assert "Plan for" not in result.output and _no_five_minute_wait == []
    assert network.owned_group(aws_env.client("ec2"), "theirs") is None
    assert not [
        p for p in sent["rds"] if "DBParameterGroupName" in p or "DBClusterParameterGroupName" in p
    ]
