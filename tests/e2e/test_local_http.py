"""The local server's own answers, over real sockets: every error is problem+json, never Python's
HTML error page and never a 5xx, and a burst of connections is served, not reset.

One ``crm dev --no-seed`` serves every test of the module. Raw sockets are used where an HTTP
client would refuse to send what is tested (a malformed request line, a 64 KiB header) or would
hide what the server did (a reset, a closed connection).
"""

from __future__ import annotations

import http.client
import json
import signal
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.e2e.conftest import CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmDev]:
    dev = CrmDev(tmp_path_factory.mktemp("e2e-http") / "data", "--no-seed")
    dev.start("--fresh")
    try:
        yield dev
    finally:
        if dev.process is not None:
            dev.stop_cleanly(signal.SIGTERM)


def raw(stack: CrmDev, data: bytes, *, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as is; the status, headers (lower-case names) and body of the one answer."""
    with socket.create_connection(("127.0.0.1", stack.port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if _complete(b"".join(chunks)):
                break
    return parse(b"".join(chunks))


def _complete(data: bytes) -> bool:
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1."), data[:200]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict[str, Any]:
    assert status == expected, (status, body[:300])
    assert headers["content-type"].split(";")[0] == PROBLEM, headers
    problem = json.loads(body)
    assert {"type", "title", "status", "detail"} <= set(problem), problem
    assert problem["status"] == expected
    assert b"<html" not in body.lower()
    return dict(problem)


def assert_problem_response(response: requests.Response, expected: int) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in response.headers.items()}
    return assert_problem(response.status_code, headers, response.content, expected)


@pytest.mark.parametrize("method", ["TRACE", "FOOBAR", "DELETE", "PUT"])
def test_a_method_the_path_does_not_allow_is_405_with_allow(stack: CrmDev, method: str) -> None:
    response = stack.http.request(method, stack.base_url + "/health", timeout=30)
    problem = assert_problem_response(response, 405)
    assert response.headers["Allow"] == "GET"
    assert method in problem["detail"]


def test_a_method_on_a_path_with_several_lists_them_all(stack: CrmDev) -> None:
    response = stack.http.request("TRACE", stack.base_url + "/v1/candidates", timeout=30)
    assert_problem_response(response, 405)
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"GET", "POST"}


@pytest.mark.parametrize("method", ["GET", "POST", "TRACE", "FOOBAR"])
@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
def test_no_route_is_the_templates_404_whatever_the_method_and_credentials(
    stack: CrmDev, method: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = stack.http.request(method, stack.base_url + "/no/such/route", headers=headers, timeout=30)
    problem = assert_problem_response(response, 404)
    assert problem["detail"] == "No route matches this method and path."


def test_a_body_over_the_gateways_limit_is_413_without_being_read(stack: CrmDev) -> None:
    request = (
        b"POST /public/talent-network HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 10485761\r\n\r\n{"
    )
    assert_problem(*raw(stack, request), 413)


def test_a_client_sending_the_whole_oversized_body_still_reads_the_413(stack: CrmDev) -> None:
    """The server answers without reading the body, then reads and drops it before closing: a
    close with unread input would reset the connection under the client."""
    size = 10 * 1024 * 1024 + 1
    request = (
        b"POST /public/talent-network HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {size}\r\n\r\n".encode()
        + b"x" * size
    )
    assert_problem(*raw(stack, request, timeout=60), 413)


def test_a_form_over_the_apps_limit_is_413(stack: CrmDev) -> None:
    body = json.dumps({"email": "big@example.com", "first_name": "A", "last_name": "B", "x": "y" * 200_000})
    response = stack.post("/public/talent-network", data=body, headers={"Content-Type": "application/json"})
    assert_problem_response(response, 413)


@pytest.mark.parametrize(
    ("request_bytes", "expected"),
    [
        (b"GARBAGE\r\n\r\n", 400),  # a request line of one word
        (b"GET /health HTTP/1.1 extra\r\n\r\n", 400),  # four words
        (b"GET /health HTTP/9.Z\r\nHost: x\r\n\r\n", 400),  # not a version
        (b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 400),  # Python answers 505: a 5xx for the client
        (b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"POST /public/talent-network HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n", 400),
        (b"POST /public/talent-network HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        (
            b"POST /public/talent-network HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            411,
        ),
        (b"G(E)T /health HTTP/1.1\r\nHost: x\r\n\r\n", 400),  # not a method token
    ],
)
def test_what_the_http_parser_refuses_is_problem_json(
    stack: CrmDev, request_bytes: bytes, expected: int
) -> None:
    status, headers, body = raw(stack, request_bytes)
    assert_problem(status, headers, body, expected)
    assert headers.get("connection") == "close"


def test_a_keep_alive_connection_survives_a_405(stack: CrmDev) -> None:
    session = requests.Session()
    session.trust_env = False
    first = session.request("TRACE", stack.base_url + "/health", data=b"a body to skip", timeout=30)
    assert first.status_code == 405
    second = session.get(stack.base_url + "/health", timeout=30)
    assert second.status_code == 200 and second.json() == {"status": "ok"}


def test_head_gets_no_body(stack: CrmDev) -> None:
    status, headers, body = raw(stack, b"HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 405 and int(headers["content-length"]) > 0
    assert body == b""


def test_sixty_visitors_connecting_at_once_are_all_answered(stack: CrmDev) -> None:
    """A burst of career-site visitors: 60 connections opened at the same instant, each posting
    a sign-up. With ``socketserver``'s listen backlog of 5 most of them were reset."""
    count = 60
    ready = threading.Barrier(count)
    results: list[Any] = [None] * count

    def visitor(n: int) -> None:
        body = json.dumps({"email": f"burst.{n}@example.com", "first_name": "Burst", "last_name": f"V{n}"})
        try:
            ready.wait(timeout=30)
            conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
            conn.request(
                "POST", "/public/talent-network", body.encode(), {"Content-Type": "application/json"}
            )
            response = conn.getresponse()
            response.read()
            results[n] = response.status
            conn.close()
        except OSError as exc:
            results[n] = type(exc).__name__

    threads = [threading.Thread(target=visitor, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results == [202] * count
