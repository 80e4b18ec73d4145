"""The replica profile (make up REPLICA=1: docker/compose.replica.yml) end to end, the replica
held two seconds behind on purpose (SOURCE_DELAY=2): a client reads what it has just written;
another client's reads are the replica's (its server's counters say so); with the replica
stopped, reads go to the writer and nothing answers 500."""

import pytest
import requests

from harness.stack import Stack, eventually


@pytest.fixture(scope="module")
def stack():
    stack = Stack("replica", files=("docker-compose.yml", "docker/compose.replica.yml"))
    stack.env["SOURCE_DELAY"] = "2"
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def selects(stack, service: str) -> int:
    return int(stack.mysql_root("SHOW GLOBAL STATUS LIKE 'Com_select'", service).split()[1])


def names(response) -> list[str]:
    return [item["name"] for item in response.json()["items"]]


def test_a_client_reads_what_it_has_just_written(stack):
    browser = requests.Session()  # keeps its session cookie
    created = browser.post(stack.url + "/api/items", json={"name": "mine"}, timeout=5)
    assert created.status_code == 201
    assert "mine" in names(browser.get(stack.url + "/api/items?per_page=100", timeout=5))
    # A client without cookies finds it too: a point read the replica lacks asks the writer.
    item = requests.get(stack.url + created.headers["Location"], timeout=5)
    assert item.status_code == 200 and item.json()["name"] == "mine"


def test_another_clients_reads_are_the_replicas(stack):
    requests.post(stack.url + "/api/items", json={"name": "seen later"}, timeout=5)
    listed = stack.url + "/api/items?per_page=100"
    assert "seen later" not in names(requests.get(listed, timeout=5))  # 2 s behind
    assert eventually(lambda: "seen later" in names(requests.get(listed, timeout=5)), 20)
    before = selects(stack, "db-replica"), selects(stack, "db")
    for _ in range(20):
        assert requests.get(listed, timeout=5).status_code == 200
    replica, writer = selects(stack, "db-replica") - before[0], selects(stack, "db") - before[1]
    # rows and count for each request; the mysql client that reads a counter sends one SELECT
    # (@@version_comment) itself
    assert replica >= 40 and writer <= 1, (replica, writer)


def test_with_the_replica_stopped_reads_go_to_the_writer_and_nothing_answers_500(stack):
    item = requests.post(stack.url + "/api/items", json={"name": "kept"}, timeout=5).json()
    stack.compose("stop", "db-replica")
    try:
        statuses = []
        for n in range(20):
            for path in ("/api/items", f"/api/items/{item['id']}"):
                statuses.append(requests.get(stack.url + path, timeout=15).status_code)
            created = requests.post(stack.url + "/api/items", json={"name": f"w{n}"}, timeout=15)
            statuses.append(created.status_code)
        assert set(statuses) == {200, 201}, statuses
        reader = requests.get(stack.url + "/readyz", timeout=5).json()["reader"]
        assert reader["status"] == "down"
    finally:
        stack.compose("start", "db-replica")
    assert eventually(
        lambda: requests.get(stack.url + "/readyz", timeout=5).json()["reader"]["status"] == "ok",
        timeout=60,
    )
