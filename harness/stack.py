"""A Compose stack of this project on free ports, for the end-to-end tests, the fault suite
and the benchmark."""

import json
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def docker_available() -> bool:
    """True when a Docker engine answers."""
    try:
        import docker
    except ImportError:
        return False
    try:
        docker.from_env(timeout=5).ping()
    except (docker.errors.DockerException, requests.RequestException):
        return False
    return True


def base_images() -> tuple[str, str]:
    """The Python and MySQL images a stack is built on: the Dockerfile's FROM, and MYSQL_IMAGE
    or its default in docker-compose.yml (the same as .env.example's)."""
    python = next(
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("FROM ")
    )
    return python, os.environ.get("MYSQL_IMAGE", "mysql:8.4")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """docker compose with its own project name, ports and image tag, and the documented
    defaults of .env.example (whatever a developer's .env says)."""

    def __init__(self, prefix: str, files=("docker-compose.yml",), root=ROOT, **env):
        self.files = files
        self.root = root
        self.env = {
            **os.environ,
            "COMPOSE_PROJECT_NAME": f"{prefix}-{secrets.token_hex(3)}",
            "APP_PORT": str(free_port()),
            "MYSQL_PORT": str(free_port()),
            "MYSQL_REPLICA_PORT": str(free_port()),
            "APP_IMAGE": "flask-rds-starter-app:e2e",
            "MIGRATE_IMAGE": "flask-rds-starter-migrate:e2e",
            **env,
        }
        self.url = f"http://127.0.0.1:{self.env['APP_PORT']}"

    def compose(
        self, *args, check=True, timeout=600, env=None, input=None
    ) -> subprocess.CompletedProcess:
        command = ["docker", "compose", "--env-file", ".env.example"]
        for file in self.files:
            command += ["-f", str(file)]
        result = subprocess.run(
            [*command, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def up(self) -> None:
        self.compose("up", "--build", "--detach", "--wait", timeout=900)

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", check=False)

    def container(self, service: str) -> dict:
        container_id = self.compose("ps", "--all", "-q", service).stdout.strip()
        out = subprocess.run(["docker", "inspect", container_id], capture_output=True, text=True)
        return json.loads(out.stdout)[0]

    def mysql_root(self, sql: str, service: str = "db") -> str:
        """Run SQL in the db container (or another `service`'s) as root; the password stays
        inside the container."""
        script = 'MYSQL_PWD="$MYSQL_ROOT_PASSWORD" mysql -uroot -N -e "$0"'
        return self.compose("exec", "-T", service, "sh", "-c", script, sql).stdout

    def logs(self) -> str:
        result = self.compose("logs", "--no-color")
        return result.stdout + result.stderr

    def wait_for(self, path: str, status: int = 200, timeout: float = 90) -> float:
        return wait_until(self.url + path, status, timeout)


def lifetime(container_id: str) -> tuple[str, int, list[int]]:
    """What a restart changes: the container's start time and restart count, and the PIDs of
    its gunicorn processes (the master and each worker, which the master may replace)."""
    inspect = ["docker", "inspect", "--format", "{{.State.StartedAt}} {{.RestartCount}}"]
    started, restarts = subprocess.run(
        [*inspect, container_id], capture_output=True, text=True, check=True
    ).stdout.split()
    top = subprocess.run(
        ["docker", "top", container_id, "-eo", "pid,args"], capture_output=True, text=True
    ).stdout.splitlines()[1:]
    pids = sorted(int(line.split()[0]) for line in top if "gunicorn" in line)
    return started, int(restarts), pids


def eventually(check: Callable[[], bool], timeout: float, every: float = 0.2) -> bool:
    """Call check() every `every` seconds until it is true or `timeout` seconds have passed;
    its last answer."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
    return True


def wait_until(url: str, status: int = 200, timeout: float = 90) -> float:
    """Poll until GET url answers `status`; return the seconds it took."""
    start = time.monotonic()

    def answers() -> bool:
        try:
            return requests.get(url, timeout=3).status_code == status
        except requests.RequestException:
            return False

    if not eventually(answers, timeout):
        raise AssertionError(f"{url} did not answer {status} within {timeout}s")
    return time.monotonic() - start
