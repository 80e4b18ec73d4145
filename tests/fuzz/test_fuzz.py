"""Property-based requests over every endpoint: no 500, no traceback, nothing written by a
rejected request, and whatever is accepted comes back verbatim."""

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text with SQL metacharacters, 4-byte UTF-8, control characters and lone surrogates.
nasty_text = st.one_of(
    st.text(max_size=130),
    st.text(alphabet=st.sampled_from(list("'\";\\%_`-#/*()\x00🍰𝄞é ")), max_size=40),
    st.integers(0xD800, 0xDFFF).map(lambda c: "lone " + chr(c)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(nasty_text, children, max_size=3)
    ),
    max_leaves=6,
)
bodies = st.one_of(
    st.dictionaries(
        st.sampled_from(["name", "description", "id", "extra"]), json_values, max_size=3
    ),
    json_values,
)


def total(client) -> int:
    return client.get("/api/items").get_json()["total"]


def check_error(response):
    assert response.status_code < 500, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()
    if response.status_code >= 400:
        assert response.is_json and response.get_json()["error"]["status"] == response.status_code


@FUZZ
@given(body=bodies, raw=st.booleans())
def test_create_never_fails_and_stores_verbatim(client, body, raw):
    before = total(client)
    data = json.dumps(body, ensure_ascii=False)
    # raw: lone surrogates sent as the invalid UTF-8 bytes a careless client would produce.
    data = data.encode("utf-8", "surrogatepass") if raw else json.dumps(body)
    response = client.post("/api/items", data=data, content_type="application/json")
    check_error(response)
    if response.status_code == 201:
        stored = client.get(response.headers["Location"]).get_json()
        assert stored["name"] == body["name"]
        assert stored["description"] == body.get("description", "")
        assert total(client) == before + 1
    else:
        assert total(client) == before


@FUZZ
@given(body=bodies)
def test_patch_never_fails_and_rejects_without_writing(client, body):
    item = client.post("/api/items", json={"name": "target", "description": "kept"}).get_json()
    response = client.patch(f"/api/items/{item['id']}", json=body)
    check_error(response)
    after = client.get(f"/api/items/{item['id']}").get_json()
    if response.status_code == 200:
        assert after == response.get_json()
    else:
        assert (after["name"], after["description"]) == ("target", "kept")
    client.delete(f"/api/items/{item['id']}")


@FUZZ
@given(
    path=st.one_of(st.integers(), st.text(max_size=20)),
    query=st.dictionaries(
        st.sampled_from(["page", "per_page", "x"]), st.text(max_size=12), max_size=3
    ),
    method=st.sampled_from(["GET", "DELETE", "PUT", "PATCH", "POST"]),
)
def test_any_path_and_query_is_answered_without_500(client, path, query, method):
    response = client.open(
        f"/api/items/{quote(str(path), safe='')}", method=method, query_string=query, json={}
    )
    check_error(response)
    check_error(client.get("/api/items", query_string=query))
