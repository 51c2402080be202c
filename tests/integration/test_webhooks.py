"""Webhooks end to end against moto and a receiver on loopback (``crm webhook-receiver``'s class):
a ping on creation and signed deliveries of bus events, verified with ``standardwebhooks``;
failures then success in the log as the local clock moves on (no sleeps); redelivery; a secret
rotation verified with the old and the new secret; 410 disables the endpoint and mails its
owner; SSRF cases are 422 naming ``url``; a redirect is not followed."""

from __future__ import annotations

import importlib.util
import json
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook as StandardWebhook

from crm.platform import clock
from crm.platform.config import reset_settings
from crm.workflows.due_work import run_due_work
from crm_tools.cfn import Template
from crm_tools.devstack.runtime import LambdaContext, sqs_event_record
from crm_tools.webhook_receiver import Receiver, make_server
from tests.integration.conftest import Env, json_post
from tests.support.stack import TEMPLATE

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


def _handler_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "webhooks_handler", ROOT / "functions" / "webhooks" / "handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Hooks:
    """The webhook queue's consumer run in-process, and the bus rule that feeds the queue."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.url = env.stack.queues["webhooks"]
        self.module = _handler_module()
        rule = Template.load(TEMPLATE).properties("WebhookRule")
        events = boto3.client("events", region_name=REGION)
        events.put_rule(
            Name="webhooks", EventBusName=env.stack.bus, EventPattern=json.dumps(rule["EventPattern"])
        )
        events.put_targets(
            Rule="webhooks",
            EventBusName=env.stack.bus,
            Targets=[{"Id": "q", "Arn": env.stack.queue_arn("webhooks")}],
        )

    def run(self) -> int:
        """Deliver everything on the queue (fan-outs queue deliveries: read until empty)."""
        handled = 0
        for _ in range(20):
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return handled
            event = {
                "Records": [
                    sqs_event_record(m, queue_arn=self.env.stack.queue_arn("webhooks"), region=REGION)
                    for m in messages
                ]
            }
            context = LambdaContext(
                "WebhookFunction", 512, "arn:aws:lambda:us-east-1:123456789012:function:w", 90
            )
            result = self.module.handler(event, context)
            assert result["batchItemFailures"] == []
            for m in messages:
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
            handled += len(messages)
        return handled

    def later(self, seconds: float) -> None:
        """The local clock moves on; due retries are queued and delivered."""
        clock.advance(seconds)
        run_due_work()
        self.run()


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WEBHOOK_ALLOW_LOOPBACK_HTTP", "1")
    reset_settings()
    yield
    reset_settings()


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(server: ThreadingHTTPServer) -> str:
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/hook"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def hooks(env: Env, local_clock: None, loopback: None) -> Hooks:
    return Hooks(env)


def create(env: Env, url: str, types: list[str] | None = None) -> Any:
    return json_post(
        env,
        "/v1/webhooks",
        {"url": url, "event_types": types or ["*"], "description": "ATS"},
        env.auth("admin"),
    )


def deliveries(env: Env, endpoint_id: str) -> list[dict[str, Any]]:
    response = env.client.http.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=env.auth("admin"))
    assert response.status_code == 200, response.body
    return list(response.json_body["items"])


def test_a_ping_then_signed_deliveries_of_bus_events(env: Env, hooks: Hooks, serve: Any) -> None:
    receiver = Receiver([])
    url = serve(make_server(receiver, 0))
    created = create(env, url, ["candidate.created"])
    assert created.status_code == 201, created.body
    secret, endpoint_id = created.json_body["secret"], created.json_body["id"]
    assert secret.startswith("whsec_")
    receiver.hooks = [StandardWebhook(secret)]
    shown = env.client.http.get(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin"))
    assert shown.status_code == 200 and "secret" not in shown.json_body and secret not in shown.body.decode()
    listed = env.client.http.get("/v1/webhooks", headers=env.auth("admin")).json_body["items"]
    assert [e["id"] for e in listed] == [endpoint_id] and "secret" not in listed[0]

    hooks.run()
    assert [(r["type"], r["verified"]) for r in receiver.received] == [("webhook.ping", True)]

    body = {"email": "ada.hook@example.com", "first_name": "Ada", "last_name": "Hook"}
    candidate = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert candidate.status_code == 201
    assert env.pump.drain() == []
    hooks.run()
    assert [(r["type"], r["verified"]) for r in receiver.received][1:] == [("candidate.created", True)]
    log = deliveries(env, endpoint_id)
    assert [(a["event_type"], a["status_code"], a["attempt"]) for a in log] == [
        ("candidate.created", 200, 1),
        ("webhook.ping", 200, 1),
    ]
    assert log[0]["latency_ms"] >= 0 and '"received"' in log[0]["response_excerpt"]
    # The same bus event again (a replay) is the same message, delivered once.
    service = hooks.module.DeliveryService()
    service.fan_out("evt-1", "candidate.created", {"candidate_id": "x", "email": "never@example.com"})
    service.fan_out("evt-1", "candidate.created", {"candidate_id": "x"})
    service.fan_out("evt-2", "candidate.updated", {"candidate_id": "x"})  # not subscribed
    hooks.run()
    assert len(receiver.received) == 3
    assert (
        "ada.hook" not in json.dumps(receiver.received)
        and "never@" not in deliveries(env, endpoint_id)[0]["response_excerpt"]
    )
    actions = [
        e["action"] for e in env.client.http.get("/v1/audit", headers=env.auth("admin")).json_body["items"]
    ]
    assert "webhook.created" in actions


def test_failures_then_success_redelivery_and_rotation(env: Env, hooks: Hooks, serve: Any) -> None:
    receiver = Receiver([], fail=2)
    url = serve(make_server(receiver, 0))
    created = create(env, url).json_body
    old_secret, endpoint_id = created["secret"], created["id"]
    receiver.hooks = [StandardWebhook(old_secret)]
    hooks.run()
    first = deliveries(env, endpoint_id)
    assert [(a["status_code"], a["attempt"]) for a in first] == [(500, 1)] and first[0]["next_retry_at"]
    hooks.later(3)  # before the first retry is due (5 s, give or take 20%): nothing
    assert len(deliveries(env, endpoint_id)) == 1
    hooks.later(10)
    hooks.later(400)
    log = deliveries(env, endpoint_id)
    assert [(a["status_code"], a["attempt"]) for a in log] == [(200, 3), (500, 2), (500, 1)]
    assert [r["answered"] for r in receiver.received] == [500, 500, 200]
    message_id = log[0]["message_id"]
    assert {a["message_id"] for a in log} == {message_id}
    assert len({r["webhook_id"] for r in receiver.received}) == 1

    again = env.client.http.post(
        f"/v1/webhooks/{endpoint_id}/deliveries/{message_id}/redeliver", headers=env.auth("admin")
    )
    assert again.status_code == 202, again.body
    hooks.run()
    newest = deliveries(env, endpoint_id)[0]
    assert (newest["status_code"], newest["attempt"], newest["manual"]) == (200, 4, True)
    since = json_post(
        env, f"/v1/webhooks/{endpoint_id}/redeliver", {"since": "2000-01-01T00:00:00Z"}, env.auth("admin")
    )
    assert since.status_code == 202 and since.json_body["queued"] == 0  # delivered: nothing failed
    missing = env.client.http.post(
        f"/v1/webhooks/{endpoint_id}/deliveries/msg_nope/redeliver", headers=env.auth("admin")
    )
    assert missing.status_code == 404
    bad_since = json_post(
        env, f"/v1/webhooks/{endpoint_id}/redeliver", {"since": "yesterday"}, env.auth("admin")
    )
    assert bad_since.status_code == 422 and bad_since.json_body["errors"][0]["field"] == "since"

    rotated = env.client.http.post(f"/v1/webhooks/{endpoint_id}/rotate-secret", headers=env.auth("admin"))
    assert rotated.status_code == 200, rotated.body
    new_secret = rotated.json_body["secret"]
    assert new_secret != old_secret
    old_only, new_only = Receiver([old_secret]), Receiver([new_secret])
    for check in (old_only, new_only):
        changed = env.client.http.patch(
            f"/v1/webhooks/{endpoint_id}",
            body=json.dumps({"url": serve(make_server(check, 0))}),
            headers={"Content-Type": "application/json", **env.auth("admin")},
        )
        assert changed.status_code == 200, changed.body
        hooks.module.DeliveryService().fan_out(
            f"rotation-{id(check)}", "candidate.erased", {"candidate_id": "c"}
        )
        hooks.run()
        assert [(r["type"], r["verified"]) for r in check.received] == [("candidate.erased", True)]
    entries = env.client.http.get("/v1/audit?action=webhook.secret_rotated", headers=env.auth("admin"))
    assert len(entries.json_body["items"]) == 1
    clock.advance(25 * 3600)  # the old secret no longer signs
    late = Receiver([old_secret])
    changed = env.client.http.patch(
        f"/v1/webhooks/{endpoint_id}",
        body=json.dumps({"url": serve(make_server(late, 0))}),
        headers={"Content-Type": "application/json", **env.auth("admin")},
    )
    assert changed.status_code == 200
    hooks.module.DeliveryService().fan_out("after-grace", "candidate.erased", {"candidate_id": "c"})
    hooks.run()
    assert [r["verified"] for r in late.received] == [False]


def test_gone_disables_the_endpoint_and_mails_its_owner(env: Env, hooks: Hooks, serve: Any) -> None:
    url = serve(make_server(Receiver([], gone=True), 0))
    endpoint_id = create(env, url).json_body["id"]
    hooks.run()
    assert [(a["status_code"], a["next_retry_at"]) for a in deliveries(env, endpoint_id)] == [(410, None)]
    shown = env.client.http.get(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin")).json_body
    assert shown["enabled"] is False and shown["disabled_reason"] == "gone"
    sqs = boto3.client("sqs", region_name=REGION)
    mail = sqs.receive_message(QueueUrl=env.stack.queues["mail"], MaxNumberOfMessages=10).get("Messages", [])
    jobs = [json.loads(m["Body"]) for m in mail]
    assert [(j["kind"], j["recipients"]) for j in jobs] == [("webhook_disabled", [endpoint_id])]
    # Disabled: nothing more is sent, and a redelivery is refused until it is enabled again.
    again = json_post(
        env, f"/v1/webhooks/{endpoint_id}/redeliver", {"since": "2000-01-01T00:00:00Z"}, env.auth("admin")
    )
    assert again.status_code == 409
    enabled = env.client.http.patch(
        f"/v1/webhooks/{endpoint_id}",
        body=json.dumps({"enabled": True}),
        headers={"Content-Type": "application/json", **env.auth("admin")},
    )
    assert enabled.status_code == 200 and enabled.json_body["enabled"] is True
    assert enabled.json_body["disabled_reason"] is None
    assert env.client.http.delete(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin")).status_code == 204
    assert env.client.http.get(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin")).status_code == 404


class Redirect(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(302)
        self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_redirect_is_not_followed(env: Env, hooks: Hooks, serve: Any) -> None:
    url = serve(ThreadingHTTPServer(("127.0.0.1", 0), Redirect))
    endpoint_id = create(env, url).json_body["id"]
    hooks.run()
    (attempt,) = deliveries(env, endpoint_id)
    assert attempt["status_code"] == 302 and attempt["error"] == "redirect not followed"
    assert attempt["next_retry_at"]


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "ftp://example.com/hook",
        "https://10.0.0.1/hook",  # private
        "https://169.254.169.254/latest/meta-data/",  # metadata
        "https://[fd00:ec2::254]/",  # metadata (IPv6)
        "https://[::1]/hook",  # loopback
        "https://localhost/hook",  # a name that resolves to 127.0.0.1
        "http://127.0.0.1:9000/hook",  # loopback http, not allowed outside the local stack
        "https://user:pw@example.com/hook",
        "not a url",
    ],
)
def test_unsafe_urls_are_422_naming_url(env: Env, url: str) -> None:
    response = create(env, url)
    assert response.status_code == 422, (url, response.body)
    assert [e["field"] for e in response.json_body["errors"]] == ["url"]


def test_bad_bodies_are_422_naming_the_field(env: Env) -> None:
    for body, field in (
        ({"url": "https://93.184.215.14/hook", "event_types": ["candidate.stolen"]}, "event_types"),
        ({"url": "https://93.184.215.14/hook", "event_types": []}, "event_types"),
        ({"url": "https://93.184.215.14/hook", "event_types": ["*", "candidate.created"]}, "event_types"),
        ({"url": "https://93.184.215.14/hook", "event_types": ["*"], "secret": "mine"}, "secret"),
        ({"event_types": ["*"]}, "url"),
    ):
        response = json_post(env, "/v1/webhooks", body, env.auth("admin"))
        assert response.status_code == 422, (body, response.body)
        assert field in {e["field"] for e in response.json_body["errors"]}, (body, response.body)
    assert create(env, "https://93.184.215.14/hook").status_code == 201  # a public address
    assert env.client.http.get("/v1/webhooks/nope", headers=env.auth("admin")).status_code == 404
    assert env.client.http.get("/v1/webhooks", headers=env.auth("recruiter")).status_code == 403


def test_an_endpoint_failing_for_five_days_is_disabled_and_its_owner_mailed(
    env: Env, hooks: Hooks, serve: Any
) -> None:
    from crm.webhooks.mail import WebhookDisabledPlan

    url = serve(make_server(Receiver([], fail=1000), 0))
    endpoint_id = create(env, url).json_body["id"]
    hooks.run()
    hooks.later(4 * 86400)  # still failing, not yet five days
    assert env.client.http.get(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin")).json_body["enabled"]
    hooks.later(86400 + 60)
    shown = env.client.http.get(f"/v1/webhooks/{endpoint_id}", headers=env.auth("admin")).json_body
    assert (shown["enabled"], shown["disabled_reason"]) == (False, "failing")
    assert all(a["status_code"] == 500 for a in deliveries(env, endpoint_id))
    sqs = boto3.client("sqs", region_name=REGION)
    mail = sqs.receive_message(QueueUrl=env.stack.queues["mail"], MaxNumberOfMessages=10).get("Messages", [])
    (job,) = [json.loads(m["Body"]) for m in mail]
    plan = WebhookDisabledPlan(job["ref"])
    target = plan.targets([endpoint_id])[endpoint_id]
    assert getattr(target, "email", None) == "admin@example.com"
    email = plan.render(target)  # type: ignore[arg-type]
    assert url in email.subject and "five days" in email.text


class TooMany(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(429)
        self.send_header("Retry-After", "3600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_429_waits_for_its_retry_after(env: Env, hooks: Hooks, serve: Any) -> None:
    url = serve(ThreadingHTTPServer(("127.0.0.1", 0), TooMany))
    endpoint_id = create(env, url).json_body["id"]
    hooks.run()
    (attempt,) = deliveries(env, endpoint_id)
    assert attempt["status_code"] == 429
    wait = datetime.fromisoformat(attempt["next_retry_at"]) - datetime.fromisoformat(attempt["at"])
    assert timedelta(minutes=59) < wait < timedelta(minutes=61)  # not the schedule's 5 s
    hooks.later(600)
    assert len(deliveries(env, endpoint_id)) == 1


class Slow(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        threading.Event().wait(2)  # longer than the transport's deadline below
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_a_slow_receiver_times_out(serve: Any) -> None:
    from crm.webhooks.addresses import check_url
    from crm.webhooks.transport import HttpTransport

    url = serve(ThreadingHTTPServer(("127.0.0.1", 0), Slow))
    answer = HttpTransport(timeout=0.3).post(check_url(url, allow_loopback_http=True), b"{}", {})
    assert (answer.status, answer.error) == (None, "timed out") and answer.latency_ms < 1500


def test_stage_changes_and_hires_reach_the_endpoints_that_want_them(
    env: Env, hooks: Hooks, serve: Any
) -> None:
    receiver = Receiver([])
    url = serve(make_server(receiver, 0))
    created = create(env, url, ["application.stage_changed", "application.hired"]).json_body
    receiver.hooks = [StandardWebhook(created["secret"])]
    job = json_post(env, "/v1/jobs", {"title": "Webhook engineer"}, env.auth("recruiter")).json_body
    body = {"email": "stage.hook@example.com", "first_name": "Sam", "last_name": "Stage"}
    assert json_post(env, f"/public/jobs/{job['id']}/applications", body).status_code == 202
    assert env.pump.drain() == []
    person = env.client.http.get("/v1/candidates?email=stage.hook@example.com", headers=env.auth("recruiter"))
    application_id = f"{person.json_body['items'][0]['id']}_{job['id']}"
    moved = env.client.http.patch(
        f"/v1/applications/{application_id}",
        body=json.dumps({"stage": "hired", "version": 1}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert moved.status_code == 200, moved.body
    assert env.pump.drain() == []
    hooks.run()
    got = [(r["type"], r["verified"]) for r in receiver.received]
    assert sorted(got) == [
        ("application.hired", True),
        ("application.stage_changed", True),
        ("webhook.ping", True),
    ]
    log = env.client.http.get(f"/v1/webhooks/{created['id']}/deliveries", headers=env.auth("admin"))
    assert {a["status_code"] for a in log.json_body["items"]} == {200}
