"""Figure 5: campaign fan-out on moto. A launched campaign goes launch -> dispatch queue ->
DispatchFunction (audience pages of 500) -> mail queue (messages of 50 recipients) ->
MailFunction (one SESv2 raw send per recipient, exactly once), measured at several audience sizes.

Each size runs in a fresh child process (``python -m tests.bench.fanout <task> <in> <out>``):

- ``pipeline``: in-process moto (``mock_aws``), the stack provisioned, N consented candidates
  written with ``seed.DirectLoader``, a template and a campaign created; then, timed, the launch
  and a single-threaded event source (receive 10 -> SQS event -> handler -> delete the
  non-failed) over the dispatch queue and the mail queue until both are empty. AWS requests are
  every botocore call the product makes (``aws_meter``); the event source's own
  ReceiveMessage/DeleteMessageBatch (Lambda's plumbing, not the functions') are kept apart. The
  baseline, in the same process and moto afterwards, is a plain loop of SESv2 raw sends of one
  ``crm.mailing.compose.compose``-d message (its To changed per address) to the same N addresses.
- ``memory``: a moto server on a thread of this child, provisioned and seeded the same way, the
  campaign launched; a grandchild (``dispatcher``) with only the DispatchFunction handler in it
  dispatches a small warm-up campaign (clients created, modules loaded), then starts
  ``tracemalloc`` and dispatches the whole audience. Its peak is the dispatcher's own Python
  allocations (moto is in another process, so its memory is not counted).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.bench.bench_stack import BUILD, FAKE_AWS, LAMBDA_ENV, REGION, ROOT, free_port
from tests.bench.report import Row

FIGURE = 5
SIZES = (1_000, 10_000, 50_000)
MEMORY_SIZES = (1_000, 50_000)
REQUESTS_GOAL = 2.5
WALL_GOAL = 2.0
MEMORY_GOAL = 1.2
#: Above this size the audience is dispatched whole and a sample of its mail messages is mailed.
FULL_UP_TO = 10_000
SAMPLE_MESSAGES = 100  # 5,000 recipients
TAG = "fanout"
WARMUP_TAG = "fanoutwarm"
WARMUP_RECIPIENTS = 1_000  # two audience pages: every code path of a dispatch runs once
#: Lambda's SQS event source (ReceiveMessage, DeleteMessageBatch), not the functions' own calls.
PLUMBING = frozenset({"sqs.ReceiveMessage", "sqs.DeleteMessageBatch", "sqs.DeleteMessage"})
TEMPLATE = {
    "name": "Fan-out news",
    "subject": "News for {{ first_name }}",
    "html": (
        "<h1>Hello {{ first_name }}</h1><p>We have new roles in {{ location or 'your area' }} that match "
        "your profile. Have a look at the careers site and tell us what you think.</p>"
        '<p><a href="{{ portal_url }}">Your profile</a> · <a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
    ),
    "text": (
        "Hello {{ first_name }}\n\nWe have new roles in {{ location or 'your area' }} that match your "
        "profile.\n\nYour profile: {{ portal_url }}\nUnsubscribe: {{ unsubscribe_url }}\n"
    ),
}


# ------------------------------------------------------------------------------- parent side


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "POWERTOOLS_"))}
    base.update(FAKE_AWS)
    base.update(LAMBDA_ENV)
    missing = str(BUILD / "no-aws-config")
    base.update(AWS_CONFIG_FILE=missing, AWS_SHARED_CREDENTIALS_FILE=missing, PYTHONPATH=str(ROOT))
    base.update(extra or {})
    return base


def _spawn(task: str, spec: dict[str, Any], *, env: dict[str, str], timeout: float) -> dict[str, Any]:
    work = BUILD / "runs"
    work.mkdir(parents=True, exist_ok=True)
    stem = f"fanout-{task}-{spec.get('recipients', 0)}-{os.getpid()}-{time.monotonic_ns()}"
    source, target = work / f"{stem}.in.json", work / f"{stem}.out.json"
    source.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.bench.fanout", task, str(source), str(target)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-25:])
        raise RuntimeError(f"fan-out {task} ({spec}) failed (exit {proc.returncode}):\n{tail}")
    result: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    return result


def run(
    *,
    sizes: tuple[int, ...] = SIZES,
    memory_sizes: tuple[int, ...] = MEMORY_SIZES,
    full_up_to: int = FULL_UP_TO,
    sample_messages: int = SAMPLE_MESSAGES,
    log: Callable[[str], None],
) -> tuple[list[Row], dict[str, Any]]:
    """Sizes above ``full_up_to`` are dispatched whole and mailed for ``sample_messages`` mail
    messages only (the rows say so)."""
    raw: dict[str, Any] = {"pipeline": {}, "memory": {}}
    rows: list[Row] = []
    for n in sizes:
        started = time.perf_counter()
        spec: dict[str, Any] = {"recipients": n}
        if n > full_up_to:
            spec["mail_messages"] = sample_messages
        r = raw["pipeline"][str(n)] = _spawn("pipeline", spec, env=_child_env(), timeout=3600)
        log(
            f"  {n:,} recipients, {r['mailed']:,} mailed: {r['sent']:,} sent, {r['product_requests']:,} "
            f"product requests ({r['requests_per_recipient']:.3f} per recipient), dispatch "
            f"{r['dispatched_s']:.1f} s + mail {r['mail_s']:.1f} s vs plain SES loop "
            f"{r['baseline_s']:.1f} s; "
            f"child {time.perf_counter() - started:.0f} s"
        )
        log("    " + ", ".join(f"{op} {count:,}" for op, count in r["product_operations"].items()))
    for n in sizes:
        r = raw["pipeline"][str(n)]
        scope = _scope(r)
        whole = r["mailed"] == n and r["campaign_status"] == "sent"
        ok = r["sent"] == r["mailed"] and (r["sampled"] or whole)
        rows.append(
            Row(
                figure=FIGURE,
                name=f"fan-out {n:,}: AWS requests per recipient{scope}",
                measured=round(r["requests_per_recipient"], 3),
                unit="",
                baseline=REQUESTS_GOAL,
                baseline_label=f"goal {REQUESTS_GOAL:g}",
                goal=f"<= {REQUESTS_GOAL:g}, each sent once",
                passed=ok and r["requests_per_recipient"] <= REQUESTS_GOAL,
                detail=r,
            )
        )
    for n in sizes:
        r = raw["pipeline"][str(n)]
        pipeline_ms, baseline_ms = r["pipeline_ms_per_recipient"], r["baseline_ms_per_recipient"]
        rows.append(
            Row(
                figure=FIGURE,
                name=f"fan-out {n:,}: wall time per recipient, launch to sent{_scope(r)}",
                measured=round(pipeline_ms, 2),
                unit="ms",
                baseline=round(baseline_ms, 2),
                baseline_label=f"{baseline_ms:.2f} ms plain SES send loop, {r['mailed']:,} addresses",
                goal=f"<= {WALL_GOAL:g}x",
                passed=pipeline_ms <= WALL_GOAL * baseline_ms,
                detail={k: r[k] for k in ("dispatched_s", "mail_s", "pipeline_s", "baseline_s", "mailed")},
            )
        )
    for n in memory_sizes:
        started = time.perf_counter()
        m = raw["memory"][str(n)] = _spawn("memory", {"recipients": n}, env=_child_env(), timeout=3600)
        log(
            f"  dispatcher over {n:,}: peak {m['peak_kib']:,.0f} KiB traced, {m['pages']} pages, "
            f"{m['mail_messages']:,} mail messages; child {time.perf_counter() - started:.0f} s"
        )
    if len(memory_sizes) >= 2:
        small, large = raw["memory"][str(memory_sizes[0])], raw["memory"][str(memory_sizes[-1])]
        rows.append(
            Row(
                figure=FIGURE,
                name=f"dispatcher peak memory (tracemalloc), {memory_sizes[-1]:,} recipients",
                measured=round(large["peak_kib"]),
                unit="KiB",
                baseline=round(small["peak_kib"]),
                baseline_label=f"{small['peak_kib']:,.0f} KiB at {memory_sizes[0]:,} recipients",
                goal=f"<= {MEMORY_GOAL:g}x",
                passed=large["peak_kib"] <= MEMORY_GOAL * small["peak_kib"]
                and large["recipients_queued"] == memory_sizes[-1],
                detail={"small": small, "large": large},
            )
        )
    return rows, raw


def _scope(r: dict[str, Any]) -> str:
    if not r["sampled"]:
        return ""
    return (
        f" (whole audience dispatched; mail worker on a sample of the first {r['mail_messages']:,} "
        f"messages = {r['mailed']:,} recipients)"
    )


# ------------------------------------------------------------------------------- child side


def faster_moto_queries() -> None:
    """moto's ``Table.query`` walks ``all_items()``, which sorts every item of the table, for each
    Query: over a second per Query once the table holds some 100,000 items, for the tally Query of
    every mail message and each audience page. Here a Query on the table's own key reads just its
    partition (sorted by range key, as moto would leave it), and a Query on an index walks the items
    unsorted (moto then sorts the matches by the index key and the table key itself). Same answers
    for this table's keys; moto's speed only decides how long the run takes. Child processes only."""
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_fanout_fast", False):
        return
    original = Table.query

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if index_name:
            items = [i for bucket in self.items.values() for i in bucket.values()]
        elif self.range_key_attr and hash_key is not None:
            items = sorted(self.items.get(hash_key, {}).values(), key=lambda i: i.range_key)
        else:
            return original(self, hash_key, *args, **kwargs)
        self.all_items = lambda: items
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    query._fanout_fast = True  # type: ignore[attr-defined]
    Table.query = query  # type: ignore[method-assign]


def _configure(stack_env: dict[str, str]) -> None:
    from crm.platform import aws
    from crm.platform.config import reset_settings

    os.environ.update(stack_env)
    reset_settings()
    aws.reset_clients()


def _seed(table: str, count: int, *, tag: str, start: int = 0) -> list[str]:
    """``count`` realistic candidates (``seed.candidate``), all carrying ``tag`` and marketing
    consent; returns their addresses."""
    import random
    import unicodedata

    from tests.bench import seed

    loader = seed.DirectLoader(table, region=REGION)
    rng = random.Random(11 + start)
    emails = []
    gc.disable()
    try:
        for n in range(start, start + count):
            data = seed.candidate(n, rng, extra_tag=tag)
            # SES has no SMTPUTF8: a non-ASCII local part is refused by the product (recorded as
            # failed), so the bench's audience keeps to ASCII addresses, as real lists mostly do.
            data["email"] = unicodedata.normalize("NFKD", data["email"]).encode("ascii", "ignore").decode()
            consent = {"topic": "marketing", "granted": True, "at": data["created_at"], "source": "import"}
            data["consents"] = {"marketing": consent}
            loader.put(seed.candidate_items(data))
            emails.append(data["email"])
    finally:
        gc.freeze()
        gc.enable()
    return emails


def _campaign(tag: str) -> str:
    from crm.campaigns.models import Audience, CampaignCreate
    from crm.campaigns.service import create_campaign
    from crm.templates.models import TemplateCreate
    from crm.templates.service import TemplateService

    template = TemplateService().create(TemplateCreate(**TEMPLATE))
    campaign = create_campaign(
        CampaignCreate(name=f"Fan-out {tag}", template_id=template.id, audience=Audience(tags=[tag]))
    )
    return campaign.id


class EventSource:
    """Lambda's SQS event source, single-threaded: receive 10, invoke, delete what did not fail.
    Its own calls are moved from the meter's list to ``plumbing``."""

    def __init__(self, queues: dict[str, str], functions: dict[str, tuple[Any, int]]) -> None:
        import boto3

        from tests.bench import aws_meter

        self.meter = aws_meter.meter
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queues = queues
        self.functions = functions  # queue name -> (handler, timeout seconds)
        self.arns = {
            name: self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"
            ]
            for name, url in queues.items()
            if name in functions
        }
        self.plumbing: list[Any] = []
        self.invocations: Counter[str] = Counter()
        self.failures = 0

    def _aside(self, fn: Callable[..., Any], **kwargs: Any) -> Any:
        mark = len(self.meter.calls)
        try:
            return fn(**kwargs)
        finally:
            self.plumbing += self.meter.calls[mark:]
            del self.meter.calls[mark:]

    def drain(self, name: str, on_call: Callable[[str], None] | None = None, limit: int | None = None) -> int:
        """Until the queue is empty (or ``limit`` messages are handled); returns the messages handled."""
        from crm_tools.devstack.runtime import LambdaContext, sqs_event_record

        url, arn = self.queues[name], self.arns[name]
        handler, timeout = self.functions[name]
        handled = 0
        while limit is None or handled < limit:
            wanted = 10 if limit is None else min(10, limit - handled)
            messages = self._aside(
                self.sqs.receive_message,
                QueueUrl=url,
                MaxNumberOfMessages=wanted,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return handled
            event = {"Records": [sqs_event_record(m, queue_arn=arn, region=REGION) for m in messages]}
            context = LambdaContext(
                function_name=name,
                memory_limit_in_mb=512,
                invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                timeout_seconds=timeout,
            )
            if on_call:
                on_call(name)
            outcome = handler(event, context)
            self.invocations[name] += 1
            failed = {f["itemIdentifier"] for f in outcome.get("batchItemFailures", [])}
            self.failures += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)]
                self._aside(self.sqs.delete_message_batch, QueueUrl=url, Entries=entries)
            if failed:
                raise RuntimeError(f"{len(failed)} {name} message(s) failed; the bench runs without faults")
            handled += len(messages)
        return handled


def _timeouts() -> dict[str, int]:
    from crm_tools.cfn import Template
    from tests.support.stack import TEMPLATE as SAM

    template = Template.load(SAM)
    return {
        "dispatch": int(template.properties("DispatchFunction").get("Timeout", 120)),
        "mail": int(template.properties("MailFunction").get("Timeout", 60)),
    }


def pipeline(spec: dict[str, Any]) -> dict[str, Any]:
    n = int(spec["recipients"])
    from tests.bench import aws_meter

    meter = aws_meter.install()
    from moto import mock_aws

    faster_moto_queries()
    with mock_aws():
        from tests.support.stack import MAIL_FROM, provision

        stack = provision(REGION)
        _configure(stack.env())
        seeded_at = time.perf_counter()
        emails = _seed(stack.table, n, tag=TAG)
        seed_s = time.perf_counter() - seeded_at
        campaign_id = _campaign(TAG)

        from crm.campaigns.repository import CampaignRepository
        from crm.campaigns.service import launch
        from tests.support.engagement import worker_handler

        timeouts = _timeouts()
        source = EventSource(
            stack.queues,
            {
                "dispatch": (worker_handler("dispatch", 0), timeouts["dispatch"]),
                "mail": (worker_handler("mail", 0), timeouts["mail"]),
            },
        )
        phases: dict[str, list[Any]] = {"launch": [], "dispatch": [], "mail": []}
        sample = spec.get("mail_messages")  # None: the whole audience is mailed

        def drain(name: str, limit: int | None = None) -> int:
            handled = source.drain(name, limit=limit)
            phases[name] += meter.calls
            meter.calls.clear()
            return handled

        gc.collect()
        meter.reset()
        started = time.perf_counter()
        launch(campaign_id)
        phases["launch"] += meter.calls
        meter.calls.clear()
        dispatch_messages = drain("dispatch")
        dispatched_s = time.perf_counter() - started
        mail_messages = drain("mail", limit=sample)
        while sample is None and (more := drain("dispatch") + drain("mail")):
            mail_messages += more  # continuations: none expected
        pipeline_s = time.perf_counter() - started
        mail_s = pipeline_s - dispatched_s

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        ses = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
        sent_count = len(ses.sent_messages)
        campaign = CampaignRepository().get(campaign_id)
        mailed = campaign.stats.sent + campaign.stats.suppressed + campaign.stats.failed

        # Baseline: the same N addresses, a plain loop of SESv2 raw sends of one composed message.

        import boto3

        from crm.mailing.compose import compose

        message = compose(
            emails[0],
            MAIL_FROM,
            "News for Ann",
            TEMPLATE["html"].replace("{{ first_name }}", "Ann"),
            TEMPLATE["text"].replace("{{ first_name }}", "Ann"),
            list_unsubscribe_url="https://careers.example.com/unsubscribe?token=" + "x" * 120,
            headers={"X-CRM-Mailing": "campaign"},
        )
        client = boto3.client("sesv2", region_name=REGION)
        gc.collect()
        started = time.perf_counter()
        for address in emails[:mailed]:
            message.replace_header("To", address)
            client.send_email(Content={"Raw": {"Data": message.as_bytes()}})
        baseline_s = time.perf_counter() - started

    product = [c for calls in phases.values() for c in calls]
    operations = Counter(f"{c.service}.{c.operation}" for c in product)
    up_front = len(phases["launch"]) + len(phases["dispatch"])
    return {
        "recipients": n,
        "mailed": mailed,
        "sampled": sample is not None,
        "dispatched_s": dispatched_s,
        "mail_s": mail_s,
        # launch and dispatch over the whole audience, the mail worker over the recipients it mailed
        "requests_per_recipient": up_front / n + len(phases["mail"]) / mailed,
        "pipeline_ms_per_recipient": 1000 * (dispatched_s / n + mail_s / mailed),
        "baseline_ms_per_recipient": 1000 * baseline_s / mailed,
        "seed_s": seed_s,
        "sent": sent_count,
        "campaign_status": campaign.status,
        "campaign_stats": campaign.stats.model_dump(),
        "dispatch_messages": dispatch_messages,
        "mail_messages": mail_messages,
        "invocations": dict(source.invocations),
        "product_requests": len(product),
        "product_operations": dict(operations.most_common()),
        "by_function": {
            phase: dict(Counter(f"{c.service}.{c.operation}" for c in calls).most_common())
            for phase, calls in phases.items()
        },
        "aws_seconds_by_function": {phase: sum(c.seconds for c in calls) for phase, calls in phases.items()},
        "plumbing_requests": dict(Counter(f"{c.service}.{c.operation}" for c in source.plumbing)),
        "pipeline_s": pipeline_s,
        "baseline_s": baseline_s,
        "baseline_message_bytes": len(message.as_bytes()),
    }


def memory(spec: dict[str, Any]) -> dict[str, Any]:
    """Host a moto server, set the campaign up, and run the dispatcher in a grandchild."""
    n = int(spec["recipients"])
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    faster_moto_queries()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    try:
        from tests.support.stack import provision

        stack = provision(REGION)
        _configure(stack.env())
        _seed(stack.table, WARMUP_RECIPIENTS, tag=WARMUP_TAG, start=10_000_000)
        _seed(stack.table, n, tag=TAG)
        from crm.campaigns.service import launch

        warmup_id, campaign_id = _campaign(WARMUP_TAG), _campaign(TAG)
        launch(warmup_id)  # its dispatch message is first on the queue
        launch(campaign_id)
        env = _child_env(stack.env() | {"AWS_ENDPOINT_URL": endpoint, "POWERTOOLS_LOG_LEVEL": "INFO"})
        result = _spawn("dispatcher", {"recipients": n, "queues": stack.queues}, env=env, timeout=3600)
        import boto3

        sqs = boto3.client("sqs", region_name=REGION)
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.queues["mail"], AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        # the campaign's own, without the warm-up campaign's
        result["mail_messages"] = int(attributes["ApproximateNumberOfMessages"]) - -(-WARMUP_RECIPIENTS // 50)
        from crm.campaigns.repository import CampaignRepository

        result["recipients_queued"] = CampaignRepository().get(campaign_id).stats.recipients
        return result
    finally:
        server.stop()


def dispatcher(spec: dict[str, Any]) -> dict[str, Any]:
    """Only the DispatchFunction: a warm-up dispatch, then the traced one."""
    import resource
    import tracemalloc

    from tests.support.engagement import worker_handler

    handler = worker_handler("dispatch", 0)
    source = EventSource(spec["queues"], {"dispatch": (handler, _timeouts()["dispatch"])})
    rounds: list[str] = []

    def on_call(_: str) -> None:
        # The first invocation dispatches the warm-up campaign; trace from the second on.
        rounds.append("x")
        if len(rounds) == 2:
            gc.collect()
            tracemalloc.start()

    # Receive one message at a time so the warm-up campaign is alone in its invocation.
    original = source.sqs.receive_message

    def one_at_a_time(**kwargs: Any) -> Any:
        return original(**(kwargs | {"MaxNumberOfMessages": 1}))

    source.sqs.receive_message = one_at_a_time  # type: ignore[method-assign]
    started = time.perf_counter()
    handled = source.drain("dispatch", on_call=on_call)
    seconds = time.perf_counter() - started
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "recipients": spec["recipients"],
        "dispatch_messages": handled,
        "invocations": sum(source.invocations.values()),
        "pages": -(-int(spec["recipients"]) // 500),
        "peak_kib": peak / 1024,
        "retained_kib": current / 1024,
        "maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds": seconds,
    }


TASKS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "pipeline": pipeline,
    "memory": memory,
    "dispatcher": dispatcher,
}


def main(argv: list[str]) -> int:
    task, source, target = argv
    spec = json.loads(Path(source).read_text(encoding="utf-8"))
    sys.path[:0] = [str(ROOT)]
    result = TASKS[task](spec)
    Path(target).write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
