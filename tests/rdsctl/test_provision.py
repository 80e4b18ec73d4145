"""`rdsctl rds-create`, `rds-stop`, `rds-start` (rdsctl/provision.py) against moto's server.
Assertions read what moto recorded, not our printout; where moto cannot act, responses are
canned in the shape of AWS's API reference (tests/support/canned.py)."""

import click
import pytest

from rdsctl import network, provision
from tests.support.output import cause_and_fix
from tests.support.rds import create, describe, group_of


def test_create_makes_a_security_group_of_its_own_with_no_inbound_rule(aws_env, cli, sent):
    result = create(cli, "own-sg-db")
    assert result.exit_code == 0, result.output
    group = group_of(aws_env, "own-sg-db")
    assert group["GroupName"] == "own-sg-db-mysql" != "default"
    assert {"Key": network.OWNER_TAG, "Value": "own-sg-db"} in group["Tags"]
    assert group["IpPermissions"] == []
    assert "make rds-users RDS_INSTANCE=own-sg-db" in result.output


def test_create_again_adopts_its_own_instance_and_waits(aws_env, cli, sent):
    assert create(cli, "rerun-db").exit_code == 0
    again = create(cli, "rerun-db")
    assert again.exit_code == 0, again.output
    assert "rerun-db exists and is ours" in again.output
    assert len(sent["rds"]) and sum(1 for p in sent["rds"] if "MasterUsername" in p) == 1


def test_create_refuses_a_foreign_instance_of_the_same_name(aws_env, cli, sent):
    aws_env.client("rds").create_db_instance(
        DBInstanceIdentifier="foreign-db",
        Engine="mysql",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="secret-123456",
    )
    result = create(cli, "foreign-db")
    assert result.exit_code == 1
    assert "was not made by make rds-create" in result.output
    assert "Traceback" not in result.output


def test_create_sets_version_lifecycle_ca_tags_and_parameter_group(aws_env, cli, sent):
    result = create(cli, "params-db", MYSQL_IMAGE="mysql:9.7")
    assert result.exit_code == 0, result.output
    [params] = [p for p in sent["rds"] if "MasterUsername" in p]
    assert params["EngineVersion"] == "9.7.0"
    assert params["EngineLifecycleSupport"] == "open-source-rds-extended-support-disabled"
    assert params["CACertificateIdentifier"] == "rds-ca-rsa2048-g1"
    assert params["CopyTagsToSnapshot"] is True
    assert params["DBParameterGroupName"] == "params-db-params"
    info = describe(aws_env, "params-db")
    assert info["DBParameterGroups"][0]["DBParameterGroupName"] == "params-db-params"
    group = aws_env.client("rds").describe_db_parameter_groups(
        DBParameterGroupName="params-db-params"
    )["DBParameterGroups"][0]
    assert group["DBParameterGroupFamily"] == "mysql9.7"


def test_create_refuses_mysql_8_0_now_in_extended_support(aws_env, cli, sent):
    result = create(cli, "old-db", MYSQL_IMAGE="mysql:8.0")
    assert result.exit_code == 1
    assert "RDS for MySQL 8.0 is not in standard support" in result.output
    assert not [p for p in sent.get("rds", []) if "MasterUsername" in p]


def test_no_region_is_one_line_of_cause_and_fix(cli, tmp_path, monkeypatch):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for command in (["rds-create"], ["rds-destroy"], ["deploy-env", "--instance", "x"]):
        result = cli.invoke(
            command, env={"CONFIRM": "yes", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
        )
        assert result.exit_code == 1, (command, result.output)
        cause, fix = cause_and_fix(result.output)
        assert "no AWS region set" in cause and fix.startswith("fix: set AWS_REGION")


def test_an_unknown_profile_is_one_line_of_cause_and_fix(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    for command in (["rds-create"], ["rds-destroy"], ["deploy-env", "--instance", "x"]):
        result = cli.invoke(command, env={"AWS_PROFILE": "no-such-profile"})
        assert result.exit_code == 1, (command, result.output)
        cause, fix = cause_and_fix(result.output)
        assert "no-such-profile" in cause and "list-profiles" in fix


def test_wait_loop_gives_up_after_its_timeout_with_a_last_look_at_its_end(monkeypatch):
    now, looked = [0.0], []

    def describe(name):
        looked.append(now[0])
        return {"DBInstanceStatus": "creating"}

    def sleep(seconds):
        now[0] += seconds

    monkeypatch.setattr(provision, "describe_instance", describe)
    with pytest.raises(click.ClickException, match="still creating after"):
        provision.wait_until_available("slow-db", 60, 25, sleep=sleep, clock=lambda: now[0])
    assert looked == [0, 25, 50, 60]  # not given up at 50 s, one poll short of the minute


def test_stop_and_start_say_what_stopping_means(aws_env, cli, sent):
    assert create(cli, "idle-db").exit_code == 0
    stopped = cli.invoke(["rds-stop", "--instance", "idle-db"])
    assert stopped.exit_code == 0, stopped.output
    assert "after 7 days" in stopped.output and "storage" in stopped.output
    assert describe(aws_env, "idle-db")["DBInstanceStatus"] == "stopped"
    started = cli.invoke(["rds-start", "--instance", "idle-db"])
    assert started.exit_code == 0, started.output
    assert describe(aws_env, "idle-db")["DBInstanceStatus"] == "available"
