"""What Chalice answers by itself is problem+json, like every other error of the API.

Chalice answers some requests before (or around) a view: a method the path does not allow
(405 with ``Allow``), a content type a route does not accept (415), a binary response the
request's ``Accept`` does not allow (400), an exception outside ``endpoint`` (500), and the
``ChaliceViewError`` family raised in a view. In AWS these reach the caller as they leave the
function, so the app's own middleware (``app.chalice_errors_as_problems``) turns them into problem+json
with the same status and headers. A schemathesis-style check: every path of the app, with a
method it does not allow, answers 405 problem+json whose ``Allow`` lists exactly the path's
methods.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import chalice
import pytest
from chalice import Chalice, Response
from chalice.test import Client

from tests.integration.test_authorization_matrix import assert_problem, header
from tests.support.stack import TestStack as Stack

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "TRACE", "FOOBAR")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def client(aws_stack: Stack) -> Iterator[Client]:
    import app as api

    with Client(api.app) as c:
        yield c


def concrete(path: str) -> str:
    """A request path for a route path: every ``{param}`` becomes a plausible id."""
    return "/".join("abc123" if part.startswith("{") else part for part in path.split("/"))


def test_every_path_answers_a_method_it_does_not_allow_with_405_and_allow(client: Client) -> None:
    import app as api

    checked = 0
    for path, entries in sorted(api.app.routes.items()):
        if not entries:
            continue
        allowed = set(entries)
        for method in [m for m in METHODS if m not in allowed][:2]:
            response = client.http.request(method, concrete(path), headers={})
            body = assert_problem(response, 405)
            assert body["type"].endswith("/method-not-allowed"), (path, body)
            assert method in body["detail"]
            listed = {m.strip() for m in header(response, "allow").split(",")}
            assert listed == allowed, (path, method, listed)
            assert header(response, "x-content-type-options") == "nosniff"
            checked += 1
    assert checked > 50  # every path of the API, not a sample


def test_a_hand_made_event_for_an_unknown_resource_is_404_and_adds_no_route(aws_stack: Stack) -> None:
    """API Gateway only sends resources it has; a hand-made invocation (``crm invoke``) may not.
    Chalice would answer 405 and add the path to its route table (a defaultdict)."""
    import app as api

    event = json.loads((ROOT / "events" / "api-health.json").read_text())
    event["resource"] = event["requestContext"]["resourcePath"] = "/no/such/{thing}"
    event["path"] = "/no/such/thing"
    event["pathParameters"] = {"thing": "thing"}
    before = set(api.app.routes)
    context = SimpleNamespace(
        function_name="crm-api",
        memory_limit_in_mb=512,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:crm-api",
        aws_request_id="req-1",
    )
    response = api.app(event, context)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"] == "application/problem+json"
    assert json.loads(response["body"])["status"] == 404
    assert set(api.app.routes) == before


# ---------------------------------------------------------------- Chalice's own errors


@pytest.fixture
def chalice_app() -> Chalice:
    """A small app with the API's middleware and a route for each error Chalice makes itself."""
    import app as api

    small = Chalice(app_name="chalice-errors")
    small.api.binary_types.append("application/octet-stream")
    small.register_middleware(api.chalice_errors_as_problems(small), "http")

    @small.route("/only-json", methods=["POST"], content_types=["application/json"])
    def only_json() -> dict[str, Any]:
        return {}

    @small.route("/binary", methods=["GET"])
    def binary() -> Response:
        return Response(body=b"\x00\x01", headers={"Content-Type": "application/octet-stream"})

    @small.route("/boom", methods=["GET"])
    def boom() -> dict[str, Any]:
        raise RuntimeError("jane.doe@example.com broke it")  # never in the response

    for name, error in (
        ("bad", chalice.BadRequestError),
        ("unauthorized", chalice.UnauthorizedError),
        ("forbidden", chalice.ForbiddenError),
        ("missing", chalice.NotFoundError),
        ("conflict", chalice.ConflictError),
        ("unprocessable", chalice.UnprocessableEntityError),
        ("too-many", chalice.TooManyRequestsError),
        ("view-error", chalice.ChaliceViewError),
    ):

        def raising(error: type[Exception] = error) -> None:
            raise error("what Chalice was told")

        small.route(f"/raise/{name}", methods=["GET"], name=f"raise_{name.replace('-', '_')}")(raising)
    return small


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("DELETE", "/only-json", {}, 405),
        ("POST", "/only-json", {"Content-Type": "text/plain"}, 415),
        ("GET", "/binary", {"Accept": "text/html"}, 400),
        ("GET", "/boom", {}, 500),
        ("GET", "/raise/bad", {}, 400),
        ("GET", "/raise/unauthorized", {}, 401),
        ("GET", "/raise/forbidden", {}, 403),
        ("GET", "/raise/missing", {}, 404),
        ("GET", "/raise/conflict", {}, 409),
        ("GET", "/raise/unprocessable", {}, 422),
        ("GET", "/raise/too-many", {}, 429),
        ("GET", "/raise/view-error", {}, 500),
    ],
)
def test_every_error_chalice_makes_itself_is_problem_json(
    chalice_app: Chalice,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Client(chalice_app) as c:
        response = c.http.request(method, path, headers=headers, body=b"x" if method == "POST" else b"")
    body = assert_problem(response, status)
    assert "Code" not in body and "Message" not in body
    assert "jane.doe" not in response.body.decode()
    ours = [r.getMessage() for r in caplog.records if r.name == "crm.api"]
    assert not any("jane.doe" in line for line in ours)
    if status == 405:
        assert header(response, "allow") == "POST"
    if status >= 500:
        assert body["title"] == "Internal error"


def test_a_binary_response_with_a_matching_accept_is_untouched(chalice_app: Chalice) -> None:
    with Client(chalice_app) as c:
        response = c.http.get("/binary", headers={"Accept": "application/octet-stream"})
    assert response.status_code == 200
    assert response.body == b"\x00\x01"
