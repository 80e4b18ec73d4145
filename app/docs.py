"""The OpenAPI document at /api/openapi.json, always; Swagger UI at /docs/ where API_DOCS is on
(the default in development), its files from the flask-openapi3-swagger package, no CDN."""

import copy
import os
from typing import Any

import flask_openapi3_swagger
from flask import Blueprint, current_app, render_template_string
from flask_openapi3 import OpenAPI
from flask_openapi3_swagger.templates import swagger_html_string

document = Blueprint("openapi_document", __name__)
SWAGGER_FILES = os.path.join(os.path.dirname(flask_openapi3_swagger.__file__), "templates")
# The page asks for swagger/css/..., relative to /docs/.
ui = Blueprint(
    "docs",
    __name__,
    static_folder=os.path.join(SWAGGER_FILES, "swagger"),
    static_url_path="/docs/swagger",
)


@document.get("/api/openapi.json")
def openapi() -> dict[str, Any]:
    """The document flask-openapi3 writes from the schemas, made once per process."""
    if "openapi_document" not in current_app.extensions:
        current_app.extensions["openapi_document"] = only_answers_given(current_app.api_doc)  # type: ignore[attr-defined]
    return current_app.extensions["openapi_document"]  # type: ignore[no-any-return]


def only_answers_given(document: dict[str, Any]) -> dict[str, Any]:
    """flask-openapi3 adds a 422 (a list of its own error model) to every operation that does
    not declare one; ours declare theirs where a body can be invalid, so drop the others."""
    document = copy.deepcopy(document)
    for operations in document["paths"].values():
        for operation in operations.values():
            answer = operation["responses"].get("422", {})
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            if schema.get("type") == "array":
                del operation["responses"]["422"]
    return document


@ui.get("/docs/")
def swagger_ui() -> str:
    return render_template_string(
        swagger_html_string,
        doc_url="/api/openapi.json",
        # No validator.swagger.io badge: it would send the document to a third party.
        swagger_config={"validatorUrl": None},
        oauth_config=None,
    )


def init_app(app: OpenAPI, *, with_ui: bool) -> None:
    app.register_blueprint(document)
    if with_ui:
        app.register_blueprint(ui)
