"""tests/databases.py on a Docker engine that answers but cannot pull (no registry, a proxy, an
air-gapped laptop): one line saying what to set, then SQLite, or a one-line failure."""

import os
import re
import subprocess
import sys

import pytest

from harness.stack import ROOT
from tests.databases import missing_image, require_docker

pytestmark = pytest.mark.harness
require_docker()
UNPULLABLE = "registry.invalid/nobody/mysql:8.4"  # .invalid never resolves


def run_suite(*tests, **env):
    dropped = ("REQUIRE_MYSQL", "REQUIRE_DOCKER", "TEST_DATABASE_URL")
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    command = [sys.executable, "-m", "pytest", "-q", "--color=no", "-p", "no:cacheprovider", *tests]
    return subprocess.run(command, cwd=ROOT, env={**clean, **env}, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_an_image_docker_cannot_provide_falls_back_to_sqlite_in_one_line():
    result = run_suite(
        "tests/test_items_api.py::test_get_returns_the_item",
        "tests/test_mysql.py::test_names_equal_under_the_collation_conflict",
        "tests/test_compose.py",
        MYSQL_IMAGE=UNPULLABLE,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert re.search(r"\b1 passed, \d+ skipped", output), output
    assert f"database server: SQLite, because Docker cannot provide {UNPULLABLE}" in output
    assert "set MYSQL_IMAGE to an image" in output and "TEST_DATABASE_URL" in output
    skips = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 2  # the MySQL-only test, and every Compose test in one line
    assert sum(f"Docker cannot provide {UNPULLABLE}" in line for line in skips) == 1
    assert "Traceback" not in output and "APIError" not in output


def test_require_mysql_turns_it_into_a_one_line_failure():
    result = run_suite(
        "tests/test_items_api.py::test_get_returns_the_item", MYSQL_IMAGE=UNPULLABLE,
        REQUIRE_MYSQL="1",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"REQUIRE_MYSQL=1, but Docker cannot provide {UNPULLABLE}" in output
    assert "Traceback" not in output


def test_a_missing_ryuk_image_names_the_variable():
    # With Ryuk on, testcontainers starts its reaper first, from an image of its own.
    from testcontainers.core.config import testcontainers_config

    if missing_image(testcontainers_config.ryuk_image) is None:
        pytest.skip("Docker can provide Ryuk's image here")
    result = run_suite(
        "tests/test_items_api.py::test_get_returns_the_item", TESTCONTAINERS_RYUK_DISABLED="false"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "TESTCONTAINERS_RYUK_DISABLED=true" in output
    assert "Traceback" not in output
