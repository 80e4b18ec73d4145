"""Where a development instance lives on the network: its VPC, and a security group of its own
(never the VPC's default, which other databases share). The rules in it: rdsctl/rules.py."""

from typing import Any

import click

from rdsctl.aws import aws_call

OWNER_TAG = "flask-rds-starter:instance"  # on every resource rds-create makes, = the instance
RULE_PREFIX = "flask-rds-starter"
CREATED_BY = {"Key": "created-by", "Value": RULE_PREFIX}  # on everything rds-create makes


def tags(instance: str, project: str | None = None) -> list[dict[str, str]]:
    """The tags of what rds-create makes for `instance` (and the Compose project it serves)."""
    owned = [CREATED_BY, {"Key": OWNER_TAG, "Value": instance}]
    return owned + ([{"Key": "project", "Value": project}] if project else [])


def choose_vpc(ec2: Any, given: str | None, subnet_group: dict[str, Any] | None = None) -> str:
    """The VPC the instance goes into: its subnet group's (RDS_SUBNET_GROUP), else the region's
    default VPC; RDS_VPC_ID must agree. The security group must be made in that same VPC."""
    if subnet_group:
        vpc = str(subnet_group["VpcId"])
        if given and given != vpc:
            raise click.ClickException(
                f"RDS_SUBNET_GROUP {subnet_group['DBSubnetGroupName']} is in {vpc}, not "
                f"RDS_VPC_ID={given}\n  fix: unset RDS_VPC_ID, or name a subnet group in {given}"
            )
        return vpc
    if given:
        raise click.ClickException(
            f"RDS_VPC_ID={given} needs a DB subnet group in that VPC: without one RDS uses the "
            "default VPC\n  fix: set RDS_SUBNET_GROUP (aws rds describe-db-subnet-groups)"
        )
    with aws_call("find the default VPC"):
        default = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if default:
            return str(default[0]["VpcId"])
        others = ec2.describe_vpcs()["Vpcs"]
    listed = ", ".join(f"{v['VpcId']} ({v.get('CidrBlock', '?')})" for v in others[:5]) or "none"
    raise click.ClickException(
        f"this region has no default VPC (VPCs: {listed})\n  fix: set RDS_VPC_ID=vpc-... and "
        "RDS_SUBNET_GROUP=<a DB subnet group in it> (aws rds describe-db-subnet-groups)"
    )


def owned_group(ec2: Any, instance: str, vpc: str | None = None) -> dict[str, Any] | None:
    """The security group rds-create made for `instance`, if there is one."""
    filters = [{"Name": f"tag:{OWNER_TAG}", "Values": [instance]}]
    if vpc:
        filters.append({"Name": "vpc-id", "Values": [vpc]})
    with aws_call("look up the instance's security group"):
        groups = ec2.describe_security_groups(Filters=filters)["SecurityGroups"]
    return dict(groups[0]) if groups else None


def ensure_group(ec2: Any, instance: str, vpc: str) -> str:
    """Our security group for `instance` in `vpc`: reused by tag, or made with no inbound rule."""
    found = owned_group(ec2, instance, vpc)
    if found:
        return str(found["GroupId"])
    with aws_call(f"create a security group for {instance}"):
        created = ec2.create_security_group(
            GroupName=f"{instance}-mysql",
            Description=f"MySQL of {instance}: one rule per address, by make rds-allow-my-ip",
            VpcId=vpc,
            TagSpecifications=[
                {
                    "ResourceType": "security-group",
                    "Tags": tags(instance),
                }
            ],
        )
    return str(created["GroupId"])
