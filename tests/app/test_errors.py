"""app/errors.py: every error a JSON body with its status, the headers HTTP asks for, no
body type where there is no body."""

import pytest

from tests.support.items import create


def test_unknown_route_and_method_are_json(client):
    assert client.get("/nope").get_json()["error"]["status"] == 404
    response = client.put("/api/items/1", json={})
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert set(response.headers["Allow"].split(", ")) == {
        "GET",
        "HEAD",
        "PATCH",
        "DELETE",
        "OPTIONS",
    }


def test_answers_without_a_body_have_no_content_type(client):
    item = create(client).get_json()
    deleted = client.delete(f"/api/items/{item['id']}")
    assert deleted.status_code == 204 and "Content-Type" not in deleted.headers
    options = client.options("/api/items")
    assert options.data == b"" and "Content-Type" not in options.headers
    assert "POST" in options.headers["Allow"]


def test_oversized_body_names_the_limit(client):
    response = client.post("/api/items", data="x" * 70_000, content_type="application/json")
    assert response.status_code == 413
    assert "65536 bytes" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("method", ["GET", "OPTIONS", "DELETE", "POST"])
def test_an_unknown_path_is_a_json_404_whatever_the_method(client, method):
    # OPTIONS once lost its Content-Type here (the fuzz test found it).
    response = client.open("/api/items/", method=method)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
