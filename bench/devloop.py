"""`make bench-devloop`: how long the everyday loop takes, written to docs/benchmarks.md.

- Edit to visible: the development stack (docker-compose.override.yml) on a copy of the
  project; BENCH_EDITS edits of /healthz's answer, each timed from the write to the first
  response that shows it (polled every 50 ms).
- `make test` (the inner loop) on MySQL: wall time, with the MySQL image present, and the
  per-test median it prints.
"""

import os
import re
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from harness.devloop import dev_stack, timed_edits
from harness.stack import ROOT

EDITS = int(os.environ.get("BENCH_EDITS", 7))
HEADING = "## The development loop"


def make_test() -> tuple[float, str, str]:
    """Wall seconds of `make test`, its per-test median line, and its last line."""
    start = time.monotonic()
    result = subprocess.run(["make", "--no-print-directory", "test", "PYTEST_ARGS=-q"], cwd=ROOT,
                            capture_output=True, text=True, timeout=1800)  # fmt: skip
    seconds = time.monotonic() - start
    median = re.search(r"per-test median: ([\d.]+) ms over (\d+) tests", result.stdout)
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    return seconds, (median.group(0) if median else "no median printed"), last


def row(what: str, measured: str, target: str, met: bool) -> str:
    return f"| {what} | {measured} | {target} | {'met' if met else 'NOT met'} |"


def main() -> None:
    with tempfile.TemporaryDirectory() as workdir:
        stack = dev_stack(Path(workdir))
        try:
            stack.up()
            timed_edits(stack, 1)  # the first worker boots in the background: not counted
            seconds = timed_edits(stack, EDITS, first=1)
        finally:
            stack.down()
    test_seconds, median_line, last_line = make_test()
    edit_median = statistics.median(seconds)
    edit_row = row(f"edit under app/ to the next response that shows it (median of {EDITS})",
                   f"{edit_median:.2f} s", "2 s", edit_median <= 2)  # fmt: skip
    test_row = row("`make test` wall time, MySQL image present", f"{test_seconds:.0f} s", "30 s",
                   test_seconds <= 30)  # fmt: skip
    section = f"""{HEADING}

Written by `make bench-devloop` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, same machine.

| what | measured | target | |
| --- | ---: | ---: | --- |
{edit_row}
{test_row}

- Each edit: {", ".join(f"{s:.2f}" for s in seconds)} s. The mechanism: app/ bind-mounted
  read-only, gunicorn's reloader in each worker polls the modules it loaded once a second and
  exits on a change; the next worker imports the new code (preload off in development).
- `make test`: {median_line}; its last line: `{last_line}`.
"""
    report = ROOT / "docs" / "benchmarks.md"
    text = report.read_text() if report.exists() else "# Benchmarks\n"
    text = text.split(HEADING)[0].rstrip() + "\n\n" + section
    report.write_text(text)
    print(section)


if __name__ == "__main__":
    main()
