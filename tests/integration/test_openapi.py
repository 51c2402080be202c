"""The OpenAPI document (GET /openapi.json) and the reference page (GET /docs).

The document must describe every route the app serves, refer only to schemas it defines, and
be a valid OpenAPI 3.1 document; the page must list every path and carry a CSP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from chalice.test import Client

METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """The documentation routes touch no AWS service: no moto back end needed."""
    import app as api

    with Client(api.app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def document(client: Client) -> dict[str, Any]:
    response = client.http.get("/openapi.json")
    assert response.status_code == 200, response.body
    return dict(json.loads(response.body))


def app_routes() -> set[tuple[str, str]]:
    import app as api

    return {
        (path, method.lower())
        for path, by_method in api.app.routes.items()
        for method in by_method
        if method != "OPTIONS"
    }


def header(response: Any, name: str) -> str:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


# ---------------------------------------------------------------------------------- the document


def test_document_is_public_json(client: Client) -> None:
    response = client.http.get("/openapi.json")  # no credentials at all
    assert response.status_code == 200
    assert header(response, "content-type").split(";")[0] == "application/json"
    assert json.loads(response.body)["openapi"] == "3.1.0"


def test_credentials_are_ignored_by_the_document(client: Client) -> None:
    response = client.http.get("/openapi.json", headers={"Authorization": "Bearer garbage"})
    assert response.status_code == 200


def test_version_and_info(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"]


def test_every_route_is_documented(document: dict[str, Any]) -> None:
    documented = {(path, method) for path, method, _ in operations(document)}
    missing = app_routes() - documented
    assert not missing, f"routes missing from /openapi.json: {sorted(missing)}"
    extra = documented - app_routes()
    assert not extra, f"/openapi.json documents routes the app does not serve: {sorted(extra)}"


def test_path_parameters_are_declared(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        declared = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "path"}
        assert declared == set(re.findall(r"{(\w+)}", path)), (method, path, declared)


def test_every_operation_has_an_id_a_summary_and_responses(document: dict[str, Any]) -> None:
    ids = []
    for path, method, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("responses"), (method, path)
        assert any(code[0] in "23" for code in operation["responses"]), (method, path)  # success or redirect
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids)), "operationIds must be unique"


def test_every_ref_points_at_an_existing_component(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    found = list(refs(document))
    assert found, "the document refers to no schemas at all"
    for ref in found:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, f"dangling $ref {ref}"


def _schema_of(content: dict[str, Any]) -> dict[str, Any]:
    return dict(content.get("schema") or {})


@pytest.mark.parametrize(
    ("method", "path", "component"),
    [
        ("post", "/v1/candidates", "CandidateCreate"),
        ("patch", "/v1/candidates/{candidate_id}", "CandidatePatch"),
        ("post", "/v1/candidates/{candidate_id}/notes", "NoteCreate"),
        ("post", "/v1/jobs", "JobCreate"),
        ("patch", "/v1/jobs/{job_id}", "JobUpdate"),
        ("post", "/v1/pools", "PoolCreate"),
        ("post", "/v1/pools/{pool_id}/members", "PoolMemberAdd"),
        ("post", "/v1/api-keys", "ApiKeyCreate"),
        ("post", "/auth/login", "LoginRequest"),
    ],
)
def test_request_bodies_refer_to_their_models(
    document: dict[str, Any], method: str, path: str, component: str
) -> None:
    body = document["paths"][path][method]["requestBody"]
    schema = _schema_of(body["content"]["application/json"])
    assert schema == {"$ref": f"#/components/schemas/{component}"}
    model = document["components"]["schemas"][component]
    assert model.get("additionalProperties") is False, f"{component} refuses unknown fields"


@pytest.mark.parametrize("path", ["/public/talent-network", "/public/jobs/{job_id}/applications"])
def test_public_forms_accept_the_three_encodings(document: dict[str, Any], path: str) -> None:
    content = document["paths"][path]["post"]["requestBody"]["content"]
    assert set(content) >= {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
    submission = document["components"]["schemas"]["PublicSubmission"]
    form, honeypot = submission["anyOf"]  # the form, or anything with the honeypot filled in
    assert set(form["required"]) >= {"email", "first_name", "last_name"}
    assert honeypot["required"] == ["website"]
    assert "resume" in json.dumps(content["multipart/form-data"])
    assert "202" in document["paths"][path]["post"]["responses"]


def test_success_responses_carry_schemas(document: dict[str, Any]) -> None:
    """Every JSON success response has a schema; lists have ``items`` and ``next_cursor``."""
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if not code.startswith("2") or code == "204":
                continue
            for media, content in response.get("content", {}).items():
                if media == "application/json":
                    assert _schema_of(content), (method, path, code)
    listing = document["paths"]["/v1/candidates"]["get"]["responses"]["200"]["content"]["application/json"]
    properties = listing["schema"]["properties"]
    assert set(properties) >= {"items", "next_cursor"}
    assert properties["items"]["items"] == {"$ref": "#/components/schemas/CandidateSummary"}
    created = document["paths"]["/v1/candidates"]["post"]["responses"]["201"]["content"]["application/json"]
    assert created["schema"] == {"$ref": "#/components/schemas/Candidate"}
    candidate = document["components"]["schemas"]["Candidate"]
    assert set(candidate["required"]) >= {
        "id",
        "email",
        "first_name",
        "last_name",
        "source",
        "version",
        "created_at",
        "updated_at",
    }


#: Pages a person opens in a browser: their errors are HTML pages (some also answer an API client).
PAGE_PREFIXES = ("/ui", "/portal", "/careers", "/docs", "/public/unsubscribe", "/public/confirm")


def test_errors_are_problem_json(document: dict[str, Any]) -> None:
    """The API's errors are problem+json; a page's errors are pages, and say so."""
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) >= {"type", "title", "status", "detail"}
    for path, method, operation in operations(document):
        for code, response in operation["responses"].items():
            if not code.startswith(("4", "5")):
                continue
            media = set(response["content"])
            if path.startswith(PAGE_PREFIXES) and path != "/ui/static/{name}":
                assert media and media <= {"application/problem+json", "text/html"}, (method, path, code)
            else:
                assert "application/problem+json" in media, (method, path, code)
            if path.startswith(("/v1/", "/auth/")):
                assert media == {"application/problem+json"}, (method, path, code)


def test_protected_operations_declare_security_and_401_403(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    for path, method, operation in operations(document):
        if path.startswith("/v1/"):
            assert operation.get("security"), (method, path)
            for requirement in operation["security"]:
                assert set(requirement) <= set(schemes), (method, path, requirement)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        else:
            assert operation.get("security") == [], f"{method} {path} is public"


def test_list_operations_document_limit_and_cursor(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        success = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
        properties = _schema_of(success).get("properties", {})
        if "next_cursor" not in properties:
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
        assert {"limit", "cursor"} <= names, (method, path, names)


def test_document_is_a_valid_openapi_3_1_document(document: dict[str, Any]) -> None:
    validator = pytest.importorskip("openapi_spec_validator")

    errors = [
        f"{list(e.path)}: {e.message}" for e in validator.OpenAPIV31SpecValidator(document).iter_errors()
    ]
    assert not errors, errors[:10]
    validator.validate(document)  # the library's own entry point agrees (raises on an invalid document)


def test_component_schemas_are_valid_json_schema(document: dict[str, Any]) -> None:
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import Draft202012Validator

    for name, schema in document["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            pytest.fail(f"components.schemas.{name} is not a valid JSON Schema: {exc.message}")


def test_document_is_stable(client: Client, document: dict[str, Any]) -> None:
    again = json.loads(client.http.get("/openapi.json").body)
    assert again == document


# ---------------------------------------------------------------------------------- the page


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_docs_page_is_html_with_a_csp_and_lists_every_path(client: Client, document: dict[str, Any]) -> None:
    response = client.http.get("/docs")
    assert response.status_code == 200
    assert header(response, "content-type").startswith("text/html")
    csp = header(response, "content-security-policy")
    assert csp, "the page needs a Content-Security-Policy"
    assert "default-src 'none'" in csp or "default-src 'self'" in csp, csp
    assert "frame-ancestors 'none'" in csp
    assert header(response, "x-content-type-options") == "nosniff"
    parser = _Text()
    parser.feed(response.body.decode())
    text = " ".join(parser.text)
    assert parser.scripts == 0 or "script-src" in csp
    for path, method, _ in operations(document):
        assert f"{method.upper()} {path}" in text or (path in text and method.upper() in text), (method, path)
    for path, _ in app_routes():
        assert path in text, f"/docs does not list {path}"


def test_docs_page_escapes_what_it_renders(client: Client) -> None:
    body = client.http.get("/docs").body.decode()
    assert "<script" not in body.lower()
    assert body.lstrip().lower().startswith("<!doctype html>")


# ------------------------------------------------------------------ what the server checks (issue 9)


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(document["paths"][path][method])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/public/confirm"),
        ("get", "/public/unsubscribe"),
        ("post", "/public/unsubscribe"),
        ("get", "/portal"),
        ("get", "/portal/export"),
        ("post", "/portal/details"),
        ("post", "/portal/preferences"),
        ("post", "/portal/erase"),
    ],
)
def test_link_pages_document_their_token(document: dict[str, Any], method: str, path: str) -> None:
    names = {(p["name"], p["in"]) for p in _operation(document, method, path)["parameters"]}
    assert ("token", "query") in names


@pytest.mark.parametrize(
    ("path", "model"),
    [
        ("/public/portal/link", "PortalLinkRequest"),
        ("/portal/details", "PortalDetailsForm"),
        ("/portal/preferences", "PortalPreferencesForm"),
        ("/portal/erase", "PortalEraseForm"),
        ("/public/job-alerts", "JobAlertSubmission"),
    ],
)
def test_form_posts_document_their_body(document: dict[str, Any], path: str, model: str) -> None:
    content = _operation(document, "post", path)["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
    assert content["application/json"]["schema"] == {"$ref": f"#/components/schemas/{model}"}
    assert content["application/x-www-form-urlencoded"]["schema"] == {
        "$ref": f"#/components/schemas/{model}Form"
    }
    assert '"null"' not in json.dumps(document["components"]["schemas"][f"{model}Form"])  # a form has no null


def test_rules_the_server_checks_are_in_the_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    create = schemas["CandidateCreate"]["properties"]
    assert "[hH][tT][tT][pP][sS]?://" in create["linkedin_url"]["anyOf"][0]["pattern"]
    tags = create["tags"]["anyOf"]
    assert tags[0]["items"]["pattern"] and tags[1]["type"] == "string" and tags[1]["pattern"]
    assert "pattern" in create["first_name"]  # no control characters, something visible
    assert schemas["EnrollmentRequest"]["oneOf"]
    form, honeypot = schemas["JobAlertSubmission"]["anyOf"]
    assert {tuple(b["required"]) for b in form["allOf"][0]["anyOf"]} == {("tags",), ("location",)}
    assert honeypot["required"] == ["website"]
    due = schemas["ReminderCreate"]["properties"]["due_at"]
    assert due["type"] == "string" and due["format"] == "date-time"
    patch = schemas["CandidatePatch"]["properties"]
    assert patch["first_name"]["type"] == "string" and "anyOf" not in patch["first_name"]  # never null
    assert {"type": "null"} in patch["phone"]["anyOf"]  # null clears it


def test_every_route_that_reads_a_body_documents_413(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)


def test_pages_document_html_and_their_404(document: dict[str, Any]) -> None:
    job_page = _operation(document, "get", "/careers/jobs/{job_id}")["responses"]
    assert set(job_page) == {"200", "404"}
    assert set(job_page["200"]["content"]) == {"text/html"}
    assert set(job_page["404"]["content"]) == {"text/html"}
    export = _operation(document, "get", "/portal/export")["responses"]
    assert set(export["200"]["content"]) == {"application/json"}
    assert set(export["400"]["content"]) == {"text/html"}
    login = _operation(document, "post", "/ui/login")["responses"]
    assert set(login["403"]["content"]) == {"text/html"}
    assert set(_operation(document, "get", "/ui/static/{name}")["responses"]["200"]["content"]) == {
        "text/javascript"
    }
