"""Serve the Chalice app in-process, as API Gateway would in front of it.

Uses Chalice's own local server (``chalice.local``) on a thread, with these changes:

* request lines are logged without query strings (they may carry e-mail
  addresses) through :mod:`logging` instead of raw stderr;
* what API Gateway answers by itself (no such route, body too large, authorizer
  refusals) follows the template's ``GatewayResponses`` when it declares them, so
  the local API answers like the deployed one (e.g. 404 problem+json rather than
  Chalice local's 403 "Missing Authentication Token"), with or without an
  ``Authorization`` header;
* every method reaches the app, not only the seven Chalice local knows: ``TRACE`` or
  ``FOOBAR`` on a path that exists gets the app's 405 (with ``Allow``), on one that does
  not the template's answer for no such route; what the HTTP parser itself refuses
  (a malformed request line, a header line too long, an unusable ``Content-Length``) is
  problem+json too, never Python's HTML error page, and never a 5xx;
* the listen backlog is 128 connections, not ``socketserver``'s 5 (a burst of visitors
  was reset), responses leave in one write with ``TCP_NODELAY`` (headers and body in two
  writes made every keep-alive request wait ~40 ms for a delayed ACK), and a client that
  stops sending is dropped after :data:`IDLE_TIMEOUT` seconds instead of holding a thread.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from http import HTTPStatus
from pathlib import Path
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    CustomLocalChalice,
    ForbiddenError,
    LocalChalice,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
    ThreadedHTTPServer,
)

from crm_tools.cfn import Resolver, Template

log = logging.getLogger("devstack.http")

#: API Gateway's payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024
#: Connections the kernel queues before the server accepts them (``socketserver``'s default is 5).
LISTEN_BACKLOG = 128
#: Seconds a connection may stay silent (between requests, or mid-request) before it is closed.
IDLE_TIMEOUT = 60.0
#: Seconds a refused request's unread input is read and dropped before the connection closes.
DRAIN_SECONDS = 2.0
#: An HTTP method is a token (RFC 9110, section 5.6.2).
_METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
PROBLEM_JSON = "application/problem+json"
_PARSER_REFUSALS = {
    int(HTTPStatus.REQUEST_URI_TOO_LONG): "The request line is longer than 64 KiB.",
    int(
        HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
    ): "A header line is too long, or there are too many headers.",
}

_API_TYPES = ("AWS::Serverless::Api", "AWS::ApiGateway::RestApi")


def gateway_responses(template: Template, resolver: Resolver) -> dict[str, dict[str, Any]]:
    """The ``GatewayResponses`` of the template's REST API (SAM form), resolved."""
    found: dict[str, dict[str, Any]] = {}
    for logical_id in template.of_type(*_API_TYPES):
        props = template.properties(logical_id).get("GatewayResponses")
        if props:
            found.update(resolver.resolve(props))
    for logical_id in template.of_type("AWS::ApiGateway::GatewayResponse"):
        props = resolver.resolve(template.properties(logical_id))
        headers = {
            k.removeprefix("gatewayresponse.header."): v
            for k, v in (props.get("ResponseParameters") or {}).items()
        }
        found[props["ResponseType"]] = {
            "StatusCode": props.get("StatusCode"),
            "ResponseParameters": {"Headers": headers},
            "ResponseTemplates": props.get("ResponseTemplates") or {},
        }
    return found


#: Every gateway response type and its default status, as API Gateway documents them
#: (DEFAULT_4XX and DEFAULT_5XX have none: they stand in for the types a template leaves out).
DEFAULT_STATUS = {
    "ACCESS_DENIED": 403,
    "API_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_CONFIGURATION_ERROR": 500,
    "AUTHORIZER_FAILURE": 500,
    "BAD_REQUEST_PARAMETERS": 400,
    "BAD_REQUEST_BODY": 400,
    "EXPIRED_TOKEN": 403,
    "INTEGRATION_FAILURE": 504,
    "INTEGRATION_TIMEOUT": 504,
    "INVALID_API_KEY": 403,
    "INVALID_SIGNATURE": 403,
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "QUOTA_EXCEEDED": 429,
    "REQUEST_TOO_LARGE": 413,
    "RESOURCE_NOT_FOUND": 404,
    "THROTTLED": 429,
    "UNAUTHORIZED": 401,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "WAF_FILTERED": 403,
}


def render_gateway_response(
    responses: dict[str, dict[str, Any]], response_type: str, message: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body API Gateway sends for ``response_type``."""
    default_kind = "DEFAULT_5XX" if DEFAULT_STATUS.get(response_type, 400) >= 500 else "DEFAULT_4XX"
    spec = responses.get(response_type) or responses.get(default_kind) or {}
    status = int(spec.get("StatusCode") or DEFAULT_STATUS.get(response_type, 400))
    headers = {
        name: str(value).strip("'")
        for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items()
    }
    templates = spec.get("ResponseTemplates") or {}
    body_template = templates.get("application/json")
    if body_template is None:
        body = json.dumps({"message": message})
    else:
        body = body_template.replace("$context.error.messageString", json.dumps(message))
        body = body.replace("$context.error.message", message)
    headers.setdefault("Content-Type", "application/json")
    return status, headers, body.encode("utf-8")


def problem_body(status: int, detail: str) -> bytes:
    """An RFC 9457 body for an answer the local server gives by itself (about:blank: the title is
    the status's own phrase)."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()


class LocalRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with quieter logs, API Gateway's own answers, every method,
    problem+json for what the HTTP parser refuses, and responses in one write."""

    gateway: dict[str, dict[str, Any]] = {}
    request_version: str
    _drain = False  # read and drop the rest of the input before closing (see ``finish``)
    disable_nagle_algorithm = True  # TCP_NODELAY (socketserver.StreamRequestHandler.setup)
    timeout = IDLE_TIMEOUT

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = (getattr(self, "path", None) or "").split("?", 1)[0]
        log.info("%s %s %s", self.command or "-", path or "-", int(code) if isinstance(code, int) else code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def log_error(self, format: str, *args: Any) -> None:
        """Not logged with its arguments: the standard library puts the request line in them."""
        log.debug("http: request refused")

    def __getattr__(self, name: str) -> Any:
        """``do_<METHOD>`` for every method: the app (or the gateway) decides what it gets."""
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    # ------------------------------------------------------------ errors

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What the HTTP parser refuses, as problem+json (never HTML, never a 5xx: each of these is
        about what the client sent). The connection is closed after it."""
        status = int(code)
        if status >= 500:
            status = int(HTTPStatus.BAD_REQUEST)
        detail = _PARSER_REFUSALS.get(status, "The request could not be parsed as HTTP/1.1.")
        self.close_connection = self._drain = True
        if self.request_version in ("", "HTTP/0.9"):
            self.request_version = "HTTP/1.0"  # unparsable: answer with a status line and headers
        self._send_http_response(
            status, {"Content-Type": PROBLEM_JSON, "Connection": "close"}, problem_body(status, detail)
        )

    def _refuse(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        """A problem+json answer after which the connection is closed (the body was not read)."""
        self.close_connection = self._drain = True
        sent = {"Content-Type": PROBLEM_JSON, **(headers or {}), "Connection": "close"}
        self._send_http_response(status, sent, problem_body(status, detail))

    def _send_error_response(self, error: LocalGatewayException) -> None:
        body = error.body or b""
        if isinstance(error, ForbiddenError) and (
            b"Missing Authentication Token" in body or b"Authorization header requires" in body
        ):
            # No route matched (Chalice local answers differently when the request carries an
            # Authorization header; API Gateway gives both the MISSING_AUTHENTICATION_TOKEN response).
            kind, message = "MISSING_AUTHENTICATION_TOKEN", "Missing Authentication Token"
        elif isinstance(error, ForbiddenError):
            kind, message = "ACCESS_DENIED", "Forbidden"
        elif isinstance(error, NotAuthorizedError):
            kind, message = "UNAUTHORIZED", "Unauthorized"
        else:
            super()._send_error_response(error)
            return
        if kind not in self.gateway and "DEFAULT_4XX" not in self.gateway:
            super()._send_error_response(error)
            return
        status, headers, payload = render_gateway_response(self.gateway, kind, message)
        self._send_http_response(status, headers, payload)

    # ------------------------------------------------------------ requests

    def _handle(self) -> None:
        if not _METHOD.fullmatch(self.command or ""):
            self._refuse(HTTPStatus.BAD_REQUEST, "The request method is not an HTTP token.")
            return
        if self.headers.get("transfer-encoding", "identity").strip().lower() != "identity":
            self._refuse(HTTPStatus.LENGTH_REQUIRED, "Send the body with a Content-Length, not chunked.")
            return
        raw_length = (self.headers.get("content-length") or "0").strip()
        if not raw_length.isdigit():
            self._refuse(HTTPStatus.BAD_REQUEST, "Content-Length is not a number of bytes.")
            return
        if int(raw_length) > MAX_REQUEST_BYTES:
            status, headers, payload = render_gateway_response(
                self.gateway, "REQUEST_TOO_LARGE", "Request Too Long"
            )
            headers["Connection"] = "close"
            self.close_connection = self._drain = True
            self._send_http_response(status, headers, payload)
            return
        self._generic_handle()

    def finish(self) -> None:
        """After an answer sent without reading the request (too large, unparsable), read what the
        client still sends for a moment before closing: closing with unread input resets the
        connection, and a client still sending its body could lose the answer."""
        super().finish()
        if not self._drain:
            return
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(DRAIN_SECONDS)
            deadline = time.monotonic() + DRAIN_SECONDS
            drained = 0
            while time.monotonic() < deadline and drained < MAX_REQUEST_BYTES + 65536:
                chunk = self.connection.recv(65536)
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle

    def _send_http_response(self, code: int, headers: dict[str, Any], body: str | bytes | None) -> None:
        """Status line, headers and body in one write (as Chalice local sends them, but in two
        writes a keep-alive client waited for a delayed ACK); no body on a HEAD answer."""
        payload = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        headers = dict(headers)
        content_type = None
        for name in [n for n in headers if n.lower() == "content-type"]:
            content_type = headers.pop(name)
        if content_type is None and body is not None:
            content_type = "application/json"
        self.send_response(int(code))
        self.send_header("Content-Length", str(len(payload)))
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            if name.lower() == "content-length":
                continue
            for one in value if isinstance(value, list) else [value]:
                self.send_header(name, one)
        buffered: list[bytes] = getattr(self, "_headers_buffer", [])
        self._headers_buffer: list[bytes] = []
        if self.request_version != "HTTP/0.9":
            buffered.append(b"\r\n")
        if self.command == "HEAD":
            payload = b""
        self.wfile.write(b"".join(buffered) + payload)


class BacklogHTTPServer(ThreadedHTTPServer):
    """Chalice local's threaded server with a listen backlog for bursts of connections."""

    request_queue_size = LISTEN_BACKLOG


class ApiServer:
    """The Chalice app on a local HTTP server thread."""

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        project_dir: Path,
        function_name: str,
        timeout: int,
        memory_size: int,
        gateway: dict[str, dict[str, Any]],
    ) -> None:
        config_path = project_dir / ".chalice" / "config.json"
        from_disk = json.loads(config_path.read_text()) if config_path.is_file() else {}
        config = Config(
            chalice_stage="dev",
            function_name=function_name,
            user_provided_params={
                "chalice_app": app,
                "project_dir": str(project_dir),
                "lambda_timeout": timeout,
                "lambda_memory_size": memory_size,
            },
            config_from_disk=from_disk,
            default_params={"autogen_policy": False},
        )
        # What chalice.local.create_local_server does (``current_request`` per thread), with our
        # handler and server classes.
        if not isinstance(app, LocalChalice):
            CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
            app.__class__ = CustomLocalChalice
        handler = type("BoundLocalRequestHandler", (LocalRequestHandler,), {"gateway": gateway})
        self.server: LocalDevServer = LocalDevServer(
            app, config, host, port, handler_cls=handler, server_cls=BacklogHTTPServer
        )
        self.function_name = function_name
        self._thread = threading.Thread(
            target=self.server.server.serve_forever, kwargs={"poll_interval": 0.2}, name="api", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server.server_address[1])

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.server.shutdown()
            self._thread.join(timeout=10)
        self.server.server.server_close()
