"""`rdsctl rds-destroy` (rdsctl/destroy.py) against moto: only what rds-create and rds-users made
for this instance, listed and confirmed first; the final snapshot kept."""

from pathlib import Path

import click
import pytest
from botocore.stub import Stubber
from dotenv import dotenv_values

from rdsctl import aws as rdsctl_aws
from rdsctl import destroy, users
from tests.support import canned
from tests.support.rds import create, describe, scheduled, user_secrets


def test_destroy_refuses_an_untagged_instance(aws_env, cli, sent):
    aws_env.client("rds").create_db_instance(
        DBInstanceIdentifier="not-ours",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="secret-123456",
    )
    result = cli.invoke(["rds-destroy", "--instance", "not-ours"], env={"CONFIRM": "yes"})
    assert result.exit_code == 1
    assert "not created by make rds-create" in result.output
    assert describe(aws_env, "not-ours")["DBInstanceStatus"] == "available"


def test_destroy_asks_first(aws_env, cli, sent):
    assert create(cli, "kept-db").exit_code == 0
    result = cli.invoke(["rds-destroy", "--instance", "kept-db"], env={"CONFIRM": ""})
    assert result.exit_code == 3
    assert describe(aws_env, "kept-db")["DBInstanceStatus"] == "available"


def test_destroy_waits_while_the_security_group_is_still_in_use(aws_env, monkeypatch):
    """After the instance is gone AWS still refuses for minutes (its network interfaces)."""
    ec2 = aws_env.client("ec2")
    monkeypatch.setattr(rdsctl_aws.time, "sleep", lambda seconds: None)
    with Stubber(ec2) as stubber:
        for _ in range(2):
            stubber.add_client_error(
                "delete_security_group",
                "DependencyViolation",
                "resource sg-1 has a dependent object",
            )
        stubber.add_response("delete_security_group", {}, {"GroupId": "sg-1"})
        destroy.delete_security_group(ec2, "sg-1", wait_minutes=1)
        stubber.assert_no_pending_responses()


def test_a_failed_instance_is_deleted_only_without_a_final_snapshot():
    info = {"DBInstanceIdentifier": "broken-db", "DBInstanceStatus": "failed"}
    with pytest.raises(click.ClickException, match="SKIP_FINAL_SNAPSHOT=1"):
        destroy.show("broken-db", info, destroy.Leftovers(), "broken-db-final-1")


def test_create_allow_users_deploy_revoke_destroy_leaves_only_the_final_snapshot(
    aws_module, monkeypatch, cli, standin, certs, master_secret, tmp_path
):
    """The whole life of a development instance on moto, with the stand-in as its endpoint
    (users of their own and a database of its own, so the module's users stay as they are)."""

    canned.install(monkeypatch)
    name, env_file = "life-db", tmp_path / ".env.rds"
    create = {
        "RDS_INSTANCE": name,
        "MYSQL_IMAGE": "mysql:8.4",
        "CONFIRM": "yes",
        "RDS_POLL_SECONDS": "0.1",
        "RDS_PUBLIC": "1",
    }
    on_it = [
        "--instance",
        name,
        "--endpoint",
        "localhost",
        "--port",
        str(standin),
        "--database",
        "lifedb",
        "--ca",
        str(certs / "standin-ca.pem"),
    ]
    steps = [
        (["rds-create"], create),
        (["rds-allow-my-ip", "--instance", name, "--ip", "203.0.113.7"], {}),
        (
            [
                "rds-users",
                *on_it,
                "--master-secret-arn",
                master_secret,
                "--app-user",
                "life_app",
                "--migrator-user",
                "life_migrator",
            ],
            {},
        ),
        (["deploy-env", *on_it, "--output", str(env_file)], {}),
        (["rds-revoke-my-ip", "--instance", name], {"MY_IP": ""}),
        (["rds-destroy", "--instance", name, "--env-file", str(env_file)], {"CONFIRM": "yes"}),
    ]
    for args, env in steps:
        result = cli.invoke(args, env=env)
        assert result.exit_code == 0, (args[0], result.output)
        if args[0] == "deploy-env":
            assert dotenv_values(env_file)["DB_USER"] == "life_app"
            made = aws_module.client("secretsmanager").list_secrets(
                Filters=[{"Key": "name", "Values": [f"flask-rds-starter/{name}/"]}]
            )["SecretList"]
            assert len(made) == 2  # the app's and the migrator's, which destroy must remove
    assert "up to $1.90 a month" in result.output  # the final snapshot: 20 GiB x $0.095

    rds, ec2 = aws_module.client("rds"), aws_module.client("ec2")
    assert name not in [
        i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
    ]
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier=name)["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith(f"{name}-final-") for s in snapshots] == [True]
    ours = [{"Name": "tag:flask-rds-starter:instance", "Values": [name]}]
    assert ec2.describe_security_groups(Filters=ours)["SecurityGroups"] == []
    groups = [
        g["DBParameterGroupName"] for g in rds.describe_db_parameter_groups()["DBParameterGroups"]
    ]
    assert f"{name}-params" not in groups
    secrets_left = aws_module.client("secretsmanager").list_secrets(
        Filters=[{"Key": "name", "Values": [f"flask-rds-starter/{name}/"]}]
    )["SecretList"]
    assert secrets_left == []
    assert not env_file.exists()
    assert "SECRET_KEY" not in Path(f"{env_file}.off").read_text()


def test_a_name_that_prefixes_another_deletes_none_of_its_secrets(aws_env, cli, sent):
    """ListSecrets' tag-value filter matches a prefix: flask-rds would take flask-rds-dev's."""
    theirs = user_secrets(aws_env, "flask-rds-dev") + user_secrets(aws_env, "flask-rds-dev-alice")
    result = cli.invoke(["rds-destroy", "--instance", "flask-rds"], env={"CONFIRM": "yes"})
    assert result.exit_code == 0, result.output
    assert "nothing to delete" in result.output
    assert not any(scheduled(aws_env, arn) for arn in theirs)


def test_leftovers_of_a_gone_instance_are_listed_and_asked_for(aws_env, cli, sent):
    mine, alices = user_secrets(aws_env, "gone-db"), user_secrets(aws_env, "gone-db-alice")
    asked = cli.invoke(["rds-destroy", "--instance", "gone-db"], env={"CONFIRM": ""})
    assert asked.exit_code == 3, asked.output
    assert "flask-rds-starter/gone-db/app/app" in asked.output
    assert "gone-db-alice" not in asked.output
    assert not any(scheduled(aws_env, arn) for arn in mine)
    done = cli.invoke(["rds-destroy", "--instance", "gone-db"], env={"CONFIRM": "yes"})
    assert done.exit_code == 0, done.output
    assert all(scheduled(aws_env, arn) for arn in mine)  # in the 7-day window, restorable
    assert not any(scheduled(aws_env, arn) for arn in alices)
    described = aws_env.client("secretsmanager").describe_secret(SecretId=mine[0])
    assert (described["DeletedDate"] - described["CreatedDate"]).days >= 6  # a window, not forced


def test_a_restored_secret_serves_rds_users_again(aws_env):
    """What rds-destroy scheduled for deletion, rds-users (find_secret) restores and reuses,
    instead of failing on a name Secrets Manager still holds."""
    [app, _] = user_secrets(aws_env, "back-db")
    aws_env.client("secretsmanager").delete_secret(SecretId=app, RecoveryWindowInDays=7)
    found = users.find_secret("flask-rds-starter/back-db/app/app", "eu-west-1")
    assert found is not None and found.password == "pw-app"
    assert not scheduled(aws_env, app)


def test_the_pre_migrate_snapshots_go_with_the_instance_and_the_final_one_stays(aws_env, cli, sent):
    assert create(cli, "snap-db").exit_code == 0
    rds = aws_env.client("rds")
    for name in ("snap-db-pre-migrate-20261201-101010", "snap-db-by-hand"):
        rds.create_db_snapshot(DBInstanceIdentifier="snap-db", DBSnapshotIdentifier=name)
    result = cli.invoke(["rds-destroy", "--instance", "snap-db"], env={"CONFIRM": "yes"})
    assert result.exit_code == 0, result.output
    assert "the snapshot snap-db-pre-migrate-20261201-101010" in result.output
    left = [
        s["DBSnapshotIdentifier"]
        for s in rds.describe_db_snapshots(DBInstanceIdentifier="snap-db")["DBSnapshots"]
    ]
    assert "snap-db-pre-migrate-20261201-101010" not in left
    assert "snap-db-by-hand" in left  # not made by make migrate: not ours to delete
    assert any(name.startswith("snap-db-final-") for name in left)
