"""`rdsctl rds-create`, `rds-allow-my-ip`, `rds-revoke-my-ip`, `rds-destroy` against moto's
server on 127.0.0.1. Assertions read what moto recorded, not our own printout."""

import click
import pytest
from botocore.exceptions import ClientError, NoCredentialsError
from click.testing import CliRunner

from app import aws
from rdsctl import provision
from rdsctl.aws import TOOL_FIXES
from rdsctl.cli import rdsctl

pytestmark = pytest.mark.aws


class Tool:
    """rdsctl run in this process, as `python -m rdsctl` would run it."""

    def invoke(self, args, env=None):
        return CliRunner().invoke(rdsctl, args, env=env)


@pytest.fixture
def cli():
    return Tool()


@pytest.fixture
def security_group(aws_env):
    ec2 = aws_env.client("ec2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    name = f"db-{id(ec2)}"
    return ec2.create_security_group(GroupName=name, Description="db", VpcId=vpc)["GroupId"]


def create(cli, name, *, group=None, **env):
    env = {"RDS_INSTANCE": name, "MYSQL_IMAGE": "mysql:8.4", "CONFIRM": "yes",
           "RDS_POLL_SECONDS": "0.1", **({"RDS_SECURITY_GROUP_IDS": group} if group else {}),
           **env}  # fmt: skip
    return cli.invoke(args=["rds-create"], env=env)


def describe(boto3, name):
    return boto3.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def test_dry_run_prints_the_plan_and_creates_nothing(aws_env, cli):
    result = create(cli, "dry-db", DRY_RUN="1")
    assert result.exit_code == 0, result.output
    for words in ("db.t4g.micro", "mysql 8.4", "initial database", "fixed: another one",
                  "managed by RDS in Secrets Manager", "can grow, never shrink",
                  "no: reachable only inside its VPC", "DRY_RUN=1: nothing created"):  # fmt: skip
        assert words in result.output
    names = [
        i["DBInstanceIdentifier"]
        for i in aws_env.client("rds").describe_db_instances()["DBInstances"]
    ]
    assert "dry-db" not in names


def test_create_without_confirmation_creates_nothing(aws_env, cli):
    result = create(cli, "unconfirmed-db", CONFIRM="")
    assert result.exit_code == 3
    assert "CONFIRM=yes" in result.output
    with pytest.raises(ClientError):
        describe(aws_env, "unconfirmed-db")


def test_create_records_the_right_parameters(aws_env, cli, security_group):
    result = create(cli, "dev-db", group=security_group, MYSQL_DATABASE="shop")
    assert result.exit_code == 0, result.output
    recorded = describe(aws_env, "dev-db")
    assert recorded["Engine"] == "mysql"
    assert recorded["EngineVersion"].startswith("8.4")
    assert recorded["DBInstanceClass"] == "db.t4g.micro"
    assert recorded["AllocatedStorage"] == 20
    assert recorded["DBName"] == "shop"  # the initial database, from the local stack's setting
    assert recorded["MasterUsername"] == "admin"
    assert recorded["MasterUserSecret"]["SecretArn"]  # managed password: none typed or printed
    assert recorded["StorageEncrypted"] is True
    assert recorded["PubliclyAccessible"] is False
    assert recorded["DeletionProtection"] is True
    assert recorded["BackupRetentionPeriod"] == 1
    assert {"Key": "created-by", "Value": "flask-rds-starter"} in recorded["TagList"]
    assert "dev-db: available" in result.output  # the wait loop's progress
    assert "make deploy-env RDS_INSTANCE=dev-db" in result.output


def test_engine_version_follows_the_local_image():
    assert provision.engine_version("mysql:8.4") == "8.4"
    assert provision.engine_version("ci-local/mysql:9.7-sid") == "9.7"
    assert provision.engine_version("mysql:8.0.40") == "8.0"


def test_public_access_only_when_asked_and_said_plainly(aws_env, cli, security_group):
    result = create(cli, "public-db", group=security_group, RDS_PUBLIC="1")
    assert result.exit_code == 0, result.output
    assert "YES: reachable from the internet" in result.output
    assert "make rds-allow-my-ip" in result.output
    assert describe(aws_env, "public-db")["PubliclyAccessible"] is True


def test_name_taken_is_one_line_of_cause_and_fix(aws_env, cli):
    create(cli, "taken-db")
    result = create(cli, "taken-db")
    assert result.exit_code == 1
    assert "create RDS instance 'taken-db': DBInstanceAlreadyExists" in result.output
    assert "fix: pick another RDS_INSTANCE name" in result.output
    assert "Traceback" not in result.output


def inbound(boto3, group):
    return boto3.client("ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"][0][
        "IpPermissions"
    ]


def test_allow_and_revoke_my_ip(aws_env, cli, security_group):
    create(cli, "sg-db", group=security_group)
    result = cli.invoke(args=["rds-allow-my-ip", "--instance", "sg-db", "--ip", "203.0.113.7"])
    assert result.exit_code == 0, result.output
    [rule] = inbound(aws_env, security_group)
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 3306, 3306)
    [ip_range] = rule["IpRanges"]
    assert ip_range["CidrIp"] == "203.0.113.7/32"
    assert ip_range["Description"].startswith("flask-rds-starter: ")

    result = cli.invoke(args=["rds-revoke-my-ip", "--instance", "sg-db", "--ip", "203.0.113.7"])
    assert result.exit_code == 0, result.output
    assert inbound(aws_env, security_group) == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "203.0.113.0/24"])
def test_wide_rules_are_refused_unless_forced(aws_env, cli, security_group, cidr):
    name = f"wide-db-{security_group[-6:]}"
    create(cli, name, group=security_group)
    result = cli.invoke(args=["rds-allow-my-ip", "--instance", name, "--ip", cidr])
    assert result.exit_code == 1
    assert f"refusing {cidr}" in result.output and "FORCE=1" in result.output
    assert inbound(aws_env, security_group) == []
    forced = cli.invoke(args=["rds-allow-my-ip", "--instance", name, "--ip", cidr, "--force"])
    assert forced.exit_code == 0, forced.output
    assert len(inbound(aws_env, security_group)) == 1


def test_bad_address_is_refused(aws_env, cli):
    result = cli.invoke(args=["rds-allow-my-ip", "--instance", "x", "--ip", "not-an-ip"])
    assert result.exit_code == 1
    assert "'not-an-ip' is not an IP address" in result.output


def test_destroy_a_tagged_instance_with_a_final_snapshot(aws_env, cli):
    create(cli, "doomed-db")
    result = cli.invoke(args=["rds-destroy", "--instance", "doomed-db"], env={"CONFIRM": "yes"})
    assert result.exit_code == 0, result.output
    assert "final snapshot doomed-db-final-" in result.output
    rds = aws_env.client("rds")
    snapshots = rds.describe_db_snapshots(DBInstanceIdentifier="doomed-db")["DBSnapshots"]
    assert [s["DBSnapshotIdentifier"].startswith("doomed-db-final-") for s in snapshots] == [True]
    remaining = [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]]
    assert "doomed-db" not in remaining


def test_destroy_refuses_an_untagged_instance(aws_env, cli):
    aws_env.client("rds").create_db_instance(
        DBInstanceIdentifier="not-ours", Engine="mysql", DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="secret-123456",
    )  # fmt: skip
    result = cli.invoke(args=["rds-destroy", "--instance", "not-ours"], env={"CONFIRM": "yes"})
    assert result.exit_code == 1
    assert "not created by make rds-create" in result.output
    assert describe(aws_env, "not-ours")["DBInstanceStatus"] == "available"


def test_destroy_asks_first(aws_env, cli):
    create(cli, "kept-db")
    result = cli.invoke(args=["rds-destroy", "--instance", "kept-db"], env={"CONFIRM": ""})
    assert result.exit_code == 3
    assert describe(aws_env, "kept-db")["DBInstanceStatus"] == "available"


def test_wait_loop_gives_up_after_its_timeout(monkeypatch):
    # moto makes instances available at once, so a slow one is played by a stand-in function.
    statuses = iter(["creating", "creating", "creating", "creating"])
    monkeypatch.setattr(
        provision, "describe_instance", lambda name: {"DBInstanceStatus": next(statuses)}
    )
    with pytest.raises(click.ClickException, match="still creating after"):
        provision.wait_until_available("slow-db", timeout=0.25, poll=0.1)


def aws_error(code, message="") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateDBInstance")


@pytest.mark.parametrize(
    "error, fix",
    [
        (NoCredentialsError(), "aws configure"),
        (aws_error("AccessDenied", "not authorized to rds:CreateDBInstance"), "lacks this action"),
        (aws_error("InstanceQuotaExceeded"), "higher instance quota"),
        (aws_error("DBInstanceAlreadyExists"), "pick another RDS_INSTANCE name"),
        (aws_error("InvalidParameterCombination", "db.t4g.micro not offered"),
         "describe-orderable-db-instance-options"),
    ],
)  # fmt: skip
def test_aws_errors_become_cause_and_fix(error, fix):
    explained = aws.explain(error, "create RDS instance 'x'", TOOL_FIXES)
    assert explained.cause.startswith("create RDS instance 'x'")
    assert fix in explained.fix
    assert "\n" not in explained.cause and "\n" not in explained.fix
