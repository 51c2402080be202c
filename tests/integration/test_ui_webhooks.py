"""The admin's webhook pages: add an endpoint (the secret shown once, a 422 page naming a bad URL),
the delivery log with status, latency and excerpt, "Redeliver" and "Redeliver failed since",
rotation, disabling and deleting; a recruiter gets a 403 page."""

from __future__ import annotations

import re
from typing import Any

from crm_tools.webhook_receiver import Receiver, make_server
from tests.integration import test_webhooks
from tests.integration.conftest import Env
from tests.integration.test_ui import cookie_value, csrf_of, get, header, post_form, sign_in
from tests.integration.test_ui_admin import admin_session
from tests.integration.test_webhooks import Hooks

# The webhook tests' fixtures: a loopback receiver, the webhook queue's consumer and the local clock.
hooks, loopback, serve = test_webhooks.hooks, test_webhooks.loopback, test_webhooks.serve


def test_add_an_endpoint_watch_a_failure_and_redeliver_it(env: Env, hooks: Hooks, serve: Any) -> None:
    receiver = Receiver([], fail=1)
    url = serve(make_server(receiver, 0))
    cookie = admin_session(env)
    listing = get(env, "/ui/admin/webhooks", cookie)
    assert listing.status_code == 200 and "No webhook endpoints yet" in listing.body.decode()
    assert 'href="/ui/admin/webhooks" aria-current="page"' in listing.body.decode()
    csrf = csrf_of(listing.body)
    bad = post_form(
        env, "/ui/admin/webhooks", {"csrf": csrf, "url": "https://10.0.0.1/x", "all": "yes"}, cookie
    )
    assert bad.status_code == 422 and "URL:" in bad.body.decode()
    fields = [("csrf", csrf), ("url", url), ("description", "ATS"), ("event_types", "candidate.created")]
    created = post_form(env, "/ui/admin/webhooks", fields, cookie)  # type: ignore[arg-type]
    page = created.body.decode()
    assert created.status_code == 201 and "not shown again" in page
    secret = re.search(r'id="secret" [^>]*value="(whsec_[^"]+)"', page)
    assert secret
    endpoint_id = re.search(r"/ui/admin/webhooks/(ep_[A-Za-z0-9]+)/rotate-secret", page)
    assert endpoint_id
    detail_path = f"/ui/admin/webhooks/{endpoint_id.group(1)}"
    assert secret.group(1) not in get(env, detail_path, cookie).body.decode()

    hooks.run()  # the ping fails once
    failed = get(env, detail_path, cookie).body.decode()
    assert "webhook.ping" in failed and ">500<" in failed and " ms" in failed and "HTTP 500" in failed
    message_id = re.search(r'data-message="(msg_[a-z0-9]+)"', failed)
    assert message_id
    again = post_form(
        env, f"{detail_path}/deliveries/{message_id.group(1)}/redeliver", {"csrf": csrf}, cookie
    )
    assert again.status_code == 303
    hooks.run()
    log = get(env, f"{detail_path}?done=redelivered", cookie).body.decode()
    assert ">200<" in log and "(redelivered)" in log and "Queued again" in log
    assert [r["answered"] for r in receiver.received] == [500, 200]
    since = post_form(env, f"{detail_path}/redeliver", {"csrf": csrf, "since": "2000-01-01T00:00"}, cookie)
    assert since.status_code == 303 and since.headers["Location"].endswith("done=none")
    assert (
        post_form(env, f"{detail_path}/redeliver", {"csrf": csrf, "since": "soon"}, cookie).status_code == 422
    )

    rotated = post_form(env, f"{detail_path}/rotate-secret", {"csrf": csrf}, cookie)
    assert rotated.status_code == 200 and "The old secret keeps signing" in rotated.body.decode()
    disabled = post_form(env, f"{detail_path}/status", {"csrf": csrf, "enabled": "no"}, cookie)
    assert disabled.status_code == 303
    assert "by an admin" in get(env, detail_path, cookie).body.decode()
    gone = post_form(env, f"{detail_path}/delete", {"csrf": csrf, "confirm": "yes"}, cookie)
    assert gone.status_code == 303 and get(env, detail_path, cookie).status_code == 404

    recruiter = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    assert get(env, "/ui/admin/webhooks", recruiter).status_code == 403
