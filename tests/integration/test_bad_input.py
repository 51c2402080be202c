"""Every bad input the contract names, on the public POSTs (JSON, urlencoded, multipart) and the
/v1 write routes: the right 4xx, a problem+json body, never a 5xx, and nothing stored.

"Nothing stored" is checked by reading every item in the table and every object version in the
bucket before and after each rejected request.
"""

from __future__ import annotations

import io
import json
import random
import re
import string
import zipfile
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode
from uuid import uuid4

import pytest

from tests.integration.test_authorization_matrix import (
    MINIMAL_PDF,
    World,
    assert_problem,
    header,
    make_world,
    snapshot,
    unique_email,
)

# One moto back end per module: keep the module on one xdist worker (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("bad-input")

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
KB = 1024
MB = 1024 * 1024

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"
    + b"\x00" * 64
    + b"This program cannot be run"
)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto back end for the module; every test checks what it stores (or must not)."""
    yield from make_world()


def docx_bytes() -> bytes:
    """A minimal but real DOCX: a zip holding word/document.xml."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/></Types>',
        )
        archive.writestr(
            "word/document.xml",
            '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
            'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Ann Lee</w:t></w:r></w:p></w:body>'
            "</w:document>",
        )
    return buffer.getvalue()


def person(**extra: Any) -> dict[str, Any]:
    return {"email": unique_email("bad"), "first_name": "Ann", "last_name": "Lee", **extra}


def public_path(w: World, which: str) -> str:
    return "/public/talent-network" if which == "talent-network" else f"/public/jobs/{w.job_id}/applications"


PUBLIC = ["talent-network", "application"]


def send(
    w: World,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    return w.client.http.request(method, path, headers=sent, body=body)


def rejected(
    w: World,
    method: str,
    path: str,
    body: bytes,
    content_type: str | None,
    status: int,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Send a request that must be refused with ``status``; nothing may be stored."""
    before = snapshot(w)
    response = send(w, method, path, body, content_type, headers)
    problem = assert_problem(response, status)
    assert snapshot(w) == before, f"{method} {path} was refused with {status} but stored something"
    return problem


def fields_named(problem: dict[str, Any]) -> set[str]:
    assert isinstance(problem.get("errors"), list) and problem["errors"], problem
    for error in problem["errors"]:
        assert isinstance(error.get("field"), str) and error["field"], error
        assert isinstance(error.get("message"), str) and error["message"], error
    return {str(e["field"]).split(".")[0] for e in problem["errors"]}


def encode(
    encoding: str, fields: dict[str, Any], files: dict[str, tuple[str, bytes, str]] | None = None
) -> tuple[bytes, str]:
    if encoding == "json":
        return json.dumps(fields).encode(), JSON
    if encoding == "urlencoded":
        return urlencode(fields, doseq=True).encode(), FORM
    flat: list[tuple[str, Any]] = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            flat.append((name, str(item)))
    flat.extend((name, spec) for name, spec in (files or {}).items())
    import urllib3

    return urllib3.encode_multipart_formdata(flat)


def candidate_count(w: World) -> int:
    items, _ = snapshot(w)
    return sum(1 for i in items if '"sk": {"S": "PROFILE"}' in i)


# ---------------------------------------------------------------------------------- public: bodies


MALFORMED_PUBLIC: dict[str, tuple[bytes, str | None, int]] = {
    "malformed json": (b'{"email": "a@example.com", "first_name": ', JSON, 400),
    "json array": (b'[{"email": "a@example.com", "first_name": "A", "last_name": "B"}]', JSON, 400),
    "json string": (b'"a@example.com"', JSON, 400),
    "json number": (b"42", JSON, 400),
    "json null": (b"null", JSON, 400),
    "empty json body": (b"", JSON, 400),
    "json with trailing garbage": (b'{"email": "a@example.com"} trailing', JSON, 400),
    "text/plain": (b'{"email": "a@example.com", "first_name": "A", "last_name": "B"}', "text/plain", 415),
    "application/xml": (b"<candidate><email>a@example.com</email></candidate>", "application/xml", 415),
    "text/html": (b"<form></form>", "text/html; charset=utf-8", 415),
    "multipart without boundary": (b"--x\r\n\r\n--x--\r\n", "multipart/form-data", 400),
}


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("case", sorted(MALFORMED_PUBLIC))
def test_public_malformed_or_unsupported_body(world: World, which: str, case: str) -> None:
    body, content_type, status = MALFORMED_PUBLIC[case]
    rejected(world, "POST", public_path(world, which), body, content_type, status)


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
def test_public_invalid_fields_are_all_named(world: World, which: str, encoding: str) -> None:
    fields = {"first_name": "Ann", "last_name": "Lee", "linkedin_url": "javascript:alert(1)"}
    body, content_type = encode(encoding, fields)
    problem = rejected(world, "POST", public_path(world, which), body, content_type, 422)
    assert fields_named(problem) >= {"email", "linkedin_url"}, problem


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
def test_public_many_invalid_fields(world: World, which: str, encoding: str) -> None:
    fields = {
        "email": "not-an-email",
        "first_name": " ",
        "last_name": "L" * 500,
        "phone": "call me maybe",
        "linkedin_url": "ftp://example.com/in/ann",
        "tags": ["ok", "!!!"],
    }
    body, content_type = encode(encoding, fields)
    problem = rejected(world, "POST", public_path(world, which), body, content_type, 422)
    assert fields_named(problem) == {"email", "first_name", "last_name", "phone", "linkedin_url", "tags"}, (
        problem
    )


@pytest.mark.parametrize("which", PUBLIC)
def test_public_invalid_fields_with_a_valid_resume_store_no_resume(world: World, which: str) -> None:
    body, content_type = encode(
        "multipart",
        {"first_name": "Ann", "last_name": "Lee"},
        {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")},
    )
    problem = rejected(world, "POST", public_path(world, which), body, content_type, 422)
    assert "email" in fields_named(problem)


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("encoding", ["json", "urlencoded"])
def test_public_body_over_64_kb_is_413(world: World, which: str, encoding: str) -> None:
    body, content_type = encode(encoding, person(location="x" * (65 * KB)))
    rejected(world, "POST", public_path(world, which), body, content_type, 413)


@pytest.mark.parametrize("which", PUBLIC)
def test_public_multipart_over_6_mb_is_413(world: World, which: str) -> None:
    big = MINIMAL_PDF + b"0" * (6 * MB + 10 * KB)
    body, content_type = encode("multipart", person(), {"resume": ("cv.pdf", big, "application/pdf")})
    assert len(body) > 6 * MB
    rejected(world, "POST", public_path(world, which), body, content_type, 413)


def test_public_json_at_the_limit_is_accepted(world: World) -> None:
    fields = person(utm_campaign="c")
    padding = 64 * KB - len(json.dumps({**fields, "notes": ""}).encode())
    body = json.dumps({**fields, "notes": "n" * padding}).encode()  # unknown fields are ignored
    assert len(body) == 64 * KB
    response = send(world, "POST", "/public/talent-network", body, JSON)
    assert response.status_code == 202, response.body


RESUMES: dict[str, tuple[str, bytes, str]] = {
    "png bytes named .pdf": ("cv.pdf", PNG, "application/pdf"),
    "text bytes named .pdf": ("cv.pdf", b"Ann Lee\nPython, AWS\n", "application/pdf"),
    "windows executable": ("setup.exe", EXE, "application/octet-stream"),
    "executable named .docx": (
        "cv.docx",
        EXE,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    "zip that is not a docx": ("cv.docx", b"PK\x03\x04" + b"\x00" * 40, "application/zip"),
    "empty file": ("cv.pdf", b"", "application/pdf"),
    "html named .doc": ("cv.doc", b"<html><script>alert(1)</script></html>", "application/msword"),
    "pdf over 5 MB": ("cv.pdf", MINIMAL_PDF + b"0" * (5 * MB + 300 * KB), "application/pdf"),
}


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("case", sorted(RESUMES))
def test_public_bad_resume_is_422_naming_resume(world: World, which: str, case: str) -> None:
    body, content_type = encode("multipart", person(), {"resume": RESUMES[case]})
    assert len(body) < 6 * MB
    problem = rejected(world, "POST", public_path(world, which), body, content_type, 422)
    assert fields_named(problem) == {"resume"}, problem


@pytest.mark.parametrize(("filename", "data"), [("cv.pdf", MINIMAL_PDF), ("cv.docx", docx_bytes())])
def test_public_good_resume_is_stored(world: World, filename: str, data: bytes) -> None:
    """The positive control for the resume cases: a real PDF and a real DOCX are accepted and stored."""
    before = snapshot(world)
    email = unique_email("resume")
    body, content_type = encode(
        "multipart", person(email=email), {"resume": (filename, data, "application/pdf")}
    )
    response = send(world, "POST", public_path(world, "application"), body, content_type)
    assert response.status_code == 202, response.body
    after = snapshot(world)
    assert len(after[1]) == len(before[1]) + 1
    assert len(after[0]) > len(before[0])


def _closed_job(w: World) -> str:
    return str(w.admin("POST", "/v1/jobs", {"title": "Closed role", "status": "closed"}, 201)["id"])


def _closed_later_job(w: World) -> str:
    job_id = str(w.admin("POST", "/v1/jobs", {"title": "Filled role"}, 201)["id"])
    w.admin("PATCH", f"/v1/jobs/{job_id}", {"status": "closed"})
    return job_id


@pytest.mark.parametrize(
    "job",
    [
        pytest.param(lambda w: "0123456789abcdef0123456789abcdef", id="unknown id"),
        pytest.param(lambda w: "no-such-job", id="unknown slug"),
        pytest.param(_closed_job, id="created closed"),
        pytest.param(_closed_later_job, id="closed after opening"),
    ],
)
@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
def test_application_to_a_missing_or_closed_job_is_404(
    world: World, job: Callable[[World], str], encoding: str
) -> None:
    job_id = job(world)
    files = {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")} if encoding == "multipart" else None
    body, content_type = encode(encoding, person(), files)
    rejected(world, "POST", f"/public/jobs/{job_id}/applications", body, content_type, 404)


@pytest.mark.parametrize("which", PUBLIC)
@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
def test_honeypot_gets_202_and_stores_nothing(world: World, which: str, encoding: str) -> None:
    files = {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")} if encoding == "multipart" else None
    body, content_type = encode(encoding, person(website="http://spam.example.com"), files)
    before = snapshot(world)
    response = send(world, "POST", public_path(world, which), body, content_type)
    assert response.status_code == 202, response.body
    assert response.json_body == {"status": "received"}
    assert snapshot(world) == before


def test_unknown_public_fields_are_ignored(world: World) -> None:
    body, content_type = encode("json", person(favourite_colour="green", admin=True))
    assert send(world, "POST", "/public/talent-network", body, content_type).status_code == 202


# ---------------------------------------------------------------------------------- /v1 write routes


def _v1_candidate(w: World) -> str:
    return w.new_candidate()


# name -> (method, path maker, a valid body, an invalid body, the fields it must name)
V1_WRITES: dict[str, tuple[str, Callable[[World], str], dict[str, Any], dict[str, Any], set[str]]] = {
    "create candidate": (
        "POST",
        lambda w: "/v1/candidates",
        {"email": "valid@example.com", "first_name": "V", "last_name": "W"},
        {"first_name": "Ann", "last_name": "", "linkedin_url": "notaurl", "tags": ["fine", "#!"]},
        {"email", "last_name", "linkedin_url", "tags"},
    ),
    "update candidate": (
        "PATCH",
        lambda w: f"/v1/candidates/{w.candidate_id}",
        {"version": 1, "first_name": "Changed"},
        {"version": 0, "email": "nope", "phone": "abc"},
        {"version", "email", "phone"},
    ),
    "add note": (
        "POST",
        lambda w: f"/v1/candidates/{w.candidate_id}/notes",
        {"body": "A note"},
        {"body": "   "},
        {"body"},
    ),
    "create job": (
        "POST",
        lambda w: "/v1/jobs",
        {"title": "A job"},
        {"title": "", "status": "paused", "tags": "bad tag!"},
        {"title", "status", "tags"},
    ),
    "update job": (
        "PATCH",
        lambda w: f"/v1/jobs/{w.job_id}",
        {"title": "Renamed"},
        {"status": "archived", "title": "", "description": 5},
        {"status", "title", "description"},
    ),
    "create pool": (
        "POST",
        lambda w: "/v1/pools",
        {"name": "A pool"},
        {"name": "", "description": ["x"]},
        {"name", "description"},
    ),
    "add pool member": (
        "POST",
        lambda w: f"/v1/pools/{w.pool_id}/members",
        {"candidate_id": "abc"},
        {"candidate_id": "../../etc/passwd", "stage": "bad!stage"},
        {"candidate_id", "stage"},
    ),
    "create api key": (
        "POST",
        lambda w: "/v1/api-keys",
        {"name": "sync"},
        {"name": "", "scope": "root"},
        {"name", "scope"},
    ),
    "create campaign": (
        "POST",
        lambda w: "/v1/campaigns",
        {"name": "Autumn", "template_id": "t1"},
        {"name": "", "template_id": "../x", "send_at": "tomorrow", "audience": {"tags": ["#!"]}},
        {"name", "template_id", "send_at", "audience"},
    ),
    "create sequence": (
        "POST",
        lambda w: "/v1/sequences",
        {"name": "Warm", "steps": [{"template_id": "t1", "delay_days": 1}]},
        {"name": "", "steps": [{"template_id": "", "delay_days": "soon"}], "stop_on": ["never"]},
        {"name", "steps", "stop_on"},
    ),
    "create reminder": (
        "POST",
        lambda w: "/v1/reminders",
        {"candidate_id": "c1", "due_at": "2030-01-01T09:00:00Z", "note": "Call"},
        {"candidate_id": "", "due_at": "yesterday", "note": ""},
        {"candidate_id", "due_at", "note"},
    ),
    "sign in": (
        "POST",
        lambda w: "/auth/login",
        {"username": "admin@example.com", "password": "x"},
        {"username": "", "password": ""},
        {"username", "password"},
    ),
}

V1_MALFORMED: dict[str, tuple[bytes, str | None, int]] = {
    "malformed json": (b'{"name": ', JSON, 400),
    "json array": (b'[{"name": "x"}]', JSON, 400),
    "json string": (b'"x"', JSON, 400),
    "empty body": (b"", JSON, 400),
    "invalid utf-8": (b'{"name": "\xff\xfe"}', JSON, 400),
    "text/plain": (b'{"name": "x"}', "text/plain", 415),
    "application/xml": (b"<name>x</name>", "application/xml", 415),
    "urlencoded": (b"name=x", FORM, 415),
    "multipart": (
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--b--\r\n',
        "multipart/form-data; boundary=b",
        415,
    ),
}


def _auth(w: World, name: str) -> dict[str, str]:
    return {} if name == "sign in" else w.headers["admin"]


@pytest.mark.parametrize("route", sorted(V1_WRITES))
@pytest.mark.parametrize("case", sorted(V1_MALFORMED))
def test_v1_malformed_or_unsupported_body(world: World, route: str, case: str) -> None:
    method, path, *_ = V1_WRITES[route]
    body, content_type, status = V1_MALFORMED[case]
    rejected(world, method, path(world), body, content_type, status, _auth(world, route))


@pytest.mark.parametrize("route", sorted(V1_WRITES))
def test_v1_invalid_fields_are_all_named(world: World, route: str) -> None:
    method, path, _, invalid, names = V1_WRITES[route]
    problem = rejected(
        world, method, path(world), json.dumps(invalid).encode(), JSON, 422, _auth(world, route)
    )
    assert fields_named(problem) == names, problem


@pytest.mark.parametrize("route", sorted(V1_WRITES))
def test_v1_unknown_fields_are_422(world: World, route: str) -> None:
    method, path, valid, *_ = V1_WRITES[route]
    body = json.dumps({**valid, "is_admin": True}).encode()
    problem = rejected(world, method, path(world), body, JSON, 422, _auth(world, route))
    assert fields_named(problem) == {"is_admin"}, problem


def route_doc(method: str, path: str) -> Any:
    """The declared route a concrete path belongs to."""
    from chalicelib.web.endpoint import ROUTE_DOCS

    for doc in ROUTE_DOCS:
        pattern = re.sub(r"\{\w+\}", "[^/]+", doc.path)
        if doc.method == method and re.fullmatch(pattern, path):
            return doc
    raise AssertionError(f"no route {method} {path}")


@pytest.mark.parametrize("route", sorted(V1_WRITES))
def test_v1_body_over_the_routes_limit_is_413(world: World, route: str) -> None:
    """Each route reads bodies up to the largest valid one (at least 64 KB): one byte more is a 413."""
    method, path, valid, *_ = V1_WRITES[route]
    limit = route_doc(method, path(world)).max_body_bytes
    assert limit >= 64 * KB
    body = json.dumps({**valid, "padding": ""}).encode()
    body = json.dumps({**valid, "padding": "p" * (limit + 1 - len(body))}).encode()
    assert len(body) == limit + 1
    rejected(world, method, path(world), body, JSON, 413, _auth(world, route))


def test_stale_version_is_409_with_the_current_record(world: World) -> None:
    cid = world.new_candidate()
    updated = world.admin("PATCH", f"/v1/candidates/{cid}", {"version": 1, "location": "Lisbon"})
    assert updated["version"] == 2
    problem = rejected(
        world,
        "PATCH",
        f"/v1/candidates/{cid}",
        json.dumps({"version": 1, "location": "Porto"}).encode(),
        JSON,
        409,
        world.headers["admin"],
    )
    assert problem["current"]["id"] == cid
    assert problem["current"]["version"] == 2
    assert problem["current"]["location"] == "Lisbon"
    assert world.admin("GET", f"/v1/candidates/{cid}")["location"] == "Lisbon"


def test_future_version_is_409(world: World) -> None:
    cid = world.new_candidate()
    problem = rejected(
        world,
        "PATCH",
        f"/v1/candidates/{cid}",
        json.dumps({"version": 7, "location": "Porto"}).encode(),
        JSON,
        409,
        world.headers["admin"],
    )
    assert problem["current"]["version"] == 1


@pytest.mark.parametrize("variant", [str.lower, str.upper, lambda e: f"  {e.title()}  "])
def test_duplicate_email_is_409_with_the_existing_id(world: World, variant: Callable[[str], str]) -> None:
    email = unique_email("dup")
    first = world.admin("POST", "/v1/candidates", {"email": email, "first_name": "A", "last_name": "B"}, 201)
    body = json.dumps({"email": variant(email), "first_name": "C", "last_name": "D"}).encode()
    problem = rejected(world, "POST", "/v1/candidates", body, JSON, 409, world.headers["admin"])
    assert problem["existing_id"] == first["id"]


def test_changing_email_to_a_taken_one_is_409(world: World) -> None:
    taken = unique_email("taken")
    other = world.admin("POST", "/v1/candidates", {"email": taken, "first_name": "A", "last_name": "B"}, 201)
    cid = world.new_candidate()
    problem = rejected(
        world,
        "PATCH",
        f"/v1/candidates/{cid}",
        json.dumps({"version": 1, "email": taken.upper()}).encode(),
        JSON,
        409,
        world.headers["admin"],
    )
    assert problem.get("existing_id") == other["id"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", "/v1/candidates/{missing}"),
        ("POST", "/v1/candidates/{missing}/notes"),
        ("PATCH", "/v1/jobs/{missing}"),
        ("POST", "/v1/pools/{missing}/members"),
        ("DELETE", "/v1/candidates/{missing}"),
        ("DELETE", "/v1/pools/{missing}/members/{missing}"),
        ("DELETE", "/v1/api-keys/{missing}"),
    ],
)
def test_writes_to_missing_resources_are_404(world: World, method: str, path: str) -> None:
    bodies = {
        "/v1/candidates/{missing}": {"version": 1, "first_name": "X"},
        "/v1/candidates/{missing}/notes": {"body": "x"},
        "/v1/jobs/{missing}": {"title": "x"},
        "/v1/pools/{missing}/members": {"candidate_id": world.candidate_id},
    }
    body = json.dumps(bodies[path]).encode() if path in bodies else b""
    url = path.replace("{missing}", "0123456789abcdef")
    rejected(world, method, url, body, JSON if body else None, 404, world.headers["admin"])


def test_adding_a_missing_candidate_to_a_pool_is_404(world: World) -> None:
    body = json.dumps({"candidate_id": "0123456789abcdef"}).encode()
    rejected(world, "POST", f"/v1/pools/{world.pool_id}/members", body, JSON, 404, world.headers["admin"])


# ---------------------------------------------------------------------------------- lists


def _list_paths(w: World) -> list[str]:
    return [
        "/v1/candidates",
        "/v1/candidates?tag=python",
        "/v1/candidates?q=ann",
        "/v1/jobs",
        "/v1/jobs?status=open",
        f"/v1/jobs/{w.job_id}/applications",
        "/v1/pools",
        f"/v1/pools/{w.pool_id}/members",
        f"/v1/candidates/{w.candidate_id}/timeline",
        f"/v1/candidates/{w.candidate_id}/notes",
        f"/v1/candidates/{w.candidate_id}/applications",
        "/v1/api-keys",
    ]


def _with(path: str, query: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}{query}"


@pytest.mark.parametrize("limit", ["0", "101", "abc", "-1", "1.5", "", "1e3"])
def test_bad_limit_is_422(world: World, limit: str) -> None:
    for path in _list_paths(world):
        response = world.call("GET", _with(path, f"limit={limit}"), headers=world.headers["admin"])
        problem = assert_problem(response, 422)
        assert fields_named(problem) == {"limit"}, (path, problem)


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limits_at_the_bounds_are_accepted(world: World, limit: str) -> None:
    for path in _list_paths(world):
        response = world.call("GET", _with(path, f"limit={limit}"), headers=world.headers["admin"])
        assert response.status_code == 200, (path, response.body)
        assert set(response.json_body) == {"items", "next_cursor"}, path


GARBLED_CURSORS = [
    "%25%25%25not-base64",
    "bm90IGpzb24",  # base64 of "not json"
    "WzEsMiwzXQ",  # base64 of [1,2,3]
    "eyJwayI6IDF9",  # base64 of {"pk": 1}
    "eyJwayI6ICJYIiwgInNrIjogIlkiLCAiZXZpbCI6ICJaIn0",  # {"pk": "X", "sk": "Y", "evil": "Z"}
    "eyJwayI6ICIiLCAic2siOiAiIn0",  # {"pk": "", "sk": ""}
    "x" * 3000,
]


@pytest.mark.parametrize("cursor", GARBLED_CURSORS, ids=range(len(GARBLED_CURSORS)))
def test_garbled_cursor_is_400(world: World, cursor: str) -> None:
    for path in _list_paths(world):
        response = world.call("GET", _with(path, f"cursor={cursor}"), headers=world.headers["admin"])
        status = 422 if len(cursor) > 2048 else 400  # an overlong cursor fails the query's validation
        assert_problem(response, status)


def test_cursor_from_another_list_never_leaks_or_fails(world: World) -> None:
    """A well-formed cursor from another list, or pointing into another partition.

    DynamoDB rejects an ExclusiveStartKey outside the query's key condition ("The provided starting
    key is outside query boundaries"), which the API answers with 400; moto does not check it and
    simply starts there. Either way: no 5xx, and a page only ever holds items of the list asked for.
    """
    for _ in range(3):
        world.admin("POST", "/v1/pools", {"name": f"Pool {uuid4().hex[:6]}"}, 201)
    pools_cursor = world.admin("GET", "/v1/pools?limit=1")["next_cursor"]
    assert pools_cursor
    other = world.new_candidate()
    foreign = json.dumps({"pk": f"CAND#{other}", "sk": "PROFILE"}).encode()
    import base64

    profile_cursor = base64.urlsafe_b64encode(foreign).decode().rstrip("=")
    cases = [
        ("/v1/api-keys", pools_cursor, "scope"),
        (f"/v1/candidates/{world.candidate_id}/timeline", profile_cursor, "kind"),
        (f"/v1/candidates/{world.candidate_id}/notes", profile_cursor, "body"),
    ]
    for path, cursor, marker in cases:
        response = world.call("GET", f"{path}?cursor={cursor}", headers=world.headers["admin"])
        if response.status_code != 200:
            assert_problem(response, 400)
            continue
        for item in response.json_body["items"]:
            assert marker in item, (path, item)
            assert item.get("candidate_id", world.candidate_id) == world.candidate_id, (path, item)


def test_q_combined_with_other_filters(world: World) -> None:
    """``q`` together with another filter is a filter on the projection's search text."""
    email = unique_email("combo")
    world.admin(
        "POST",
        "/v1/candidates",
        {"email": email, "first_name": "Zelda", "last_name": "Quist", "tags": ["rust"]},
        201,
    )
    world.env.pump.drain()
    for query in ("q=zel&tag=rust", "q=quist&source=api", f"q=zel&email={email}", "q=zel&tag=cobol"):
        response = world.call("GET", f"/v1/candidates?{query}", headers=world.headers["admin"])
        assert response.status_code == 200, (query, response.body)
        emails = [c["email"] for c in response.json_body["items"]]
        assert emails == ([] if "cobol" in query else [email]), (query, emails)


# ---------------------------------------------------------------------------------- idempotency


def _timeline(w: World, candidate_id: str) -> list[dict[str, Any]]:
    return list(w.admin("GET", f"/v1/candidates/{candidate_id}/timeline?limit=100")["items"])


def _find(w: World, email: str) -> str:
    """The id of the candidate with this email: adding them again is a 409 naming it, storing nothing."""
    response = w.call(
        "POST", "/v1/candidates", {"email": email, "first_name": "X", "last_name": "Y"}, w.headers["admin"]
    )
    assert response.status_code == 409, response.body
    return str(response.json_body["existing_id"])


@pytest.mark.parametrize("encoding", ["json", "urlencoded", "multipart"])
def test_idempotency_key_makes_a_retried_application_a_no_op(world: World, encoding: str) -> None:
    email = unique_email("idem")
    files = {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")} if encoding == "multipart" else None
    body, content_type = encode(encoding, person(email=email, utm_source="board"), files)
    key = {"Idempotency-Key": uuid4().hex}
    path = public_path(world, "application")
    first = send(world, "POST", path, body, content_type, key)
    assert first.status_code == 202, first.body
    cid = _find(world, email)
    timeline = _timeline(world, cid)
    before = snapshot(world)
    again = send(world, "POST", path, body, content_type, key)
    assert again.status_code == 202, again.body
    assert again.json_body == first.json_body
    assert snapshot(world) == before, "a retried POST with the same Idempotency-Key stored something"
    assert len(_timeline(world, cid)) == len(timeline)
    applications = world.admin("GET", f"/v1/candidates/{cid}/applications")["items"]
    assert len(applications) == 1
    # Without the key the same body is a new submission: one more activity (the merge).
    assert send(world, "POST", path, body, content_type).status_code == 202
    assert len(_timeline(world, cid)) > len(timeline)


def test_idempotency_key_makes_a_retried_sign_up_a_no_op(world: World) -> None:
    email = unique_email("idem-tn")
    body, content_type = encode("json", person(email=email, tags=["go"]))
    key = {"Idempotency-Key": "retry-" + uuid4().hex}
    assert send(world, "POST", "/public/talent-network", body, content_type, key).status_code == 202
    cid = _find(world, email)
    count = len(_timeline(world, cid))
    for _ in range(2):
        assert send(world, "POST", "/public/talent-network", body, content_type, key).status_code == 202
    assert len(_timeline(world, cid)) == count == 1


def test_idempotency_key_reused_with_another_body_is_a_4xx_problem(world: World) -> None:
    email = unique_email("idem-diff")
    key = {"Idempotency-Key": uuid4().hex}
    body, content_type = encode("json", person(email=email))
    assert send(world, "POST", "/public/talent-network", body, content_type, key).status_code == 202
    cid = _find(world, email)
    count = len(_timeline(world, cid))
    other, _ = encode("json", person(email=email, location="Elsewhere"))
    before = snapshot(world)
    response = send(world, "POST", "/public/talent-network", other, content_type, key)
    assert response.status_code in (409, 422), response.body
    assert_problem(response, response.status_code)
    assert snapshot(world) == before
    assert len(_timeline(world, cid)) == count


# ---------------------------------------------------------------------------------- fuzz


HOSTILE_STRINGS = [
    "",
    " ",
    "\x00",
    "\u202e\u0041",
    "😀" * 30,
    "a" * 5000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "../../etc/passwd",
    "\r\nSet-Cookie: a=b",
    "%00",
    "null",
    "true",
    "-1",
    "1e309",
    "\ud83d",
    "CAND#x",
    "EMAIL#a@b.c",
    "a@b",
    "@",
    "a" * 64 + "@" + "b" * 250 + ".com",
]
FIELD_NAMES = [
    "email",
    "first_name",
    "last_name",
    "phone",
    "location",
    "linkedin_url",
    "tags",
    "marketing_consent",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "referral_code",
    "website",
    "resume",
    "title",
    "name",
    "status",
    "version",
    "body",
    "candidate_id",
    "stage",
    "scope",
    "description",
    "department",
    "source",
    "__proto__",
    "pk",
    "sk",
    "",
]


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return rng.choice(HOSTILE_STRINGS)
    if kind == 1:
        return rng.choice([0, -1, 2**63, -(2**70), 1.5, float("1e308")])
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(0, 40)))
    if kind == 4:
        return unique_email("fuzz")
    if kind == 5:
        return "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 20)))
    if kind == 6:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if kind == 7:
        return {rng.choice(FIELD_NAMES): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    return [rng.choice(HOSTILE_STRINGS)] * rng.randrange(0, 40)


def _raw(value: str) -> bytes:
    """A string's bytes, lone surrogates included (as invalid UTF-8)."""
    return value.encode("utf-8", "surrogatepass")


def _random_body(rng: random.Random) -> tuple[bytes, str | None]:
    shape = rng.randrange(10)
    if shape == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 200))), rng.choice([JSON, FORM, None])
    if shape == 1:
        return json.dumps(_random_value(rng)).encode(), JSON
    if shape == 2:
        fields = {
            rng.choice(FIELD_NAMES): _raw(rng.choice(HOSTILE_STRINGS)) for _ in range(rng.randrange(0, 6))
        }
        return urlencode(fields).encode(), FORM
    if shape == 3:
        fields: list[tuple[str, Any]] = [
            (rng.choice(FIELD_NAMES), _raw(rng.choice(HOSTILE_STRINGS))) for _ in range(rng.randrange(0, 6))
        ]
        if rng.random() < 0.5:
            fields.append(
                (
                    "resume",
                    (
                        rng.choice(["cv.pdf", "a.exe", "", "../x"]),
                        rng.choice([MINIMAL_PDF, PNG, EXE, b"", docx_bytes()]),
                        "application/octet-stream",
                    ),
                )
            )
        import urllib3

        data, content_type = urllib3.encode_multipart_formdata(fields)
        return data, content_type
    if shape == 4:
        return b'--b\r\nContent-Disposition: form-data; name="email"\r\n\r\n' + bytes(
            rng.randrange(256) for _ in range(50)
        ), rng.choice(
            [
                "multipart/form-data; boundary=b",
                "multipart/form-data; boundary=",
                'multipart/form-data; boundary=""',
            ]
        )
    if shape == 5:
        return b"", rng.choice(
            [
                "application/json; charset=latin-1",
                "APPLICATION/JSON",
                "application/json;;;",
                "*/*",
                "application/x-www-form-urlencoded; charset=utf-16",
                "image/png",
            ]
        )
    # A person with a few fields replaced by hostile values.
    fields = person()
    for _ in range(rng.randrange(1, 4)):
        fields[rng.choice(FIELD_NAMES)] = _random_value(rng)
    return json.dumps(fields).encode(), JSON


def test_fuzzed_bodies_never_get_a_5xx(world: World) -> None:
    rng = random.Random(20240611)  # reproducible fuzzing, not cryptography
    targets = [
        ("POST", "/public/talent-network", {}),
        ("POST", f"/public/jobs/{world.job_id}/applications", {}),
        ("POST", "/v1/candidates", world.headers["admin"]),
        ("POST", f"/v1/candidates/{world.candidate_id}/notes", world.headers["rw_key"]),
        ("POST", "/v1/jobs", world.headers["recruiter"]),
        ("POST", "/v1/pools", world.headers["admin"]),
        ("POST", f"/v1/pools/{world.pool_id}/members", world.headers["admin"]),
        ("PATCH", f"/v1/candidates/{world.candidate_id}", world.headers["admin"]),
        ("POST", "/auth/login", {}),
        ("POST", "/public/job-alerts", {}),
        ("POST", "/v1/campaigns", world.headers["admin"]),
        ("POST", "/v1/sequences", world.headers["rw_key"]),
        ("POST", "/v1/reminders", world.headers["recruiter"]),
    ]
    failures = []
    for i in range(40):
        body, content_type = _random_body(rng)
        for method, path, auth in targets:
            response = send(world, method, path, body, content_type, auth)
            if response.status_code >= 500:
                failures.append(
                    (i, method, path, content_type, body[:200], response.status_code, response.body)
                )
            elif response.status_code >= 400:
                assert header(response, "content-type").startswith("application/problem+json"), (
                    response.headers
                )
                problem = json.loads(response.body)
                assert {"type", "title", "status", "detail"} <= set(problem)
    assert not failures, failures[:5]


@pytest.mark.parametrize("seed", range(3))
def test_fuzzed_query_strings_never_get_a_5xx(world: World, seed: int) -> None:
    rng = random.Random(seed)
    names = ["limit", "cursor", "q", "email", "tag", "pool", "source", "status"]
    for _ in range(15):
        query = urlencode(
            {rng.choice(names): _raw(rng.choice(HOSTILE_STRINGS)) for _ in range(rng.randrange(1, 4))}
        )
        for path in (
            "/v1/candidates",
            "/v1/jobs",
            "/v1/pools",
            f"/v1/candidates/{world.candidate_id}/timeline",
            "/v1/campaigns",
            "/v1/sequences",
            "/v1/reminders",
        ):
            response = world.call("GET", f"{path}?{query}", headers=world.headers["admin"])
            assert response.status_code < 500, (path, query, response.body)
            if response.status_code >= 400:
                assert_problem(response, response.status_code)
