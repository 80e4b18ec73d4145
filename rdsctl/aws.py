"""The AWS calls only the operator tools make, the fixes for the errors they meet, and the two
ways a command waits: for a confirmation, and for AWS to finish."""

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

import click

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
    "InvalidParameterCombination": "AWS's message above names the settings that do not go "
    "together (aws rds describe-orderable-db-instance-options --engine mysql lists what a "
    "region offers)",
    "NetworkTypeNotSupported": "RDS_NETWORK_TYPE=DUAL needs a DB subnet group whose subnets all "
    "have an IPv6 CIDR block (the default VPC's have none): RDS_SUBNET_GROUP, or IPV4",
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
    """The instance's description. An Aurora instance's security groups are its cluster's:
    where the instance's description leaves them out, they are read from the cluster."""
    rds = client("rds", region)
    with aws_call(f"describe RDS instance {identifier!r}"):
        info = dict(rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0])
    cluster = info.get("DBClusterIdentifier")
    if cluster and not info.get("VpcSecurityGroups"):
        info["VpcSecurityGroups"] = describe_cluster(rds, cluster).get("VpcSecurityGroups", [])
    return info


def describe_cluster(rds: Any, cluster: str) -> dict[str, Any]:
    with aws_call(f"describe the Aurora cluster {cluster!r}"):
        return dict(rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"][0])


def instance_port(info: Mapping[str, Any]) -> int | None:
    """The instance's port: its endpoint's, or (while it has no endpoint yet) the one asked for."""
    port = (info.get("Endpoint") or {}).get("Port") or info.get("DbInstancePort")
    return int(port) if port else None


def is_proxy_endpoint(endpoint: str) -> bool:
    return ".proxy-" in endpoint


def instance_or_none(rds: Any, identifier: str) -> dict[str, Any] | None:
    """The instance's description, or None if there is no instance of that name."""
    return one_or_none(
        f"describe RDS instance {identifier!r}",
        "DBInstanceNotFound",
        lambda: rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"],
    )


def cluster_or_none(rds: Any, cluster: str) -> dict[str, Any] | None:
    """The cluster's description, or None if there is no cluster of that name."""
    return one_or_none(
        f"describe the Aurora cluster {cluster!r}",
        "DBClusterNotFound",
        lambda: rds.describe_db_clusters(DBClusterIdentifier=cluster)["DBClusters"],
    )


def one_or_none(
    action: str, not_found: str, describe: Callable[[], list[Any]]
) -> dict[str, Any] | None:
    """The first description `describe` returns, or None where AWS answers `not_found`."""
    from botocore.exceptions import ClientError

    with aws_call(action):
        try:
            found = describe()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code", "").startswith(not_found):
                return None
            raise
    return dict(found[0]) if found else None


def confirmed(question: str, given: bool) -> bool:
    """Yes when CONFIRM=yes was given; else asked at a terminal; no without one."""
    if given:
        return True
    if not sys.stdin.isatty():
        click.echo("not confirmed: run again with CONFIRM=yes to go ahead")
        return False
    return click.confirm(question)


Found = TypeVar("Found")


def poll(
    check: Callable[[float], Found | None],
    timeout: float,
    every: float,
    sleep: Callable[[float], object] | None = None,
    clock: Callable[[], float] | None = None,
) -> Found | None:
    """check(seconds elapsed) every `every` seconds until it returns something, the last time
    at the end of `timeout` (not one wait short of it); None if it never did."""
    sleep, clock = sleep or time.sleep, clock or time.monotonic  # looked up now: tests patch them
    start = clock()
    while True:
        elapsed = clock() - start
        found = check(elapsed)
        if found is not None:
            return found
        if elapsed >= timeout:
            return None
        sleep(min(every, timeout - elapsed))
