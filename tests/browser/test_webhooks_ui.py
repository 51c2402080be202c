"""The webhook log in a real browser: an admin's endpoint on a loopback receiver that fails its first
delivery (the ping); the log shows the 500, "Redeliver" sends it again and the log shows the 200;
a candidate created then arrives through the local stack's stream, bus and webhook rule.
Screenshot: webhook-log."""

from __future__ import annotations

import threading
import time
from typing import Any

from crm_tools.webhook_receiver import Receiver, make_server
from tests.browser.conftest import ADMIN, shot, sign_in
from tests.e2e.conftest import CrmDev


def wait_for_log(stack: CrmDev, admin: dict[str, str], endpoint_id: str, statuses: list[int]) -> None:
    deadline = time.monotonic() + 60
    while True:
        items = stack.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=admin).json()["items"]
        if [a["status_code"] for a in items] == statuses:
            return
        assert time.monotonic() < deadline, items
        time.sleep(0.3)


def test_a_failed_delivery_shows_in_the_log_and_redeliver_works(page: Any, stack: CrmDev) -> None:
    receiver = Receiver([], fail=1)
    server = make_server(receiver, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        admin = stack.auth(ADMIN)
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        body = {"url": url, "event_types": ["candidate.created"], "description": "Browser test"}
        created = stack.post("/v1/webhooks", json=body, headers=admin)
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["id"]
        wait_for_log(stack, admin, endpoint_id, [500])

        page.goto(f"/ui/admin/webhooks/{endpoint_id}")
        sign_in(page, ADMIN)
        assert page.url.endswith(f"/ui/admin/webhooks/{endpoint_id}")
        row = page.locator("tr.attempt").first
        assert "webhook.ping" in row.inner_text() and "500" in row.inner_text()
        row.get_by_role("button", name="Redeliver").click()
        page.get_by_text("Queued again").wait_for()
        wait_for_log(stack, admin, endpoint_id, [200, 500])
        page.reload()
        first = page.locator("tr.attempt").first
        assert "200" in first.inner_text() and "(redelivered)" in first.inner_text()
        shot(page, "webhook-log")
        assert [r["answered"] for r in receiver.received] == [500, 200]
        # A candidate created goes through the stream, the bus and the webhook rule of the local stack.
        person = {"email": f"hook-{endpoint_id[-6:]}@example.com", "first_name": "Ada", "last_name": "Hook"}
        assert stack.post("/v1/candidates", json=person, headers=admin).status_code == 201
        wait_for_log(stack, admin, endpoint_id, [200, 200, 500])
        assert receiver.received[-1]["type"] == "candidate.created"
    finally:
        server.shutdown()
        server.server_close()
