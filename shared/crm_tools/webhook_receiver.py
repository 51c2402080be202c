"""``crm webhook-receiver``: a receiver on loopback that verifies Standard Webhooks signatures.

For trying webhooks in ``crm dev`` (register ``http://127.0.0.1:<port>/hook`` as an endpoint: the
local stack allows http to loopback) and for watching what an integration would get. Each delivery
is printed as one line: the time, the ``webhook-id``, the event type and whether its signature
verifies with one of the given secrets (``standardwebhooks``, as an integrator would check it).
``--fail N`` answers the first N deliveries with 500 (to watch the retries and redeliver them);
``--gone`` answers 410 (the endpoint is then disabled). ``--log FILE`` appends each delivery as a
JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

LOOPBACK = "127.0.0.1"


class Receiver:
    def __init__(
        self, secrets: list[str], *, fail: int = 0, gone: bool = False, log: Path | None = None
    ) -> None:
        self.hooks = [Webhook(s) for s in secrets]
        self.fail = fail
        self.gone = gone
        self.log = log
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def verified(self, body: bytes, headers: dict[str, str]) -> bool:
        for hook in self.hooks:
            try:
                hook.verify(body, headers)
            except WebhookVerificationError:
                continue
            return True
        return False

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            verified = self.verified(body, headers) if self.hooks else None
            try:
                event_type = str(json.loads(body or b"{}").get("type", ""))
            except (ValueError, AttributeError):
                event_type = ""
            status = 410 if self.gone else 500 if self.fail > 0 else (200 if verified is not False else 401)
            if self.fail > 0 and not self.gone:
                self.fail -= 1
            entry = {
                "received_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "webhook_id": headers.get("webhook-id", ""),
                "type": event_type,
                "verified": verified,
                "answered": status,
            }
            self.received.append(entry)
            if self.log:
                with self.log.open("a", encoding="utf-8") as out:
                    out.write(json.dumps({**entry, "body": body.decode("utf-8", "replace")}) + "\n")
            return status, entry


def make_server(receiver: Receiver, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(min(length, 5 * 1024 * 1024))
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, entry = receiver.answer(body, headers)
            mark = {True: "signature ok", False: "SIGNATURE INVALID", None: "not checked"}[entry["verified"]]
            print(
                f"{entry['received_at']}  {entry['webhook_id']}  {entry['type'] or '?'}  {mark}  -> {status}"
            )
            sys.stdout.flush()
            payload = json.dumps({"received": entry["webhook_id"]}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return ThreadingHTTPServer((LOOPBACK, port), Handler)


def add_webhook_receiver(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "webhook-receiver",
        help="a loopback receiver that verifies webhook signatures (for trying webhooks locally)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    parser.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (default 9000)")
    parser.add_argument(
        "--secret",
        action="append",
        default=[],
        help="an endpoint's whsec_... secret; repeat during a rotation (either verifies)",
    )
    parser.add_argument("--fail", type=int, default=0, metavar="N", help="answer the first N deliveries 500")
    parser.add_argument("--gone", action="store_true", help="answer every delivery 410 Gone")
    parser.add_argument("--log", type=Path, default=None, help="append each delivery as a JSON line here")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    receiver = Receiver(list(args.secret), fail=args.fail, gone=args.gone, log=args.log)
    server = make_server(receiver, args.port)
    checked = "verifying signatures" if args.secret else "not verifying (no --secret)"
    print(f"listening on http://{LOOPBACK}:{args.port}/ ({checked}); Ctrl-C stops", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
