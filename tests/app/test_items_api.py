"""The /api/items resource: every documented status code, and validation of each field."""

import pytest

from app.models import DESCRIPTION_MAX, NAME_MAX
from tests.support.items import create


def test_create_returns_201_with_location_and_utc_timestamps(client):
    response = create(client, "widget", description="A small thing")
    assert response.status_code == 201
    item = response.get_json()
    assert response.headers["Location"] == f"/api/items/{item['id']}"
    assert item["name"] == "widget"
    assert item["description"] == "A small thing"
    assert item["created_at"].endswith("Z")
    assert item["updated_at"].endswith("Z")


def test_description_defaults_to_empty(client):
    assert create(client).get_json()["description"] == ""


def test_get_returns_the_item(client):
    item = create(client).get_json()
    response = client.get(f"/api/items/{item['id']}")
    assert response.status_code == 200
    assert response.get_json() == item


def test_list_is_ordered_and_paginated(client):
    ids = [create(client, f"item {n}").get_json()["id"] for n in range(5)]
    first = client.get("/api/items?per_page=2").get_json()
    assert [i["id"] for i in first["items"]] == ids[:2]
    assert first["total"] == 5
    assert first["pages"] == 3
    second = client.get(first["next"]).get_json()
    assert [i["id"] for i in second["items"]] == ids[2:4]
    last = client.get("/api/items?per_page=2&page=3").get_json()
    assert [i["id"] for i in last["items"]] == ids[4:]
    assert "next" not in last


def test_page_past_the_end_is_empty(client):
    create(client)
    body = client.get("/api/items?page=50").get_json()
    assert body["items"] == []
    assert body["total"] == 1


@pytest.mark.parametrize(
    "query, field",
    [
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
        ("per_page=ten", "per_page"),
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=99999999999999999999", "page"),
        ("page=%C2%B2", "page"),  # "²": a digit to str.isdigit(), not to int()
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(client, query, field):
    response = client.get(f"/api/items?{query}")
    assert response.status_code == 400
    assert field in response.get_json()["error"]["fields"]


def test_partial_update_changes_only_given_fields(client):
    item = create(client, "widget", description="old").get_json()
    response = client.patch(f"/api/items/{item['id']}", json={"description": "new"})
    assert response.status_code == 200
    changed = response.get_json()
    assert changed["name"] == "widget"
    assert changed["description"] == "new"
    assert changed["created_at"] == item["created_at"]
    assert changed["updated_at"] >= item["updated_at"]


def test_rename(client):
    item = create(client, "old name").get_json()
    response = client.patch(f"/api/items/{item['id']}", json={"name": "new name"})
    assert response.get_json()["name"] == "new name"


def test_empty_patch_changes_nothing(client):
    item = create(client).get_json()
    response = client.patch(f"/api/items/{item['id']}", json={})
    assert response.status_code == 200
    assert response.get_json()["name"] == item["name"]


def test_delete_returns_204_then_404(client):
    item = create(client).get_json()
    response = client.delete(f"/api/items/{item['id']}")
    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/api/items/{item['id']}").status_code == 404


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
@pytest.mark.parametrize("item_id", [424242, 2**31, 10**20])
def test_unknown_id_is_404_json(client, method, item_id):
    response = getattr(client, method)(f"/api/items/{item_id}", json={})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_duplicate_name_is_409_and_keeps_the_first(client):
    first = create(client, "unique", description="first").get_json()
    response = create(client, "unique", description="second")
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"name": "already exists"}
    assert client.get(f"/api/items/{first['id']}").get_json()["description"] == "first"
    assert client.get("/api/items").get_json()["total"] == 1


def test_rename_onto_a_taken_name_is_409_and_changes_nothing(client):
    create(client, "taken")
    other = create(client, "other").get_json()
    response = client.patch(f"/api/items/{other['id']}", json={"name": "taken"})
    assert response.status_code == 409
    assert client.get(f"/api/items/{other['id']}").get_json()["name"] == "other"


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({}, "name", "is required"),
        ({"name": ""}, "name", "must not be empty"),
        ({"name": "   "}, "name", "must contain a visible character"),
        ({"name": "\u200b"}, "name", "must contain a visible character"),
        ({"name": " \u200b\t\u2060 "}, "name", "must contain a visible character"),
        ({"name": None}, "name", "must be a string"),
        ({"name": 42}, "name", "must be a string"),
        ({"name": ["a"]}, "name", "must be a string"),
        ({"name": "x" * (NAME_MAX + 1)}, "name", f"must be at most {NAME_MAX} characters"),
        ({"name": "nul\x00byte"}, "name", "must not contain NUL characters"),
        ({"name": "ok", "description": 1}, "description", "must be a string"),
        ({"name": "ok", "description": None}, "description", "must be a string"),
        (
            {"name": "ok", "description": "d" * (DESCRIPTION_MAX + 1)},
            "description",
            f"must be at most {DESCRIPTION_MAX} characters",
        ),
        ({"name": "ok", "colour": "red"}, "colour", "unknown field"),
        ({"name": "ok", "id": 7}, "id", "unknown field"),
    ],
)
def test_invalid_fields_are_422_naming_each_field(client, body, field, message):
    response = client.post("/api/items", json=body)
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"][field] == message
    assert client.get("/api/items").get_json()["total"] == 0


def test_every_bad_field_is_reported_at_once(client):
    response = client.post("/api/items", json={"name": 1, "description": 2, "extra": 3})
    assert set(response.get_json()["error"]["fields"]) == {"name", "description", "extra"}


def test_lone_surrogate_is_422_not_500(client):
    response = client.post(
        "/api/items", data='{"name": "bad \\ud800"}', content_type="application/json"
    )
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"]["name"] == "must be valid Unicode text"


def test_a_field_named_with_a_lone_surrogate_is_422(client):
    body = '{"name": "ok", "bad \\udc00": 1}'
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"body": "must be valid Unicode text"}


def test_limits_are_inclusive(client):
    name = "n" * NAME_MAX
    response = create(client, name, description="d" * DESCRIPTION_MAX)
    assert response.status_code == 201
    assert client.get(response.headers["Location"]).get_json()["name"] == name


def test_patch_validates_fields(client):
    item = create(client).get_json()
    response = client.patch(f"/api/items/{item['id']}", json={"name": "", "bogus": 1})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"name", "bogus"}
    assert client.get(f"/api/items/{item['id']}").get_json()["name"] == item["name"]


def test_names_are_stored_trimmed_and_normalised(client):
    item = create(client, "  Cafe\u0301 \t").get_json()  # "e" + combining acute
    assert item["name"] == "Café"  # NFC, one code point


@pytest.mark.parametrize("other", ["Widget", "WIDGET", " widget ", "wídget"])
def test_names_that_fold_alike_are_one_name_on_every_engine(client, other):
    assert create(client, "widget").status_code == 201
    response = create(client, other)
    assert response.status_code == 409
    assert response.get_json()["error"]["fields"] == {"name": "already exists"}


def test_sql_metacharacters_and_emoji_are_stored_verbatim(client):
    name = "Robert'); DROP TABLE items;-- 🍰 \\ % _ \" `"
    item = create(client, name, description="🙂 𝄞 ' \" ; --").get_json()
    stored = client.get(f"/api/items/{item['id']}").get_json()
    assert stored["name"] == name
    assert stored["description"] == "🙂 𝄞 ' \" ; --"


def test_the_length_limit_applies_to_the_name_as_stored(client):
    # U+0958 is one code point as sent and two once normalised (NFC): 120 become 240.
    response = create(client, "\u0958" * NAME_MAX)
    assert response.status_code == 422
    assert (
        response.get_json()["error"]["fields"]["name"] == f"must be at most {NAME_MAX} characters"
    )
