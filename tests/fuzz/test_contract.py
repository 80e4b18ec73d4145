"""Requests generated from the OpenAPI document the app serves (schemathesis, property-based):
for every operation, no server error, no status code the document does not list, no response
that breaks its documented schema or content type.

CONTRACT_EXAMPLES sets how many requests per operation (200, everywhere it runs: make test-fuzz,
CI); the database is the suite's (SQLite, or MySQL when Docker runs).
"""

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from tests.support.databases import settings_for

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "200"))
# What the document promises. Not positive_data_acceptance: JSON Schema cannot say "at least
# one visible character" or "no NUL", so some documented-valid names are rightly refused (422).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


# The document, as served; the requests then go to each test's own app and database.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", create_app(settings_for("sqlite://")))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_the_document(case, client):
    # An item to find: the document's example id (1) stands for it, so that GET, PATCH and
    # DELETE reach their success paths, not only 404.
    seeded = client.post("/api/items", json={"name": "seeded"}).get_json()
    if case.path_parameters and case.path_parameters.get("item_id") == 1 and "id" in seeded:
        case.path_parameters["item_id"] = seeded["id"]
    case.call_and_validate(session=client, checks=CHECKS)
