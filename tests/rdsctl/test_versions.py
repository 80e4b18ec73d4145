"""rdsctl/versions.py: a line in standard support today, resolved to RDS's default minor."""

import click
import pytest
from botocore.stub import Stubber

from rdsctl import versions
from tests.support.canned import DEFAULTS, MAJOR_VERSIONS, day


@pytest.fixture
def stubbed_rds(aws_env):
    rds = aws_env.client("rds")
    with Stubber(rds) as stubber:
        yield rds, stubber


def test_a_line_in_standard_support_resolves_to_its_default_minor(stubbed_rds):
    rds, stubber = stubbed_rds
    stubber.add_response("describe_db_major_engine_versions", MAJOR_VERSIONS, {"Engine": "mysql"})
    expected = {"Engine": "mysql", "EngineVersion": "8.4", "DefaultOnly": True}
    stubber.add_response("describe_db_engine_versions", DEFAULTS["8.4"], expected)
    version = versions.resolve(rds, "8.4", today=day("2026-11-25"))
    assert (version.engine_version, version.family) == ("8.4.7", "mysql8.4")
    assert version.standard_support_ends == day("2029-07-31")


def test_a_line_in_extended_support_is_refused(stubbed_rds):
    rds, stubber = stubbed_rds
    stubber.add_response("describe_db_major_engine_versions", MAJOR_VERSIONS, {"Engine": "mysql"})
    with pytest.raises(click.ClickException) as refused:
        versions.resolve(rds, "8.0", today=day("2026-11-25"))
    assert "MySQL 8.0 is not in RDS standard support" in refused.value.message
    assert "8.4, 9.7" in refused.value.message and "Extended Support" in refused.value.message


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
