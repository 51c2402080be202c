"""Inputs an OpenAPI fuzzer found to break the API, each pinned here (issue 9): a ``null`` that
corrupted a record, JSON nested deep enough to exhaust the stack, bytes that are not UTF-8, bodies
the schema allowed but the size limit refused, times given as numbers, and an email lookup that
could not find a person it had just answered for. Each is answered with a 4xx naming what is
wrong, or accepted and readable afterwards; nothing half-written is left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from crm.candidates.models import CandidatePatch
from crm.jobs.models import JobUpdate
from crm.templates.models import TemplateUpdate
from tests.integration.test_authorization_matrix import (
    World,
    assert_problem,
    make_world,
    snapshot,
    unique_email,
)

pytestmark = pytest.mark.xdist_group("input-edges")

JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from make_world()


def send(world: World, method: str, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return world.env.client.http.request(method, path, body=body, headers=headers)


def new_template(world: World) -> str:
    body = {"name": "Edge", "subject": "Hello {{ first_name }}", "html": "<p>Hi</p>", "text": "Hi"}
    return str(world.admin("POST", "/v1/templates", body, 201)["id"])


def _current_version(world: World, path: str) -> dict[str, Any]:
    current = world.admin("GET", path)
    return {"version": current["version"]} if "version" in current else {}


# ------------------------------------------------------------------------------- null in a PATCH

PATCHES: dict[str, tuple[type[BaseModel], Any]] = {
    "candidate": (CandidatePatch, lambda w: f"/v1/candidates/{w.new_candidate()}"),
    "job": (JobUpdate, lambda w: f"/v1/jobs/{w.admin('POST', '/v1/jobs', {'title': 'Nulls'}, 201)['id']}"),
    "template": (TemplateUpdate, lambda w: f"/v1/templates/{new_template(w)}"),
}
PATCH_FIELDS = [
    (kind, name) for kind, (model, _) in PATCHES.items() for name in model.model_fields if name != "version"
]


@pytest.mark.parametrize(("kind", "field"), PATCH_FIELDS)
def test_a_null_field_is_refused_or_clears_it_and_the_record_stays_readable(
    world: World, kind: str, field: str
) -> None:
    """Every field of every PATCH model, sent as ``null``: a 422 naming a field that may not be
    empty (and nothing changed), or the field cleared; either way the record reads back whole."""
    model, make = PATCHES[kind]
    path = make(world)
    before = world.admin("GET", path)
    body = {**_current_version(world, path), field: None}
    response = world.call("PATCH", path, body, world.headers["admin"])
    not_null = field in model.not_null  # type: ignore[attr-defined]
    if not_null:
        problem = assert_problem(response, 422)
        assert [e["field"] for e in problem["errors"]] == [field], problem
        assert world.admin("GET", path) == before
    else:
        assert response.status_code == 200, response.body
    after = world.admin("GET", path)
    assert after["id"] == before["id"]
    if kind == "candidate":
        cid = after["id"]
        assert world.admin("GET", f"/v1/candidates/{cid}/timeline")["items"]
        assert world.admin("GET", f"/v1/candidates/{cid}/notes") == {"items": [], "next_cursor": None}
        assert world.env.pump.drain() == []  # the stream function reads every record it wrote
        assert [c["id"] for c in world.admin("GET", f"/v1/candidates?email={after['email']}")["items"]] == [
            cid
        ]


def test_the_version_may_not_be_null_either(world: World) -> None:
    path = f"/v1/candidates/{world.new_candidate()}"
    problem = assert_problem(world.call("PATCH", path, {"version": None}, world.headers["admin"]), 422)
    assert [e["field"] for e in problem["errors"]] == ["version"]


def test_json_bodies_are_read_as_their_schema_says(world: World) -> None:
    """A JSON number is not a string and a string is not a number: ``"1"`` as a version is a 422."""
    path = f"/v1/candidates/{world.new_candidate()}"
    problem = assert_problem(
        world.call("PATCH", path, {"version": "1", "location": "Oslo"}, world.headers["admin"]), 422
    )
    assert [e["field"] for e in problem["errors"]] == ["version"]


# ------------------------------------------------------------------------------- read your writes


def test_a_created_candidate_is_found_by_email_before_the_lists_catch_up(world: World) -> None:
    email = unique_email("ryw")
    created = world.admin(
        "POST", "/v1/candidates", {"email": email, "first_name": "R", "last_name": "Y"}, 201
    )
    # No stream record has been delivered yet: the list projections do not have this person.
    found = world.admin("GET", f"/v1/candidates?email={email.upper()}")
    assert [c["id"] for c in found["items"]] == [created["id"]]
    assert found["next_cursor"] is None
    assert found["items"][0]["email"] == email


def test_a_sign_up_is_found_by_email_at_once(world: World) -> None:
    email = unique_email("signup")
    body = json.dumps({"email": email, "first_name": "S", "last_name": "U", "tags": ["go"]}).encode()
    assert send(world, "POST", "/public/talent-network", body, JSON).status_code == 202
    found = world.admin("GET", f"/v1/candidates?email={email}")["items"]
    assert len(found) == 1 and found[0]["tags"] == ["go"]
    # The other filters still apply to an exact email.
    assert world.admin("GET", f"/v1/candidates?email={email}&tag=go")["items"] == found
    assert world.admin("GET", f"/v1/candidates?email={email}&tag=rust")["items"] == []
    assert world.admin("GET", f"/v1/candidates?email={email}&q=s")["items"] == found
    assert world.admin("GET", f"/v1/candidates?email={email}&pool={world.pool_id}")["items"] == []
    assert world.admin("GET", f"/v1/candidates?email={unique_email('nobody')}")["items"] == []


# ------------------------------------------------------------------------------- bodies


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("POST", "/public/talent-network", JSON),
        ("POST", "/public/portal/link", JSON),
        ("POST", "/v1/candidates", JSON),
        ("POST", "/auth/login", JSON),
    ],
)
def test_deeply_nested_json_is_a_400_before_it_is_parsed(
    world: World, method: str, path: str, headers: dict[str, str]
) -> None:
    before = snapshot(world)
    body = b'{"email": ' + b"[" * 959 + b"]" * 959 + b"}"
    response = send(world, method, path, body, {**headers, **world.headers["admin"]})
    problem = assert_problem(response, 400)
    assert "nests deeper" in problem["detail"]
    assert snapshot(world) == before


def test_moderate_nesting_is_still_read(world: World) -> None:
    body = json.dumps(
        {"email": unique_email("n"), "first_name": "N", "last_name": "E", "x": [[[[1]]]]}
    ).encode()
    assert send(world, "POST", "/public/talent-network", body, JSON).status_code == 202


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"email=u8%40example.com&first_name=%FF%FE&last_name=X", FORM),
        (
            b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nu8m@example.com\r\n'
            b'--b\r\nContent-Disposition: form-data; name="first_name"\r\n\r\n\xff\xfe\r\n'
            b'--b\r\nContent-Disposition: form-data; name="last_name"\r\n\r\nX\r\n--b--\r\n',
            {"Content-Type": "multipart/form-data; boundary=b"},
        ),
        (b'{"email": "u8j@example.com", "first_name": "\xff\xfe", "last_name": "X"}', JSON),
    ],
    ids=["urlencoded", "multipart", "json"],
)
def test_a_form_that_is_not_utf8_is_a_400_and_stores_nothing(
    world: World, body: bytes, headers: dict[str, str]
) -> None:
    before = snapshot(world)
    problem = assert_problem(send(world, "POST", "/public/talent-network", body, headers), 400)
    assert "UTF-8" in problem["detail"] or "JSON" in problem["detail"]
    assert snapshot(world) == before


def test_the_largest_template_the_schema_allows_is_not_a_413(world: World) -> None:
    """100,000 characters of HTML and of text (about 200 KB, over the 64 KB form limit) is a
    template like any other."""
    body = {"name": "Long", "subject": "S", "html": "h" * 100_000, "text": "t" * 100_000}
    created = world.admin("POST", "/v1/templates", body, 201)
    assert len(world.admin("GET", f"/v1/templates/{created['id']}")["html"]) == 100_000
    patched = world.admin(
        "PATCH", f"/v1/templates/{created['id']}", {"version": 1, "text": "x" * 100_000}, 200
    )
    assert patched["version"] == 2


def test_a_template_too_large_to_store_is_a_422_naming_its_largest_part(world: World) -> None:
    before = snapshot(world)
    body = {"name": "Wide", "subject": "S", "html": "\U0001f600" * 90_000, "text": "t"}
    problem = assert_problem(world.call("POST", "/v1/templates", body, world.headers["admin"]), 422)
    assert [e["field"] for e in problem["errors"]] == ["html"]
    assert snapshot(world) == before


@pytest.mark.parametrize(
    "due_at", [0, 1_700_000_000, "1700000000", "2026-12-01T09:00:00", "tomorrow", "0001-01-01T00:00:00+14:00"]
)
def test_a_reminder_time_is_an_iso_string_with_a_zone(world: World, due_at: Any) -> None:
    before = snapshot(world)
    body = {"candidate_id": world.candidate_id, "due_at": due_at, "note": "Call back"}
    problem = assert_problem(world.call("POST", "/v1/reminders", body, world.headers["recruiter"]), 422)
    assert [e["field"] for e in problem["errors"]] == ["due_at"], problem
    assert snapshot(world) == before


def test_a_campaign_send_at_given_as_a_number_is_refused(world: World) -> None:
    body = {"name": "Numbers", "template_id": new_template(world), "send_at": 0}
    problem = assert_problem(world.call("POST", "/v1/campaigns", body, world.headers["admin"]), 422)
    assert [e["field"] for e in problem["errors"]] == ["send_at"]


@pytest.mark.parametrize("consent", [0, 1, 2.5])
def test_a_number_is_not_a_consent(world: World, consent: Any) -> None:
    before = snapshot(world)
    body = json.dumps(
        {"email": unique_email("c"), "first_name": "C", "last_name": "N", "marketing_consent": consent}
    )
    problem = assert_problem(send(world, "POST", "/public/talent-network", body.encode(), JSON), 422)
    assert [e["field"] for e in problem["errors"]] == ["marketing_consent"]
    assert snapshot(world) == before
