"""Shorthands for the RDS tests against moto: make, describe and look into an instance."""

import json
import secrets


def create(cli, name, **env):
    env = {
        "RDS_INSTANCE": name,
        "MYSQL_IMAGE": "mysql:8.4",
        "CONFIRM": "yes",
        "RDS_POLL_SECONDS": "0.1",
        **env,
    }
    return cli.invoke(args=["rds-create"], env=env)


def describe(boto3, name):
    return boto3.client("rds").describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def group_of(boto3, name) -> dict:
    [group_id] = [g["VpcSecurityGroupId"] for g in describe(boto3, name)["VpcSecurityGroups"]]
    ec2 = boto3.client("ec2")
    return ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]


def inbound(boto3, name) -> list:
    return group_of(boto3, name)["IpPermissions"]


def make_instance(boto3, name: str, **extra) -> dict:
    rds = boto3.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier=name,
        Engine="mysql",
        EngineVersion="8.4.3",
        DBInstanceClass="db.t4g.micro",
        AllocatedStorage=20,
        MasterUsername="admin",
        MasterUserPassword="unused-" + secrets.token_hex(4),
        **extra,
    )
    return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]


def user_secrets(boto3, where: str) -> list[str]:
    """The two secrets make rds-users makes for `where`, as it names and tags them."""
    made = []
    for role in ("app", "migrator"):
        made.append(
            boto3.client("secretsmanager").create_secret(
                Name=f"flask-rds-starter/{where}/app/{role}",
                SecretString=json.dumps({"username": role, "password": "pw-" + role}),
                Tags=[
                    {"Key": "flask-rds-starter", "Value": role},
                    {"Key": "flask-rds-starter:target", "Value": where},
                ],
            )["ARN"]
        )
    return made


def scheduled(boto3, arn: str) -> bool:
    return "DeletedDate" in boto3.client("secretsmanager").describe_secret(SecretId=arn)
