"""The local stack's email: the outbox (what SES accepted) and SES's mailbox simulator.

moto keeps every message SES accepted, and serves them at ``/moto-api/data.json``
(``ses.RawMessage``: the whole MIME; ``ses.Message``: simple sends, of which moto keeps
only the HTML). :func:`outbox` parses them back with the standard ``email`` parser, so
the text and HTML parts and every header come back as the recipient would see them. A stored
message it cannot read that way (a header that does not parse or decodes to a line break, a
part in an unknown charset) is left out of the list and logged by its id, never by its
content: moto keeps whatever SES accepted, and one odd message must not hide the others.

:class:`MailboxSimulator` plays SES's mailbox simulator: in AWS, mail to
``bounce@simulator.amazonses.com`` or ``complaint@simulator.amazonses.com`` comes back as
a bounce or complaint, which a configuration set with an EventBridge destination
publishes as an ``aws.ses`` event ("Email Bounced" / "Email Complaint Received") on the
account's default event bus; mail to any other address is delivered ("Email Delivered"). The
simulator watches moto's sent messages and puts the same events on the local default bus,
so consumers (rules matching ``source: aws.ses``) receive them exactly as in AWS. Recipients
are matched by address, as SES does: ``Name <Bounce@Simulator.AmazonSES.com>`` bounces too.
The events follow the envelope (moto's destinations), so a message whose headers cannot be
decoded still bounces or is delivered; such a header is reported as it was sent.
Production code never fakes SES: this lives in ``crm_tools`` only.
"""

from __future__ import annotations

import email
import json
import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import Message
from typing import Any
from urllib.request import ProxyHandler, build_opener

from crm.mailing.outbox import UnreadableMessage as UnreadableMessage  # the outbox, re-exported
from crm.mailing.outbox import addresses, iso_time
from crm.mailing.outbox import outbox as outbox
from crm.mailing.outbox import raw_item as raw_item
from crm.mailing.outbox import simple_item as simple_item

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
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def moto_data(endpoint_url: str, timeout: float = 10.0) -> dict[str, Any]:
    """moto's model data (``/moto-api/data.json``), fetched over HTTP, never through a proxy."""
    opener = build_opener(ProxyHandler({}))
    with opener.open(endpoint_url.rstrip("/") + "/moto-api/data.json", timeout=timeout) as response:
        data = json.loads(response.read().decode("utf-8"))
    return data if isinstance(data, dict) else {}


# --------------------------------------------------------------------------- mailbox simulator


def _decoded_header(name: str, raw_value: str) -> str:
    """A header value as ``policy.default`` decodes it, or as it was sent (unfolded) when that
    fails or would hold a line break. Never raises."""
    sent = _LINE_BREAK.sub("", raw_value).strip(" \t")
    try:
        decoded = str(policy.default.header_factory(name, sent))
    except Exception:  # a header the modern parser refuses (an address part with CR/LF...)
        return sent
    return sent if "\r" in decoded or "\n" in decoded else decoded


def sent_headers(raw: str) -> list[tuple[str, str]]:
    """Every header of a stored message as (name, text), decoded where that gives one line of text.
    Read with ``compat32``, which keeps each value as sent, so no header can make this raise."""
    message: Message = email.message_from_string(raw, policy=policy.compat32)
    return [(name, _decoded_header(name, str(value))) for name, value in message.raw_items()]


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
    the simulator's addresses, a delivery naming every other recipient. ``destinations`` may name
    recipients with display names (moto keeps them as written), several to a value."""
    headers = sent_headers(raw)

    def values(field: str) -> list[str]:
        return [value for name, value in headers if name.lower() == field.lower()]

    recipients = addresses(destinations)
    sender = (addresses([source]) or [source])[0]
    configuration_set = next(iter(values("X-SES-CONFIGURATION-SET")), "")
    timestamp = iso_time(now)
    mail = {
        "timestamp": timestamp,
        "source": sender,
        "sourceArn": f"arn:aws:ses:{region}:{account}:identity/{sender.rpartition('@')[2]}",
        "sendingAccountId": account,
        "messageId": message_id,
        "destination": recipients,
        "headersTruncated": False,
        "headers": [{"name": name, "value": value} for name, value in headers],
        "commonHeaders": {
            "from": values("From"),
            "to": values("To"),
            "messageId": message_id,
            "subject": next(iter(values("Subject")), ""),
        },
        "tags": {"ses:configuration-set": [configuration_set]} if configuration_set else {},
    }
    entries = []
    resources = (
        [f"arn:aws:ses:{region}:{account}:configuration-set/{configuration_set}"] if configuration_set else []
    )
    for kind, simulator_address in (("Bounce", BOUNCE_ADDRESS), ("Complaint", COMPLAINT_ADDRESS)):
        hit = [r for r in recipients if r.lower() == simulator_address]
        if not hit:
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
                        "emailAddress": hit[0],
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
                "complainedRecipients": [{"emailAddress": hit[0]}],
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
    delivered = [r for r in recipients if r.lower() not in SIMULATOR_ADDRESSES]
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

    def _answer(self, record: Any) -> None:
        raw = getattr(record, "raw_data", None)
        if raw is None:
            return  # simple sends: the product sends raw MIME only
        entries = simulator_events(
            message_id=str(record.id),
            source=str(record.source or ""),
            destinations=[str(d) for d in record.destinations],
            raw=str(raw),
            account=self.account,
            region=self.region,
            now=datetime.now(UTC),
        )
        if entries:
            result = self.events.put_events(Entries=entries)
            if result.get("FailedEntryCount"):
                codes = [e.get("ErrorCode") for e in result.get("Entries", []) if e.get("ErrorCode")]
                log.error("the mailbox simulator could not put the events of %s: %s", record.id, codes)

    def poll_once(self) -> bool:
        sent = self._sent()
        fresh, self.seen = sent[self.seen :], len(sent)
        for record in fresh:
            try:
                self._answer(record)
            except Exception as exc:  # one message must not cost the others their events
                log.error(
                    "mailbox simulator: no events for %s: %s", getattr(record, "id", "?"), type(exc).__name__
                )
        return bool(fresh)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # never dies: logs and polls again
                log.error("mailbox simulator: %s", type(exc).__name__)
                busy = False
            if not busy:
                self._idle.set()
                self.stop_event.wait(self.poll_seconds)

    def wait_idle(self, timeout: float) -> bool:
        self._idle.clear()
        return self._idle.wait(timeout)
