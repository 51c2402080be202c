"""SES bounce and complaint notifications: the addresses they name go on the suppression list.

SES publishes them (configuration set -> EventBridge destination) on the default event bus as
``aws.ses`` events with detail-type "Email Bounced" or "Email Complaint Received"; a rule sends
them to a queue whose consumer calls :func:`apply_feedback` with each message body.

Only permanent (hard) bounces suppress: a transient bounce (mailbox full, greylisting) and an
undetermined one may deliver next time. Suppressing is idempotent (the reason is added to a set).
"""

from __future__ import annotations

import json
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crm.campaigns.service import CampaignService
from crm.mailing.deliveries import Deliveries
from crm.mailing.suppression import Reason, SuppressionRepository

BOUNCED = "Email Bounced"
COMPLAINED = "Email Complaint Received"
SOURCE = "ses"


class _Lenient(BaseModel):
    """SES adds fields over time; only the ones used are declared."""

    # Inputs hold addresses (personal data): validation errors must not repeat them.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)


class MalformedFeedback(ValueError):
    """The message is not an SES bounce or complaint event (its content is not repeated)."""


class Recipient(_Lenient):
    email_address: str = Field(alias="emailAddress", min_length=3)


class Bounce(_Lenient):
    bounce_type: str = Field(alias="bounceType")
    bounced_recipients: list[Recipient] = Field(alias="bouncedRecipients")


class Complaint(_Lenient):
    complained_recipients: list[Recipient] = Field(alias="complainedRecipients")


class BounceDetail(_Lenient):
    bounce: Bounce


class ComplaintDetail(_Lenient):
    complaint: Complaint


class BounceEvent(_Lenient):
    source: Literal["aws.ses"]
    detail_type: Literal["Email Bounced"] = Field(alias="detail-type")
    detail: BounceDetail


class ComplaintEvent(_Lenient):
    source: Literal["aws.ses"]
    detail_type: Literal["Email Complaint Received"] = Field(alias="detail-type")
    detail: ComplaintDetail


class FeedbackEvent(_Lenient):
    """Either kind, told apart by detail-type."""

    event: BounceEvent | ComplaintEvent = Field(discriminator="detail_type")


class Suppressor(Protocol):
    def suppress(self, email: str, reason: Reason, *, source: str) -> None: ...


def parse(body: str | dict[str, Any]) -> BounceEvent | ComplaintEvent:
    """The SES event in one queue message body; MalformedFeedback when it is not one."""
    try:
        if isinstance(body, str):
            return FeedbackEvent.model_validate({"event": json.loads(body)}).event
        return FeedbackEvent.model_validate({"event": body}).event
    except (ValueError, ValidationError) as exc:
        locations = []
        if isinstance(exc, ValidationError):
            locations = [".".join(str(part) for part in e["loc"]) for e in exc.errors()]
        raise MalformedFeedback(f"not an SES feedback event: {type(exc).__name__} {locations}") from None


def suppressions(event: BounceEvent | ComplaintEvent) -> list[tuple[str, Reason]]:
    """(address, reason) pairs the event calls for; none for a transient or undetermined bounce."""
    if isinstance(event, BounceEvent):
        if event.detail.bounce.bounce_type != "Permanent":
            return []
        return [(r.email_address, "bounced") for r in event.detail.bounce.bounced_recipients]
    return [(r.email_address, "complained") for r in event.detail.complaint.complained_recipients]


def apply_feedback(body: str | dict[str, Any], repository: Suppressor | None = None) -> int:
    """Suppress the addresses named by one SES notification; returns how many were suppressed."""
    pairs = suppressions(parse(body))
    target = repository if repository is not None else SuppressionRepository()
    for email, reason in pairs:
        target.suppress(email, reason, source=SOURCE)
    return len(pairs)


# SES events that count towards a campaign's engagement stats, by EventBridge detail-type.
ENGAGEMENT_EVENTS = {
    "Email Delivered": "delivered",
    BOUNCED: "bounced",
    COMPLAINED: "complained",
    "Email Opened": "opened",
    "Email Clicked": "clicked",
}


def _decoded(body: str | dict[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def event_name(body: str | dict[str, Any]) -> str | None:
    """``delivered``, ``bounced``, ``complained``, ``opened`` or ``clicked``; None for anything else."""
    return ENGAGEMENT_EVENTS.get(str(_decoded(body).get("detail-type", "")))


def engagement_of(body: str | dict[str, Any]) -> tuple[str, str] | None:
    """(event name, SES message id) of an engagement event, or None for anything else."""
    name = event_name(body)
    detail = _decoded(body).get("detail")
    mail = detail.get("mail") if isinstance(detail, dict) else None
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if name is None or not isinstance(message_id, str) or not message_id:
        return None
    return name, message_id


def record_engagement(body: str | dict[str, Any]) -> bool:
    """Mark a delivery, bounce, complaint, open or click on its delivery record once per recipient,
    counted towards its campaign when it is a campaign's (a one-to-one email shows it on the profile)."""
    found = engagement_of(body)
    if found is None:
        return False
    event, message_id = found
    delivery = Deliveries().find_by_message_id(message_id)
    if delivery is None:
        return False
    campaigns = CampaignService()
    if campaigns.campaign_of(delivery) is None:  # any other mailing: the event is kept on its record
        return Deliveries().mark_event(delivery, event, along_with=[])
    return campaigns.count_engagement(delivery, event)
