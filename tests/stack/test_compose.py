"""The Compose stack end to end: build, start, use over HTTP, restart parts, tear down.

Skips when no Docker engine answers or its base images cannot be had; REQUIRE_DOCKER=1 turns
that skip into a failure.
"""

import json
import subprocess

import pymysql
import pytest
import requests

from harness.stack import Stack


@pytest.fixture(scope="module")
def stack():
    stack = Stack("e2e")
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def test_stack_is_ready_and_serves_the_api(stack):
    assert requests.get(stack.url + "/readyz", timeout=5).json() == {"status": "ok"}
    created = requests.post(stack.url + "/api/items", json={"name": "e2e 🍰"}, timeout=5)
    assert created.status_code == 201
    item = requests.get(stack.url + created.headers["Location"], timeout=5).json()
    assert item["name"] == "e2e 🍰"
    assert (
        requests.post(stack.url + "/api/items", json={"name": "e2e 🍰"}, timeout=5).status_code
        == 409
    )


def test_requests_leave_no_transaction_open(stack):
    # No ROLLBACK is sent when the server says no transaction is open (app/engine.py): prove
    # that every kind of request, the refused ones too, leaves none open.
    statuses = set()
    for n in range(20):
        statuses.add(requests.get(stack.url + "/api/items", timeout=5).status_code)
        statuses.add(requests.get(stack.url + f"/api/items/{n}", timeout=5).status_code)
        for name in (f"trx {n}", "TRX 0"):  # the second a 409 after the first round
            created = requests.post(stack.url + "/api/items", json={"name": name}, timeout=5)
            statuses.add(created.status_code)
    assert statuses == {200, 201, 404, 409}, statuses
    open_trx = stack.mysql_root(
        "SELECT COUNT(*) FROM information_schema.innodb_trx "
        "WHERE trx_mysql_thread_id <> CONNECTION_ID()"
    )
    assert open_trx.strip() == "0"


def test_migrate_ran_once_and_is_idempotent(stack):
    assert stack.container("migrate")["State"]["ExitCode"] == 0
    again = stack.compose("run", "--rm", "migrate")
    output = again.stdout + again.stderr
    assert "database is up" in output
    assert "Running upgrade" not in output


def test_data_survives_an_app_restart(stack):
    created = requests.post(stack.url + "/api/items", json={"name": "survivor"}, timeout=5)
    stack.compose("restart", "app")
    stack.wait_for("/readyz")
    item = requests.get(stack.url + created.headers["Location"], timeout=5)
    assert item.status_code == 200
    assert item.json()["name"] == "survivor"


def test_app_recovers_from_a_db_restart_by_itself(stack):
    started = stack.container("app")["State"]["StartedAt"]
    stack.compose("restart", "db")  # returns once the db's container runs again
    assert stack.wait_for("/readyz", timeout=120) < 60
    assert requests.get(stack.url + "/api/items", timeout=5).status_code == 200
    app = stack.container("app")
    assert app["State"]["StartedAt"] == started
    assert app["RestartCount"] == 0


def connect(stack, user: str, password: str):
    return pymysql.connect(
        host="127.0.0.1",
        port=int(stack.env["MYSQL_PORT"]),
        user=user,
        password=password,
        database="app",
        connect_timeout=5,
    )


def test_app_user_reads_and_writes_rows_but_cannot_change_the_schema(stack):
    with connect(stack, "app", "app-local-only") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM items")
        for ddl in (
            "CREATE TABLE intruder (id INT)",
            "DROP TABLE items",
            "ALTER TABLE items ADD x INT",
        ):
            with pytest.raises(pymysql.err.OperationalError) as error:
                cursor.execute(ddl)
            assert error.value.args[0] == 1142  # command denied


def test_migrator_has_no_global_privileges_like_rds_master(stack):
    with (
        connect(stack, "migrator", "migrator-local-only") as connection,
        connection.cursor() as cursor,
    ):
        with pytest.raises(pymysql.err.OperationalError) as error:
            cursor.execute("SET GLOBAL max_connections = 500")
        assert error.value.args[0] == 1227  # needs SUPER or SYSTEM_VARIABLES_ADMIN


def test_app_connects_over_tls(stack):
    script = (
        "import sqlalchemy as sa\n"
        "from app import create_app\n"
        "from app.extensions import db\n"
        "with create_app().app_context():\n"
        "    query = sa.text(\"SHOW SESSION STATUS LIKE 'Ssl_version'\")\n"
        "    print(db.session.execute(query).one()[1])"
    )
    result = stack.compose("exec", "-T", "app", "python", "-c", script)
    assert result.stdout.strip().startswith("TLSv1.")


def test_password_is_not_in_labels_or_commands(stack):
    for service in ("app", "migrate", "db"):
        container = stack.container(service)
        visible = json.dumps(
            [
                container["Config"]["Labels"],
                container["Config"]["Cmd"],
                container["Path"],
                container["Args"],
            ]
        )
        for secret in ("app-local-only", "migrator-local-only", "root-local-only"):
            assert secret not in visible, service


def run_in_image(image: str, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "python", image, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_runtime_image_carries_the_service_only(stack):
    # What an operator runs (provisioning, deploy-env, the doctor) is not in the app's image...
    listing = "import os; print('\\n'.join(os.listdir('/srv')))"
    runtime = run_in_image(stack.env["APP_IMAGE"], listing)
    assert runtime.returncode == 0, runtime.stderr
    assert sorted(runtime.stdout.split()) == ["app", "docker", "instance", "migrations"]
    code = "import rdsctl"
    assert "ModuleNotFoundError" in run_in_image(stack.env["APP_IMAGE"], code).stderr
    # ... nor the debugger (make debug's image only).
    assert "ModuleNotFoundError" in run_in_image(stack.env["APP_IMAGE"], "import debugpy").stderr
    calls = ["create_db_instance", "authorize_security_group_ingress", "def deploy_env"]
    grep = (
        "import pathlib; print([str(p) for p in pathlib.Path('/srv').rglob('*.py') "
        f"if any(call in p.read_text() for call in {calls!r})])"
    )
    assert run_in_image(stack.env["APP_IMAGE"], grep).stdout.strip() == "[]"
    # ... but in the migrate image, whose command needs it.
    assert run_in_image(stack.env["MIGRATE_IMAGE"], code).returncode == 0


def test_seed_and_shell_in_the_app_container(stack):
    # What make seed and make shell run: the items layer and the shell context, in the app.
    seeded = stack.compose("exec", "-T", "app", "flask", "items", "seed", "--count", "3")
    assert "seeded 3 new item(s)" in seeded.stdout
    again = stack.compose("exec", "-T", "app", "flask", "items", "seed", "--count", "3")
    assert "seeded 0 new item(s); 3 were there already" in again.stdout
    script = "print(sorted(i.name for i in session.execute(select(Item)).scalars()"
    script += " if i.name.startswith('sample')))"
    shell = stack.compose("exec", "-T", "app", "flask", "shell", input=script + "\n")
    assert "['sample 1', 'sample 2', 'sample 3']" in shell.stdout, shell.stdout + shell.stderr
