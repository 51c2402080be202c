"""Fixtures shared by every level of test."""

from __future__ import annotations

import json
import os
from pathlib import Path

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
