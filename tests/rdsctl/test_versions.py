"""rdsctl/versions.py: a line in standard support today, resolved to RDS's default minor; for
Aurora MySQL, a version that scales to 0 ACU (Stubber, validated against botocore's model:
moto answers neither call)."""

import click
import pytest
from botocore.stub import Stubber

from rdsctl import versions
from tests.support.canned import MAJOR_VERSIONS, VERSIONS, day


@pytest.fixture
def stubbed_rds(aws_env):
    rds = aws_env.client("rds")
    with Stubber(rds) as stubber:
        yield rds, stubber


def lines(stubber, engine):
    response = {"DBMajorEngineVersions": MAJOR_VERSIONS[engine]}
    stubber.add_response("describe_db_major_engine_versions", response, {"Engine": engine})


def default(stubber, engine, major):
    expected = {"Engine": engine, "EngineVersion": major, "DefaultOnly": True}
    response = {"DBEngineVersions": VERSIONS[engine, major][:1]}
    stubber.add_response("describe_db_engine_versions", response, expected)


def test_a_line_in_standard_support_resolves_to_its_default_minor(stubbed_rds):
    rds, stubber = stubbed_rds
    lines(stubber, "mysql")
    default(stubber, "mysql", "8.4")
    version = versions.resolve(rds, "8.4", today=day("2026-11-25"))
    assert (version.engine_version, version.family) == ("8.4.7", "mysql8.4")
    assert version.standard_support_ends == day("2029-07-31")


def test_a_line_in_extended_support_is_refused(stubbed_rds):
    rds, stubber = stubbed_rds
    lines(stubber, "mysql")
    with pytest.raises(click.ClickException) as refused:
        versions.resolve(rds, "8.0", today=day("2026-11-25"))
    assert "RDS for MySQL 8.0 is not in standard support" in refused.value.message
    assert "8.4, 9.7" in refused.value.message and "Extended Support" in refused.value.message


def test_an_aurora_default_that_can_pause_is_taken(stubbed_rds):
    rds, stubber = stubbed_rds
    lines(stubber, "aurora-mysql")
    default(stubber, "aurora-mysql", "8.4")
    version = versions.resolve(rds, "8.4", today=day("2026-12-05"), engine="aurora-mysql")
    assert (version.engine_version, version.family) == ("8.4.7", "aurora-mysql8.4")


def test_an_aurora_default_that_cannot_pause_gives_way_to_the_newest_that_can(stubbed_rds):
    rds, stubber = stubbed_rds
    lines(stubber, "aurora-mysql")
    default(stubber, "aurora-mysql", "8.0")
    every = {"DBEngineVersions": VERSIONS["aurora-mysql", "8.0"]}
    stubber.add_response(
        "describe_db_engine_versions", every, {"Engine": "aurora-mysql", "EngineVersion": "8.0"}
    )
    version = versions.resolve(rds, "8.0", today=day("2026-12-05"), engine="aurora-mysql")
    assert version.engine_version == "8.0.mysql_aurora.3.10.1"  # not 3.04.4 (0.5 ACU at least)


@pytest.mark.parametrize(
    "image, refusal",
    [
        ("mariadb:10.11", "is MariaDB"),
        ("mysql:lts", "names no version line"),
        ("mysql:latest", "names no version line"),
        ("mysql", "names no version line"),
    ],
)
def test_images_that_name_no_mysql_line_are_refused(image, refusal):
    with pytest.raises(click.ClickException, match=refusal):
        versions.major_line(image, None)
    assert versions.major_line("mysql:9.7", None) == "9.7"
    assert versions.major_line("mariadb:10.11", "8.4") == "8.4"
