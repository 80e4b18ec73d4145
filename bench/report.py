"""docs/benchmarks.md from bench/report.md: each placeholder filled by a small function of what
bench/run.py measured. The development loop's section (bench/devloop.py) is kept."""

import os
import platform
import re
import statistics
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from string import Template

from harness.stack import ROOT, Stack, base_images

DEVLOOP = "## The development loop"
NAMES = {
    "ours": "ours as shipped: gthread, 4 threads per worker, access log on",
    "sync": "ours with sync workers (GUNICORN_THREADS=1), access log on",
    "defaults": "gunicorn defaults, Flask-SQLAlchemy's engine defaults",
}
Spread = tuple[float, float, float]  # median, lowest, highest of the runs


@dataclass
class Measured:
    runs: dict[str, list[dict]]  # each row's results, one per run
    rows: dict[str, dict]  # each row's medians
    links: list[int]
    seconds: int
    workers: int
    round_trips: dict[str, float]
    peak_mb: float
    stack: Stack
    baseline: str

    def per_run(self, value) -> Spread:
        """value(one run's rows) in each run: median, lowest, highest."""
        count = len(next(iter(self.runs.values())))
        values = [
            value({key: results[i] for key, results in self.runs.items()}) for i in range(count)
        ]
        return statistics.median(values), min(values), max(values)

    def ratio(self, a: str, b: str) -> Spread:
        return self.per_run(lambda run: run[a]["rps"] / run[b]["rps"])


def link_name(delay: int) -> str:
    return f"+{delay} ms" if delay else "loopback"


def floor_at(rows: dict, delay: int) -> float:
    """One round trip plus one bare request, on that link."""
    return 1 / (1 / rows["floor"]["rps"] + 1 / rows[f"raw_n@{delay}"]["qps"])


def of_floor(m: Measured, delay: int) -> Spread:
    return m.per_run(lambda run: run[f"ours@{delay}"]["rps"] / floor_at(run, delay))


def rate(m: Measured, key: str) -> str:
    return f"{m.rows[key]['rps']:.0f} ({m.rows[key]['p50']:.1f})"


def table(m: Measured, suffix: str, extra_rows: bool) -> str:
    head = f"| point read, {'4' if suffix else '16'} connections | "
    lines = [
        head + " | ".join(link_name(d) for d in m.links) + " |",
        "| --- |" + " ---: |" * len(m.links),
    ]
    for name, label in NAMES.items():
        lines.append(
            f"| {label} | " + " | ".join(rate(m, f"{name}@{d}{suffix}") for d in m.links) + " |"
        )
    if extra_rows:
        lines.append(
            "| ours, reads on the replica (DB_READER_HOST, reached like the db) | "
            + " | ".join(rate(m, key) if (key := f"replica@{d}") in m.rows else "" for d in m.links)
            + " |"
        )
        raw = [m.rows[f"raw_1@{d}"] for d in m.links]
        lines.append(
            "| raw PyMySQL point selects, 1 process: queries/s (ms per round trip) | "
            + " | ".join(f"{r['qps']:.0f} ({r['rtt_ms']:.2f})" for r in raw)
            + " |"
        )
        lines.append(
            f"| raw PyMySQL point selects, {m.workers} processes: queries/s | "
            + " | ".join(f"{m.rows[f'raw_n@{d}']['qps']:.0f}" for d in m.links)
            + " |"
        )
        lines.append(
            "| floor: 1 / (1/bare Flask + 1/raw selects) | "
            + " | ".join(f"{floor_at(m.rows, d):.0f}" for d in m.links)
            + " |"
        )
    return "\n".join(lines)


def replica_ratio(m: Measured) -> str:
    read = [d for d in m.links if f"replica@{d}" in m.rows]
    ratios = [(d, m.ratio(f"replica@{d}", f"ours@{d}")) for d in read]
    return "; ".join(f"{link_name(d)} {r[0]:.2f}x (runs {r[1]:.2f}-{r[2]:.2f}x)" for d, r in ratios)


def shown(value: float, how: str) -> str:
    return f"{value:.0%}" if how.endswith("%") else f"{value:.2f}" + ("x" if how == "ge" else "")


def latency_bound_link(m: Measured) -> int | None:
    """The smallest added latency at which gunicorn with its defaults, at 4 connections, is
    held back by waiting, not CPU: its rate falls below 80% of its own rate at loopback."""
    loopback = m.rows["defaults@0c4"]["rps"]
    return next(
        (d for d in m.links if d and m.rows[f"defaults@{d}c4"]["rps"] < 0.8 * loopback), None
    )


def targets(m: Measured) -> str:
    rows = [
        ("round trips per point read: 1.00", (m.round_trips["point read"],) * 3, "le", 1.0),
        ("round trips per list page: 2.00 at most", (m.round_trips["list page"],) * 3, "le", 2.0),
    ]
    rows += [
        (f"at least 70% of the floor, {link_name(d)}", of_floor(m, d), "ge%", 0.7) for d in m.links
    ]
    bound = latency_bound_link(m)
    if bound is not None:
        rows.append(
            (
                f"at least 2x gunicorn defaults at +{bound} ms (the smallest added latency "
                "where they are bound by it)",
                m.ratio(f"ours@{bound}", f"defaults@{bound}"),
                "ge",
                2.0,
            )
        )
    rows.append(
        ("loopback: ahead of gunicorn defaults", m.ratio("ours@0", "defaults@0"), "ge", 1.0)
    )
    lines = ["| target | measured: median of runs (range) | |", "| --- | ---: | --- |"]
    for name, (mid, low, high), how, goal in rows:
        met = mid <= goal + 1e-9 if how.startswith("le") else mid >= goal
        spread = "" if low == high else f" ({shown(low, how)}-{shown(high, how)})"
        lines.append(f"| {name} | {shown(mid, how)}{spread} | {'met' if met else 'NOT met'} |")
    return "\n".join(lines)


def floor_proposal(m: Measured) -> tuple[str, str]:
    floors = {d: of_floor(m, d) for d in m.links}
    met = ", ".join(link_name(d) for d in m.links if floors[d][0] >= 0.7) or "no link"
    lowest = min(low for _, low, _ in floors.values())
    if lowest >= 0.7:
        return met, "Every run met it."
    proposed = int(lowest * 20) / 20  # rounded down to 5%
    return met, (
        f"Proposed for this machine kind: at least {proposed:.0%} of the floor at every "
        "link (the lowest run here, rounded down to 5%), and 70% where the load "
        "generator and the database run on other cores."
    )


def versus(m: Measured) -> str:
    bound = latency_bound_link(m)
    if bound is None:
        return (
            "Gunicorn's defaults were not bound by latency at any link here (4 connections "
            "stayed over 80% of their loopback rate), so the 2x target had no link."
        )
    mid, low, high = m.ratio(f"ours@{bound}", f"defaults@{bound}")
    verdict = (
        "Every run met 2x."
        if low >= 2
        else f"Proposed for this machine kind: at least {int(low * 10) / 10:.1f}x (the lowest "
        "run, rounded down)."
        if low >= 1
        else "A run below 1x is slower than gunicorn's defaults: a regression to look into."
    )
    return (
        f"At +{bound} ms, the smallest added latency where gunicorn's defaults are bound by it "
        f"(4 connections: under 80% of their loopback rate), ours served {mid:.2f}x their rate "
        f"(runs {low:.2f}-{high:.2f}x): they pay three round trips per read (the `SELECT`, "
        "the session's `ROLLBACK`, the pool's reset `ROLLBACK`) to our one, but at 16 "
        "connections both queue for the same 2 cores, and the ratio can only reach 2x where "
        f"waiting, not CPU, is most of a request. {verdict}"
    )


def baseline_section(m: Measured) -> str:
    if not m.baseline:
        return ""
    read, create = m.ratio("ours@1", "baseline@1"), m.ratio("create@1", "baseline create@1")
    return (
        f"## Against {m.baseline}\n\nThe app of `{m.baseline}` (`BENCH_BASELINE`, its runtime "
        "image built from that commit), beside ours, both at +1 ms, in the same runs: point "
        f"read {rate(m, 'baseline@1')} against our {rate(m, 'ours@1')}, ours/theirs "
        f"{read[0]:.2f}x (runs {read[1]:.2f}-{read[2]:.2f}x); create "
        f"{rate(m, 'baseline create@1')} against our {rate(m, 'create@1')}, "
        f"{create[0]:.2f}x (runs {create[1]:.2f}-{create[2]:.2f}x)."
    )


def round_trip_table(m: Measured) -> str:
    return "\n".join(
        [
            "| " + " | ".join(m.round_trips) + " |",
            "|" + " ---: |" * len(m.round_trips),
            "| " + " | ".join(f"{v:.2f}" for v in m.round_trips.values()) + " |",
        ]
    )


def gthread_gain(m: Measured, suffix: str) -> str:
    return ", ".join(
        f"{link_name(d)} {m.ratio(f'ours@{d}{suffix}', f'sync@{d}{suffix}')[0]:.2f}x"
        for d in m.links
    )


def output(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def machine() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo if ln.startswith("model name")]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cores = f"{os.cpu_count()} cores ({models[0] if models else '?'})"
    return f"{platform.system()} {platform.machine()}, {cores}, {memory:.0f} GiB"


def wrk_version() -> str:
    """wrk -v prints its version and exits 1."""
    words = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()
    return words[1] if len(words) > 1 else "?"


def versions(stack: Stack) -> str:
    code = (
        "import sys, flask, gunicorn, sqlalchemy; from importlib.metadata import version; "
        "print(sys.version.split()[0], flask.__version__, gunicorn.__version__, "
        "sqlalchemy.__version__, version('PyMySQL'))"
    )
    found = output(["docker", "exec", stack.container("app")["Id"], "python", "-c", code]).split()
    names = ("Python", "Flask", "gunicorn", "SQLAlchemy", "PyMySQL")
    return ", ".join(f"{name} {value}" for name, value in zip(names, found, strict=True))


RDS_CNF = ROOT / "docker" / "mysql" / "conf.d" / "rds.cnf"


def write_report(m: Measured) -> None:
    python_image, mysql_image = base_images()
    floor_met, proposal = floor_proposal(m)
    image_bytes = output(
        ["docker", "image", "inspect", "-f", "{{.Size}}", m.stack.env["APP_IMAGE"]]
    )
    text = Template((ROOT / "bench" / "report.md").read_text()).substitute(
        date=f"{datetime.now(UTC):%Y-%m-%d %H:%M}",
        runs=len(next(iter(m.runs.values()))),
        seconds=m.seconds,
        machine=machine(),
        mysql_version=m.stack.mysql_root("SELECT VERSION()").strip(),
        mysql_image=mysql_image,
        python_image=python_image,
        versions=versions(m.stack),
        wrk_version=wrk_version(),
        workers=m.workers,
        baseline_setting=f" BENCH_BASELINE={m.baseline}" if m.baseline else "",
        table16=table(m, "", True),
        replica_ratio=replica_ratio(m),
        table4=table(m, "c4", False),
        create0=rate(m, "create@0"),
        create1=rate(m, "create@1"),
        list=rate(m, "list"),
        floor=rate(m, "floor"),
        dev=rate(m, "dev"),
        baseline_section=baseline_section(m),
        targets=targets(m),
        round_trips=round_trip_table(m),
        loopback_p50=f"{m.rows['ours@0c4']['p50']:.1f}",
        loopback_rtt=f"{m.rows['raw_1@0']['rtt_ms']:.2f}",
        floor_met=floor_met,
        floor_proposal=proposal,
        versus=versus(m),
        gthread16=gthread_gain(m, ""),
        gthread4=gthread_gain(m, "c4"),
        peak=f"{m.peak_mb:.0f}",
        rds_max_connections=re.search(r"^max-connections = (\d+)", RDS_CNF.read_text(), re.M)[1],
        image_mb=f"{int(image_bytes) / 1e6:.0f}",
    )
    report = ROOT / "docs" / "benchmarks.md"
    kept = ""  # make bench-devloop's section
    if report.exists() and DEVLOOP in report.read_text():
        kept = "\n" + DEVLOOP + report.read_text().split(DEVLOOP)[1]
    report.write_text(text + kept)
    print(text)
