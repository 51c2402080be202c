"""``crm projections rebuild``: bring every candidate's list projections up to date with its profile.

The stream function keeps the projections (the ``LIST#`` items behind every list, filter and
name search) in step with each profile. When stream records are lost they stay wrong: in AWS
a batch that failed all its retries ends in the stream's failure queue
(``<stack>-stream-failures``), which holds pointers to stream records, not the records, so
it cannot be re-driven. This command repairs what those records would have written.

It pages through the table with a Scan (an operational tool: no request path scans), filtered
to candidate profiles and their ``LIST#ALL`` items. For each profile it compares the
projections the profile wants with the ``LIST#`` items under its key (one Query) and writes
only the difference, in a transaction conditioned on the profile's ``version``, as the stream
function does (:meth:`crm.candidates.projections.CandidateProjections.rebuild`). It is therefore safe
while traffic flows: a profile that changes meanwhile fails the condition and is left to the
stream (counted as skipped), and an erased candidate is never brought back. ``LIST#`` items
whose profile is gone are deleted, conditioned on the profile still being absent.

After each page the Scan's position is saved to a checkpoint file; ``--resume`` carries on
from it. Exit status, as for ``crm dlq``: 0 done, 1 some candidates could not be written (run
it again), 2 nothing to do it with (no stack, no table, a checkpoint of another table), 130
interrupted (the checkpoint is kept).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from crm_tools.devstack.invoke import InvokeError, check_reachable, read_stack
from crm_tools.devstack.persist import atomic_write
from crm_tools.devstack.stack import FAKE_CREDENTIALS, REGION

log = logging.getLogger("crm.projections")

CHECKPOINT_FORMAT = 1
TABLE_LOGICAL_ID = "CrmTable"


class RebuildError(RuntimeError):
    """Something the user can fix; the message says what (exit status 2)."""


@dataclass
class Target:
    dynamodb: Any  # a boto3 DynamoDB client
    table: str
    region: str
    #: The local stack's: the domain code is pointed at it with fake credentials.
    endpoint_url: str | None = None


@dataclass
class Counts:
    scanned: int = 0  # items the Scan read
    seen: int = 0  # candidate profiles
    fixed: int = 0
    unchanged: int = 0
    skipped: int = 0  # the profile moved on or was erased meanwhile
    orphans: int = 0  # erased candidates whose list items were left behind, removed
    failed: int = 0

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def summary(self) -> str:
        return (
            f"{self.seen} candidate(s): {self.fixed} fixed, {self.unchanged} already right, "
            f"{self.skipped} skipped (changed meanwhile: the stream writes them), "
            f"{self.orphans} erased candidate(s)' list items removed, {self.failed} failed"
        )


# ---------------------------------------------------------------- where the table is


def connect(
    data_dir: Path,
    endpoint_url: str | None = None,
    region: str | None = None,
    stack_name: str | None = None,
    table: str | None = None,
) -> Target:
    """The table of a deployed stack (``stack_name``, default credentials) or of the local stack."""
    if stack_name:
        session = boto3.session.Session(region_name=region)
        name = table or _cloudformation_table(session.client("cloudformation"), stack_name)
        return Target(session.client("dynamodb"), name, str(session.region_name or REGION))
    try:
        stack = read_stack(data_dir) if endpoint_url is None or (data_dir / "stack.json").is_file() else {}
        endpoint = endpoint_url or str(stack["endpoint_url"])
        check_reachable(endpoint)
    except InvokeError as exc:
        raise RebuildError(str(exc)) from exc
    found: str | None = table or (stack.get("tables") or {}).get(TABLE_LOGICAL_ID)
    if not found:
        api = ((stack.get("functions") or {}).get("ApiFunction") or {}).get("environment") or {}
        found = api.get("TABLE_NAME")
    if not found:
        raise RebuildError("the stack does not name its table: give it with --table NAME")
    region = region or str(stack.get("region") or REGION)
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    return Target(client, str(found), region, endpoint)


def _cloudformation_table(cloudformation: Any, stack_name: str) -> str:
    tables: dict[str, str] = {}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] == "AWS::DynamoDB::Table" and resource.get("PhysicalResourceId"):
                tables[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
    if TABLE_LOGICAL_ID in tables:
        return tables[TABLE_LOGICAL_ID]
    if len(tables) == 1:
        return next(iter(tables.values()))
    raise RebuildError(
        f"{stack_name} has tables {', '.join(sorted(tables)) or 'none'}: choose one with --table"
    )


@contextlib.contextmanager
def domain_environment(target: Target) -> Iterator[None]:
    """Point the domain code (``crm.data``, which writes the projections) at the target's table."""
    from crm.platform.aws import reset_clients
    from crm.platform.config import reset_settings

    overrides = {"TABLE_NAME": target.table, "AWS_REGION": target.region, "AWS_DEFAULT_REGION": target.region}
    if target.endpoint_url:
        overrides["AWS_ENDPOINT_URL"] = target.endpoint_url
        overrides.update({k: FAKE_CREDENTIALS[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    reset_settings()
    reset_clients()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        reset_clients()


# ---------------------------------------------------------------- the work


def scan_pages(
    target: Target, start_key: dict[str, Any] | None, page_size: int | None
) -> Iterator[tuple[list[dict[str, Any]], int, dict[str, Any] | None]]:
    """(items, items scanned, the key to continue after) per page of candidate profiles and
    ``LIST#ALL`` and free-text index items."""
    kwargs: dict[str, Any] = {
        "TableName": target.table,
        "ConsistentRead": True,
        "FilterExpression": "(sk = :profile AND #type = :candidate) OR sk = :all OR begins_with(sk, :word)",
        "ExpressionAttributeNames": {"#type": "type"},
        "ExpressionAttributeValues": {
            ":profile": {"S": "PROFILE"},
            ":candidate": {"S": "candidate"},
            ":all": {"S": "LIST#ALL"},
            ":word": {"S": "WORD#"},
        },
    }
    if page_size:
        kwargs["Limit"] = page_size
    if start_key:
        kwargs["ExclusiveStartKey"] = start_key
    while True:
        page = target.dynamodb.scan(**kwargs)
        last = page.get("LastEvaluatedKey")
        yield list(page.get("Items", [])), int(page.get("ScannedCount", 0)), last
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


def rebuild_page(items: list[dict[str, Any]]) -> Counts:
    """Bring the candidates of one page up to date (list projections and free-text index); the
    list and index items of a person without a profile are removed."""
    from crm.candidates.projections import CandidateProjections, Outcome
    from crm.candidates.repository.projections import is_candidate_profile
    from crm.candidates.search import FreeTextIndex
    from crm.platform import table

    projections = CandidateProjections()
    words = FreeTextIndex()
    counts = Counts()
    profiles = {item["pk"]["S"] for item in items if is_candidate_profile(item)}
    checked: set[str] = set()
    for item in items:
        pk = str(item["pk"]["S"])
        try:
            if is_candidate_profile(item):
                counts.seen += 1
                outcome = projections.rebuild(table.from_item(item))
                rewritten = words.refresh(pk.removeprefix("CAND#"))
                if outcome is Outcome.FIXED or (rewritten and outcome is Outcome.UNCHANGED):
                    counts.fixed += 1
                elif outcome is Outcome.SKIPPED:
                    counts.skipped += 1
                else:
                    counts.unchanged += 1
            elif pk not in profiles and pk not in checked:
                checked.add(pk)
                if table.get_item(pk, "PROFILE") is None:
                    candidate_id = pk.removeprefix("CAND#")
                    removed = projections.remove_orphans(candidate_id) + words.remove_orphans(candidate_id)
                    counts.orphans += bool(removed)
        except (BotoCoreError, ClientError, KeyError, TypeError) as exc:
            counts.failed += 1
            log.error("projections of %s not rebuilt: %s", pk, type(exc).__name__)
    return counts


@dataclass
class Checkpoint:
    path: Path
    table: str
    start_key: dict[str, Any] | None = None
    counts: Counts = field(default_factory=Counts)

    @classmethod
    def load(cls, path: Path, table: str) -> Checkpoint | None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise RebuildError(f"the checkpoint {path} is not readable: {exc}") from exc
        if saved.get("table") != table:
            raise RebuildError(f"the checkpoint {path} is of table {saved.get('table')}, not {table}")
        return cls(path, table, saved.get("start_key"), Counts(**(saved.get("counts") or {})))

    def save(self) -> None:
        body = {
            "format": CHECKPOINT_FORMAT,
            "table": self.table,
            "start_key": self.start_key,
            "counts": asdict(self.counts),
        }
        atomic_write(self.path, json.dumps(body).encode("utf-8"))


def default_checkpoint(data_dir: Path, table: str) -> Path:
    return data_dir / f"projections-rebuild-{table}.json"


def rebuild_command(target: Target, checkpoint_path: Path, resume: bool, page_size: int | None) -> int:
    from tqdm import tqdm

    checkpoint = Checkpoint.load(checkpoint_path, target.table) if resume else None
    if resume and checkpoint is None:
        print(
            f"crm projections: no checkpoint at {checkpoint_path}; starting from the beginning",
            file=sys.stderr,
        )
    checkpoint = checkpoint or Checkpoint(checkpoint_path, target.table)
    total = int(target.dynamodb.describe_table(TableName=target.table)["Table"].get("ItemCount") or 0)
    bar = tqdm(
        total=max(total, checkpoint.counts.scanned) or None,
        initial=checkpoint.counts.scanned,
        unit="item",
        desc=target.table,
        file=sys.stderr,
        disable=None,
    )
    try:
        with bar, domain_environment(target):
            for items, scanned, last in scan_pages(target, checkpoint.start_key, page_size):
                page = rebuild_page(items)
                page.scanned = scanned
                checkpoint.counts.add(page)
                checkpoint.start_key = last
                checkpoint.save()
                bar.update(scanned)
                bar.set_postfix(
                    fixed=checkpoint.counts.fixed, skipped=checkpoint.counts.skipped, refresh=False
                )
    except KeyboardInterrupt:
        print(
            f"crm projections: interrupted after {checkpoint.counts.summary()}; "
            f"run it again with --resume to carry on (checkpoint {checkpoint_path})",
            file=sys.stderr,
        )
        return 130
    checkpoint_path.unlink(missing_ok=True)
    print(f"{target.table}: {checkpoint.counts.summary()}")
    return 1 if checkpoint.counts.failed else 0


def main(
    data_dir: Path,
    endpoint_url: str | None,
    region: str | None,
    stack_name: str | None,
    table: str | None,
    checkpoint: Path | None,
    resume: bool,
    page_size: int | None,
) -> int:
    """Run the rebuild; what the user can fix is one line on stderr and status 2."""
    try:
        target = connect(data_dir, endpoint_url, region, stack_name, table)
        path = checkpoint or default_checkpoint(data_dir, target.table)
        return rebuild_command(target, path, resume, page_size)
    except (RebuildError, BotoCoreError, ClientError) as exc:
        print(f"crm projections: {exc}", file=sys.stderr)
    return 2
