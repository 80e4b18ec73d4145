"""Faults injected for real into the Compose stack: the database restarts under load, idle
connections time out, the database is unreachable at start, a migration fails halfway,
writers race. Requests go only to 127.0.0.1, in loops bounded in count and time.
"""

import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.stack import ROOT, Stack

PASSWORDS = ("app-local-only", "migrator-local-only", "root-local-only")


@pytest.fixture(scope="module")
def stack():
    stack = Stack("faults")
    try:
        stack.up()
        for n in range(20):
            requests.post(stack.url + "/api/items", json={"name": f"seed {n}"}, timeout=5)
        yield stack
    finally:
        stack.down()


class Load:
    """Threads sending GET requests until stopped (at most `limit` seconds), recording each
    answer as (time, status, error code or exception name)."""

    def __init__(self, url: str, threads: int = 4, limit: float = 90):
        self.url, self.limit = url, limit
        self.results = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self):
        session = requests.Session()
        deadline = time.monotonic() + self.limit
        while not self._stop.is_set() and time.monotonic() < deadline:
            start = time.monotonic()
            try:
                response = session.get(self.url + "/api/items?per_page=5", timeout=15)
                code = (
                    response.json().get("error", {}).get("code")
                    if response.status_code != 200
                    else None
                )
                self.results.append((start, response.status_code, code))
            except requests.RequestException as exc:
                self.results.append((start, None, type(exc).__name__))
            time.sleep(0.02)

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def test_database_restart_under_load(stack):
    started = stack.container("app")["State"]["StartedAt"]
    with Load(stack.url) as load:
        time.sleep(2)
        outage_start = time.monotonic()
        stack.compose("stop", "db")
        time.sleep(3)
        stack.compose("start", "db")
        stack.compose("up", "--wait", "db")  # healthy again
        back = time.monotonic()
        time.sleep(12)

    before = [r for r in load.results if r[0] < outage_start]
    during = [r for r in load.results if outage_start <= r[0] < back]
    after_10s = [r for r in load.results if r[0] >= back + 10]
    assert before and all(status == 200 for _, status, _ in before)
    failures = [r for r in during if r[1] != 200]
    assert failures, "the outage should have been seen"
    # Failed requests are 503 JSON naming the cause; never a 500, a hang or a dropped connection.
    assert {(status, code) for _, status, code in failures} == {(503, "database_unavailable")}
    assert after_10s and all(status == 200 for _, status, _ in after_10s)
    first_ok = min(t for t, status, _ in load.results if t >= back and status == 200)
    assert first_ok - back < 10
    app = stack.container("app")
    assert app["State"]["StartedAt"] == started and app["RestartCount"] == 0


def test_idle_connections_past_wait_timeout_are_replaced(stack):
    stack.mysql_root("SET GLOBAL wait_timeout = 2")
    try:
        stack.compose("restart", "app")  # fresh pools, whose sessions get wait_timeout = 2
        stack.wait_for("/readyz")
        warm = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(30)]
        time.sleep(4)  # every pooled connection is now closed by the server
        after = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(30)]
    finally:
        stack.mysql_root("SET GLOBAL wait_timeout = 28800")
    assert set(warm) == {200}
    assert set(after) == {200}


def test_concurrent_creates_of_one_name_give_one_201(stack):
    def create(_):
        return requests.post(
            stack.url + "/api/items", json={"name": "race"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(create, range(20)))
    assert sorted(statuses) == [201] + [409] * 19
    listed = requests.get(stack.url + "/api/items?per_page=100", timeout=5).json()["items"]
    assert [i["name"] for i in listed].count("race") == 1


def test_unreachable_database_at_start_fails_migrate_and_keeps_app_down(tmp_path):
    override = tmp_path / "compose.nodb.yml"  # the stack's own db is fixed in docker-compose.yml
    override.write_text(
        "services:\n  migrate:\n    environment:\n      DB_HOST: db-that-does-not-exist\n"
        "  app:\n    environment:\n      DB_HOST: db-that-does-not-exist\n"
    )
    stack = Stack("nodb", files=("docker-compose.yml", str(override)), MIGRATE_WAIT_TIMEOUT="10")
    try:
        up = stack.compose("up", "--build", "--detach", "--wait", check=False, timeout=600)
        assert up.returncode != 0
        migrate = stack.compose("logs", "--no-color", "migrate").stdout
        assert (
            "waiting for database at mysql+pymysql://migrator:***@db-that-does-not-exist" in migrate
        )
        assert "(attempt 3)" in migrate  # it retried, with backoff
        assert "still unreachable after 10s" in migrate
        assert stack.container("migrate")["State"]["ExitCode"] == 1
        assert stack.container("app")["State"]["StartedAt"].startswith(
            "0001-01-01"
        )  # never started
    finally:
        stack.down()


BAD_REVISION = '''"""half-done

Revision ID: badc0ffee001
Revises: 3b1f6c2d9a10
"""
import sqlalchemy as sa
from alembic import op

revision = "badc0ffee001"
down_revision = "3b1f6c2d9a10"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("items", sa.Column("colour", sa.String(20), nullable=True))
    op.execute("ALTER TABLE items ADD COLUMN broken THIS IS NOT SQL")


def downgrade():
    op.drop_column("items", "colour")
'''


def migrations_with_a_bad_revision(tmp_path):
    """A copy of migrations/ plus a revision that fails after its first statement."""
    migrations = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", migrations, ignore=shutil.ignore_patterns("__pycache__"))
    (migrations / "versions/badc0ffee001_half_done.py").write_text(BAD_REVISION)
    for path in [migrations, *migrations.rglob("*")]:  # readable by the image's app user
        path.chmod(0o755 if path.is_dir() else 0o644)
    return migrations


def test_migration_failing_halfway(stack, tmp_path):
    mount = f"{migrations_with_a_bad_revision(tmp_path)}:/srv/migrations:ro"

    result = stack.compose("run", "--rm", "-v", mount, "migrate", check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Migration badc0ffee001 failed" in output
    assert "THIS IS NOT SQL" in output  # the statement that failed
    assert "recorded at revision 3b1f6c2d9a10" in output
    assert "Traceback" not in output

    # An app with the new code, already running against this database, is not ready.
    readyz = stack.compose(
        "run",
        "--rm",
        "--no-deps",
        "-v",
        mount,
        "app",
        "python",
        "-c",
        "from app import create_app; r = create_app().test_client().get('/readyz'); "
        "print(r.status_code, r.get_json()['reason'])",
    )
    assert readyz.stdout.strip().splitlines()[-1] == "503 pending migrations: badc0ffee001"
    # ... while the running app, whose head the database is at, stays ready.
    assert requests.get(stack.url + "/readyz", timeout=5).status_code == 200
    stack.mysql_root("ALTER TABLE app.items DROP COLUMN colour")  # undo the half-applied DDL


def test_failed_migration_keeps_the_app_down(tmp_path):
    migrations = migrations_with_a_bad_revision(tmp_path)
    override = tmp_path / "compose.badmigration.yml"
    override.write_text(
        f"services:\n  migrate:\n    volumes:\n      - {migrations}:/srv/migrations:ro\n"
    )
    stack = Stack("badmig", files=("docker-compose.yml", str(override)))
    try:
        up = stack.compose("up", "--build", "--detach", "--wait", check=False, timeout=600)
        assert up.returncode != 0
        assert stack.container("migrate")["State"]["ExitCode"] == 1
        assert stack.container("app")["State"]["StartedAt"].startswith("0001-01-01")
    finally:
        stack.down()


def test_passwords_appear_in_no_log_line_or_error_body(stack):
    bodies = [
        requests.post(
            stack.url + "/api/items",
            data="{",
            headers={"Content-Type": "application/json"},
            timeout=5,
        ).text,
        requests.get(stack.url + "/api/items/999999", timeout=5).text,
    ]
    logs = stack.logs()
    for secret in PASSWORDS:
        assert secret not in logs
        assert all(secret not in body for body in bodies)
