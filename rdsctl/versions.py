"""Which MySQL version a new instance gets: the local image's major line, if RDS still gives it
standard support, resolved to RDS's default minor version of that line (for Aurora MySQL, the
default if it can pause at 0 ACU, else the newest of the line that can).

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


ENGINES = {"mysql": "RDS for MySQL", "aurora-mysql": "Aurora MySQL"}


@dataclass(frozen=True)
class Version:
    engine_version: str  # e.g. 8.4.7, RDS's default minor of the line
    major: str  # 8.4
    family: str  # mysql8.4 (aurora-mysql8.4), the parameter group family
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


def resolve(rds: Any, major: str, today: datetime | None = None, engine: str = "mysql") -> Version:
    """The line's default minor version, if the line is in standard support today."""
    today = today or datetime.now(UTC)
    name = ENGINES[engine]
    with aws_call(f"read {name}'s version lines"):
        lines = rds.describe_db_major_engine_versions(Engine=engine)["DBMajorEngineVersions"]
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
            f"{name} {major} is not in standard support today (lines in standard support: "
            f"{offered or 'none found'}); past it, RDS charges for Extended Support\n"
            f"  fix: use one of {offered} (RDS_ENGINE_VERSION, and the same MYSQL_IMAGE locally)"
        )
    found = default_of(rds, engine, major)
    return Version(
        engine_version=found["EngineVersion"],
        major=major,
        family=found.get("DBParameterGroupFamily") or f"{engine}{major}",
        standard_support_ends=supported[major],
    )


def default_of(rds: Any, engine: str, major: str) -> dict[str, Any]:
    """RDS's default version of the line; for Aurora, one that scales to 0 ACU and pauses
    (Aurora User Guide, "Scaling to Zero ACUs with automatic pause and resume": Aurora MySQL
    3.08.0 and later), said by ServerlessV2FeaturesSupport.MinCapacity 0."""
    name = ENGINES[engine]
    with aws_call(f"read {name}'s default {major} version"):
        found = rds.describe_db_engine_versions(
            Engine=engine, EngineVersion=major, DefaultOnly=True
        )["DBEngineVersions"]
    if not found:
        raise click.ClickException(
            f"RDS offers no default {name} {major} version in this region\n"
            f"  fix: aws rds describe-db-engine-versions --engine {engine} shows what it offers"
        )
    if engine == "mysql" or pauses(found[0]):
        return dict(found[0])
    with aws_call(f"read {name}'s {major} versions"):
        pages = rds.get_paginator("describe_db_engine_versions").paginate(
            Engine=engine, EngineVersion=major
        )
        pausing = [v for page in pages for v in page["DBEngineVersions"] if pauses(v)]
    if not pausing:
        raise click.ClickException(
            f"no {name} {major} version here scales to 0 ACU (Aurora MySQL 3.08.0 or later)\n"
            f"  fix: RDS_ENGINE_VERSION=8.4, or aws rds describe-db-engine-versions --engine "
            f"{engine} to see what this region offers"
        )
    return dict(pausing[-1])  # the newest: RDS lists a line's versions oldest first


def pauses(version: dict[str, Any]) -> bool:
    return bool(version.get("ServerlessV2FeaturesSupport", {}).get("MinCapacity") == 0)
