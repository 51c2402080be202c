"""Figure 9: inbound mail, the parse-and-store time per message against the standard library's
parser alone (``email.message_from_bytes`` with ``policy.default``, its parts walked and decoded),
in the same run and the same process.

Seeding, in the benchmark process: a table ``-inbound`` of the template's design and an inbound
bucket (as the integration tests make one); a few candidates made by ``CandidateService.create``
(a recruiter adding them), each written to from the profile with ``EmailService.send`` (which
keeps the email, the conversation's first, and queues it) and the reply address taken from the
mail engine's own plan of that email (``OutreachPlan.targets`` then ``render``: its Reply-To,
``reply+<token>@<inbound domain>``, the token signed with the stack's key). Then N replies built
with the standard library (``EmailMessage``): the headers SES receiving leaves (Received,
Authentication-Results, DKIM-Signature ...), a text/plain and text/html alternative whose text is
the candidate's answer above the quoted email ("On ... wrote:" and ``> `` lines, a
``gmail_quote`` blockquote in the HTML), half of them with a small PDF (a CV); each its own
Message-ID, so no reply is a duplicate of another. Each is written under ``inbound/`` in the bucket
as SES receiving writes it.

Measured, in a function-like child process (``python -m tests.bench.inbound IN OUT``: the
environment of ``BenchStack.child_env``, every botocore client metered by ``aws_meter``), per
message:

- the baseline: ``email.message_from_bytes(raw, policy=email.policy.default)``, every part walked
  and each leaf's content decoded (``get_content``: what a reader of the message has to do);
- ``crm.inbound.parsing.parse(raw)``, which strips the quoted history itself (``strip_quoted``);
  both interleaved, after one untimed round, ``ROUNDS`` timed rounds over every message;
- the whole path as ``InboundMailFunction`` takes it: the object already in the bucket,
  ``InboundService().receive(key)`` (a service per SQS record, as ``record_handler`` makes it):
  size, read, parse, the token checked, the candidate and conversation read, the PDF kept under
  the person, the reply and its ``replied`` timeline entry in one transaction, sequences stopped,
  the recruiter's notice queued, the raw object deleted. Each message once (it is deleted), after
  ``WARMUP`` messages not timed; its own time (AWS calls excluded, as figures 2, 6 and 8) and its
  wall time (moto's round trips included), against the baseline timed again on the same message
  just before or just after it (alternating): the parsers' rounds and this pass run a minute
  apart on a machine whose load changes, so each row's baseline is the one measured beside it.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from tests.bench import bench_stack, processes
from tests.bench.bench_stack import REGION, ROOT, BenchStack
from tests.bench.load import percentile
from tests.bench.report import Row

DOMAIN = "inbound.bench.localhost"
BUCKET = "crm-bench-inbound-mail"
CONVERSATIONS = 5
WARMUP = 10  # messages through the whole path before timing it
ROUNDS = 3  # timed rounds of the two parsers over every message (after one untimed)
RECRUITER_ACTOR = "user:bench-recruiter"
RECRUITER = "Rita Recruiter <talent@example.com>"
PEOPLE = (("Ada", "Lovelace"), ("Alan", "Turing"), ("Grace", "Hopper"), ("Linus", "Torvalds"), ("Zoë", "Ng"))
OPENINGS = (
    "Thanks for getting back to me so quickly.",
    "Yes, Friday works for me.",
    "Happy to have a call, that sounds great.",
    "Thank you, I am still very interested in the role.",
    "Sorry for the late answer, I was travelling this week.",
)
MIDDLES = (
    "Friday at 14:00 is best for me; 10:00 also works if that is easier for the team.",
    "I have attached my updated CV, with the last two years at my current company.",
    "Could you tell me a little more about the team and how on-call works?",
    "My notice period is one month, so I could start at the beginning of next quarter.",
    "I am based in Berlin and would prefer a hybrid setup, two days in the office.",
    "I have worked with Python and AWS (Lambda, DynamoDB, SQS) for about five years.",
)


def small_pdf(lines: int = 240) -> bytes:
    """A valid one-page PDF of about 20 KB (a short CV): catalog, pages, page, font, content, xref."""
    content = "\n".join(
        f"BT /F1 9 Tf 40 {800 - (k % 85) * 9} Td (Line {k}: Python, AWS Lambda, DynamoDB, SQS, "
        f"five years of backend work) Tj ET"
        for k in range(lines)
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _b64(rng: random.Random, size: int) -> str:
    return base64.b64encode(rng.randbytes(size)).decode()


def _html_escape(text: str) -> str:
    from html import escape

    return escape(text).replace("\n", "<br>")


def reply_message(
    n: int, conversation: dict[str, Any], rng: random.Random, *, pdf: bytes | None
) -> tuple[bytes, str]:
    """Reply number ``n`` to ``conversation``, as a mail client writes it and SES receiving stores
    it; returns the raw bytes and the text the candidate wrote (what should be left of it)."""
    import datetime as dt

    first, last, address = conversation["first_name"], conversation["last_name"], conversation["email"]
    reply_to = conversation["reply_to"]
    sent = dt.datetime.fromisoformat(conversation["created_at"].replace("Z", "+00:00"))
    at = sent + dt.timedelta(hours=2, minutes=n % 600)
    paragraphs = [rng.choice(OPENINGS), *rng.sample(MIDDLES, rng.randrange(1, 4))]
    text = "\n\n".join([*paragraphs, f"Best,\n{first}"])
    when = format_datetime(sent)
    quoted = "\n".join(f"> {line}" if line else ">" for line in conversation["body"].split("\n"))
    plain = f"{text}\n\nOn {when}, {RECRUITER} wrote:\n{quoted}\n"
    quoted_html = "".join(f"<p>{_html_escape(p)}</p>" for p in conversation["body"].split("\n\n"))
    html = (
        '<div dir="ltr">'
        + "".join(f"<div>{_html_escape(p)}</div><div><br></div>" for p in text.split("\n\n"))
        + '</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        + f"On {_html_escape(when)}, {_html_escape(RECRUITER)} wrote:<br></div>"
        + '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
        + f'border-left:1px solid rgb(204,204,204);padding-left:1ex">{quoted_html}</blockquote></div>'
    )
    message_id = f"<bench-inbound-{n}.{rng.getrandbits(64):016x}@mail.candidate.example>"
    outbound_id = f"<{conversation['email_id']}@email.amazonses.com>"
    message = EmailMessage()
    message["Return-Path"] = f"<{address}>"
    message["Received"] = (
        f"from mail-wr1-f54.candidate.example (mail-wr1-f54.candidate.example [209.85.221.54]) by "
        f"inbound-smtp.{REGION}.amazonaws.com with SMTP id {rng.getrandbits(80):020x} for {reply_to}; "
        f"{format_datetime(at)}"
    )
    message["X-SES-Spam-Verdict"] = "PASS"
    message["X-SES-Virus-Verdict"] = "PASS"
    message["Received-SPF"] = (
        "pass (spfCheck: domain of candidate.example designates 209.85.221.54 as permitted sender) "
        f"client-ip=209.85.221.54; envelope-from={address}; helo=mail-wr1-f54.candidate.example;"
    )
    message["Authentication-Results"] = (
        "amazonses.com; spf=pass (spfCheck: domain of candidate.example designates 209.85.221.54 as "
        "permitted sender) client-ip=209.85.221.54; envelope-from="
        f"{address}; helo=mail-wr1-f54.candidate.example; dkim=pass header.i=@candidate.example; "
        "dmarc=pass header.from=candidate.example;"
    )
    message["DKIM-Signature"] = (
        "v=1; a=rsa-sha256; c=relaxed/relaxed; d=candidate.example; s=20230601; "
        f"t={int(at.timestamp())}; h=to:subject:message-id:date:from:in-reply-to:references:"
        f"mime-version:from:to:cc:subject:date:message-id:reply-to; bh={_b64(rng, 32)}; b={_b64(rng, 256)}"
    )
    message["MIME-Version"] = "1.0"
    message["From"] = f"{first} {last} <{address}>"
    message["To"] = reply_to
    message["Subject"] = f"Re: {conversation['subject']}"
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id
    message["In-Reply-To"] = outbound_id
    message["References"] = outbound_id
    message.set_content(plain)
    message.add_alternative(html, subtype="html")
    if pdf is not None:
        message.add_attachment(
            pdf, maintype="application", subtype="pdf", filename=f"CV {first} {last} 2026.pdf"
        )
    return message.as_bytes(), text


@contextmanager
def product_env(table: str) -> Iterator[None]:
    """The product's services in this process use ``table`` and the inbound settings meanwhile."""
    from crm.platform.config import reset_settings

    values = {"TABLE_NAME": table, "INBOUND_MAIL_DOMAIN": DOMAIN, "INBOUND_MAIL_BUCKET": BUCKET}
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    reset_settings()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()


def conversations(count: int) -> list[dict[str, Any]]:
    """``count`` people, each written to once from the profile; their conversation's reply address
    as the mail engine sets it on the email it sends."""
    from crm.candidates.models import CandidateCreate
    from crm.candidates.service import CandidateService
    from crm.mailing.plans import Target
    from crm.outreach.mail import OutreachPlan
    from crm.outreach.models import EmailCreate
    from crm.outreach.service import EmailService

    out = []
    for k in range(count):
        first, last = PEOPLE[k % len(PEOPLE)]
        candidate = CandidateService().create(
            CandidateCreate(
                email=f"inbound{k}.{last.lower()}@candidate.example",
                first_name=first,
                last_name=last,
                tags=["python"],
                location="Berlin",
            ),
            actor=RECRUITER_ACTOR,
            form="ui",
        )
        body = (
            f"Hi {first},\n\nThanks for applying to the Backend engineer role. We liked your "
            "application a lot and would like to talk.\nAre you free for a call on Friday, at 10:00 "
            "or at 14:00?\n\nBest,\nRita"
        )
        sent = EmailService().send(
            candidate.id,
            EmailCreate(subject="Your application: Backend engineer", body=body),
            sender=RECRUITER_ACTOR,
        )
        plan = OutreachPlan(f"{candidate.id}/{sent.id}")
        target = plan.targets([candidate.id])[candidate.id]
        if not isinstance(target, Target):
            raise RuntimeError(f"inbound bench: the one-to-one email would not be sent ({target})")
        reply_to = plan.render(target).reply_to
        if not reply_to or not reply_to.startswith("reply+") or not reply_to.endswith("@" + DOMAIN):
            raise RuntimeError(f"inbound bench: no reply address on the email ({reply_to!r})")
        out.append(
            {
                "candidate_id": candidate.id,
                "email_id": sent.id,
                "email": str(candidate.email),
                "first_name": first,
                "last_name": last,
                "subject": sent.subject,
                "body": sent.body,
                "created_at": sent.created_at,
                "reply_to": reply_to,
            }
        )
    return out


def run(stack: BenchStack, *, messages: int, log: Any) -> tuple[list[Row], dict[str, Any]]:
    import boto3

    started = time.perf_counter()
    table = bench_stack.create_table(f"{stack.env['TABLE_NAME']}-inbound")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    with product_env(table):
        people = conversations(CONVERSATIONS)
    rng = random.Random(9)
    pdf = small_pdf()
    entries = []
    sizes = []
    for n in range(WARMUP + messages):
        conversation = people[n % len(people)]
        with_pdf = n % 2 == 1
        raw, text = reply_message(n, conversation, rng, pdf=pdf if with_pdf else None)
        key = f"inbound/bench-{n:05d}"
        s3.put_object(Bucket=BUCKET, Key=key, Body=raw)
        sizes.append(len(raw))
        entries.append(
            {"key": key, "candidate_id": conversation["candidate_id"], "pdf": with_pdf, "text": text}
        )
    log(
        f"  {len(people)} candidates written to from the profile; {len(entries)} replies in the "
        f"inbound bucket ({WARMUP} for warm-up), {statistics.median(sizes) / 1024:.1f} KB median "
        f"(PDF {len(pdf) / 1024:.1f} KB); {time.perf_counter() - started:.0f} s"
    )
    spec = {"bucket": BUCKET, "warmup": WARMUP, "rounds": ROUNDS, "messages": entries}
    source, target = processes._paths("inbound")
    source.write_text(json.dumps(spec), encoding="utf-8")
    env = stack.child_env(
        table=table,
        pythonpath=[ROOT, bench_stack.SHARED_DIR, ROOT / "functions" / "inbound_mail"],
        extra={
            "INBOUND_MAIL_DOMAIN": DOMAIN,
            "INBOUND_MAIL_BUCKET": BUCKET,
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    processes.run_child(
        ["-m", "tests.bench.inbound", str(source), str(target)], env, "inbound child", timeout=1800
    )
    result: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    result["message_bytes"] = {
        "median": statistics.median(sizes),
        "min": min(sizes),
        "max": max(sizes),
        "pdf": len(pdf),
    }
    result["conversations"] = [{k: p[k] for k in ("candidate_id", "email_id", "reply_to")} for p in people]
    b, p, r = result["baseline_us"], result["parse_us"], result["receive"]
    log(
        f"  per message: stdlib {b['median']:.0f} µs, parse {p['median']:.0f} µs; receive own "
        f"{r['own_ms']['median']:.2f} ms, wall {r['wall_ms']['median']:.1f} ms, "
        f"{r['aws_requests']['min']:g}-{r['aws_requests']['max']:g} AWS requests (stdlib beside it "
        f"{r['baseline_us']['median']:.0f} µs)"
    )
    return rows(result), result


def rows(result: dict[str, Any]) -> list[Row]:
    b, p, r = result["baseline_us"], result["parse_us"], result["receive"]
    n, with_pdf = result["messages"], result["with_pdf"]
    base_label_us = f"{b['median']:.0f} µs email.message_from_bytes + walk (p90 {b['p90']:.0f})"
    beside = r["baseline_us"]
    base_ms = beside["median"] / 1000
    base_label_ms = f"{base_ms:.3f} ms email.message_from_bytes + walk, beside each receive"
    own, wall = r["own_ms"], r["wall_ms"]
    fewest, most = r["aws_requests"]["min"], r["aws_requests"]["max"]
    requests = f"{fewest:g}" if fewest == most else f"{fewest:g}-{most:g}"
    return [
        Row(
            figure=9,
            name=(
                f"inbound parse: crm.inbound.parsing.parse (quoted history off), median per message "
                f"({n} messages, {with_pdf} with a PDF; p90 {p['p90']:.0f} µs)"
            ),
            measured=round(p["median"]),
            unit="µs",
            baseline=round(b["median"]),
            baseline_label=base_label_us,
            goal="none (reported)",
            passed=None,
            detail={"parse_us": p, "baseline_us": b},
        ),
        Row(
            figure=9,
            name=(
                f"inbound parse-and-store: InboundService.receive, median own time per message "
                f"(AWS time excluded; p90 {own['p90']:.2f} ms, {requests} AWS requests)"
            ),
            measured=own["median"],
            unit="ms",
            baseline=base_ms,
            baseline_label=base_label_ms,
            goal="none (reported)",
            passed=None,
            detail={"receive": r},
        ),
        Row(
            figure=9,
            name=(
                f"inbound parse-and-store: InboundService.receive, median wall time per message "
                f"(moto's round trips included; p90 {wall['p90']:.1f} ms)"
            ),
            measured=wall["median"],
            unit="ms",
            baseline=base_ms,
            baseline_label=base_label_ms,
            goal="none (reported)",
            passed=None,
            detail={"receive": r},
        ),
    ]


# ------------------------------------------------------------------------ the child process


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 0.9),
        "min": min(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def stdlib_baseline(raw: bytes) -> int:
    """The standard library alone: the message parsed, every part walked, each leaf decoded."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    leaves = 0
    for part in message.walk():
        if not part.is_multipart():
            part.get_content()
            leaves += 1
    return leaves


def _check_parsed(raw: bytes, entry: dict[str, Any]) -> None:
    from crm.inbound.parsing import parse

    mail = parse(raw)
    if mail.text != entry["text"]:
        raise RuntimeError(f"inbound bench: {entry['key']} parses to {mail.text!r}, not {entry['text']!r}")
    if len(mail.parts) != (1 if entry["pdf"] else 0) or stdlib_baseline(raw) != (3 if entry["pdf"] else 2):
        raise RuntimeError(f"inbound bench: {entry['key']} has unexpected parts")


def measure(spec: dict[str, Any], meter: Any) -> dict[str, Any]:
    import boto3

    from crm.inbound.parsing import parse
    from crm.inbound.service import InboundService

    s3 = boto3.client("s3")
    entries = spec["messages"]
    raws = [s3.get_object(Bucket=spec["bucket"], Key=e["key"])["Body"].read() for e in entries]
    for raw, entry in zip(raws, entries, strict=True):
        _check_parsed(raw, entry)
    timed = list(range(spec["warmup"], len(entries)))

    # The two parsers, interleaved (which goes first alternates), after one untimed round.
    clock = time.perf_counter_ns
    baseline_us: list[float] = []
    parse_us: list[float] = []
    by_pdf: dict[str, list[float]] = {"with": [], "without": []}
    for round_ in range(spec["rounds"] + 1):
        for i in timed:
            raw = raws[i]
            order = (stdlib_baseline, parse) if (i + round_) % 2 else (parse, stdlib_baseline)
            for work in order:
                t = clock()
                work(raw)
                elapsed = (clock() - t) / 1000
                if round_ == 0:
                    continue
                if work is parse:
                    parse_us.append(elapsed)
                    by_pdf["with" if entries[i]["pdf"] else "without"].append(elapsed)
                else:
                    baseline_us.append(elapsed)

    # The whole path, each message once (receive deletes it), the first WARMUP not timed; the
    # baseline again on the same message just before or after it (alternating), so that the two
    # share the machine's state of the moment.
    beside_us: list[float] = []
    own_ms: list[float] = []
    wall_ms: list[float] = []
    aws_ms: list[float] = []
    sends: list[int] = []
    own_by_pdf: dict[str, list[float]] = {"with": [], "without": []}
    operations: dict[str, list[str]] = {}
    stored: list[tuple[str, str, bool]] = []
    for i, entry in enumerate(entries):
        if i % 2:
            t = clock()
            stdlib_baseline(raws[i])
            beside_us.append((clock() - t) / 1000)
        meter.reset()
        t = clock()
        outcome = InboundService().receive(entry["key"])
        wall = (clock() - t) / 1e9
        if not i % 2:
            t = clock()
            stdlib_baseline(raws[i])
            beside_us.append((clock() - t) / 1000)
        if outcome.status != "stored" or outcome.reply_id is None:
            raise RuntimeError(f"inbound bench: {entry['key']} was not stored ({outcome})")
        stored.append((entry["candidate_id"], outcome.reply_id, entry["pdf"]))
        if i < spec["warmup"]:
            continue
        operations.setdefault("with_pdf" if entry["pdf"] else "without_pdf", meter.operations())
        own = (wall - meter.aws_seconds) * 1000
        own_ms.append(own)
        wall_ms.append(wall * 1000)
        aws_ms.append(meter.aws_seconds * 1000)
        sends.append(meter.sends)
        own_by_pdf["with" if entry["pdf"] else "without"].append(own)

    # What the path stored: every reply, its PDF kept; the raw messages gone.
    service = InboundService()
    for candidate_id, reply_id, with_pdf in stored[spec["warmup"] : spec["warmup"] + 2]:
        reply = service.get(candidate_id, reply_id)
        if reply is None or len(reply.attachments) != (1 if with_pdf else 0) or reply.dropped:
            raise RuntimeError(f"inbound bench: reply {reply_id} is not stored as sent ({reply})")
    replies = sum(len(service.replies(c)) for c in {c for c, _, _ in stored})
    left = s3.list_objects_v2(Bucket=spec["bucket"], Prefix="inbound/").get("KeyCount", 0)
    if replies != len(entries) or left:
        raise RuntimeError(f"inbound bench: {replies} replies stored of {len(entries)}, {left} raw left")
    return {
        "messages": len(timed),
        "with_pdf": sum(1 for i in timed if entries[i]["pdf"]),
        "rounds": spec["rounds"],
        "baseline_us": _summary(baseline_us),
        "parse_us": _summary(parse_us),
        "parse_us_median_by_pdf": {k: statistics.median(v) for k, v in by_pdf.items() if v},
        "receive": {
            "baseline_us": _summary(beside_us[spec["warmup"] :]),
            "own_ms": _summary(own_ms),
            "wall_ms": _summary(wall_ms),
            "aws_ms": _summary(aws_ms),
            "aws_requests": _summary([float(s) for s in sends]),
            "own_ms_median_by_pdf": {k: statistics.median(v) for k, v in own_by_pdf.items() if v},
            "operations": operations,
        },
        "replies_stored": replies,
        "samples": {
            "baseline_us": baseline_us,
            "parse_us": parse_us,
            "receive_baseline_us": beside_us[spec["warmup"] :],
            "own_ms": own_ms,
            "wall_ms": wall_ms,
        },
    }


def main() -> None:
    from tests.bench import aws_meter

    meter = aws_meter.install()  # before any client exists
    source, target = sys.argv[1:3]
    spec = json.loads(Path(source).read_text(encoding="utf-8"))
    result = measure(spec, meter)
    Path(target).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
