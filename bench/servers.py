"""What make bench runs and loads: servers from the app image beside the stack, latency proxies,
wrk, and raw PyMySQL point selects."""

import multiprocessing
import re
import socket
import subprocess
import tempfile
import time

import pymysql

from app.config import tls_connect_args
from harness.stack import ROOT, Stack, eventually, free_port, wait_until

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
ITEMS = 1000  # seeded before any load


def wrk(url: str, connections: int, seconds: int, script: str | None = None, *args: str) -> dict:
    """One wrk run: requests/s, p50 and p99 latency in ms."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", str(ROOT / "bench" / script)]
    command += [url, *(["--", *args] if args else [])]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def latency(percent: int) -> float:
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p99": latency(99),
    }


def warm_up(url: str, connections: int = 4) -> None:
    subprocess.run(["wrk", "-t1", f"-c{connections}", "-d2s", url], capture_output=True, check=True)


def point_selects(port: int, seconds: float) -> int:
    """Raw PyMySQL: the same point select the API runs, in a loop, over TLS like the app, with
    autocommit (one round trip each, as the app's)."""
    connection = pymysql.connect(
        host="127.0.0.1",
        port=port,
        user="app",
        password="app-local-only",
        database="app",
        autocommit=True,
        **tls_connect_args("required", None),
    )
    count, deadline = 0, time.monotonic() + seconds
    query = "SELECT id, name, description, created_at, updated_at FROM items WHERE id = %s"
    with connection, connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query, (count % ITEMS + 1,))
            cursor.fetchall()
            count += 1
    return count


def raw_qps(port: int, processes: int, seconds: int) -> dict:
    with multiprocessing.Pool(processes) as pool:
        counts = pool.starmap(point_selects, [(port, seconds)] * processes)
    return {"qps": sum(counts) / seconds, "rtt_ms": 1000 * processes * seconds / sum(counts)}


def network(stack: Stack) -> str:
    return f"{stack.env['COMPOSE_PROJECT_NAME']}_default"


class Container:
    """A container from the app image (or `image`) on the stack's network, its `inside` port
    published on a free local port, bench/ mounted."""

    def __init__(
        self, stack: Stack, name: str, inside: int, command: list[str], env=None, image=None
    ):
        self.port = free_port()
        self.name = f"{stack.env['COMPOSE_PROJECT_NAME']}-{name}"
        env_args = [arg for key, value in (env or {}).items() for arg in ("-e", f"{key}={value}")]
        run = ["docker", "run", "-d", "--rm", "--name", self.name, "--network", network(stack)]
        run += ["-p", f"127.0.0.1:{self.port}:{inside}", "-v", f"{ROOT / 'bench'}:/srv/bench:ro"]
        run += [*env_args, image or stack.env["APP_IMAGE"], *command]
        subprocess.run(run, check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)


def greets(port: int) -> bool:
    """Does a MySQL server's greeting come through 127.0.0.1:`port`?"""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
            return bool(connection.recv(1))
    except OSError:
        return False


class Proxy(Container):
    """bench/latency.py: `name`:3306 reaches `target` (the db, or its replica) with `delay` ms
    added per round trip."""

    def __init__(self, stack: Stack, delay: int, target: str = "db"):
        command = ["python", "-m", "bench.latency", "3306", target, "3306", str(delay)]
        super().__init__(stack, f"lat{delay}-{target}", 3306, command)
        if not eventually(lambda: greets(self.port), timeout=30):
            raise SystemExit(f"the latency proxy {self.name} did not pass the db's greeting on")


class Server(Container):
    """gunicorn (or another `command`) serving the app on port 8000."""

    def __init__(self, stack: Stack, name: str, command: list[str], env: dict, image=None):
        super().__init__(stack, name, 8000, command, env, image)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(self.url + "/api/items/1", timeout=60)


def baseline_image(ref: str) -> str:
    """The runtime image of the app at git `ref` (make bench BENCH_BASELINE=ref)."""
    tag = f"flask-rds-starter-app:baseline-{ref.replace('/', '-')[:40]}"
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", ref], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tree], input=archive, check=True)
        subprocess.run(
            ["docker", "build", "--target", "runtime", "--tag", tag, tree],
            capture_output=True,
            check=True,
        )
    return tag


def peak_memory_mb(container: str) -> float:
    for path in ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"):
        result = subprocess.run(
            ["docker", "exec", container, "cat", path], capture_output=True, text=True
        )
        if result.returncode == 0:
            return int(result.stdout) / 2**20
    return float("nan")
