"""Faults injected for real into the Compose stack: the database restarts under load, idle
connections time out, the database is unreachable at start, a migration fails halfway,
writers race. Requests go only to 127.0.0.1, in loops bounded in count and time.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from harness.stack import Stack, eventually, lifetime
from tests.support.load import Load
from tests.support.revisions import copy_project, head, write_revision

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


def test_database_restart_under_load(stack):
    """The db stops and starts while requests run: each failure a 503 JSON body naming the
    cause (no password in it), never a 500, a hang or a dropped connection; answers again
    within 10 s of the db being healthy, and all of them 10 s on; no restart of the app's
    container or of any gunicorn process."""
    app = stack.compose("ps", "-q", "app").stdout.strip()
    at_start = lifetime(app)
    with Load(stack.url + "/api/items?per_page=5") as load:
        assert eventually(lambda: len(load.answers) >= 20, timeout=30)
        outage_start = time.monotonic()
        stack.compose("stop", "db")
        assert eventually(lambda: any(not a.ok for a in load.since(outage_start)), timeout=30)
        stack.compose("start", "db")
        stack.compose("up", "--wait", "db")  # healthy again
        back = time.monotonic()
        assert eventually(lambda: len(load.since(back + 10)) >= 20, timeout=60)

    before = [a for a in load.answers if a.start < outage_start]
    assert before and all(a.ok for a in before)
    failures = [a for a in load.since(outage_start) if not a.ok]
    assert [a for a in failures if a.start < back], "the outage should have been seen"
    assert {(a.status, a.code) for a in failures} == {(503, "database_unavailable")}
    assert not [a.body for a in failures for secret in PASSWORDS if secret in a.body]
    assert all(a.ok for a in load.since(back + 10))
    first_ok = min(a.start for a in load.since(back) if a.ok)
    assert first_ok - back < 10
    assert lifetime(app) == at_start and len(at_start[2]) >= 2


def app_connections(stack) -> int:
    sql = "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'"
    return int(stack.mysql_root(sql).strip())


def test_idle_connections_past_wait_timeout_are_replaced(stack):
    stack.mysql_root("SET GLOBAL wait_timeout = 2")
    try:
        stack.compose("restart", "app")  # fresh pools, whose sessions get wait_timeout = 2
        stack.wait_for("/readyz")
        warm = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(30)]
        # every pooled connection is closed by the server once idle for 2 s
        closed = eventually(lambda: app_connections(stack) == 0, timeout=30, every=0.5)
        after = [requests.get(stack.url + "/api/items", timeout=5).status_code for _ in range(30)]
    finally:
        stack.mysql_root("SET GLOBAL wait_timeout = 28800")
    assert set(warm) == {200} and closed
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
        assert migrate.count("waiting for database") == 1  # the reason said once ...
        attempts = re.search(r"still unreachable after 10s \((\d+) attempts\)", migrate)
        assert attempts and int(attempts[1]) >= 3, migrate  # ... and retried, with backoff
        assert stack.container("migrate")["State"]["ExitCode"] == 1
        assert stack.container("app")["State"]["StartedAt"].startswith(
            "0001-01-01"
        )  # never started
    finally:
        stack.down()


def migrations_with_a_bad_revision(tmp_path):
    """A copy of migrations/ plus a revision that fails after its first statement."""
    project = copy_project(tmp_path, parts=("migrations",))
    write_revision(
        project,
        "badc0ffee001",
        'op.add_column("items", sa.Column("colour", sa.String(20), nullable=True))\n'
        'op.execute("ALTER TABLE items ADD COLUMN broken THIS IS NOT SQL")',
        imports="import sqlalchemy as sa",
    )
    migrations = project / "migrations"
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
    assert f"recorded at revision {head()}" in output
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


def test_passwords_appear_in_no_log_line_nor_client_error_body(stack):
    """The logs of every test of this module so far (the outage's included), and the bodies of
    a 400 and a 404; the outage's 503 bodies are scanned where they happen (above)."""
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
