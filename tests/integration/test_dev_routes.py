"""The /dev routes exist only when the local stack says so (CRM_LOCAL_STACK=1), and are never packaged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_ROUTES = {("/dev/outbox", "GET"), ("/dev/clock", "GET"), ("/dev/clock", "POST")}

SCRIPT = """
import json, sys
sys.path.insert(0, "functions/api")
import app
from crm_tools.package import all_routes, api_route_events
print(json.dumps({"all": sorted(all_routes(app.app)), "deployed": sorted(api_route_events(app.app))}))
"""


def routes(local_stack: bool) -> dict[str, set[tuple[str, str]]]:
    env = {k: v for k, v in os.environ.items() if k != "CRM_LOCAL_STACK"}
    if local_stack:
        env["CRM_LOCAL_STACK"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    found = json.loads(out.strip().splitlines()[-1])
    return {key: {(p, m) for p, m in value} for key, value in found.items()}


def test_dev_routes_exist_only_in_the_local_stack_and_are_never_packaged() -> None:
    local = routes(local_stack=True)
    assert DEV_ROUTES.issubset(local["all"])
    assert not DEV_ROUTES & local["deployed"]
    deployed = routes(local_stack=False)
    assert not DEV_ROUTES & deployed["all"]
