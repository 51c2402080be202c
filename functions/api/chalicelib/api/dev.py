"""Local stack only (``crm dev``): the outbox and the clock. Never deployed.

``app.py`` registers this blueprint only when ``CRM_LOCAL_STACK=1`` (set by ``crm dev``),
and ``crm package`` leaves every ``/dev/...`` route out of the template, so these routes
cannot exist in AWS. They need a signed-in recruiter or admin (not an API key): the
outbox shows every email the stack sent.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.request import ProxyHandler, build_opener

from chalice import Blueprint
from pydantic import BaseModel, ConfigDict, Field

from chalicelib.web.endpoint import Call, endpoint
from crm.mailing.outbox import outbox as sent_mail
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.errors import Forbidden

bp = Blueprint(__name__)

TEN_YEARS = 10 * 366 * 24 * 3600


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    advance_seconds: float = Field(ge=0, le=TEN_YEARS)


class ClockOut(BaseModel):
    now: str
    offset_seconds: float


def _staff_only(call: Call) -> None:
    if call.principal is None or call.principal.kind != "user":
        raise Forbidden("Only a signed-in recruiter or admin may use the local stack's /dev routes.")


def _clock() -> ClockOut:
    now = clock.now().isoformat().replace("+00:00", "Z")
    return ClockOut(now=now, offset_seconds=clock.offset_seconds())


@endpoint(
    bp,
    "/dev/outbox",
    "GET",
    summary="Local stack only: the emails SES accepted, newest first",
    tag="dev",
    permission="read",
)
def outbox(call: Call) -> dict[str, Any]:
    _staff_only(call)
    endpoint_url = get_settings().aws_endpoint_url
    if not endpoint_url:
        return {"items": []}
    return {"items": sent_mail(_stored_mail(endpoint_url))}


def _stored_mail(endpoint_url: str) -> dict[str, Any]:
    """What the embedded AWS (moto) keeps of the mail SES accepted (``/moto-api/data.json``),
    fetched over loopback, never through a proxy."""
    opener = build_opener(ProxyHandler({}))
    with opener.open(endpoint_url.rstrip("/") + "/moto-api/data.json", timeout=10) as response:
        data = json.loads(response.read().decode("utf-8"))
    return data if isinstance(data, dict) else {}


@endpoint(
    bp,
    "/dev/clock",
    "GET",
    summary="Local stack only: the local clock",
    tag="dev",
    permission="read",
    response=ClockOut,
)
def get_clock(call: Call) -> ClockOut:
    _staff_only(call)
    return _clock()


@endpoint(
    bp,
    "/dev/clock",
    "POST",
    summary="Local stack only: move the local clock forward",
    tag="dev",
    permission="write",
    body=ClockAdvance,
    response=ClockOut,
)
def advance_clock(call: Call) -> ClockOut:
    _staff_only(call)
    body: ClockAdvance = call.body
    clock.advance(body.advance_seconds)
    return _clock()
