"""rdsctl/aws.py: AWS's errors as one line of cause and one of fix; waiting with a bound."""

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from app import aws
from rdsctl.aws import TOOL_FIXES, poll


def aws_error(code, message="") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateDBInstance")


@pytest.mark.parametrize(
    "error, fix",
    [
        (NoCredentialsError(), "aws configure"),
        (aws_error("AccessDenied", "not authorized to rds:CreateDBInstance"), "lacks this action"),
        (aws_error("InstanceQuotaExceeded"), "higher instance quota"),
        (
            aws_error("InvalidParameterCombination", "db.t4g.micro not offered"),
            "describe-orderable-db-instance-options",
        ),
    ],
)
def test_aws_errors_become_cause_and_fix(error, fix):
    explained = aws.explain(error, "create RDS instance 'x'", TOOL_FIXES)
    assert explained.cause.startswith("create RDS instance 'x'")
    assert fix in explained.fix
    assert "\n" not in explained.cause and "\n" not in explained.fix


def test_an_error_is_told_by_its_own_cause():
    """InvalidParameterCombination has many causes: AWS's message names it, not a guess."""
    mixed = aws.explain(
        aws_error("InvalidParameterCombination", "Cannot use X with Y"), "c", TOOL_FIXES
    )
    assert "Cannot use X with Y" in mixed.cause and "not offered" not in mixed.fix
    dual = aws.explain(aws_error("NetworkTypeNotSupported", "DUAL"), "c", TOOL_FIXES)
    assert "IPv6 CIDR block" in dual.fix and "RDS_SUBNET_GROUP" in dual.fix


def test_poll_looks_at_the_end_of_its_timeout_not_one_wait_short():
    now, looked = [0.0], []

    def check(elapsed):
        looked.append(elapsed)
        return None

    def sleep(seconds):
        now[0] += seconds

    assert poll(check, 60, 25, sleep=sleep, clock=lambda: now[0]) is None
    assert looked == [0, 25, 50, 60]
    assert poll(lambda elapsed: "found", 60, 25, sleep=sleep, clock=lambda: now[0]) == "found"
