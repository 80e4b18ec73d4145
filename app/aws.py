"""The AWS calls the running app makes (a rotated secret, an IAM token), with errors turned
into one line of cause and one of fix.

boto3 is the optional ``aws`` extra, imported only when a call is made: the server makes none
unless a setting (DB_PASSWORD_SECRET_ARN, DB_IAM_AUTH) asks for it.
"""

import functools
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any


class AWSError(Exception):
    """An AWS call failed; `cause` and `fix` are one line each. `lasting`: trying again will
    not help (no credentials, no permission, a profile that cannot work here)."""

    def __init__(self, cause: str, fix: str, lasting: bool = False):
        super().__init__(f"{cause}\n  fix: {fix}")
        self.cause = cause
        self.fix = fix
        self.lasting = lasting


NO_PERMISSION = "your IAM identity lacks this action: ask for it, or use another AWS_PROFILE"
# A credential_process helper (aws-vault, granted) lives on the host, and an MFA prompt needs a
# terminal: neither works in a container. The host's credentials, exported, do.
HOST_ONLY = (
    "a profile whose credential_process or MFA prompt needs your machine cannot work in a "
    'container: on the host, eval "$(aws configure export-credentials --format env)" before '
    "make up (keys for an hour or so), or use an SSO profile (aws sso login)"
)
EXPIRED = "your AWS session expired: aws sso login (or refresh your credentials)"
FIXES = {
    "AccessDenied": NO_PERMISSION,
    "AccessDeniedException": NO_PERMISSION,
    "UnauthorizedOperation": NO_PERMISSION,
    "ResourceNotFoundException": "check the secret's ARN or name, and AWS_REGION",
    "DecryptionFailure": "your IAM identity may not use the secret's KMS key (kms:Decrypt)",
    "ExpiredToken": EXPIRED,
    "ExpiredTokenException": EXPIRED,
    "InvalidClientTokenId": "the AWS access key is not valid: check AWS_PROFILE or aws configure",
    "UnrecognizedClientException": "the AWS access key is not valid: check AWS_PROFILE",
}


def client(service: str, region: str | None = None) -> Any:
    """A client from a new session, so credentials are looked up afresh (boto3's default
    session keeps the first ones it found). Timeouts are short: a request waits on it."""
    try:
        import boto3
        import botocore.session
        from botocore.config import Config
    except ImportError:
        raise AWSError(
            "boto3 is not installed",
            "make install (requirements/aws.txt; docker/compose.rds.yml builds the image with it)",
        ) from None
    config = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard"})
    with calling(f"make an AWS {service} client"):
        session = botocore.session.get_session()
        session.register_component("data_loader", service_models())
        return boto3.session.Session(botocore_session=session).client(
            service, region_name=region, config=config
        )


@functools.cache
def service_models() -> Any:
    """botocore's loader of service models, shared by every session of the process: each new
    session would read and parse the same JSON files again (about two thirds of a client's
    making)."""
    import botocore.loaders

    return botocore.loaders.create_loader()


@contextmanager
def calling(action: str, fixes: Mapping[str, str] = FIXES) -> Iterator[None]:
    """Run AWS calls, turning botocore's errors into an AWSError that names `action`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, OSError, EOFError) as exc:
        # OSError: a credential_process helper that is not there; EOFError: an MFA prompt
        # with nothing to answer it. botocore passes both on unwrapped.
        raise explain(exc, action, fixes) from None


def explain(exc: Exception, action: str, fixes: Mapping[str, str] = FIXES) -> AWSError:
    """Turn a botocore error into cause and fix."""
    from botocore.exceptions import (
        ClientError,
        CredentialRetrievalError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ProfileNotFound,
    )

    if isinstance(exc, NoCredentialsError):
        return AWSError(
            f"{action}: no AWS credentials found",
            "run 'aws configure' or 'aws sso login', or set AWS_PROFILE",
            lasting=True,
        )
    if isinstance(exc, CredentialRetrievalError | EOFError | OSError) and not isinstance(
        exc, EndpointConnectionError
    ):
        what = "asks for an MFA code" if isinstance(exc, EOFError) else f"failed ({exc})"
        return AWSError(f"{action}: the AWS profile's login {what}", HOST_ONLY, lasting=True)
    if isinstance(exc, NoRegionError):
        return AWSError(
            f"{action}: no AWS region set", "set AWS_REGION (e.g. eu-west-1)", lasting=True
        )
    if isinstance(exc, ProfileNotFound):
        return AWSError(
            f"{action}: {exc}",
            "aws configure list-profiles shows the names; fix AWS_PROFILE",
            lasting=True,
        )
    if isinstance(exc, EndpointConnectionError):
        return AWSError(
            f"{action}: cannot reach the AWS API ({exc})", "check the network and AWS_REGION"
        )
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        message = exc.response.get("Error", {}).get("Message", "")
        fix = fixes.get(code, "see the AWS message")
        return AWSError(f"{action}: {code}: {message}", fix, lasting=code in FIXES)
    return AWSError(f"{action}: {exc}", "see the AWS message")


def region_of(endpoint: str) -> str | None:
    """The region in an RDS endpoint (name.abc123.eu-west-1.rds.amazonaws.com)."""
    match = re.search(r"\.([a-z]{2}(?:-gov)?-[a-z]+-\d)\.rds\.amazonaws\.com\.?$", endpoint)
    return match.group(1) if match else None


def read_secret(
    secret_id: str, region: str | None = None, *, stage: str = "AWSCURRENT", secrets: Any = None
) -> dict[str, Any] | None:
    """The JSON of one version of a secret (by staging label), or None if no version has that
    label (AWSPENDING exists only while a rotation runs). A plain-text secret is taken as the
    password itself."""
    from botocore.exceptions import ClientError

    secrets = secrets or client("secretsmanager", region)
    with calling("read the database password from Secrets Manager"):
        try:
            value = secrets.get_secret_value(SecretId=secret_id, VersionStage=stage)
        except ClientError as exc:
            missing = exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException"
            if missing and stage != "AWSCURRENT":
                return None
            raise
    text = str(value.get("SecretString") or "")
    try:
        data = json.loads(text)
    except ValueError:
        return {"password": text}
    if not isinstance(data, dict) or "password" not in data:
        raise AWSError(
            f"the secret {secret_id} has no 'password' key",
            "point DB_PASSWORD_SECRET_ARN at a database secret (RDS's, or make rds-users')",
        )
    return data


def secret_password(secret_id: str, region: str | None = None) -> tuple[str | None, str]:
    """(username, password) from the current version of a Secrets Manager secret."""
    data = read_secret(secret_id, region) or {}
    return data.get("username"), str(data["password"])


def iam_token(host: str, port: int, user: str, region: str | None = None, rds: Any = None) -> str:
    """An IAM database authentication token: valid 15 minutes, so made for each connection."""
    rds = rds or client("rds", region or region_of(host))
    with calling("make an IAM database authentication token"):
        return str(rds.generate_db_auth_token(DBHostname=host, Port=port, DBUsername=user))
