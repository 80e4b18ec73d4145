"""The few AWS calls this project makes, with errors turned into one line of cause and fix.

boto3 is the optional ``aws`` extra, imported only when a call is made: the server makes none
unless a setting (DB_PASSWORD_SECRET_ARN, DB_IAM_AUTH) asks for it.
"""

import json
import re
from contextlib import contextmanager

import click


class AWSError(click.ClickException):
    """An AWS call failed; `cause` and `fix` are one line each. A CLI command shows it as is."""

    def __init__(self, cause: str, fix: str):
        super().__init__(f"{cause}\n  fix: {fix}")
        self.cause = cause
        self.fix = fix


def client(service: str, region: str | None = None):
    """A client from a new session, so credentials are looked up afresh (boto3's default
    session keeps the first ones it found)."""
    try:
        import boto3
    except ImportError:
        raise AWSError(
            "boto3 is not installed",
            "pip install 'flask-rds-starter[aws]' (make install includes it)",
        ) from None
    return boto3.session.Session().client(service, region_name=region)


@contextmanager
def calling(action: str):
    """Run AWS calls, turning botocore's errors into an AWSError that names `action`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        raise explain(exc, action) from None


def explain(exc: Exception, action: str) -> AWSError:
    """Turn a botocore error into cause and fix."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
    )

    if isinstance(exc, NoCredentialsError):
        return AWSError(
            f"{action}: no AWS credentials found",
            "run 'aws configure' or 'aws sso login', or set AWS_PROFILE",
        )
    if isinstance(exc, NoRegionError):
        return AWSError(f"{action}: no AWS region set", "set AWS_REGION (e.g. eu-west-1)")
    if isinstance(exc, EndpointConnectionError):
        return AWSError(
            f"{action}: cannot reach the AWS API ({exc})", "check the network and AWS_REGION"
        )
    if isinstance(exc, ClientError):
        code = exc.response["Error"].get("Code", "")
        message = exc.response["Error"].get("Message", "")
        return AWSError(
            f"{action}: {code}: {message}", FIXES.get(code, "see the AWS message above")
        )
    return AWSError(f"{action}: {exc}", "see the AWS message above")


NO_PERMISSION = "your IAM identity lacks this action: ask for it, or use another AWS_PROFILE"
NOT_FOUND = "check the identifier (aws rds describe-db-instances) and AWS_REGION"
EXPIRED = "your AWS session expired: aws sso login (or refresh your credentials)"
NAME_TAKEN = "pick another RDS_INSTANCE name, or use the existing instance"
FIXES = {
    "DBInstanceNotFound": NOT_FOUND,
    "DBInstanceNotFoundFault": NOT_FOUND,
    "AccessDenied": NO_PERMISSION,
    "AccessDeniedException": NO_PERMISSION,
    "UnauthorizedOperation": NO_PERMISSION,
    "ResourceNotFoundException": "check the secret's ARN or name, and AWS_REGION",
    "ExpiredToken": EXPIRED,
    "ExpiredTokenException": EXPIRED,
    "InvalidClientTokenId": "the AWS access key is not valid: check AWS_PROFILE or aws configure",
    "DBInstanceAlreadyExists": NAME_TAKEN,
    "DBInstanceAlreadyExistsFault": NAME_TAKEN,
    "InstanceQuotaExceeded": "delete an unused instance or ask AWS for a higher instance quota",
    "StorageQuotaExceeded": "lower RDS_STORAGE_GB or ask AWS for a higher storage quota",
    "InvalidParameterCombination": "the class or version is not offered here: "
    "aws rds describe-orderable-db-instance-options --engine mysql",
    "InvalidDBInstanceState": "wait until the instance is 'available', then retry",
    "InvalidPermission.Duplicate": "the rule already exists: nothing to do",
    "InvalidPermission.NotFound": "no such rule on the security group: nothing to remove",
}


def region_of(endpoint: str) -> str | None:
    """The region in an RDS endpoint (name.abc123.eu-west-1.rds.amazonaws.com)."""
    match = re.search(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.rds\.amazonaws\.com\.?$", endpoint)
    return match.group(1) if match else None


def is_proxy_endpoint(endpoint: str) -> bool:
    return ".proxy-" in endpoint


def describe_instance(identifier: str, region: str | None = None) -> dict:
    rds = client("rds", region)
    with calling(f"describe RDS instance {identifier!r}"):
        return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def secret_password(secret_id: str, region: str | None = None) -> tuple[str | None, str]:
    """(username, password) from a Secrets Manager secret, as RDS's managed secrets hold them."""
    secrets = client("secretsmanager", region)
    with calling("read the database password from Secrets Manager"):
        value = secrets.get_secret_value(SecretId=secret_id)
    text = value.get("SecretString") or ""
    try:
        data = json.loads(text)
    except ValueError:
        return None, text  # a plain-text secret is the password itself
    if "password" not in data:
        raise AWSError(
            "the secret has no 'password' key", "point DB_PASSWORD_SECRET_ARN at RDS's secret"
        )
    return data.get("username"), data["password"]


def iam_token(host: str, port: int, user: str, region: str | None = None, rds=None) -> str:
    """An IAM database authentication token: valid 15 minutes, so made for each connection."""
    rds = rds or client("rds", region or region_of(host))
    with calling("make an IAM database authentication token"):
        return rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user)
