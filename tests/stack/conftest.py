"""Every test here builds or runs containers: without Docker, or without the images a stack is
built on, each skips with one line (REQUIRE_DOCKER=1 makes that a failure of the run)."""

import pytest

from harness.stack import base_images
from tests.support.databases import require_docker


@pytest.fixture(scope="session")
def stack_images():
    require_docker(*base_images())


@pytest.fixture(autouse=True)
def _needs_docker(stack_images):
    pass
