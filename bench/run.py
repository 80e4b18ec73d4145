"""`make bench`: the app against the floor and against what users would otherwise run.

Starts the Compose stack on free ports, seeds 1,000 items, loads each server with wrk from
127.0.0.1, and writes docs/benchmarks.md. Every row is measured in this one run; each number is
the median of BENCH_RUNS runs of BENCH_SECONDS seconds.
"""

import multiprocessing
import os
import platform
import re
import statistics
import subprocess
import time
from datetime import UTC, datetime

import pymysql

from tests.databases import ROOT
from app.config import tls_connect_args
from tests.stack import Stack, free_port, wait_until

RUNS = int(os.environ.get("BENCH_RUNS", 3))
SECONDS = int(os.environ.get("BENCH_SECONDS", 8))
ITEMS = 1000
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url: str, connections: int, script: str | None = None, *args) -> dict:
    """One wrk run: requests/s, p50 and p99 latency in ms, non-2xx count."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", str(ROOT / "bench" / script)]
    out = subprocess.run([*command, url, *(["--", *args] if args else [])],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip

    def latency(percent):
        value, unit = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * UNITS[unit]

    def count(pattern):
        match = re.search(pattern, out)
        return int(match.group(1)) if match else 0

    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": latency(50),
        "p99": latency(99),
        "errors": count(r"Non-2xx or 3xx responses: (\d+)")
        + count(r"Socket errors: .*timeout (\d+)"),
    }


def median_of(measure) -> dict:
    runs = [measure() for _ in range(RUNS)]
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def point_selects(port: int, seconds: float) -> int:
    """Raw PyMySQL: the same point select the API runs, in a loop, over TLS like the app."""
    connection = pymysql.connect(host="127.0.0.1", port=port, user="app", password="app-local-only",
                                 database="app", **tls_connect_args("required", None))  # fmt: skip
    count, deadline = 0, time.monotonic() + seconds
    with connection, connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT id, name, description, created_at, updated_at FROM items WHERE id = %s",
                (count % ITEMS + 1,),
            )
            cursor.fetchall()
            count += 1
    return count


def raw_qps(port: int, processes: int) -> dict:
    def measure():
        with multiprocessing.Pool(processes) as pool:
            counts = pool.starmap(point_selects, [(port, SECONDS)] * processes)
        return {"qps": sum(counts) / SECONDS}

    return median_of(measure)


class Server:
    """A container from the app image on the stack's network, serving on a free local port."""

    def __init__(self, stack: Stack, name: str, command: list[str], env: dict):
        self.port = free_port()
        self.name = f"{stack.env['COMPOSE_PROJECT_NAME']}-{name}"
        network = f"{stack.env['COMPOSE_PROJECT_NAME']}_default"
        env_args = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
        subprocess.run(["docker", "run", "-d", "--rm", "--name", self.name, "--network", network,
                        "-p", f"127.0.0.1:{self.port}:8000", "-v", f"{ROOT / 'bench'}:/srv/bench:ro",
                        *env_args, stack.env["APP_IMAGE"], *command],
                       check=True, capture_output=True)  # fmt: skip
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(self.url + "/api/items/1", timeout=60)

    def stop(self):
        subprocess.run(["docker", "rm", "-f", self.name], capture_output=True)


def peak_memory_mb(container: str) -> float:
    for path in ("/sys/fs/cgroup/memory/memory.max_usage_in_bytes", "/sys/fs/cgroup/memory.peak"):
        result = subprocess.run(
            ["docker", "exec", container, "cat", path], capture_output=True, text=True
        )
        if result.returncode == 0:
            return int(result.stdout) / 2**20
    return float("nan")


def statements_per_request(stack: Stack, url: str, path: str, n: int = 300) -> float:
    import requests

    def questions():
        return int(stack.mysql_root("SHOW GLOBAL STATUS LIKE 'Questions'").split()[1])

    with requests.Session() as session:
        session.get(url + path.replace("{id}", "1"))
        overhead = -questions() + questions()  # what asking costs, to take away
        before = questions()
        for i in range(n):
            session.get(url + path.replace("{id}", str(i % ITEMS + 1)))
        after = questions()
    return (after - before - overhead) / n


def main():
    stack = Stack("bench")
    servers = []
    started = time.monotonic()
    try:
        stack.up()
        stack.mysql_root(
            "INSERT INTO app.items (name, description, created_at, updated_at) "
            "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000) "
            "SELECT CONCAT('item ', n), REPEAT('x', 100), UTC_TIMESTAMP(6), UTC_TIMESTAMP(6) FROM seq"
        )
        app = stack.container("app")
        workers = int(subprocess.run(
            ["docker", "exec", app["Id"], "python", "-c",
             "import runpy; print(runpy.run_path('docker/gunicorn.conf.py')['workers'])"],
            capture_output=True, text=True, check=True).stdout.split()[-1])  # fmt: skip
        env = {"APP_ENV": "development", "DB_HOST": "db", "DB_NAME": "app", "DB_USER": "app",
               "DB_PASSWORD": "app-local-only", "DB_TLS": "required", "LOG_LEVEL": "WARNING"}  # fmt: skip
        rows = {}

        print(f"floor: raw PyMySQL point selects, 1 and {workers} processes")
        rows["raw_1"] = raw_qps(int(stack.env["MYSQL_PORT"]), 1)
        rows["raw_n"] = raw_qps(int(stack.env["MYSQL_PORT"]), workers)
        floor = Server(stack, "floor", ["gunicorn", "--config", "docker/gunicorn.conf.py",
                                        "bench.floor_app:app"], env)  # fmt: skip
        servers.append(floor)
        print("floor: bare Flask under our gunicorn settings")
        rows["floor_16"] = median_of(lambda: wrk(floor.url + "/api/items/1", 16))
        floor.stop()

        print("our app")
        for c in (16, 64):
            rows[f"point_{c}"] = median_of(lambda c=c: wrk(stack.url, c, "point.lua"))
            rows[f"list_{c}"] = median_of(lambda c=c: wrk(stack.url + "/api/items?per_page=20", c))
            rows[f"post_{c}"] = median_of(
                lambda c=c: wrk(stack.url, c, "post.lua", f"{c}-{time.monotonic_ns()}")
            )
        peak = peak_memory_mb(app["Id"])
        per_request = {
            "point": statements_per_request(stack, stack.url, "/api/items/{id}"),
            "list": statements_per_request(stack, stack.url, "/api/items?per_page=20"),
        }

        print("the Flask development server")
        dev = Server(
            stack, "devserver", ["flask", "run", "--host", "0.0.0.0", "--port", "8000"], env
        )
        servers.append(dev)
        for c in (16, 64):
            rows[f"dev_{c}"] = median_of(lambda c=c: wrk(dev.url, c, "point.lua"))
        dev.stop()

        print("gunicorn defaults with Flask-SQLAlchemy's default engine options")
        plain = Server(stack, "defaults", ["gunicorn", "-b", "0.0.0.0:8000", "-w", str(workers),
                                           "bench.defaults_app:app"], env)  # fmt: skip
        servers.append(plain)
        for c in (16, 64):
            rows[f"defaults_{c}"] = median_of(lambda c=c: wrk(plain.url, c, "point.lua"))
        plain.stop()

        image_mb = int(subprocess.run(["docker", "image", "inspect", "-f", "{{.Size}}",
                                       stack.env["APP_IMAGE"]], capture_output=True, text=True,
                                      check=True).stdout) / 1e6  # fmt: skip
        mysql_version = stack.mysql_root("SELECT VERSION()").strip()
        write_report(rows, workers, peak, image_mb, mysql_version, per_request, stack)
        print(f"wrote docs/benchmarks.md in {time.monotonic() - started:.0f}s")
    finally:
        for server in servers:
            server.stop()
        stack.down()


def write_report(rows, workers, peak, image_mb, mysql_version, per_request, stack):
    floor_rps = 1 / (1 / rows["floor_16"]["rps"] + 1 / rows["raw_n"]["qps"])
    point = rows["point_16"]["rps"]

    def line(name, key):
        r = rows[key]
        return f"| {name} | {r['rps']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['errors']:.0f} |"

    versions = subprocess.run(
        ["docker", "exec", stack.container("app")["Id"], "python", "-c",
         "import sys, flask, gunicorn, sqlalchemy, pymysql; "
         "print(sys.version.split()[0], flask.__version__, gunicorn.__version__, "
         "sqlalchemy.__version__, pymysql.__version__)"],
        capture_output=True, text=True, check=True).stdout.split()  # fmt: skip
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[1]
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in open("/proc/cpuinfo")
            if ln.startswith("model name")
        ),
        "?",
    )
    ratio_dev = point / rows["dev_16"]["rps"]
    ratio_defaults = point / rows["defaults_16"]["rps"]
    ratio_floor = point / floor_rps
    verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    text = f"""# Benchmarks

Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Each number is the median of
{RUNS} runs of {SECONDS} s, all rows measured in this one run on the same stack and data
(1,000 items). Load: wrk, 2 threads, from 127.0.0.1, on the same machine as the servers.

- Machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}),
  {os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30:.0f} GiB
- Database: MySQL {mysql_version} (image `{stack.env.get("MYSQL_IMAGE", "mysql:8.4")}`), docker/mysql/conf.d/rds.cnf
- App image: `{stack.env.get("PYTHON_IMAGE", "python:3.12-slim")}` base; Python {versions[0]},
  Flask {versions[1]}, gunicorn {versions[2]}, SQLAlchemy {versions[3]}, PyMySQL {versions[4]}; wrk {wrk_version}
- Our gunicorn settings: {workers} sync workers (2 x CPUs + 1), preloaded, access log on
- Command: `make bench` (BENCH_RUNS={RUNS} BENCH_SECONDS={SECONDS})

## Requests

| server, request, connections | req/s | p50 ms | p99 ms | non-2xx |
| --- | ---: | ---: | ---: | ---: |
{line("floor: bare Flask, our gunicorn, 16", "floor_16")}
{line("ours: GET /api/items/&lt;id&gt;, 16", "point_16")}
{line("ours: GET /api/items/&lt;id&gt;, 64", "point_64")}
{line("ours: GET /api/items?per_page=20, 16", "list_16")}
{line("ours: GET /api/items?per_page=20, 64", "list_64")}
{line("ours: POST /api/items, 16", "post_16")}
{line("ours: POST /api/items, 64", "post_64")}
{line("Flask dev server: GET /api/items/&lt;id&gt;, 16", "dev_16")}
{line("Flask dev server: GET /api/items/&lt;id&gt;, 64", "dev_64")}
{line(f"gunicorn defaults ({workers} workers), FSA engine defaults: GET /api/items/&lt;id&gt;, 16", "defaults_16")}
{line(f"gunicorn defaults ({workers} workers), FSA engine defaults: GET /api/items/&lt;id&gt;, 64", "defaults_64")}

Floor, database side: raw PyMySQL point selects over TLS: {rows["raw_1"]["qps"]:.0f} queries/s in
one process, {rows["raw_n"]["qps"]:.0f} in {workers} processes. The floor for a point read, one
database round trip plus one bare Flask request per request on this machine:
1 / (1/{rows["floor_16"]["rps"]:.0f} + 1/{rows["raw_n"]["qps"]:.0f}) = {floor_rps:.0f} req/s.

## Targets (point read, 16 connections)

| target | ratio | |
| --- | ---: | --- |
| at least 3x the development server | {ratio_dev:.2f}x | {verdict(ratio_dev >= 3)} |
| at least 1.5x gunicorn defaults at equal workers | {ratio_defaults:.2f}x | {verdict(ratio_defaults >= 1.5)} |
| at least 70% of the floor | {ratio_floor:.0%} | {verdict(ratio_floor >= 0.7)} |

## Memory and size

- Peak memory of the app container (cgroup high-water mark, after all our rows): {peak:.0f} MiB
- App image: {image_mb:.0f} MB

## Round trips per request

Statements the server counted (`Questions`) per request, over 300 sequential requests:
point read {per_request["point"]:.2f}, list page {per_request["list"]:.2f}. Pre-ping's COM_PING
is a round trip of its own that `Questions` does not count: one per pool checkout.

What each round trip buys, and why it stays:
- the query itself (a list page adds the `COUNT(*)` that gives `total` and `pages`);
- `ROLLBACK` when the request's session closes: it ends the read transaction, so the next
  request does not read an old REPEATABLE READ snapshot and holds no metadata lock;
- `COM_PING` (pre-ping) at checkout: a connection the server closed (`wait_timeout`, a restart,
  an RDS failover) is replaced before a request uses it, instead of failing that request. The
  fault suite (`tests/test_faults.py`) relies on it.
"""
    (ROOT / "docs").mkdir(exist_ok=True)
    (ROOT / "docs" / "benchmarks.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
