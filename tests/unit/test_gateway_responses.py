"""The answers API Gateway gives by itself, as the template declares them: every documented
gateway response type, listed or left to DEFAULT_4XX/DEFAULT_5XX, is problem+json (RFC 9457)
with the status it is sent with; what a client can cause is a 4xx, and a request that matches
no method is 404 whatever its ``Authorization`` header (the API has no IAM-authorised method,
so API Gateway only checks a signature when nothing matched). The local server renders the
same declarations (``crm_tools.devstack.http.render_gateway_response``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from crm_tools.cfn import Resolver, Template
from crm_tools.devstack.http import DEFAULT_STATUS, gateway_responses, render_gateway_response
from tests.support.stack import TEMPLATE

#: Types only AWS's side can cause (configuration, authorizers, the integration).
SERVER_SIDE = {
    "API_CONFIGURATION_ERROR",
    "AUTHORIZER_CONFIGURATION_ERROR",
    "AUTHORIZER_FAILURE",
    "INTEGRATION_FAILURE",
    "INTEGRATION_TIMEOUT",
}
EXPECTED = {
    "MISSING_AUTHENTICATION_TOKEN": 404,
    "INVALID_SIGNATURE": 404,
    "EXPIRED_TOKEN": 404,
    "RESOURCE_NOT_FOUND": 404,
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
    "WAF_FILTERED": 403,
    "INVALID_API_KEY": 403,
    "REQUEST_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "THROTTLED": 429,
    "QUOTA_EXCEEDED": 429,
    "BAD_REQUEST_BODY": 400,
    "BAD_REQUEST_PARAMETERS": 400,
}


@pytest.fixture(scope="module")
def declared() -> dict[str, dict[str, Any]]:
    template = Template.load(TEMPLATE)
    return gateway_responses(template, Resolver(template, stack_name="crm-test", region="us-east-1"))


@pytest.mark.parametrize("kind", sorted(DEFAULT_STATUS))
def test_every_gateway_response_type_is_problem_json(declared: dict[str, dict[str, Any]], kind: str) -> None:
    status, headers, body = render_gateway_response(declared, kind, 'a "quoted" message')
    assert headers["Content-Type"] == "application/problem+json"
    problem = json.loads(body)
    assert set(problem) >= {"type", "title", "status", "detail"}
    assert problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    if kind in SERVER_SIDE:
        assert 500 <= status < 600
    else:
        assert 400 <= status < 500, "never a 5xx for what a client sent"
    if kind in EXPECTED:
        assert status == EXPECTED[kind]


def test_no_route_does_not_depend_on_an_authorization_header(declared: dict[str, dict[str, Any]]) -> None:
    kinds = ("MISSING_AUTHENTICATION_TOKEN", "INVALID_SIGNATURE", "EXPIRED_TOKEN")
    answers = [render_gateway_response(declared, kind, "message") for kind in kinds]
    assert all(answer == answers[0] for answer in answers)
    assert json.loads(answers[0][2])["detail"] == "No route matches this method and path."
