"""Property-based requests over every endpoint: no 500, no traceback, nothing written by a
rejected request, and what is accepted is stored as the API documents it (NFC, trimmed).

Each test counts the statuses its generated requests got; the run prints them at the end, and
the create test needs at least a third of its requests to succeed: a generator that only ever
produces refusals would show nothing about the success path.
"""

import json
import unicodedata
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

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
anything = st.one_of(
    st.dictionaries(
        st.sampled_from(["name", "description", "id", "extra"]), json_values, max_size=3
    ),
    json_values,
)
# Bodies the API should accept: visible characters (SQL metacharacters, 4-byte UTF-8, a
# combining accent among them) between white space it trims, any description without NUL.
spacing = st.text(alphabet=" \t\n\u3000\u00a0", max_size=3)
visible = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("'\";\\%_`#/*()🍰𝄞éE\u0301")),
        st.characters(codec="utf-8", categories=("L", "N", "P", "S")),
    ),
    min_size=1,
    max_size=60,
)
acceptable = st.fixed_dictionaries(
    {"name": st.builds("".join, st.tuples(spacing, visible, spacing))},
    optional={
        "description": st.text(
            alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=200
        )
    },
)

# Two bodies in three meant to be accepted (the success path), the third anything at all
# (st.one_of would not weigh two equal branches double).
bodies = st.sampled_from([acceptable, acceptable, anything]).flatmap(lambda strategy: strategy)


def stored_as(name: str) -> str:
    """docs/api.md: a name is stored NFC, without surrounding white space."""
    return unicodedata.normalize("NFC", name).strip()


def total(client) -> int:
    return client.get("/api/items").get_json()["total"]


def check_error(response, method="GET"):
    assert response.status_code < 500, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "sqlalchemy" not in text.lower()
    if response.status_code >= 400 and method != "HEAD":  # HEAD: the headers, no body
        assert response.is_json and response.get_json()["error"]["status"] == response.status_code


def test_create_succeeds_often_stores_as_documented_and_refuses_without_writing(client, counted):
    statuses = counted("POST /api/items")

    @FUZZ
    @given(body=bodies, raw=st.booleans())
    def create(body, raw):
        before = total(client)
        # raw: lone surrogates sent as the invalid UTF-8 bytes a careless client would produce.
        data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        response = client.post(
            "/api/items", data=data if raw else json.dumps(body), content_type="application/json"
        )
        statuses[response.status_code] += 1
        check_error(response)
        if response.status_code == 201:
            stored = client.get(response.headers["Location"]).get_json()
            assert stored["name"] == stored_as(body["name"])
            assert stored["description"] == body.get("description", "")
            assert total(client) == before + 1
            client.delete(response.headers["Location"])  # the next example may reuse the name
        else:
            assert total(client) == before

    create()
    succeeded = sum(n for status, n in statuses.items() if 200 <= status < 300)
    assert succeeded * 3 >= statuses.total(), f"too few creates succeeded: {dict(statuses)}"


def test_patch_never_fails_and_rejects_without_writing(client, counted):
    statuses = counted("PATCH /api/items/{id}")
    item = client.post("/api/items", json={"name": "target", "description": "kept"}).get_json()
    url = f"/api/items/{item['id']}"

    @FUZZ
    @given(body=bodies)
    def patch(body):
        before = client.get(url).get_json()
        response = client.patch(url, json=body)
        statuses[response.status_code] += 1
        check_error(response)
        after = client.get(url).get_json()
        if response.status_code == 200:
            assert after == response.get_json()
            assert after["name"] == stored_as(body.get("name", before["name"]))
        else:
            assert after == before

    patch()
    assert statuses[200] > 0, dict(statuses)


methods = st.sampled_from(["GET", "HEAD", "OPTIONS", "DELETE", "PUT", "PATCH", "POST"])
queries = st.dictionaries(
    st.sampled_from(["page", "per_page", "x"]), st.text(max_size=12), max_size=3
)


def test_any_path_and_query_is_answered_without_500(client, counted):
    statuses = counted("any /api/items/{path}")

    @FUZZ
    @given(path=st.one_of(st.integers(), st.text(max_size=20)), query=queries, method=methods)
    def request(path, query, method):
        url = f"/api/items/{quote(str(path), safe='')}"
        response = client.open(url, method=method, query_string=query, json={})
        statuses[response.status_code] += 1
        check_error(response, method)
        check_error(client.get("/api/items", query_string=query))

    request()


def test_the_probes_answer_any_method_and_query_without_500(client, counted):
    statuses = counted("any /healthz, /readyz")

    @FUZZ
    @given(path=st.sampled_from(["/healthz", "/readyz"]), query=queries, method=methods)
    def probe(path, query, method):
        response = client.open(path, method=method, query_string=query, data=b"x")
        statuses[response.status_code] += 1
        check_error(response, method)
        if method in ("GET", "HEAD"):  # the database is up and at the head
            assert response.status_code == 200

    probe()
    assert statuses[200] > 0 and statuses[405] > 0, dict(statuses)
