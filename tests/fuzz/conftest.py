"""How many generated requests got each status, per fuzzed endpoint, printed at the end."""

from collections import Counter

import pytest

STATUSES: dict[str, Counter] = {}


@pytest.fixture
def counted():
    """counted(endpoint): the Counter of that endpoint's statuses, printed after the run."""
    return lambda endpoint: STATUSES.setdefault(endpoint, Counter())


def pytest_terminal_summary(terminalreporter):
    for endpoint, statuses in STATUSES.items():
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        terminalreporter.write_line(f"fuzzed {endpoint}: {statuses.total()} requests ({counts})")
