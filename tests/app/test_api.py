"""app/api.py: where a refused value was decides its answer (path 404, query 400, body 422),
whatever the models are called or titled; and the document's patterns say what the server
refuses."""

import io
import re
import sys
import unicodedata
from typing import Annotated

import pytest
from annotated_types import Ge, Le
from flask_openapi3 import APIBlueprint
from pydantic import BaseModel, ConfigDict

from app import api, create_app
from app.models import INVISIBLE
from app.schemas import ItemPath, PageQuery, Strict
from tests.support.databases import settings_for
from tests.support.items import create


class DeeperPath(ItemPath):
    """A path model one level deeper, titled like a body model."""

    model_config = ConfigDict(title="ItemCreate")


class DeeperQuery(PageQuery):
    model_config = ConfigDict(title="ItemPath")


class ItemPathBody(Strict):
    """A body model whose title is the path model's name."""

    model_config = ConfigDict(title="ItemPath")
    count: Annotated[int, Ge(1), Le(9)]


@pytest.fixture
def probe(app):
    bp = APIBlueprint("probe", __name__, url_prefix="/api/probe")

    @bp.patch("/<id:item_id>")
    def patch_probe(path: DeeperPath, query: DeeperQuery, body: ItemPathBody):
        return {"id": path.item_id, "count": body.count}

    app.register_api(bp)
    api.check_parameter_models(app)
    return app.test_client()


def test_a_value_the_path_model_refuses_is_a_404_at_any_depth(probe):
    response = probe.patch(f"/api/probe/{2**31}", json={"count": 1})  # past MySQL's INT
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_a_value_the_query_model_refuses_is_a_400_naming_the_field(probe):
    response = probe.patch("/api/probe/1?per_page=0", json={"count": 1})
    assert response.status_code == 400
    assert response.get_json()["error"]["fields"] == {
        "per_page": "must be a whole number from 1 to 100"
    }


def test_a_value_the_body_model_refuses_is_a_422_whatever_its_title(probe):
    response = probe.patch("/api/probe/1", json={"count": 10})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["count"]
    assert probe.patch("/api/probe/7", json={"count": 2}).get_json() == {"id": 7, "count": 2}


def test_a_path_model_that_does_not_say_it_is_one_is_refused_at_start():
    class LoosePath(BaseModel):
        item_id: int

    app = create_app(settings_for("sqlite://"))
    bp = APIBlueprint("loose", __name__, url_prefix="/api/loose")

    @bp.get("/<id:item_id>")
    def get_loose(path: LoosePath):
        return {}

    app.register_api(bp)
    with pytest.raises(TypeError, match="LoosePath must subclass app.api.PathParams"):
        api.check_parameter_models(app)


NAMES = [
    "a",
    " a ",
    "\u200b",
    "\u200b a",
    "\t\n",
    "\x00a",
    "a\x00",
    "\u00ad",
    "\ufeff\u3000",
    "é",
    "\u0301",
    "🍰",
    "\U000e0001",
    "\u2028",
    "\u061c",
    "x" * 120,
]


@pytest.mark.parametrize("name", NAMES, ids=ascii)
def test_the_documents_name_pattern_is_the_servers_rule(client, name):
    document = client.get("/api/openapi.json").get_json()
    field = document["components"]["schemas"]["ItemCreate"]["properties"]["name"]
    documented = re.search(field["pattern"], name) is not None
    response = client.post("/api/items", json={"name": name})
    assert response.status_code == (201 if documented else 422), response.get_json()


def test_the_invisible_characters_are_every_control_space_and_format_character():
    """INVISIBLE is written out (a JSON Schema cannot name Unicode categories); this Python's
    Unicode database says which characters of the BMP it must hold."""
    invisible = re.compile(f"[{INVISIBLE}]")
    for code in range(0x10000):
        category = unicodedata.category(chr(code))
        expected = category in ("Cc", "Cf", "Zs", "Zl", "Zp")
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates never reach the server (not valid Unicode text)
        assert bool(invisible.match(chr(code))) == expected, (
            f"U+{code:04X} ({category}) under Unicode {unicodedata.unidata_version}, "
            f"Python {sys.version.split()[0]}: update app.models.INVISIBLE"
        )


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


@pytest.mark.parametrize("query", ["page=1.0", "page=%2B3", "page=1_0", "per_page=%202"])
def test_query_numbers_are_ascii_digits(client, query):
    response = client.get(f"/api/items?{query}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_query"
