"""``crm invoke``: run one handler against the running local stack, as ``sam local invoke`` would.

The function's environment and the stack's endpoint come from
``<data-dir>/stack.json`` (written by ``crm dev``). The handler runs in this process;
what it logs goes to stderr, and its result is printed to stdout as JSON (for the
Chalice app: the API Gateway proxy response).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any

from crm_tools.cfn import FunctionSpec, short_name
from crm_tools.devstack.runtime import LambdaContext, load_handler
from crm_tools.devstack.stack import FAKE_CREDENTIALS, project_root


class InvokeError(RuntimeError):
    pass


def read_stack(data_dir: Path) -> dict[str, Any]:
    path = data_dir / "stack.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise InvokeError(f"no running local stack ({path} not found): start it with `crm dev`") from exc


def pick_function(functions: dict[str, Any], wanted: str) -> str:
    """A logical id (``StreamFunction``), a short name (``stream``) or a physical name."""
    for logical_id, described in functions.items():
        names = {logical_id.lower(), short_name(logical_id), str(described.get("name", "")).lower()}
        if wanted.lower() in names:
            return logical_id
    known = ", ".join(f"{lid} ({short_name(lid)})" for lid in functions)
    raise InvokeError(f"no function {wanted!r}; the template has {known}")


def read_event(path: str) -> Any:
    if path == "-":
        return json.load(sys.stdin)
    candidate = Path(path)
    if not candidate.is_file() and not candidate.is_absolute():
        candidate = project_root() / path
    try:
        return json.loads(candidate.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InvokeError(f"event file {path} not found") from exc
    except ValueError as exc:
        raise InvokeError(f"event file {path} is not JSON: {exc}") from exc


def check_reachable(endpoint_url: str) -> None:
    import requests

    session = requests.Session()
    session.trust_env = False
    try:
        session.get(endpoint_url.rstrip("/") + "/moto-api/", timeout=3)
    except requests.RequestException as exc:
        raise InvokeError(
            f"the local stack at {endpoint_url} does not answer: is `crm dev` still running?"
        ) from exc


def invoke(function: str, event_path: str, data_dir: Path) -> Any:
    stack = read_stack(data_dir)
    functions = stack.get("functions") or {}
    logical_id = pick_function(functions, function)
    described = functions[logical_id]
    event = read_event(event_path)
    endpoint = str(stack["endpoint_url"])
    check_reachable(endpoint)

    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ.update({k: str(v) for k, v in (described.get("environment") or {}).items()})
    from crm.platform.aws import reset_clients
    from crm.platform.config import reset_settings

    reset_settings()
    reset_clients()

    spec = FunctionSpec(
        logical_id,
        {
            "Handler": described["handler"],
            "Timeout": described["timeout"],
            "MemorySize": described["memory_size"],
        },
        Path(described["code_dir"]),
    )
    region = str(stack.get("region", "us-east-1"))
    name = str(described.get("name") or logical_id)
    context = LambdaContext(
        function_name=name,
        memory_limit_in_mb=spec.memory_size,
        invoked_function_arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
        timeout_seconds=spec.timeout,
    )
    # Whatever the handler prints (logs) goes to stderr; stdout carries only the result.
    with contextlib.redirect_stdout(sys.stderr):
        assert spec.code_dir is not None
        handler = load_handler(spec.code_dir, spec.handler)
        return handler(event, context)


def main(function: str, event_path: str, data_dir: Path) -> int:
    try:
        result = invoke(function, event_path, data_dir)
    except InvokeError as exc:
        print(f"crm invoke: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        # As Lambda reports an unhandled error: the traceback in the logs, the error as the result.
        traceback.print_exc(file=sys.stderr)
        print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    return 0
