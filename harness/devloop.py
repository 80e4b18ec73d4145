"""The development shape on a copy of the project, and timed edits to it: for the dev-loop
test and `make bench-devloop`."""

import shutil
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import requests

from harness.stack import ROOT, Stack, eventually

HEALTH = Path("app") / "health.py"
ORIGINAL = 'return {"status": "ok"}'
SKIPPED = (
    ".git",
    ".venv",
    "instance",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".env",
    ".env.rds*",
    ".certs",
    ".ruff_cache",
    ".mypy_cache",
)


def dev_stack(workdir: Path) -> Stack:
    """A copy of the project in `workdir`, and its stack in the development shape."""
    copy = workdir / "project"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*SKIPPED))
    for path in [copy, *copy.rglob("*")]:  # readable by the container's app user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return Stack("dev", files=("docker-compose.yml", "docker-compose.override.yml"), root=copy)


def edit_and_wait(
    stack: Stack, replacement: str, served: Callable[[requests.Response], bool], timeout=30.0
) -> float:
    """Replace /healthz's answer in the copy with `replacement`, then poll /healthz until
    `served(response)`; return the seconds from the write to that response."""
    health = stack.root / HEALTH
    health.write_text((ROOT / HEALTH).read_text().replace(ORIGINAL, replacement))
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if served(requests.get(stack.url + "/healthz", timeout=2)):
                return time.monotonic() - start
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{replacement!r} not served within {timeout}s:\n{stack.logs()[-3000:]}")


# gunicorn's reloader notes a module's mtime at its first poll (every second) after the worker
# imported it: an edit within that second of a worker's start is not seen until the next edit.
# A developer's edits are seconds apart; these are made once every worker that served the last
# edit's code has been replaced and has polled (settle()), never after a fixed time.


def workers(stack: Stack) -> dict[int, int]:
    """The app container's gunicorn workers: PID -> seconds since it started."""
    container = stack.compose("ps", "-q", "app").stdout.strip()
    rows = subprocess.run(
        ["docker", "top", container, "-eo", "pid,ppid,etimes,args"], capture_output=True, text=True
    ).stdout.splitlines()[1:]
    gunicorn = [row.split(None, 3) for row in rows if "gunicorn" in row]
    parents = {int(ppid) for _, ppid, _, _ in gunicorn}
    return {int(pid): int(age) for pid, _, age, _ in gunicorn if int(pid) not in parents}


def settle(stack: Stack, replaced: Iterable[int] = (), timeout: float = 60) -> set[int]:
    """Wait until no worker in `replaced` is left and every worker has run 2 s (its reloader
    has polled once); the workers' PIDs."""
    gone = set(replaced)
    found: dict[int, int] = {}

    def settled() -> bool:
        found.clear()
        found.update(workers(stack))
        return bool(found) and not gone & set(found) and min(found.values()) >= 2

    if not eventually(settled, timeout, every=0.2):
        raise AssertionError(f"workers did not settle within {timeout}s: {found}")
    return set(found)


def timed_edits(stack: Stack, count: int, first: int = 0) -> list[float]:
    """`count` edits, each a new answer from /healthz (numbered from `first`): the seconds
    each took to show, each made once the workers have settled."""
    seconds = []
    pids = settle(stack)
    for n in range(first, first + count):

        def edited(response, n=n):
            return response.status_code == 200 and response.json().get("edit") == n

        seconds.append(edit_and_wait(stack, f'return {{"status": "ok", "edit": {n}}}', edited))
        pids = settle(stack, replaced=pids)
    return seconds
