"""``crm dlq``: show and re-drive dead-letter queues.

A queue is a dead-letter queue (DLQ) when another queue's ``RedrivePolicy`` names it as
``deadLetterTargetArn``; that other queue is its *source*. Queues whose name ends with
``-failures`` or ``-dlq`` are listed too even when nothing redrives into them: the stream's
on-failure destination is such a queue, and its records are pointers to stream records
(shard, sequence numbers), not messages that came from a queue, so they cannot be re-driven.

Re-driving receives up to ten messages at a time from the DLQ, sends them to the source
queue with the same body and message attributes, and deletes from the DLQ only those the
source accepted; a message whose send failed stays in the DLQ (invisible for the visibility
timeout, then visible again). A crash between the send and the delete leaves a message in
both queues, so it is delivered twice at worst: the consumers are idempotent.

By default the target is the local stack that ``crm dev`` describes in
``<data-dir>/stack.json``; ``--stack-name`` targets a deployed CloudFormation stack with
the default credentials.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from crm_tools.devstack.invoke import InvokeError, check_reachable, read_stack
from crm_tools.devstack.stack import FAKE_CREDENTIALS, REGION

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        MessageAttributeValueTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

#: Queues listed as dead-letter queues even when no queue redrives into them.
DLQ_SUFFIXES = ("-failures", "-dlq")
VISIBILITY_TIMEOUT = 60
BATCH = 10


class DlqError(RuntimeError):
    """Something the user can fix; the message says what (exit status 2)."""


@dataclass(frozen=True)
class Queue:
    url: str
    name: str
    arn: str
    logical_id: str | None
    visible: int
    in_flight: int
    dead_letter_target_arn: str | None

    def matches(self, wanted: str) -> bool:
        return wanted in (self.url, self.name) or wanted.lower() == (self.logical_id or "").lower()

    @property
    def label(self) -> str:
        return self.logical_id or self.name


@dataclass
class DeadLetterQueue:
    queue: Queue
    sources: list[Queue] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "logical_id": self.queue.logical_id,
            "name": self.queue.name,
            "url": self.queue.url,
            "visible": self.queue.visible,
            "in_flight": self.queue.in_flight,
            "sources": [source.name for source in self.sources],
        }


@dataclass
class Target:
    sqs: SQSClient
    queue_urls: dict[str, str | None]  # queue URL -> logical id, when known


@dataclass
class RedriveResult:
    moved: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- where the queues are


def connect(
    data_dir: Path, endpoint_url: str | None = None, region: str | None = None, stack_name: str | None = None
) -> Target:
    """The SQS client and queues of a deployed stack (``stack_name``) or of the local stack."""
    if stack_name:
        return _connect_cloudformation(stack_name, region)
    try:
        stack = read_stack(data_dir) if endpoint_url is None or (data_dir / "stack.json").is_file() else {}
        endpoint = endpoint_url or str(stack["endpoint_url"])
        check_reachable(endpoint)
    except InvokeError as exc:
        raise DlqError(str(exc)) from exc
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name=region or str(stack.get("region") or REGION),
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    known: dict[str, str] = dict(stack.get("queues") or {})
    if known:
        return Target(sqs, {url: logical_id for logical_id, url in known.items()})
    return Target(sqs, dict.fromkeys(_list_queue_urls(sqs)))


def _connect_cloudformation(stack_name: str, region: str | None) -> Target:
    session = boto3.session.Session(region_name=region)
    cloudformation: Any = session.client("cloudformation")
    urls: dict[str, str | None] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::SQS::Queue" and resource.get("PhysicalResourceId"):
                urls[resource["PhysicalResourceId"]] = resource["LogicalResourceId"]
    return Target(session.client("sqs"), urls)


def _list_queue_urls(sqs: SQSClient) -> list[str]:
    urls: list[str] = []
    for page in sqs.get_paginator("list_queues").paginate():
        urls.extend(page.get("QueueUrls", []))
    return urls


# ---------------------------------------------------------------- what is a dead-letter queue


def describe(target: Target) -> list[Queue]:
    queues = []
    for url, logical_id in target.queue_urls.items():
        attributes = target.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        policy = json.loads(attributes.get("RedrivePolicy") or "{}")
        queues.append(
            Queue(
                url=url,
                name=url.rstrip("/").rsplit("/", 1)[-1],
                arn=attributes["QueueArn"],
                logical_id=logical_id,
                visible=int(attributes.get("ApproximateNumberOfMessages", 0)),
                in_flight=int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                dead_letter_target_arn=policy.get("deadLetterTargetArn"),
            )
        )
    return sorted(queues, key=lambda queue: queue.name)


def dead_letter_queues(queues: list[Queue]) -> list[DeadLetterQueue]:
    found = []
    for queue in queues:
        sources = [source for source in queues if source.dead_letter_target_arn == queue.arn]
        if sources or queue.name.endswith(DLQ_SUFFIXES):
            found.append(DeadLetterQueue(queue, sources))
    return found


def pick(queues: list[Queue], wanted: str, to: str | None = None) -> tuple[Queue, Queue]:
    """The dead-letter queue named ``wanted`` (logical id, name or URL) and where it re-drives to."""
    dlqs = dead_letter_queues(queues)
    chosen = next((dlq for dlq in dlqs if dlq.queue.matches(wanted)), None)
    if chosen is None:
        names = ", ".join(dlq.queue.label for dlq in dlqs) or "none"
        if any(queue.matches(wanted) for queue in queues):
            raise DlqError(f"{wanted} is not a dead-letter queue (dead-letter queues: {names})")
        raise DlqError(f"no queue {wanted!r} (dead-letter queues: {names})")
    dlq = chosen.queue
    if not chosen.sources:
        if dlq.name.endswith("-failures"):
            raise DlqError(
                f"{dlq.name} is an on-failure destination: its records point at stream records "
                "(shard and sequence numbers), they did not come from a queue and cannot be re-driven"
            )
        raise DlqError(f"no queue's RedrivePolicy names {dlq.name}, so there is nowhere to re-drive it to")
    sources = ", ".join(source.name for source in chosen.sources)
    if to is not None:
        source = next((source for source in chosen.sources if source.matches(to)), None)
        if source is None:
            raise DlqError(f"{to} is not a source of {dlq.name} (its sources: {sources})")
        return dlq, source
    if len(chosen.sources) > 1:
        raise DlqError(f"{dlq.name} is the dead-letter queue of {sources}: choose one with --to NAME")
    return dlq, chosen.sources[0]


# ---------------------------------------------------------------- re-drive


def redrive(
    sqs: SQSClient,
    dlq: Queue,
    source: Queue,
    limit: int | None = None,
    progress: Callable[[int], object] = lambda n: None,
) -> RedriveResult:
    """Move messages from ``dlq`` to ``source`` until the DLQ is empty or ``limit`` were moved."""
    result = RedriveResult()
    empty_receives = 0
    fifo = source.name.endswith(".fifo")
    while empty_receives < 2 and (limit is None or result.moved < limit):
        wanted = BATCH if limit is None else min(BATCH, limit - result.moved)
        messages = sqs.receive_message(
            QueueUrl=dlq.url,
            MaxNumberOfMessages=wanted,
            WaitTimeSeconds=empty_receives,  # a short poll first, a 1 s long poll to make sure
            VisibilityTimeout=VISIBILITY_TIMEOUT,
            MessageAttributeNames=["All"],
            MessageSystemAttributeNames=["MessageGroupId"],
        ).get("Messages", [])
        if not messages:
            empty_receives += 1
            continue
        empty_receives = 0
        moved = _move(sqs, messages, dlq, source, fifo, result)
        result.moved += moved
        progress(moved)
    return result


def _move(
    sqs: SQSClient,
    messages: list[MessageTypeDef],
    dlq: Queue,
    source: Queue,
    fifo: bool,
    result: RedriveResult,
) -> int:
    entries = [_entry(str(index), message, fifo) for index, message in enumerate(messages)]
    response = sqs.send_message_batch(QueueUrl=source.url, Entries=entries)
    for failure in response.get("Failed", []):
        result.failed += 1
        result.errors.append(f"{failure['Code']}: {failure.get('Message', '')}")
    sent = [messages[int(success["Id"])] for success in response.get("Successful", [])]
    if sent:
        sqs.delete_message_batch(
            QueueUrl=dlq.url,
            Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(sent)
            ],
        )
    return len(sent)


def _entry(entry_id: str, message: MessageTypeDef, fifo: bool) -> SendMessageBatchRequestEntryTypeDef:
    entry: SendMessageBatchRequestEntryTypeDef = {"Id": entry_id, "MessageBody": message["Body"]}
    attributes: dict[str, MessageAttributeValueTypeDef] = {}
    for name, value in message.get("MessageAttributes", {}).items():
        # Only what send accepts: a received value may also carry empty list fields.
        copied: MessageAttributeValueTypeDef = {"DataType": value["DataType"]}
        if "StringValue" in value:
            copied["StringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            copied["BinaryValue"] = value["BinaryValue"]
        attributes[name] = copied
    if attributes:
        entry["MessageAttributes"] = attributes
    if fifo:
        entry["MessageGroupId"] = message.get("Attributes", {}).get("MessageGroupId", "redrive")
        entry["MessageDeduplicationId"] = message["MessageId"]
    return entry


# ---------------------------------------------------------------- the commands


def format_table(dlqs: list[DeadLetterQueue]) -> str:
    rows = [("LOGICAL ID", "QUEUE", "VISIBLE", "IN FLIGHT", "SOURCES")]
    for dlq in dlqs:
        sources = ", ".join(source.name for source in dlq.sources) or "- (not re-drivable)"
        queue = dlq.queue
        rows.append((queue.logical_id or "-", queue.name, str(queue.visible), str(queue.in_flight), sources))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def list_command(target: Target, as_json: bool) -> int:
    dlqs = dead_letter_queues(describe(target))
    if as_json:
        print(json.dumps([dlq.as_json() for dlq in dlqs], indent=2))
    elif dlqs:
        print(format_table(dlqs))
    else:
        print("no dead-letter queues")
    return 0


def redrive_command(target: Target, queue: str, to: str | None, limit: int | None, dry_run: bool) -> int:
    from tqdm import tqdm

    dlq, source = pick(describe(target), queue, to)
    if dry_run:
        count = dlq.visible if limit is None else min(dlq.visible, limit)
        print(f"would move {count} message(s) from {dlq.name} to {source.name} (dry run)")
        return 0
    total = dlq.visible if limit is None else min(dlq.visible, limit)
    with tqdm(total=total, unit="msg", desc=dlq.name, file=sys.stderr, disable=None) as bar:
        result = redrive(target.sqs, dlq, source, limit, progress=bar.update)
    print(f"moved {result.moved} message(s) from {dlq.name} to {source.name}")
    if result.failed:
        print(
            f"crm dlq: {result.failed} message(s) could not be sent and stay in {dlq.name}: "
            + "; ".join(sorted(set(result.errors))),
            file=sys.stderr,
        )
        return 1
    return 0


def main(
    command: Callable[[Target], int],
    data_dir: Path,
    endpoint_url: str | None = None,
    region: str | None = None,
    stack_name: str | None = None,
) -> int:
    """Run ``command`` against the target; what the user can fix is one line on stderr and status 2."""
    try:
        return command(connect(data_dir, endpoint_url, region, stack_name))
    except (DlqError, BotoCoreError, ClientError) as exc:
        print(f"crm dlq: {exc}", file=sys.stderr)
    return 2
