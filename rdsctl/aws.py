"""The AWS calls only the operator tools make, and the fixes for the errors they meet."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from app.aws import FIXES, calling, client

NOT_FOUND = "check the identifier (aws rds describe-db-instances) and AWS_REGION"
NAME_TAKEN = "pick another RDS_INSTANCE name, or use the existing instance"
TOOL_FIXES = {
    **FIXES,
    "DBInstanceNotFound": NOT_FOUND,
    "DBInstanceNotFoundFault": NOT_FOUND,
    "DBInstanceAlreadyExists": NAME_TAKEN,
    "DBInstanceAlreadyExistsFault": NAME_TAKEN,
    "InstanceQuotaExceeded": "delete an unused instance or ask AWS for a higher instance quota",
    "StorageQuotaExceeded": "lower RDS_STORAGE_GB or ask AWS for a higher storage quota",
    "InvalidParameterCombination": "the class or version is not offered here: "
    "aws rds describe-orderable-db-instance-options --engine mysql",
    "InvalidDBInstanceState": "wait until the instance is 'available', then retry",
    "InvalidPermission.Duplicate": "the rule already exists: nothing to do",
    "InvalidPermission.NotFound": "no such rule on the security group: nothing to remove",
    "DependencyViolation": "something still uses it (a deleted instance's network interfaces "
    "take minutes to go): run make rds-destroy again in a few minutes",
    "InvalidDBParameterGroupState": "an instance still uses it: run make rds-destroy again "
    "once the instance is gone",
}


@contextmanager
def aws_call(action: str) -> Iterator[None]:
    """app.aws.calling, with the fixes for provisioning and deploy errors too."""
    with calling(action, TOOL_FIXES):
        yield


def describe_instance(identifier: str, region: str | None = None) -> dict[str, Any]:
    rds = client("rds", region)
    with aws_call(f"describe RDS instance {identifier!r}"):
        return dict(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])


def instance_port(info: Mapping[str, Any]) -> int | None:
    """The instance's port: its endpoint's, or (while it has no endpoint yet) the one asked for."""
    port = (info.get("Endpoint") or {}).get("Port") or info.get("DbInstancePort")
    return int(port) if port else None


def is_proxy_endpoint(endpoint: str) -> bool:
    return ".proxy-" in endpoint


def instance_or_none(rds: Any, identifier: str) -> dict[str, Any] | None:
    """The instance's description, or None if there is no instance of that name."""
    from botocore.exceptions import ClientError

    with aws_call(f"describe RDS instance {identifier!r}"):
        try:
            found = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "").startswith("DBInstanceNotFound"):
                return None
            raise
    return dict(found[0]) if found else None
