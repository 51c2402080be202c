"""Plays Lambda's SQS event sources for the engagement queues in-process, with faults on demand.

``QueueDriver.run()`` receives from the dispatch and mail queues and calls the real handlers
(loaded from ``functions/`` as the Lambda runtime would) with real SQS events, deletes only
what succeeded, and lets failed messages come back, as SQS does after their visibility timeout
(the local clock moves on by that timeout, so delivery leases taken by a crashed worker expire,
as they would in AWS). Faults:

* ``duplicate``: every message is delivered twice, to two workers running at the same time;
* ``crash_rate``: that share of mail invocations arms a crash: a worker dies mid-batch;
* ``throttle_rate``: that share of SES calls answers with a throttling error.

The SES calls themselves go to moto, so what was really sent can be read back
(:func:`sent_messages`).
"""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from crm.mailing.mailer import SendThrottled, SesMailer
from crm.mailing.sender import MailSender
from crm.platform import clock
from crm.workflows.mail_kinds import plan_for
from crm_tools.devstack.runtime import LambdaContext, sqs_event_record

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


class WorkerCrash(BaseException):
    """The worker process died (not an Exception: nothing in the handler catches it)."""


@dataclass
class Faults:
    duplicate: bool = False
    crash_rate: float = 0.0
    throttle_rate: float = 0.0
    seed: int = 7
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)


class FaultyMailer:
    """The real SES mailer (moto), throttling and crashing on demand.

    Every 1/crash_rate-th invocation arms a crash: the worker that makes the next few sends
    (0 to 20 of them) then dies in the middle of its batch."""

    def __init__(self, faults: Faults) -> None:
        self.faults = faults
        self.real = SesMailer()
        self.lock = threading.Lock()
        self.crash_in: int | None = None  # sends left before the armed crash
        self.throttled = 0
        self.crashes = 0
        self.invocations = 0

    def send(self, message: EmailMessage) -> str:
        with self.lock:
            if self.crash_in is not None:
                if self.crash_in <= 0:
                    self.crash_in = None
                    self.crashes += 1
                    raise WorkerCrash
                self.crash_in -= 1
            if self.faults.rng.random() < self.faults.throttle_rate:
                self.throttled += 1
                raise SendThrottled("Maximum sending rate exceeded.")
        return self.real.send(message)

    def invocation_started(self) -> None:
        with self.lock:
            self.invocations += 1
            every = round(1 / self.faults.crash_rate) if self.faults.crash_rate else 0
            if every and self.invocations % every == 1 and self.crash_in is None:
                self.crash_in = self.faults.rng.randint(0, 20)


@dataclass
class Source:
    name: str
    url: str
    arn: str
    handlers: list[Callable[..., Any]]  # one per concurrent worker (each its own module instance)
    visibility_timeout: int


def worker_handler(function: str, worker: int) -> Callable[..., Any]:
    """The function's handler as a separate Lambda execution environment would load it: its own
    module instance (Powertools' batch processor keeps per-invocation state on the module)."""
    return worker_module(function, worker).handler  # type: ignore[no-any-return]


def worker_module(function: str, worker: int) -> Any:
    """The handler module of one worker (see ``worker_handler``)."""
    code_dir = ROOT / "functions" / function
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    name = f"_engagement_worker_{function}_{worker}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, code_dir / "handler.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return module


_MOTO_LOCK = threading.RLock()


def serialise_moto() -> Callable[[], None]:
    """In-process moto is not thread-safe: a conditional write checked by two threads at once
    passes for both, which DynamoDB never allows. Two workers (a duplicated delivery) share one
    moto here, so each AWS call runs alone, as the local stack's moto server does. Returns the
    undo."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def serialised(self: Any, *args: Any, **kwargs: Any) -> Any:
        with _MOTO_LOCK:
            return original(self, *args, **kwargs)

    BotocoreStubber.__call__ = serialised  # type: ignore[method-assign]

    def undo() -> None:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]

    return undo


class QueueDriver:
    def __init__(self, queues: dict[str, str], faults: Faults | None = None) -> None:
        self.faults = faults or Faults()
        self._undo_serialise = serialise_moto()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.mailer = FaultyMailer(self.faults)
        # Every mail worker sends through the faulty mailer (the ledger and locks stay real).
        for worker in range(2):
            worker_module("mail", worker).sender = MailSender(plan_for, mailer=self.mailer)
        self.sources = []
        for name, function in (("dispatch", "dispatch"), ("mail", "mail")):
            url = queues[name]
            attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
            self.sources.append(
                Source(
                    name=name,
                    url=url,
                    arn=attributes["QueueArn"],
                    handlers=[worker_handler(function, worker) for worker in range(2)],
                    visibility_timeout=int(attributes["VisibilityTimeout"]),
                )
            )
        self.invocations = 0
        self.redeliveries = 0
        self.errors: list[str] = []

    def close(self) -> None:
        for worker in range(2):
            worker_module("mail", worker).sender = MailSender(plan_for)
        self._undo_serialise()

    def run(self, max_rounds: int = 500, *, only: str | None = None) -> None:
        """Until the queues are empty (failed messages are made visible again after each round);
        ``only="dispatch"`` runs just the dispatcher (the mail queue keeps its messages)."""
        for _ in range(max_rounds):
            busy = False
            for source in self.sources:
                if only is None or source.name == only:
                    busy |= self._drain(source)
            if not busy:
                return
        raise AssertionError("the queues did not settle")

    def _drain(self, source: Source) -> bool:
        worked = False
        retry: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=source.url,
                MaxNumberOfMessages=10,
                VisibilityTimeout=source.visibility_timeout,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                break
            worked = True
            for start in range(0, len(messages), 5):
                retry += self._deliver(source, messages[start : start + 5])
        if retry:
            # SQS makes them visible again once their visibility timeout has passed.
            clock.advance(source.visibility_timeout)
            for message in retry:
                self.redeliveries += 1
                try:
                    self.sqs.change_message_visibility(
                        QueueUrl=source.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                    )
                except ClientError as exc:
                    # The handler's own back-off (real seconds) ran out on a slow machine and the
                    # message was received again meanwhile: that receive owns it now.
                    if exc.response["Error"]["Code"] != "ReceiptHandleIsInvalid":
                        raise
        return worked

    def _deliver(self, source: Source, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        event = {"Records": [sqs_event_record(m, queue_arn=source.arn, region=REGION) for m in messages]}
        copies = 2 if self.faults.duplicate else 1
        results: list[set[str] | None] = [None] * copies

        def invoke(slot: int) -> None:
            if source.name == "mail":
                self.mailer.invocation_started()
            try:
                self.invocations += 1
                context = LambdaContext(
                    function_name=source.name,
                    memory_limit_in_mb=512,
                    invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{source.name}",
                    timeout_seconds=60,
                )
                outcome = source.handlers[slot](json.loads(json.dumps(event)), context)
                results[slot] = {f["itemIdentifier"] for f in outcome.get("batchItemFailures", [])}
            except WorkerCrash:
                results[slot] = None  # the process died: every message comes back
            except Exception as exc:
                self.errors.append(type(exc).__name__)
                results[slot] = None

        if copies == 1:
            invoke(0)
        else:
            threads = [threading.Thread(target=invoke, args=(slot,)) for slot in range(copies)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        # A message is done when one delivery of it succeeded (SQS deletes it by that receipt).
        failed_everywhere = set.intersection(
            *[r if r is not None else {m["MessageId"] for m in messages} for r in results]
        )
        done = [m for m in messages if m["MessageId"] not in failed_everywhere]
        for chunk_start in range(0, len(done), 10):
            chunk = done[chunk_start : chunk_start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=source.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return [m for m in messages if m["MessageId"] in failed_everywhere]

    def dead_letters(self) -> dict[str, int]:
        counts = {}
        for source in self.sources:
            url = source.url + "-dlq"
            attributes = self.sqs.get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            counts[source.name] = int(attributes["ApproximateNumberOfMessages"])
        return counts


def sent_messages() -> list[EmailMessage]:
    """Every email SES (moto) accepted in this test, parsed."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from crm.mailing.outbox import parse_raw

    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [parse_raw(m.raw_data) for m in backend.sent_messages if hasattr(m, "raw_data")]


def seed_candidates(count: int, *, tag: str, consent: bool = True) -> list[str]:
    """Candidates written straight into moto's table as the product would hold them (profile and
    list projections; ``tests/bench/seed.py``), for audiences of hundreds without minutes of setup."""
    from crm.platform.config import get_settings
    from crm.platform.ids import new_id, utcnow
    from tests.bench.seed import DirectLoader, candidate_items

    loader = DirectLoader(get_settings().table_name)
    ids = []
    for i in range(count):
        now = utcnow()
        data = {
            "id": new_id(),
            "email": f"r{i}-{tag}@example.com",
            "first_name": f"Reader{i}",
            "last_name": "Test",
            "tags": [tag],
            "source": "import",
            "sources": ["import"],
            "pools": {},
            "consents": {
                "marketing": {"topic": "marketing", "granted": consent, "at": now, "source": "test"}
            },
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        loader.put(candidate_items(data))
        ids.append(data["id"])
    return ids


def settle(pump: Any, driver: QueueDriver) -> None:
    """Let everything asynchronous happen: stream records, then the queues, until quiet."""
    for _ in range(10):
        assert pump.drain() == []
        driver.run()
        if not pump.drain():
            return


def ses_event(detail_type: str, message_id: str) -> None:
    """Feed one SES event (``Email Delivered``, ``Email Opened``...) for a sent message to the
    SES-feedback function, as its queue would deliver it."""
    import json

    from crm_tools.devstack.runtime import LambdaContext, load_handler

    handler = load_handler(ROOT / "functions" / "ses_feedback", "handler.handler")
    body = {
        "detail-type": detail_type,
        "source": "aws.ses",
        "detail": {"eventType": detail_type.split()[-1], "mail": {"messageId": message_id}},
    }
    record = {
        "messageId": f"m-{detail_type}-{message_id}",
        "receiptHandle": "r",
        "body": json.dumps(body),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {},
        "md5OfBody": "x",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:crm-test-ses-feedback",
        "awsRegion": "us-east-1",
    }
    context = LambdaContext(
        function_name="ses-feedback", memory_limit_in_mb=512, invoked_function_arn="arn:x", timeout_seconds=30
    )
    assert handler({"Records": [record]}, context) == {"batchItemFailures": []}
