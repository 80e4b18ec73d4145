"""rdsctl/plan.py: the plan rds-create shows before it makes anything."""

from rdsctl import network
from tests.support.rds import create


def test_dry_run_plan_names_account_region_network_and_cost(aws_env, cli, sent):
    result = create(cli, "planned-db", DRY_RUN="1", RDS_PUBLIC="1")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "AWS account          123456789012" in out
    assert "region               eu-west-1" in out
    assert "network              VPC vpc-" in out and "subnet group default" in out
    assert "new: planned-db-mysql, no inbound rule" in out
    assert "mysql 8.4.7 (RDS's default of the 8.4 line" in out and "2029-07-31" in out
    assert "an ESTIMATE" in out and "public IPv4 address" in out and "Secrets Manager" in out
    assert "DRY_RUN=1: nothing created" in out
    rds = aws_env.client("rds")
    assert "planned-db" not in [
        i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]
    ]
    assert network.owned_group(aws_env.client("ec2"), "planned-db") is None


def test_the_plan_says_what_the_managed_password_rules_out_and_what_may_cost_more(
    aws_env, cli, sent
):
    out = create(cli, "limits-db", DRY_RUN="1").output
    assert "no read replica of this instance and no Blue/Green deployment" in out
    assert "--no-manage-master-user-password --master-user-password" in out
    assert "another subnet group: a modify, with an outage" in out  # not "fixed for its life"
    assert "CPU credits: db.t4g.micro runs in Unlimited mode" in out
    assert "max_connections left to RDS's formula" in out
