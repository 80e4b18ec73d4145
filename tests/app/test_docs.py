"""app/docs.py: the OpenAPI document generated from the schemas, and the Swagger UI page at
/docs/, served from an installed package (tests/browser drives it in Chromium)."""

import re

from openapi_spec_validator import validate

from app import create_app
from tests.support.databases import settings_for

ERROR_CODES = {
    ("/api/items", "get"): {"200", "400", "503"},
    ("/api/items", "post"): {"201", "400", "409", "413", "415", "422", "503"},
    ("/api/items/{item_id}", "get"): {"200", "404", "503"},
    ("/api/items/{item_id}", "patch"): {"200", "400", "404", "409", "413", "415", "422", "503"},
    ("/api/items/{item_id}", "delete"): {"204", "404", "503"},
    ("/healthz", "get"): {"200"},
    ("/readyz", "get"): {"200", "503"},
}


def test_the_document_is_valid_openapi_3_1(client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)  # raises on an invalid document


def test_every_status_code_an_operation_answers_is_documented(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    documented = {
        (path, method): set(operation["responses"])
        for path, operations in paths.items()
        for method, operation in operations.items()
    }
    assert documented == ERROR_CODES


def test_errors_are_documented_with_our_error_body(client):
    document = client.get("/api/openapi.json").get_json()
    post = document["paths"]["/api/items"]["post"]
    for status in ("400", "409", "413", "415", "422", "503"):
        schema = post["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}
    item = document["components"]["schemas"]["ItemCreate"]
    assert item["additionalProperties"] is False
    assert item["properties"]["name"]["maxLength"] == 120


def test_the_docs_page_uses_no_outside_address(client):
    page = client.get("/docs/")
    assert page.status_code == 200
    assert not re.search(rb"(src|href)=\"https?://", page.data)
    for asset in re.findall(rb'(?:src|href)="(swagger/[^"]+)"', page.data):
        assert client.get("/docs/" + asset.decode()).status_code == 200


def test_docs_are_off_in_production_unless_asked():
    production = settings_for("sqlite://", app_env="production", secret_key="k" * 64)
    client = create_app(production).test_client()
    assert client.get("/docs/").status_code == 404
    assert client.get("/api/openapi.json").status_code == 200  # the contract stays public
    asked = create_app(production.replace(api_docs=True)).test_client()
    assert asked.get("/docs/").status_code == 200
