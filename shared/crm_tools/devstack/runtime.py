"""The local Lambda runtime: loads handlers and plays the parts AWS plays in production.

* :class:`LocalFunction` loads a function's handler the way SAM does (``CodeUri`` on
  ``sys.path``, ``Handler`` = ``module.attribute``) and invokes it with a small
  Lambda context. Exceptions are logged without their message (it may carry
  personal data) and reported to the caller, never raised.
* :class:`DynamoStreamSource` reads a table's DynamoDB stream (the dynamodbstreams
  API of the embedded moto) and invokes the consumer with real-shaped stream
  events: batch size and batching window from the template, partial batch
  responses (``ReportBatchItemFailures``) honoured by retrying from the first failed
  record, ``BisectBatchOnFunctionError``, and after ``MaximumRetryAttempts`` a
  failure record sent to the ``OnFailure`` destination, as Lambda does.
* :class:`SqsSource` polls a queue, invokes the consumer with a real SQS event and
  deletes only what succeeded; failed messages become visible again after the
  queue's visibility timeout and moto moves them to the DLQ after
  ``maxReceiveCount`` receives.
* :class:`ScheduledFunctionSource` fires a function's ``Schedule``/``ScheduleV2`` event and
  :class:`SchedulerPoller` the schedules in EventBridge Scheduler groups, both by the local
  stack's clock (``crm.platform.clock.now()``, moved by ``POST /dev/clock``): moto never fires them.

No Lambda event source mapping is ever created in moto: moto would try to run the
function itself and silently drop the messages.
"""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import importlib.util
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from crm.platform import clock
from crm_tools.cfn import FunctionSpec

log = logging.getLogger("devstack")

#: Set to 1 to log handler tracebacks with their messages (they may contain personal data).
TRACEBACK_ENV = "CRM_DEV_TRACEBACKS"


# ---------------------------------------------------------------- context


@dataclass
class LambdaContext:
    """What a handler's ``context`` argument offers (the parts Powertools reads)."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = f"{dt.date.today():%Y/%m/%d}/[$LATEST]local"
        self.identity = None
        self.client_context = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


# ---------------------------------------------------------------- functions


@dataclass
class Invocation:
    ok: bool
    result: Any = None
    error_type: str | None = None


_import_lock = threading.RLock()


def load_handler(code_dir: Path, handler: str) -> Callable[..., Any]:
    """Import ``handler`` (``module.attribute``) from ``code_dir`` as the Lambda runtime would.

    ``code_dir`` goes on ``sys.path`` so the handler's own packages (``chalicelib``)
    import. If a module of the same name was already loaded from another function's
    folder, this one is loaded under a private alias instead of clobbering it.
    """
    module_name, _, attribute = handler.rpartition(".")
    if not module_name or not attribute:
        raise ValueError(f"handler {handler!r} is not module.attribute")
    code_dir = code_dir.resolve()
    with _import_lock:
        if str(code_dir) not in sys.path:
            sys.path.insert(0, str(code_dir))
        module_file = code_dir.joinpath(*module_name.split("."))
        candidates = [module_file.with_suffix(".py"), module_file / "__init__.py"]
        source = next((c for c in candidates if c.is_file()), None)
        loaded = sys.modules.get(module_name)
        loaded_from = getattr(loaded, "__file__", None)
        if source is not None and loaded is not None and loaded_from and Path(loaded_from) != source:
            alias = f"_crm_local_{abs(hash(str(code_dir)))}_{module_name.replace('.', '_')}"
            module = sys.modules.get(alias)
            if module is None:
                spec = importlib.util.spec_from_file_location(alias, source)
                if spec is None or spec.loader is None:
                    raise ImportError(f"cannot load {source}")
                module = importlib.util.module_from_spec(spec)
                sys.modules[alias] = module
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    sys.modules.pop(alias, None)
                    raise
        else:
            module = importlib.import_module(module_name)
    return getattr(module, attribute)  # type: ignore[no-any-return]


def describe_exception(exc: BaseException) -> str:
    """The exception's type and where it was raised, without its message (no PII in logs)."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))
    return f"{type(exc).__module__}.{type(exc).__qualname__} at {where or '?'}"


class LocalFunction:
    """One Lambda function of the template, run in this process."""

    def __init__(self, spec: FunctionSpec, *, physical_name: str, arn: str) -> None:
        self.spec = spec
        self.physical_name = physical_name
        self.arn = arn
        self._handler: Callable[..., Any] | None = None
        self._lock = threading.Lock()
        self._last_error: str | None = None

    @property
    def logical_id(self) -> str:
        return self.spec.logical_id

    def load(self) -> Callable[..., Any]:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    if self.spec.code_dir is None:
                        raise ImportError(f"{self.logical_id} has no local CodeUri")
                    self._handler = load_handler(self.spec.code_dir, self.spec.handler)
        return self._handler

    def context(self) -> LambdaContext:
        return LambdaContext(
            function_name=self.physical_name,
            memory_limit_in_mb=self.spec.memory_size,
            invoked_function_arn=self.arn,
            timeout_seconds=self.spec.timeout,
        )

    def invoke(self, event: dict[str, Any]) -> Invocation:
        try:
            handler = self.load()
            result = handler(event, self.context())
        except Exception as exc:
            described = describe_exception(exc)
            if os.environ.get(TRACEBACK_ENV) == "1":
                log.exception("%s failed", self.logical_id)
            elif described != self._last_error:
                log.error("%s failed: %s", self.logical_id, described)
            else:
                log.error("%s failed again: %s", self.logical_id, type(exc).__name__)
            self._last_error = described
            return Invocation(ok=False, error_type=type(exc).__name__)
        self._last_error = None
        return Invocation(ok=True, result=result)


def failed_identifiers(result: Any) -> list[str] | None:
    """Identifiers in a partial batch response; None means the batch succeeded.

    An empty list means "everything failed" (a malformed response, as Lambda treats it).
    """
    if result is None:
        return None
    if not isinstance(result, dict):
        return []
    failures = result.get("batchItemFailures")
    if not failures:
        return None
    ids = []
    for failure in failures:
        ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not ident:
            return []
        ids.append(str(ident))
    return ids


# ---------------------------------------------------------------- event shapes


def _b64(value: bytes | bytearray) -> str:
    return base64.b64encode(value).decode("ascii")


def to_event_attribute(value: Any) -> Any:
    """A boto3-parsed AttributeValue back to its wire form (binary as base64)."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for kind, inner in value.items():
            if kind == "B":
                out[kind] = _b64(inner) if isinstance(inner, (bytes, bytearray)) else inner
            elif kind == "BS":
                out[kind] = [_b64(v) if isinstance(v, (bytes, bytearray)) else v for v in inner]
            elif kind == "M":
                out[kind] = {k: to_event_attribute(v) for k, v in inner.items()}
            elif kind == "L":
                out[kind] = [to_event_attribute(v) for v in inner]
            else:
                out[kind] = inner
        return out
    return value


def dynamodb_event_record(record: dict[str, Any], *, stream_arn: str, region: str) -> dict[str, Any]:
    """A record from GetRecords as Lambda delivers it to a function."""
    change = dict(record.get("dynamodb") or {})
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, dt.datetime):
        created = float(int(created.timestamp()))
    body: dict[str, Any] = {"ApproximateCreationDateTime": created}
    for key in ("Keys", "NewImage", "OldImage"):
        if key in change:
            body[key] = {k: to_event_attribute(v) for k, v in change[key].items()}
    body["SequenceNumber"] = change.get("SequenceNumber")
    body["SizeBytes"] = change.get("SizeBytes")
    body["StreamViewType"] = change.get("StreamViewType")
    return {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": body,
        "eventSourceARN": stream_arn,
    }


def sqs_event_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """A message from ReceiveMessage as Lambda delivers it to a function."""
    attributes = {str(k): str(v) for k, v in (message.get("Attributes") or {}).items()}
    message_attributes = {}
    for name, attr in (message.get("MessageAttributes") or {}).items():
        binary = attr.get("BinaryValue")
        message_attributes[name] = {
            "stringValue": attr.get("StringValue"),
            "binaryValue": _b64(binary) if isinstance(binary, (bytes, bytearray)) else binary,
            "stringListValues": list(attr.get("StringListValues") or []),
            "binaryListValues": [_b64(b) for b in attr.get("BinaryListValues") or []],
            "dataType": attr.get("DataType", "String"),
        }
        message_attributes[name] = {k: v for k, v in message_attributes[name].items() if v is not None}
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


# ---------------------------------------------------------------- event sources


class Poller(threading.Thread, ABC):
    """A poller thread; ``idle`` is set whenever a poll found nothing to do. Each kind of
    poller (a DynamoDB stream, an SQS queue, schedules) says in ``poll_once`` what one poll does."""

    poll_fast = 0.2
    poll_slow = 0.5
    slow_after = 5.0

    def __init__(self, name: str, stop: threading.Event) -> None:
        super().__init__(name=name, daemon=True)
        self.stop_event = stop
        self._idle_since: float | None = None
        self._idle_marker = threading.Event()

    def prepare(self) -> None:
        """Called before the thread starts (after the data is restored)."""

    @abstractmethod
    def poll_once(self) -> bool:
        """Do one unit of work; return False when there was nothing to do."""

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                busy = self.poll_once()
            except Exception as exc:  # the runtime never dies; it logs and polls again
                log.error("%s: polling failed: %s", self.name, describe_exception(exc))
                busy = False
                self.stop_event.wait(1.0)
            if busy:
                self._idle_since = None
                continue
            now = time.monotonic()
            self._idle_since = self._idle_since or now
            self._idle_marker.set()
            slow = now - self._idle_since > self.slow_after
            self.stop_event.wait(self.poll_slow if slow else self.poll_fast)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until a poll that started after this call found nothing to do."""
        self._idle_marker.clear()
        self._idle_since = None  # poll fast again
        deadline = time.monotonic() + timeout
        # Two idle polls: the first may have started before the call.
        for _ in range(2):
            while not self._idle_marker.wait(min(0.5, max(0.0, deadline - time.monotonic()))):
                if not self.is_alive() or time.monotonic() >= deadline:
                    return False
            self._idle_marker.clear()
        return True


class EventSource(Poller):
    """A poller that feeds one function (an event source of the template's ``Events``)."""

    def __init__(self, name: str, function: LocalFunction, stop: threading.Event) -> None:
        super().__init__(name, stop)
        self.function = function


class DynamoStreamSource(EventSource):
    def __init__(
        self,
        function: LocalFunction,
        properties: dict[str, Any],
        *,
        streams_client: Any,
        sqs_client: Any,
        queue_urls: dict[str, str],
        region: str,
        stop: threading.Event,
        backoff: Callable[[int], float] | None = None,
        housekeeping: Callable[[int | None, set[str]], None] | None = None,
    ) -> None:
        super().__init__(f"{function.logical_id}-stream", function, stop)
        self.stream_arn = str(properties["Stream"])
        self.batch_size = int(properties.get("BatchSize", 100))
        self.window = float(properties.get("MaximumBatchingWindowInSeconds", 0))
        self.max_retries = int(properties.get("MaximumRetryAttempts", -1))
        self.bisect = bool(properties.get("BisectBatchOnFunctionError", False))
        self.report_failures = "ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or [])
        destination = (properties.get("DestinationConfig") or {}).get("OnFailure") or {}
        self.on_failure = destination.get("Destination")
        if properties.get("FilterCriteria"):
            log.warning("%s: FilterCriteria is not emulated; every record is delivered", self.name)
        self.streams = streams_client
        self.sqs = sqs_client
        self.queue_urls = queue_urls
        self.region = region
        self.backoff = backoff or (lambda attempt: min(0.2 * 2 ** (attempt - 1), 2.0))
        self.housekeeping = housekeeping
        self._shards: dict[str, dict[str, Any]] = {}  # shard id -> iterator, last sequence read
        self._buffer: list[dict[str, Any]] = []
        self._first_arrival: float | None = None
        self._delivered_upto: int | None = None
        self._last_housekeeping = time.monotonic()
        self._fetch_errors = 0

    def prepare(self) -> None:
        """Start at the end of the stream: what is already in the table was restored, not changed."""
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            self._shards[shard["ShardId"]] = {"iterator": iterator, "last": None}

    def _fetch(self) -> None:
        for shard_id, position in self._shards.items():
            if position["last"] is not None:
                # A fresh iterator from the last record read: robust to the table being replaced.
                position["iterator"] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=position["last"],
                )["ShardIterator"]
            response = self.streams.get_records(ShardIterator=position["iterator"], Limit=1000)
            position["iterator"] = response["NextShardIterator"]
            records = response.get("Records", [])
            if records:
                position["last"] = records[-1]["dynamodb"]["SequenceNumber"]
                self._buffer.extend(records)
        self._housekeeping()

    def _housekeeping(self) -> None:
        if self.housekeeping is None or time.monotonic() - self._last_housekeeping < 30:
            return
        self._last_housekeeping = time.monotonic()
        keep = {str(p["iterator"]) for p in self._shards.values()}
        try:
            self.housekeeping(self._delivered_upto, keep)
        except Exception as exc:
            log.debug("%s: housekeeping failed: %s", self.name, exc)

    def poll_once(self) -> bool:
        if len(self._buffer) < self.batch_size:
            try:
                self._fetch()
                self._fetch_errors = 0
            except Exception:
                self._fetch_errors += 1
                if self._fetch_errors >= 3:
                    # The position is no longer readable (e.g. trimmed): carry on from the end.
                    log.warning("%s: stream position lost; reading from the latest record", self.name)
                    self._fetch_errors = 0
                    self.prepare()
                raise
        if not self._buffer:
            self._first_arrival = None
            return False
        now = time.monotonic()
        self._first_arrival = self._first_arrival or now
        if len(self._buffer) < self.batch_size and now - self._first_arrival < self.window:
            self.stop_event.wait(min(0.1, self.window))
            return True
        batch, self._buffer = self._buffer[: self.batch_size], self._buffer[self.batch_size :]
        self._first_arrival = now if self._buffer else None
        self.deliver(batch, 0)
        self._delivered_upto = int(batch[-1]["dynamodb"]["SequenceNumber"]) + 1
        return True

    def deliver(self, records: list[dict[str, Any]], attempts: int) -> None:
        """Invoke until the batch succeeds, is checkpointed past, or runs out of retries."""
        while records and not self.stop_event.is_set():
            event = {
                "Records": [
                    dynamodb_event_record(r, stream_arn=self.stream_arn, region=self.region) for r in records
                ]
            }
            outcome = self.function.invoke(event)
            if outcome.ok:
                if not self.report_failures:
                    return
                failed = failed_identifiers(outcome.result)
                if failed is None:
                    return
                sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
                indexes = [sequence.index(f) for f in failed if f in sequence]
                # Unknown identifiers make the whole batch a failure, as in Lambda.
                first = min(indexes) if indexes and len(indexes) == len(failed) else 0
                records = records[first:]
            attempts += 1
            if 0 <= self.max_retries < attempts:
                self.send_to_destination(records, outcome, attempts)
                return
            if not outcome.ok and self.bisect and len(records) > 1:
                middle = len(records) // 2
                self.deliver(records[:middle], attempts)
                self.deliver(records[middle:], attempts)
                return
            self.stop_event.wait(self.backoff(attempts))

    def send_to_destination(self, records: list[dict[str, Any]], outcome: Invocation, attempts: int) -> None:
        """The failure record Lambda sends to an OnFailure destination (no record data in it)."""
        log.warning("%s: %d stream record(s) given up after %d attempts", self.name, len(records), attempts)
        if not self.on_failure:
            return
        created = [r["dynamodb"].get("ApproximateCreationDateTime") for r in records]
        stamps = [c if isinstance(c, dt.datetime) else None for c in created]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({} if outcome.ok else {"functionError": "Unhandled"}),
            },
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": next(iter(self._shards), ""),
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(stamps[0]),
                "approximateArrivalOfLastRecord": _iso(stamps[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        url = self.queue_urls.get(str(self.on_failure))
        if url is None:
            log.error("%s: OnFailure destination %s is not a local queue", self.name, self.on_failure)
            return
        self.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class SqsSource(EventSource):
    def __init__(
        self,
        function: LocalFunction,
        properties: dict[str, Any],
        *,
        sqs_client: Any,
        queue_urls: dict[str, str],
        region: str,
        stop: threading.Event,
    ) -> None:
        super().__init__(f"{function.logical_id}-sqs", function, stop)
        self.queue_arn = str(properties["Queue"])
        self.queue_url = queue_urls[self.queue_arn]
        self.batch_size = int(properties.get("BatchSize", 10))
        self.window = float(properties.get("MaximumBatchingWindowInSeconds", 0))
        self.report_failures = "ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or [])
        if properties.get("FilterCriteria"):
            log.warning("%s: FilterCriteria is not emulated; every message is delivered", self.name)
        self.sqs = sqs_client
        self.region = region

    def _receive(self, count: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(response.get("Messages", []))

    def poll_once(self) -> bool:
        messages = self._receive(self.batch_size)
        if not messages:
            return False
        deadline = time.monotonic() + self.window
        while len(messages) < self.batch_size and time.monotonic() < deadline:
            more = self._receive(self.batch_size - len(messages))
            if more:
                messages.extend(more)
            else:
                self.stop_event.wait(0.1)
        event = {
            "Records": [sqs_event_record(m, queue_arn=self.queue_arn, region=self.region) for m in messages]
        }
        outcome = self.function.invoke(event)
        if not outcome.ok:
            return True  # nothing deleted: visible again after the visibility timeout
        done = messages
        if self.report_failures:
            failed = failed_identifiers(outcome.result)
            if failed == []:
                done = []
            elif failed:
                done = [m for m in messages if m["MessageId"] not in set(failed)]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
        return True


# ---------------------------------------------------------------- schedules
#
# moto keeps EventBridge Scheduler schedules but never fires anything. The local runtime
# does, by the local stack's clock (``crm.platform.clock.now()``, which ``POST /dev/clock`` moves):
# :class:`SchedulerPoller` fires the schedules the product creates in schedule groups (a
# campaign's one-time ``at(...)`` launch), :class:`ScheduledFunctionSource` the ``Schedule`` /
# ``ScheduleV2`` events of the template's functions (the due-work tick). A ``rate(...)`` fires
# once when first seen and then whenever the clock has passed the next due time; after a jump
# of the clock it fires once, not once per missed period. ``cron(...)`` is not emulated.

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minutes?|hours?|days?)\s*\)$")
_RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_at(expression: str, timezone: str | None = None) -> dt.datetime | None:
    """The UTC time of a one-time ``at(yyyy-mm-ddThh:mm:ss)`` expression (in ``timezone``, default
    UTC); None when the expression is not an ``at``. ValueError for an unknown time zone or date."""
    match = _AT.match(expression.strip())
    if match is None:
        return None
    local = dt.datetime.fromisoformat(match.group(1))
    try:
        zone: dt.tzinfo = ZoneInfo(timezone) if timezone and timezone.upper() != "UTC" else dt.UTC
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
    return local.replace(tzinfo=zone).astimezone(dt.UTC)


def parse_rate(expression: str) -> dt.timedelta | None:
    """The period of a ``rate(N minute(s)|hour(s)|day(s))`` expression; None for anything else."""
    match = _RATE.match(expression.strip())
    if match is None or int(match.group(1)) < 1:
        return None
    return dt.timedelta(seconds=int(match.group(1)) * _RATE_UNITS[match.group(2).rstrip("s")])


@dataclass
class RateTimer:
    """When a ``rate(...)`` schedule is due next, by whatever clock ``due`` is given."""

    period: dt.timedelta
    next_due: dt.datetime | None = None

    def due(self, now: dt.datetime) -> bool:
        """True (and the next due time moves to ``now + period``) when it should fire at ``now``:
        the first time it is asked, then whenever ``now`` has reached the next due time. A clock
        that jumped several periods fires once."""
        if self.next_due is not None and now < self.next_due:
            return False
        self.next_due = now + self.period
        return True


def _event_time(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduler_event(schedule_arn: str, *, account: str, region: str, now: dt.datetime) -> dict[str, Any]:
    """EventBridge Scheduler's default payload for a target without ``Input``."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": account,
        "time": _event_time(now),
        "region": region,
        "resources": [schedule_arn],
        "detail": {},
    }


def rule_schedule_event(rule_arn: str, *, account: str, region: str, now: dt.datetime) -> dict[str, Any]:
    """What an EventBridge scheduled rule (SAM ``Schedule`` event) delivers."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": _event_time(now),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def schedule_action(schedule: dict[str, Any], now: dt.datetime, timers: dict[str, RateTimer]) -> str:
    """What to do with one enabled schedule (``GetSchedule``'s answer) at ``now``:
    ``fire``, ``wait``, ``cron`` (not emulated) or ``invalid``. Rate timers live in ``timers``."""
    expression = str(schedule.get("ScheduleExpression") or "").strip()
    end = schedule.get("EndDate")
    if isinstance(end, dt.datetime) and now > end:
        return "wait"
    try:
        at = parse_at(expression, schedule.get("ScheduleExpressionTimezone"))
    except ValueError:
        return "invalid"
    if at is not None:
        return "fire" if at <= now else "wait"
    period = parse_rate(expression)
    if period is not None:
        start = schedule.get("StartDate")
        if isinstance(start, dt.datetime) and now < start:
            return "wait"
        timer = timers.setdefault(str(schedule.get("Arn")), RateTimer(period))
        timer.period = period
        return "fire" if timer.due(now) else "wait"
    if expression.startswith("cron("):
        return "cron"
    return "invalid"


class ScheduledFunctionSource(EventSource):
    """A ``Schedule`` / ``ScheduleV2`` event of a template function, fired by the local clock."""

    def __init__(
        self,
        function: LocalFunction,
        event_name: str,
        kind: str,
        properties: dict[str, Any],
        *,
        resource_arn: str,
        account: str,
        region: str,
        stop: threading.Event,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__(f"{function.logical_id}-{event_name}", function, stop)
        self.kind = kind
        self.expression = str(properties.get("ScheduleExpression", ""))
        self.resource_arn = resource_arn
        self.account = account
        self.region = region
        self.now = now or clock.now
        raw_input = properties.get("Input")
        self.input: dict[str, Any] | None = json.loads(raw_input) if isinstance(raw_input, str) else None
        period = parse_rate(self.expression)
        self.timer = RateTimer(period) if period is not None else None
        if self.timer is None:
            log.info("%s: %s is not emulated by the local stack", self.name, self.expression)

    def event(self, now: dt.datetime) -> dict[str, Any]:
        if self.input is not None:
            return dict(self.input)
        make = scheduler_event if self.kind == "ScheduleV2" else rule_schedule_event
        return make(self.resource_arn, account=self.account, region=self.region, now=now)

    def poll_once(self) -> bool:
        now = self.now()
        if self.timer is None or not self.timer.due(now):
            return False
        log.info("%s: %s fired at %s (local clock)", self.name, self.expression, _event_time(now))
        self.function.invoke(self.event(now))
        return True


class SchedulerPoller(Poller):
    """Fires the schedules in moto's EventBridge Scheduler groups by the local clock, delivering
    each target as Scheduler would: ``Input`` as the body of an SQS message, or as the event of a
    local function; then a one-time schedule is deleted (``ActionAfterCompletion: DELETE``) or
    disabled. Logs schedule names and ARNs only (never the input)."""

    def __init__(
        self,
        *,
        scheduler_client: Any,
        sqs_client: Any,
        queue_urls: dict[str, str],
        functions: dict[str, LocalFunction],
        account: str,
        region: str,
        stop: threading.Event,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        super().__init__("scheduler", stop)
        self.scheduler = scheduler_client
        self.sqs = sqs_client
        self.queue_urls = queue_urls
        self.functions = functions  # by ARN
        self.account = account
        self.region = region
        self.now = now or clock.now
        self.timers: dict[str, RateTimer] = {}
        self._reported: set[tuple[str, str]] = set()

    def _once(self, arn: str, what: str, message: str, *args: Any) -> None:
        if (arn, what) not in self._reported:
            self._reported.add((arn, what))
            log.warning(message, *args)

    def _pages(self, method: Any, key: str, **kwargs: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token = None
        while True:
            response = method(**kwargs, **({"NextToken": token} if token else {}))
            items.extend(response.get(key) or [])
            token = response.get("NextToken")
            if not token:
                return items

    def poll_once(self) -> bool:
        fired = False
        for group in self._pages(self.scheduler.list_schedule_groups, "ScheduleGroups"):
            summaries = self._pages(
                self.scheduler.list_schedules, "Schedules", GroupName=group["Name"], State="ENABLED"
            )
            for summary in summaries:
                try:
                    schedule = self.scheduler.get_schedule(GroupName=group["Name"], Name=summary["Name"])
                except Exception as exc:  # deleted meanwhile
                    log.debug("scheduler: %s: %s", summary.get("Name"), type(exc).__name__)
                    continue
                if schedule.get("State") == "ENABLED":
                    fired = self.handle(schedule, self.now()) or fired
        return fired

    def handle(self, schedule: dict[str, Any], now: dt.datetime) -> bool:
        """Fire one schedule if it is due; True when it fired."""
        arn = str(schedule.get("Arn"))
        expression = str(schedule.get("ScheduleExpression"))
        action = schedule_action(schedule, now, self.timers)
        if action == "cron":
            self._once(arn, "cron", "scheduler: %s: %s is not emulated by the local stack", arn, expression)
            return False
        if action == "invalid":
            self._once(arn, "invalid", "scheduler: %s: cannot read %s", arn, expression)
            return False
        if action != "fire" or not self.deliver(schedule, now):
            return False
        log.info("scheduler: %s (%s) fired at %s (local clock)", arn, expression, _event_time(now))
        if expression.startswith("at("):
            self.complete(schedule)
        return True

    def deliver(self, schedule: dict[str, Any], now: dt.datetime) -> bool:
        arn = str(schedule.get("Arn"))
        target = schedule.get("Target") or {}
        target_arn = str(target.get("Arn", ""))
        body = target.get("Input")
        if target_arn.startswith("arn:aws:sqs:"):
            url = self.queue_urls.get(target_arn)
            if url is None:
                self._once(arn, "target", "scheduler: %s: target %s is not a local queue", arn, target_arn)
                return False
            if body is None:
                body = json.dumps(scheduler_event(arn, account=self.account, region=self.region, now=now))
            kwargs: dict[str, Any] = {"QueueUrl": url, "MessageBody": str(body)}
            group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
            if group_id:
                kwargs["MessageGroupId"] = group_id
            self.sqs.send_message(**kwargs)
            return True
        if target_arn.startswith("arn:aws:lambda:"):
            function = self.functions.get(target_arn) or self.functions.get(target_arn.rsplit(":", 1)[0])
            if function is None:
                self._once(arn, "target", "scheduler: %s: target %s is not a local function", arn, target_arn)
                return False
            try:
                event = (
                    json.loads(body)
                    if body is not None
                    else scheduler_event(arn, account=self.account, region=self.region, now=now)
                )
            except ValueError:
                self._once(arn, "input", "scheduler: %s: Input is not JSON", arn)
                return False
            function.invoke(event)  # failures are logged by invoke (Lambda retries async events)
            return True
        self._once(arn, "target", "scheduler: %s: target %s is not emulated", arn, target_arn)
        return False

    def complete(self, schedule: dict[str, Any]) -> None:
        """After a one-time schedule fired: delete it, or disable it."""
        name, group = schedule["Name"], schedule.get("GroupName") or "default"
        if schedule.get("ActionAfterCompletion") == "DELETE":
            self.scheduler.delete_schedule(Name=name, GroupName=group)
            return
        keep = ("ScheduleExpression", "ScheduleExpressionTimezone", "Target", "Description", "StartDate")
        update = {k: schedule[k] for k in keep if schedule.get(k) is not None}
        update["Target"] = {k: v for k, v in update["Target"].items() if v is not None}
        self.scheduler.update_schedule(
            Name=name,
            GroupName=group,
            FlexibleTimeWindow=schedule.get("FlexibleTimeWindow") or {"Mode": "OFF"},
            State="DISABLED",
            **update,
        )
