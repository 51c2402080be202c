"""Fixtures shared by every level of test."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# Tests never reach a real AWS account: fake credentials, a fixed region.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    POWERTOOLS_SERVICE_NAME="crm",
    POWERTOOLS_METRICS_NAMESPACE="CRM",
    POWERTOOLS_LOG_LEVEL="WARNING",
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

# A deployed function has every variable of the template; so does every test, with the values
# of events/env.json unless a test (or the stack it provisions) sets its own.
_ENV_JSON = Path(__file__).resolve().parents[1] / "events" / "env.json"
for _name, _value in json.loads(_ENV_JSON.read_text())["Parameters"].items():
    os.environ.setdefault(_name, str(_value))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``make test`` runs ``--dist loadgroup``: tests marked ``xdist_group(name)`` share one worker
    (and so one module- or session-scoped stack). pytest-xdist 3.8 marks them by appending
    ``@name`` to ``item._nodeid``, which pytest 9 no longer reads (a node's id is ``item._id``), so
    every group was split over both workers and each started its own stack. This does what xdist
    means to do, through the id pytest 9 reads; with an xdist that already did it, it does nothing."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = {
            str(m.args[0] if m.args else m.kwargs.get("name", "default"))
            for m in item.iter_markers("xdist_group")
        }
        suffix = f"@{'_'.join(sorted(names))}"
        # Not "no @ in the id": a parameter may hold one (an email address), and such a test was
        # left out of its group and started the module's stack again.
        if names and not item.nodeid.endswith(suffix) and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}{suffix}")
