"""`make bench`: the app against the floor and against what users would otherwise run, at
loopback and on links like RDS's.

Starts the Compose stack on free ports with its replica (docker/compose.replica.yml), one
latency proxy per link (bench/latency.py: 1, 2 and 5 ms added per round trip, in user space),
and every server to compare beside them, each reaching MySQL directly (loopback) or through a
proxy: the same path for every server on a link; ours also with its reads on the replica, at
loopback and +1 ms. Seeds 1,000 items, loads each server with wrk from 127.0.0.1, and writes
docs/benchmarks.md (bench/report.py). Every row is measured in this one run, round robin; each
number is the median of BENCH_RUNS runs of BENCH_SECONDS seconds. BENCH_BASELINE=<git ref>
adds the app of that commit beside ours at +1 ms: a point read and a create.
"""

import os
import statistics
import subprocess
import time
from collections.abc import Callable

import requests

from bench.report import Measured, write_report
from bench.servers import ITEMS, Proxy, Server, baseline_image, peak_memory_mb, raw_qps, warm_up
from bench.servers import wrk as wrk_run
from harness.stack import Stack, eventually

RUNS = int(os.environ.get("BENCH_RUNS", 3))
SECONDS = int(os.environ.get("BENCH_SECONDS", 5))
BASELINE = os.environ.get("BENCH_BASELINE", "")
LINKS = [0, 1, 2, 5]  # ms added per round trip: loopback, same region, another zone, busy
KINDS = [
    ("point read", "GET", "/api/items/{id}"),
    ("list page", "GET", "/api/items?per_page=20"),
    ("create", "POST", "/api/items"),
    ("update", "PATCH", "/api/items/{id}"),
    ("delete", "DELETE", "/api/items/{id}"),
]
SYNC = {"GUNICORN_THREADS": "1"}
GUNICORN = ["gunicorn", "--config", "docker/gunicorn.conf.py"]
OURS = [*GUNICORN, "app:create_app()"]


def wrk(url: str, connections: int, script: str | None = None, *args: str) -> dict:
    return wrk_run(url, connections, SECONDS, script, *args)


def seed(stack: Stack) -> None:
    stack.mysql_root(
        "INSERT INTO app.items (name, name_key, description, created_at, updated_at) "
        "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 1000) "
        "SELECT CONCAT('item ', n), CONCAT('item ', n), REPEAT('x', 100), UTC_TIMESTAMP(6), "
        "UTC_TIMESTAMP(6) FROM seq"  # name_key: these names are their own folded keys
    )
    # Every server keeps a pool open at once (up to workers x threads connections each), more
    # than the 60 rds.cnf allows, as a db.t4g.micro would: this run's servers get more.
    for server in ("db", "db-replica"):
        stack.mysql_root("SET GLOBAL max_connections = 1000", server)
    if not eventually(lambda: stack.mysql_root(COUNT, "db-replica").strip() == str(ITEMS), 60):
        raise SystemExit("the replica did not receive the seeded items")


def statements_per_request(
    stack: Stack, url: str, method: str, path: str, created: list[int]
) -> float:
    """Statements per request: the server's Com_* counters over 100 sequential requests, less
    what reading them costs. Pings are not statements (Com_admin_commands, left out: the db's
    healthcheck pings every 2 s). POST appends the ids it made; PATCH and DELETE use them."""

    def statements() -> int:
        rows = stack.mysql_root("SHOW GLOBAL STATUS LIKE 'Com\\_%'").strip().splitlines()
        counts = dict(row.split("\t") for row in rows)
        skipped = ("Com_admin_commands", "Com_show_status")
        return sum(int(value) for name, value in counts.items() if name not in skipped)

    with requests.Session() as session:
        overhead = -statements() + statements()  # the mysql client's own first query
        before = statements()
        for i in range(100):
            item_id = created[i] if method in ("PATCH", "DELETE") else i % ITEMS + 1
            body = {
                "POST": {"name": f"rt {i} {time.monotonic_ns()}"},
                "PATCH": {"description": f"patched {i}"},
            }.get(method)
            response = session.request(method, url + path.format(id=item_id), json=body)
            assert response.status_code < 300, (method, path, response.status_code)
            if method == "POST":
                created.append(response.json()["id"])
        return (statements() - before - overhead) / 100


COUNT = "SELECT COUNT(*) FROM app.items"


def workers_of(stack: Stack) -> int:
    code = "import runpy; print(runpy.run_path('docker/gunicorn.conf.py')['workers'])"
    command = ["docker", "exec", stack.container("app")["Id"], "python", "-c", code]
    return int(
        subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()[-1]
    )


def start_servers(
    stack: Stack, proxies: dict[int, Proxy], replica: Proxy, workers: int
) -> dict[str, Server]:
    """On every link: ours as shipped, with sync workers, and gunicorn's defaults; at loopback
    the floor (bare Flask) and the development server; ours reading from the replica at
    loopback and +1 ms (`replica`: its proxy); the baseline's app at +1 ms."""

    def env(delay: int) -> dict:
        host = proxies[delay].name if delay else "db"
        return {
            "APP_ENV": "development",
            "DB_HOST": host,
            "DB_NAME": "app",
            "DB_USER": "app",
            "DB_PASSWORD": "app-local-only",
            "DB_TLS": "required",
            "LOG_LEVEL": "WARNING",
            "DB_IDLE_CLOSE": "0",  # a server waits minutes for its next row: pools kept open
        }

    defaults = ["gunicorn", "-b", "0.0.0.0:8000", "-w", str(workers), "bench.defaults_app:app"]
    variants = {"ours": ({}, OURS), "sync": (SYNC, OURS), "defaults": ({}, defaults)}
    servers = {}
    for delay in LINKS:
        for name, (extra, command) in variants.items():
            servers[f"{name}@{delay}"] = Server(
                stack, f"{name}{delay}", command, {**env(delay), **extra}
            )
    servers["floor"] = Server(stack, "floor", [*GUNICORN, "bench.floor_app:app"], env(0))
    dev = ["flask", "run", "--host", "0.0.0.0", "--port", "8000"]
    servers["dev"] = Server(stack, "devserver", dev, env(0))
    for delay, reader in ((0, "db-replica"), (1, replica.name)):
        reads = {**env(delay), "DB_READER_HOST": reader}
        servers[f"replica@{delay}"] = Server(stack, f"replica{delay}", OURS, reads)
    if BASELINE:
        servers["baseline@1"] = Server(stack, "baseline1", OURS, env(1), baseline_image(BASELINE))
    return servers


def plan(servers: dict[str, Server], ports: dict[int, int], workers: int) -> dict[str, Callable]:
    """Every row, keyed: each is measured once per run."""

    def tag() -> str:
        return str(time.monotonic_ns())

    rows: dict[str, Callable] = {
        "floor": lambda: wrk(servers["floor"].url + "/api/items/1", 16),
        "dev": lambda: wrk(servers["dev"].url, 16, "point.lua"),
        "list": lambda: wrk(servers["ours@0"].url + "/api/items?per_page=20", 16),
        "create@0": lambda: wrk(servers["ours@0"].url, 16, "post.lua", tag()),
        "create@1": lambda: wrk(servers["ours@1"].url, 16, "post.lua", tag()),
        "replica@0": lambda: wrk(servers["replica@0"].url, 16, "point.lua"),
        "replica@1": lambda: wrk(servers["replica@1"].url, 16, "point.lua"),
    }
    if BASELINE:
        rows["baseline@1"] = lambda: wrk(servers["baseline@1"].url, 16, "point.lua")
        rows["baseline create@1"] = lambda: wrk(servers["baseline@1"].url, 16, "post.lua", tag())
    for delay in LINKS:
        rows[f"raw_1@{delay}"] = lambda d=delay: raw_qps(ports[d], 1, SECONDS)
        rows[f"raw_n@{delay}"] = lambda d=delay: raw_qps(ports[d], workers, SECONDS)
        for name in ("ours", "sync", "defaults"):
            url = servers[f"{name}@{delay}"].url
            rows[f"{name}@{delay}"] = lambda u=url: wrk(u, 16, "point.lua")
            # 4 connections, fewer than the workers: where the CPU is not the limit, waiting is
            rows[f"{name}@{delay}c4"] = lambda u=url: wrk(u, 4, "point.lua")
    return rows


def round_robin(rows: dict[str, Callable]) -> dict[str, list[dict]]:
    """Each run measures every row, so the machine's swings land on all rows alike."""
    runs: dict[str, list[dict]] = {key: [] for key in rows}
    for run in range(RUNS):
        print(f"run {run + 1} of {RUNS}")
        for key, measure in rows.items():
            runs[key].append(measure())
    return runs


def main() -> None:
    stack = Stack("bench", files=("docker-compose.yml", "docker/compose.replica.yml"))
    started: list = []  # stopped in the end, even when a later one fails to start
    began = time.monotonic()
    try:
        stack.up()
        seed(stack)
        workers = workers_of(stack)
        proxies = {delay: Proxy(stack, delay) for delay in LINKS[1:]}
        replica = Proxy(stack, 1, "db-replica")
        started += [*proxies.values(), replica]
        servers = start_servers(stack, proxies, replica, workers)
        started += servers.values()
        # Round trips first, on ours at loopback (no reader: every statement on db's counters),
        # before any load adds rows; after 16 connections at once, every worker thread's
        # connection exists already.
        ours = servers["ours@0"].url
        warm_up(ours + "/api/items/1", connections=16)
        created: list[int] = []
        round_trips = {
            kind: statements_per_request(stack, ours, method, path, created)
            for kind, method, path in KINDS
        }
        for server in servers.values():
            warm_up(server.url + "/api/items/1")
        ports = {d: proxies[d].port if d else int(stack.env["MYSQL_PORT"]) for d in LINKS}
        runs = round_robin(plan(servers, ports, workers))
        write_report(
            Measured(
                runs=runs,
                rows={
                    key: {k: statistics.median(r[k] for r in results) for k in results[0]}
                    for key, results in runs.items()
                },
                links=LINKS,
                seconds=SECONDS,
                workers=workers,
                round_trips=round_trips,
                peak_mb=peak_memory_mb(servers["ours@0"].name),
                stack=stack,
                baseline=BASELINE,
            )
        )
        print(f"wrote docs/benchmarks.md in {time.monotonic() - began:.0f}s")
    finally:
        for thing in started:
            thing.stop()
        stack.down()


if __name__ == "__main__":
    main()
