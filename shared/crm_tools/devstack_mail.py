"""The local stack's email: the outbox (what SES accepted) and SES's mailbox simulator.

moto keeps every message SES accepted, and serves them at ``/moto-api/data.json``
(``ses.RawMessage``: the whole MIME; ``ses.Message``: simple sends, of which moto keeps
only the HTML). :func:`outbox` parses them back with the standard ``email`` parser, so
the text and HTML parts and every header come back as the recipient would see them.

:class:`MailboxSimulator` plays SES's mailbox simulator: in AWS, mail to
``bounce@simulator.amazonses.com`` or ``complaint@simulator.amazonses.com`` comes back as
a bounce or complaint, which a configuration set with an EventBridge destination
publishes as an ``aws.ses`` event ("Email Bounced" / "Email Complaint Received") on the
account's default event bus; mail to any other address is delivered ("Email Delivered"). The
simulator watches moto's sent messages and puts the same events on the local default bus,
so consumers (rules matching ``source: aws.ses``) receive them exactly as in AWS.
Production code never fakes SES: this lives in ``crm_tools`` only.
"""

from __future__ import annotations

import email
import json
import logging
import threading
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from typing import Any
from urllib.request import ProxyHandler, build_opener

log = logging.getLogger("devstack")

BOUNCE_ADDRESS = "bounce@simulator.amazonses.com"
COMPLAINT_ADDRESS = "complaint@simulator.amazonses.com"
#: SES publishes to the default bus only (an EventBridge event destination cannot name another).
SES_EVENT_BUS = "default"
DETAIL_TYPES = {
    "Bounce": "Email Bounced",
    "Complaint": "Email Complaint Received",
    "Delivery": "Email Delivered",
}
SIMULATOR_ADDRESSES = (BOUNCE_ADDRESS, COMPLAINT_ADDRESS)


# --------------------------------------------------------------------------- outbox


def moto_data(endpoint_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """moto's model data (``/moto-api/data.json``), fetched over HTTP, never through a proxy."""
    opener = build_opener(ProxyHandler({}))
    with opener.open(endpoint_url.rstrip("/") + "/moto-api/data.json", timeout=timeout) as response:
        data = json.loads(response.read().decode("utf-8"))
    return data if isinstance(data, dict) else {}


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _sent_at(message: EmailMessage) -> datetime | None:
    date = message.get("Date")
    if not date:
        return None
    try:
        return parsedate_to_datetime(str(date))
    except (TypeError, ValueError):
        return None


def parse_raw(raw: str | bytes) -> EmailMessage:
    if isinstance(raw, bytes):
        message = email.message_from_bytes(raw, policy=policy.default)
    else:
        message = email.message_from_string(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def _part(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body((subtype,))
    if part is None:
        return None
    content = part.get_content()
    return content if isinstance(content, str) else None


def raw_item(record: dict[str, Any]) -> dict[str, Any]:
    """One ``ses.RawMessage`` record as an outbox item."""
    message = parse_raw(str(record.get("raw_data", "")))
    headers: dict[str, str] = {}
    for name, value in message.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else str(value)
    to = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a]
    return {
        "message_id": record.get("id"),
        "to": to or list(record.get("destinations") or []),
        "from": str(message.get("From", record.get("source", ""))),
        "subject": str(message.get("Subject", "")),
        "html": _part(message, "html"),
        "text": _part(message, "plain"),
        "headers": headers,
        "sent_at": _iso(_sent_at(message)),
    }


def simple_item(record: dict[str, Any]) -> dict[str, Any]:
    """One ``ses.Message`` record (a simple send: moto keeps the HTML or the text, not both)."""
    destinations = record.get("destinations") or {}
    to = destinations.get("ToAddresses", []) if isinstance(destinations, dict) else list(destinations)
    body = str(record.get("body") or "")
    return {
        "message_id": record.get("id"),
        "to": list(to),
        "from": str(record.get("source", "")),
        "subject": str(record.get("subject", "")),
        "html": body,
        "text": None,
        "headers": {},
        "sent_at": None,
    }


def outbox(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message SES accepted, newest first (raw messages by Date, then simple sends)."""
    ses = data.get("ses") or {}
    raw = [raw_item(r) for r in ses.get("RawMessage") or []]
    raw.reverse()  # moto appends: the last is the newest
    raw.sort(key=lambda item: item["sent_at"] or "", reverse=True)  # stable: same-second order kept
    simple = [simple_item(r) for r in ses.get("Message") or []]
    simple.reverse()
    return raw + simple


# --------------------------------------------------------------------------- mailbox simulator


def simulator_events(
    *,
    message_id: str,
    source: str,
    destinations: list[str],
    raw: str,
    account: str,
    region: str,
    now: datetime,
) -> list[dict[str, Any]]:
    """The ``PutEvents`` entries SES would publish for one sent message: a bounce or complaint for
    the simulator's addresses, a delivery naming every other recipient."""
    message = parse_raw(raw)
    configuration_set = str(message.get("X-SES-CONFIGURATION-SET", "") or "")
    timestamp = _iso(now)
    headers = [{"name": name, "value": str(value)} for name, value in message.items()]
    mail = {
        "timestamp": timestamp,
        "source": source,
        "sourceArn": f"arn:aws:ses:{region}:{account}:identity/{source.rpartition('@')[2]}",
        "sendingAccountId": account,
        "messageId": message_id,
        "destination": destinations,
        "headersTruncated": False,
        "headers": headers,
        "commonHeaders": {
            "from": [str(v) for v in message.get_all("From", [])],
            "to": [str(v) for v in message.get_all("To", [])],
            "messageId": message_id,
            "subject": str(message.get("Subject", "")),
        },
        "tags": {"ses:configuration-set": [configuration_set]} if configuration_set else {},
    }
    entries = []
    lowered = [d.lower() for d in destinations]
    resources = (
        [f"arn:aws:ses:{region}:{account}:configuration-set/{configuration_set}"] if configuration_set else []
    )
    for kind, address in (("Bounce", BOUNCE_ADDRESS), ("Complaint", COMPLAINT_ADDRESS)):
        if address not in lowered:
            continue
        feedback_id = f"{uuid.uuid4()}-000000"
        detail: dict[str, Any] = {"eventType": kind, "mail": mail}
        if kind == "Bounce":
            detail["bounce"] = {
                "feedbackId": feedback_id,
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {
                        "emailAddress": address,
                        "action": "failed",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                    }
                ],
                "timestamp": timestamp,
                "reportingMTA": "dns; amazonses.com",
            }
        else:
            detail["complaint"] = {
                "feedbackId": feedback_id,
                "complaintSubType": None,
                "complainedRecipients": [{"emailAddress": address}],
                "timestamp": timestamp,
                "userAgent": "Amazon SES Mailbox Simulator",
                "complaintFeedbackType": "abuse",
                "arrivalDate": timestamp,
            }
        entries.append(
            {
                "Source": "aws.ses",
                "DetailType": DETAIL_TYPES[kind],
                "Detail": json.dumps(detail),
                "Resources": resources,
                "EventBusName": SES_EVENT_BUS,
                "Time": now,
            }
        )
    delivered = [d for d in destinations if d.lower() not in SIMULATOR_ADDRESSES]
    if delivered:
        delivery = {
            "timestamp": timestamp,
            "processingTimeMillis": 120,
            "recipients": delivered,
            "smtpResponse": "250 2.6.0 Message received",
            "remoteMtaIp": "127.0.0.1",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        }
        entries.append(
            {
                "Source": "aws.ses",
                "DetailType": DETAIL_TYPES["Delivery"],
                "Detail": json.dumps({"eventType": "Delivery", "mail": mail, "delivery": delivery}),
                "Resources": resources,
                "EventBusName": SES_EVENT_BUS,
                "Time": now,
            }
        )
    return entries


class MailboxSimulator(threading.Thread):
    """Watches moto's sent raw messages; puts a bounce/complaint event for simulator addresses and a
    delivery event for every other recipient."""

    poll_seconds = 0.2

    def __init__(
        self,
        *,
        events_client: Any,
        account: str,
        region: str,
        lock: threading.RLock,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="ses-mailbox-simulator", daemon=True)
        self.events = events_client
        self.account = account
        self.region = region
        self.lock = lock
        self.stop_event = stop
        self.seen = 0
        self._idle = threading.Event()

    def prepare(self) -> None:
        """Messages sent before the stack started (none: moto starts empty) are not replayed."""
        self.seen = len(self._sent())

    def _sent(self) -> list[Any]:
        from moto.ses.models import ses_backends

        with self.lock:
            return list(ses_backends[self.account][self.region].sent_messages)

    def poll_once(self) -> bool:
        sent = self._sent()
        fresh, self.seen = sent[self.seen :], len(sent)
        for record in fresh:
            raw = getattr(record, "raw_data", None)
            if raw is None:
                continue  # simple sends: the product sends raw MIME only
            entries = simulator_events(
                message_id=str(record.id),
                source=str(record.source),
                destinations=[str(d) for d in record.destinations],
                raw=str(raw),
                account=self.account,
                region=self.region,
                now=datetime.now(UTC),
            )
            if entries:
                result = self.events.put_events(Entries=entries)
                if result.get("FailedEntryCount"):
                    log.error("the mailbox simulator could not put its events: %s", result.get("Entries"))
        return bool(fresh)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # never dies: logs and polls again
                log.error("mailbox simulator: %s: %s", type(exc).__name__, exc)
                busy = False
            if not busy:
                self._idle.set()
                self.stop_event.wait(self.poll_seconds)

    def wait_idle(self, timeout: float) -> bool:
        self._idle.clear()
        return self._idle.wait(timeout)
