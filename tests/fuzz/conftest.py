"""Prints how many generated requests got each status, per fuzzed endpoint."""

from tests.fuzz.test_fuzz import STATUSES


def pytest_terminal_summary(terminalreporter):
    for endpoint, statuses in STATUSES.items():
        counts = ", ".join(f"{status}: {n}" for status, n in sorted(statuses.items()))
        terminalreporter.write_line(f"fuzzed {endpoint}: {statuses.total()} requests ({counts})")
