"""``crm webhook-receiver``: verifies Standard Webhooks signatures, fails on request, answers 410."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from crm_tools.webhook_receiver import Receiver, make_server

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
def serve() -> Any:
    servers = []

    def start(receiver: Receiver) -> str:
        server = make_server(receiver, 0)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}/hook"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def post(url: str, secret: str, msg_id: str = "msg_1") -> int:
    body = json.dumps({"type": "candidate.created", "data": {"id": "c1"}})
    now = datetime.now(UTC)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, now, body),
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_signed_delivery_is_verified_and_a_forged_one_is_refused(serve: Any) -> None:
    receiver = Receiver([SECRET])
    url = serve(receiver)
    assert post(url, SECRET) == 200
    assert post(url, "whsec_" + "A" * 32, "msg_2") == 401
    assert [(r["webhook_id"], r["verified"], r["type"]) for r in receiver.received] == [
        ("msg_1", True, "candidate.created"),
        ("msg_2", False, "candidate.created"),
    ]


def test_it_fails_the_first_deliveries_on_request_and_can_be_gone(serve: Any) -> None:
    flaky = serve(Receiver([SECRET], fail=2))
    assert [post(flaky, SECRET, f"msg_{i}") for i in range(3)] == [500, 500, 200]
    assert post(serve(Receiver([SECRET], gone=True)), SECRET) == 410
