"""The /api/items resource: every documented status code, and validation of each field."""

import io

import pytest

from app.models import DESCRIPTION_MAX, NAME_MAX


def create(client, name="widget", **fields):
    return client.post("/api/items", json={"name": name, **fields})


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


@pytest.mark.parametrize("body", ["[1, 2]", '"name"', "null", "3", '"{\\"name\\": \\"x\\"}"'])
def test_body_must_be_an_object(client, body):
    # null is valid JSON, and so is a string holding JSON: neither is an object.
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"body": "must be an object"}
    assert client.get("/api/items").get_json()["total"] == 0


def test_deeply_nested_json_is_400_not_500(client):
    body = '{"name": ' + "[" * 1000 + "]" * 1000 + "}"  # 2 KB
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"body": "nested too deeply"}


def test_malformed_json_is_400(client):
    response = client.post("/api/items", data='{"name": ', content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {"body": "invalid JSON"}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_wrong_content_type_is_415(client, content_type):
    response = client.post("/api/items", data='{"name": "x"}', content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_json_with_charset_is_accepted(client):
    response = client.post(
        "/api/items", data='{"name": "x"}', content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


def test_oversized_body_is_413_and_writes_nothing(client):
    body = '{"name": "big", "description": "' + "x" * 70_000 + '"}'
    response = client.post("/api/items", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["status"] == 413
    assert client.get("/api/items").get_json()["total"] == 0


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


@pytest.mark.parametrize(
    "spelling",
    [
        lambda n: f"000{n}",
        lambda n: f"0{n}",
        lambda n: f"+{n}",
        lambda n: f"{n}.0",
        lambda n: "".join(chr(0x660 + int(d)) for d in n),  # Arabic-Indic digits
        lambda n: "0",
    ],
)
def test_an_id_has_one_spelling_and_any_other_is_404(client, spelling):
    item_id = str(create(client, "first").get_json()["id"])
    assert client.get(f"/api/items/{item_id}").status_code == 200
    response = client.get(f"/api/items/{spelling(item_id)}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


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


def test_openapi_document_lists_every_route(client, app):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, ops in spec["paths"].items()
        for method in ops
        if method != "parameters"
    }
    served = {
        (rule.rule.replace("<id:item_id>", "{item_id}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ("items", "health")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented


def post_chunked(client, body: bytes):
    """Transfer-Encoding: chunked, as gunicorn hands it over (no Content-Length, the stream
    terminated by the server)."""
    return client.post(
        "/api/items",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )


def test_a_chunked_body_over_the_limit_is_413_not_400(client):
    response = post_chunked(client, b'{"name": "big", "description": "' + b"x" * 70_000 + b'"}')
    assert response.status_code == 413
    assert client.get("/api/items").get_json()["total"] == 0


def test_a_small_chunked_body_is_read_whole(client):
    assert post_chunked(client, b'{"name": "chunked"}').status_code == 201


def test_a_chunked_body_of_exactly_the_limit_is_read(client):
    head, tail = b'{"name": "edge", "description": "', b'"}'
    body = head + b"d" * (65536 - len(head) - len(tail)) + tail
    response = post_chunked(client, body)
    assert response.status_code == 422  # read whole: the description is too long, not the body
    assert "description" in response.get_json()["error"]["fields"]


def test_the_length_limit_applies_to_the_name_as_stored(client):
    # U+0958 is one code point as sent and two once normalised (NFC): 120 become 240.
    response = create(client, "\u0958" * NAME_MAX)
    assert response.status_code == 422
    assert (
        response.get_json()["error"]["fields"]["name"] == f"must be at most {NAME_MAX} characters"
    )


@pytest.mark.parametrize("query", ["page=1.0", "page=%2B3", "page=1_0", "per_page=%202"])
def test_query_numbers_are_ascii_digits(client, query):
    response = client.get(f"/api/items?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_query"
