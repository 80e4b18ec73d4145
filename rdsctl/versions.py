"""Which MySQL version a new instance gets: the local image's major line, if RDS still gives it
standard support, resolved to RDS's default minor version of that line.

Read from RDS itself (describe_db_major_engine_versions, describe_db_engine_versions), not a
table here: support dates move, and a line past its standard support costs extra (RDS Extended
Support), which rds-create never buys silently (EngineLifecycleSupport is set to disabled).
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import click

from rdsctl.aws import aws_call

STANDARD = "open-source-rds-standard-support"
NO_EXTENDED_SUPPORT = "open-source-rds-extended-support-disabled"


@dataclass(frozen=True)
class Version:
    engine_version: str  # e.g. 8.4.7, RDS's default minor of the line
    major: str  # 8.4
    family: str  # mysql8.4, the parameter group family
    standard_support_ends: datetime | None


def major_line(image: str, given: str | None) -> str:
    """The major line asked for: RDS_ENGINE_VERSION (8.4 or 8.4.7), else the local image's."""
    if given:
        match = re.fullmatch(r"(\d+\.\d+)(\.\d+)?", given.strip())
        if not match:
            raise click.ClickException(
                f"RDS_ENGINE_VERSION={given}: not a MySQL version\n  fix: e.g. 8.4 or 8.4.7"
            )
        return match.group(1)
    name, _, tag = image.rpartition(":")
    if "mariadb" in name:
        raise click.ClickException(
            f"MYSQL_IMAGE={image} is MariaDB; rds-create makes RDS for MySQL\n  fix: run it "
            "with MYSQL_IMAGE=mysql:8.4 (the line the local db should mirror), or set "
            "RDS_ENGINE_VERSION=8.4"
        )
    match = re.match(r"(\d+\.\d+)", tag)
    if not match:
        raise click.ClickException(
            f"MYSQL_IMAGE={image}: the tag names no version line (lts, latest, innovation "
            "move)\n  fix: pin the local image (mysql:8.4) or set RDS_ENGINE_VERSION=8.4"
        )
    return match.group(1)


def resolve(rds: Any, major: str, today: datetime | None = None) -> Version:
    """The line's default minor version, if the line is in standard support today."""
    today = today or datetime.now(UTC)
    with aws_call("read RDS for MySQL's version lines"):
        lines = rds.describe_db_major_engine_versions(Engine="mysql")["DBMajorEngineVersions"]
    supported = {}
    for line in lines:
        for lifecycle in line.get("SupportedEngineLifecycles", []):
            if lifecycle["LifecycleSupportName"] != STANDARD:
                continue
            if (
                lifecycle["LifecycleSupportStartDate"]
                <= today
                < lifecycle["LifecycleSupportEndDate"]
            ):
                supported[line["MajorEngineVersion"]] = lifecycle["LifecycleSupportEndDate"]
    if major not in supported:
        offered = ", ".join(sorted(supported, key=lambda v: [int(p) for p in v.split(".")]))
        raise click.ClickException(
            f"MySQL {major} is not in RDS standard support today (lines in standard support: "
            f"{offered or 'none found'}); past it, RDS charges for Extended Support\n"
            f"  fix: use one of {offered} (RDS_ENGINE_VERSION, and the same MYSQL_IMAGE locally)"
        )
    with aws_call(f"read RDS's default MySQL {major} version"):
        found = rds.describe_db_engine_versions(
            Engine="mysql", EngineVersion=major, DefaultOnly=True
        )["DBEngineVersions"]
    if not found:
        raise click.ClickException(
            f"RDS offers no default MySQL {major} version in this region\n"
            "  fix: aws rds describe-db-engine-versions --engine mysql shows what it offers"
        )
    return Version(
        engine_version=found[0]["EngineVersion"],
        major=major,
        family=found[0].get("DBParameterGroupFamily") or f"mysql{major}",
        standard_support_ends=supported[major],
    )
