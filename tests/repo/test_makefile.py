"""The Makefile's choices of Compose files, read with make -n (nothing runs)."""

import subprocess

from harness.stack import ROOT


def compose_line(*args: str) -> str:
    out = subprocess.run(
        ["make", "-n", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return next(line for line in out.splitlines() if " up --build" in line)


def test_replica_adds_its_file_to_the_development_shape():
    line = compose_line("up", "REPLICA=1", "RDS_ENV_FILE=/nonexistent")
    assert "-f docker-compose.override.yml -f docker/compose.replica.yml" in line


def test_without_replica_make_up_is_compose_alone():
    line = compose_line("up", "RDS_ENV_FILE=/nonexistent")
    assert "compose.replica" not in line and " -f " not in line
