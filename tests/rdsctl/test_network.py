"""rdsctl/network.py: the VPC and the security group of the instance's own."""

import click
import pytest
from botocore.stub import Stubber

from rdsctl import network


def test_the_security_group_goes_into_the_subnet_groups_vpc(aws_env):
    """RDS places the instance in its subnet group's VPC; a group made elsewhere is refused by
    AWS ('different VPCs'), which moto does not check."""
    subnet_group = {"DBSubnetGroupName": "private-dbs", "VpcId": "vpc-0private"}
    ec2 = aws_env.client("ec2")
    assert network.choose_vpc(ec2, None, subnet_group) == "vpc-0private"
    with pytest.raises(click.ClickException, match="is in vpc-0private, not RDS_VPC_ID=vpc-0other"):
        network.choose_vpc(ec2, "vpc-0other", subnet_group)
    with pytest.raises(click.ClickException, match="needs a DB subnet group"):
        network.choose_vpc(ec2, "vpc-0other", None)


def test_a_region_without_a_default_vpc_gets_a_choice(aws_env):
    ec2 = aws_env.client("ec2")
    with Stubber(ec2) as stubber:
        stubber.add_response(
            "describe_vpcs", {"Vpcs": []}, {"Filters": [{"Name": "isDefault", "Values": ["true"]}]}
        )
        vpc = {"VpcId": "vpc-0abc", "CidrBlock": "10.0.0.0/16", "IsDefault": False}
        stubber.add_response("describe_vpcs", {"Vpcs": [vpc]})
        with pytest.raises(click.ClickException) as refused:
            network.choose_vpc(ec2, None)
    assert "no default VPC (VPCs: vpc-0abc (10.0.0.0/16))" in refused.value.message
    assert "RDS_VPC_ID=" in refused.value.message and "RDS_SUBNET_GROUP=" in refused.value.message
