"""Webhooks without AWS or sockets: the signature against the Standard Webhooks test vector, the
back-off schedule, Retry-After, address classification and URL checks, the catalogue's fields,
and the domain events the stream derives for integrations."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
from standardwebhooks import Webhook as StandardWebhook

from crm.candidates.events import events_from_change
from crm.webhooks.addresses import UnsafeUrl, check_url, classify
from crm.webhooks.catalogue import BUS_TYPES, EVENT_TYPES, data_of
from crm.webhooks.service import (
    JITTER,
    RETRY_SCHEDULE,
    message_id_for,
    new_secret,
    retry_after,
    retry_delay,
    signature,
)

# The specification's published example (standard-webhooks/spec, and the library's own tests).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = datetime.fromtimestamp(1614265330, tz=UTC)
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_matches_the_specifications_test_vector() -> None:
    assert signature([VECTOR_SECRET], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_during_a_rotation_both_signatures_are_sent_and_either_secret_verifies() -> None:
    old, new = VECTOR_SECRET, new_secret()
    header = signature([new, old], VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)
    assert header.split(" ")[1] == VECTOR_SIGNATURE and len(header.split(" ")) == 2
    now = datetime.now(UTC)
    for secret in (old, new):
        headers = {
            "webhook-id": VECTOR_ID,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature([new, old], VECTOR_ID, now, VECTOR_BODY),
        }
        assert StandardWebhook(secret).verify(VECTOR_BODY, headers) == {"test": 2432232314}


def test_secrets_are_random_and_in_the_whsec_format() -> None:
    one, two = new_secret(), new_secret()
    assert one != two and one.startswith("whsec_")
    StandardWebhook(one)  # the library reads it


def test_the_back_off_schedule_spans_about_three_days_with_jitter() -> None:
    assert RETRY_SCHEDULE[0] == timedelta(seconds=5) and RETRY_SCHEDULE[1] == timedelta(minutes=5)
    assert all(a <= b for a, b in pairwise(RETRY_SCHEDULE))
    total = sum(RETRY_SCHEDULE, timedelta())
    assert timedelta(days=2.5) < total < timedelta(days=3.5)
    rng = random.Random(1)
    for attempt, base in enumerate(RETRY_SCHEDULE, start=1):
        waits = {retry_delay(attempt, rng=rng) for _ in range(20)}
        assert len(waits) > 1  # jittered
        assert all(w is not None and base * (1 - JITTER) <= w <= base * (1 + JITTER) for w in waits)
    assert retry_delay(len(RETRY_SCHEDULE) + 1) is None and retry_delay(0) is None


def test_retry_after_reads_seconds_and_dates_and_is_capped() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after("120", now) == timedelta(seconds=120)
    assert retry_after("Thu, 01 Jan 2026 00:10:00 GMT", now) == timedelta(minutes=10)
    assert retry_after("999999999", now) == timedelta(hours=24)
    assert retry_after("soon", now) is None and retry_after(None, now) is None
    assert retry_after("Wed, 31 Dec 2025 00:00:00 GMT", now) == timedelta(0)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("93.184.215.14", "public"),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", "public"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "metadata"),
    ],
)
def test_addresses_are_classified(address: str, kind: str) -> None:
    assert classify(address) == kind


def resolver(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


def test_urls_are_checked_after_resolution_and_the_checked_address_is_kept() -> None:
    target = check_url(
        "https://hooks.example.com:8443/in?x=1", allow_loopback_http=False, resolve=resolver("93.184.215.14")
    )
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        8443,
        "/in?x=1",
        "93.184.215.14",
    )
    with pytest.raises(UnsafeUrl, match="private"):
        check_url(
            "https://rebind.example.com/",
            allow_loopback_http=False,
            resolve=resolver("93.184.215.14", "10.0.0.1"),
        )
    with pytest.raises(UnsafeUrl, match="loopback"):
        check_url("https://sneaky.example.com/", allow_loopback_http=False, resolve=resolver("127.0.0.1"))
    with pytest.raises(UnsafeUrl, match="https"):
        check_url("http://hooks.example.com/", allow_loopback_http=True, resolve=resolver("93.184.215.14"))
    assert check_url("http://127.0.0.1:9000/hook", allow_loopback_http=True).address == "127.0.0.1"

    def fails(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(UnsafeUrl, match="resolve"):
        check_url("https://nowhere.invalid/", allow_loopback_http=False, resolve=fails)


def test_the_catalogue_keeps_only_its_fields_and_message_ids_are_stable() -> None:
    assert {"candidate.merged", "candidate.unmerged", "application.hired", "webhook.ping"} <= set(EVENT_TYPES)
    assert "webhook.ping" not in BUS_TYPES
    detail = {
        "candidate_id": "c1",
        "version": 2,
        "source": "careers",
        "email": "a@example.com",
        "event_id": "e",
    }
    assert data_of("candidate.created", detail) == {"candidate_id": "c1", "version": 2, "source": "careers"}
    assert message_id_for("e1", "ep1") == message_id_for("e1", "ep1") != message_id_for("e1", "ep2")


def kinds(event_name: str, sk: str, old: dict | None, new: dict | None) -> list[tuple[str, dict]]:  # type: ignore[type-arg]
    return [
        (e.detail_type, e.detail)
        for e in events_from_change(event_name, {"pk": "CAND#c1", "sk": sk}, old, new, "r1")
    ]


def test_the_stream_derives_stage_changes_hires_consents_registrations_and_referrals() -> None:
    app = {"candidate_id": "c1", "job_id": "j1", "source": "careers", "applied_at": "t", "stage": "interview"}
    found = kinds("MODIFY", "APP#j1", app, {**app, "stage": "hired"})
    assert [k for k, _ in found] == ["application.stage_changed", "application.hired"]
    assert found[0][1] == {
        "application_id": "c1_j1",
        "candidate_id": "c1",
        "job_id": "j1",
        "stage": "hired",
        "previous_stage": "interview",
        "reason": None,
    }
    profile = {
        "id": "c1",
        "version": 1,
        "consents": {"marketing": {"granted": True, "at": "t1", "source": "form"}},
    }
    withdrawn = {
        **profile,
        "version": 2,
        "consents": {"marketing": {"granted": False, "at": "t2", "source": "unsubscribe-link"}},
    }
    assert [k for k, _ in kinds("MODIFY", "PROFILE", profile, withdrawn)] == [
        "candidate.updated",
        "candidate.consent_changed",
        "candidate.unsubscribed",
    ]
    registration = {
        "type": "event_registration",
        "candidate_id": "c1",
        "event_id": "e1",
        "state": "registered",
    }
    assert [k for k, _ in kinds("INSERT", "EVENTREG#e1", None, registration)] == [
        "event_registration.created"
    ]
    checked = {**registration, "checked_in_at": "t3"}
    assert [k for k, _ in kinds("MODIFY", "EVENTREG#e1", registration, checked)] == [
        "event_registration.checked_in"
    ]
    referral = {
        "type": "referral",
        "id": "r1",
        "candidate_id": "c1",
        "job_id": None,
        "channel": "form",
        "why": "x",
    }
    found = kinds("INSERT", "REFERRAL#r1", None, referral)
    assert found == [
        ("referral.created", {"referral_id": "r1", "candidate_id": "c1", "job_id": None, "channel": "form"})
    ]
    assert {k for k, _ in found} <= BUS_TYPES
