"""Serve the Chalice app in-process, as API Gateway would in front of it.

Uses Chalice's own local server (``chalice.local.create_local_server``) on a thread,
with two changes:

* request lines are logged without query strings (they may carry e-mail
  addresses) through :mod:`logging` instead of raw stderr;
* what API Gateway answers by itself (no such route, body too large, authorizer
  refusals) follows the template's ``GatewayResponses`` when it declares them, so
  the local API answers like the deployed one (e.g. 404 problem+json rather than
  Chalice local's 403 "Missing Authentication Token").
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path
from typing import Any

from chalice.config import Config
from chalice.local import (
    ChaliceRequestHandler,
    ForbiddenError,
    LocalDevServer,
    LocalGatewayException,
    NotAuthorizedError,
    create_local_server,
)

from crm_tools.cfn import Resolver, Template

log = logging.getLogger("devstack.http")

#: API Gateway's payload limit.
MAX_REQUEST_BYTES = 10 * 1024 * 1024

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


_DEFAULT_STATUS = {
    "MISSING_AUTHENTICATION_TOKEN": 403,
    "REQUEST_TOO_LARGE": 413,
    "UNAUTHORIZED": 401,
    "ACCESS_DENIED": 403,
}


def render_gateway_response(
    responses: dict[str, dict[str, Any]], response_type: str, message: str
) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body API Gateway sends for ``response_type``."""
    default_kind = "DEFAULT_5XX" if _DEFAULT_STATUS.get(response_type, 400) >= 500 else "DEFAULT_4XX"
    spec = responses.get(response_type) or responses.get(default_kind) or {}
    status = int(spec.get("StatusCode") or _DEFAULT_STATUS.get(response_type, 400))
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


class LocalRequestHandler(ChaliceRequestHandler):
    """Chalice's request handler with quieter logs and API Gateway's own answers."""

    gateway: dict[str, dict[str, Any]] = {}

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]
        log.info("%s %s %s", self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http: " + format, *args)

    def _send_error_response(self, error: LocalGatewayException) -> None:
        body = error.body or b""
        if isinstance(error, ForbiddenError) and b"Missing Authentication Token" in body:
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

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_REQUEST_BYTES:
            status, headers, payload = render_gateway_response(
                self.gateway, "REQUEST_TOO_LARGE", "Request Too Long"
            )
            headers["Connection"] = "close"
            self.close_connection = True
            self._send_http_response(status, headers, payload)
            return
        self._generic_handle()

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _handle


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
        self.server: LocalDevServer = create_local_server(app, config, host, port)
        handler = type("BoundLocalRequestHandler", (LocalRequestHandler,), {"gateway": gateway})
        self.server.server.RequestHandlerClass = functools.partial(handler, app_object=app, config=config)
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
