"""Figure 10: recruiting events, the check-in desk's request and the career site's registrations.

**Check-in own time**, in a function-like child process (``python -m tests.bench.events IN OUT``:
the environment of ``BenchStack.child_env``, every botocore client metered by ``aws_meter``), as
figure 2 measures a warm handler: ``app.app(event, context)`` minus the time inside botocore.

Seeding, in the benchmark process: a table ``-events`` of the template's design; one event made
by ``EventService.create`` and ``publish`` (in person, a month ahead) whose capacity holds
everybody; ``warmup + checkins`` people registered through the career site's own path
(``EventService.register_from_form``: the intake, then a place in a transaction with the
event's counter), each with their own signed check-in code (``tickets.checkin_token``, what
their QR code carries); and one more person, the candidate the baseline reads. The child then
interleaves, per person: ``POST /v1/events/{id}/check-ins {"token": ...}`` with a code never
used (a first check-in: the code verified, the event and registration read, one transaction of
the registration, the counter and the ``event_attended`` timeline entry), ``GET
/v1/candidates/{id}`` with the same bearer token, and the same code again (a second scan,
``already_checked_in``: the desk's retry path, two reads and no write).

**Registrations per second on the local stack** (figure 7's machinery: ``load.LocalStack``,
``load.run_phase``, closed-loop keep-alive clients behind a barrier): a fresh ``crm dev
--no-seed`` in a subprocess, a recruiter signed in over HTTP who creates and publishes two
events (``POST /v1/events``, ``/publish``). Phases, each ``clients`` clients, every request a new
email: sign-ups ``POST /public/talent-network`` (half the time), registrations ``POST
/public/events/{id}/registrations`` for the open event (a capacity nobody reaches), registrations
for the crowded one (``race_capacity`` places: the first take them in a race, everybody after is
waitlisted), sign-ups again (the other half; pooled with the first, so the table growing during
the run weighs on the baseline as on the measured phases). Before each phase the stack is left
to settle (its CPU back near idle: the stream and the mail engine done with the last phase's
work). Afterwards, as the recruiter, each event's figures (``GET /v1/events/{id}``) against its
registrations listed by state (``GET /v1/events/{id}/registrations``) and the 202s its phase
got: the count never above the capacity, equal to the people registered, and registered plus
waitlisted equal to the registrations accepted.

    python -m tests.bench --only events [--events-checkins 300] [--events-clients 50]
        [--events-seconds 10] [--events-race-capacity 100]
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.bench import bench_stack, processes
from tests.bench.bench_stack import API_DIR, BUILD, ROOT, SHARED_DIR, BenchStack
from tests.bench.lambda_events import LambdaContext, api_event
from tests.bench.load import LocalStack, Phase, Workload, percentile, request, run_phase, summarise
from tests.bench.report import Row

#: A first check-in may cost at most this many GETs of a candidate in own time (median and p99).
CHECKIN_GOAL = 3.0
#: A second scan of a used code (two reads, no write) at most this many GETs.
RESCAN_GOAL = 2.0
#: Registrations per second at least this share of sign-ups per second, same clients, same stack.
THROUGHPUT_GOAL = 0.5
OPEN_CAPACITY = 100_000  # crm.events.models.MAX_CAPACITY: nobody is waitlisted
ACTOR = "user:bench-recruiter"
#: The child's metered public requests after its check-ins (AWS requests of each, in the JSON).
METERED = ("register", "register_events_consent", "sign_up")
LOCAL = BUILD / "events"


def _event_body(name: str, capacity: int) -> dict[str, Any]:
    start = (datetime.now(UTC) + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    return {
        "name": name,
        "kind": "career_fair",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(),
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue": {"name": "Bench hall", "city": "Berlin", "country": "Germany"},
        "capacity": capacity,
        "description": "Meet the team.",
        "tags": ["python"],
    }


# ------------------------------------------------------------------ check-in: the parent side


@contextmanager
def product_env(table: str) -> Iterator[None]:
    """The product's services in this process use ``table`` meanwhile."""
    from crm.platform.config import reset_settings

    before = os.environ.get("TABLE_NAME")
    os.environ["TABLE_NAME"] = table
    reset_settings()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TABLE_NAME", None)
        else:
            os.environ["TABLE_NAME"] = before
        reset_settings()


def seed_checkins(people: int) -> dict[str, Any]:
    """One published event holding ``people`` registrations (each with its check-in code) and one
    candidate outside it; in the table ``TABLE_NAME`` names."""
    from crm.candidates.models import PublicSubmission
    from crm.candidates.service import CandidateService
    from crm.events.models import EventCreate
    from crm.events.service import EventService
    from crm.events.tickets import checkin_token

    service = EventService()
    # Room for all, and for the child's few metered registrations after its check-ins.
    body = _event_body("Bench check-in", people + len(METERED))
    event = service.create(EventCreate.model_validate(body), actor=ACTOR)
    event = service.publish(event.id, actor=ACTOR)
    for n in range(people):
        service.register_from_form(
            event.id,
            {"email": f"desk.{n}@example.com", "first_name": f"Desk{n}", "last_name": "Visitor"},
        )
    registered = sorted(
        service.registrations.every(event.id, state="registered"),
        key=lambda r: int(str(r.email).split("@")[0].rsplit(".", 1)[1]),
    )
    if len(registered) != people or service.get(event.id).counts.registered != people:
        raise RuntimeError(f"events bench: {len(registered)} of {people} registered")
    candidate_id, _ = CandidateService().intake(
        PublicSubmission(email="desk.reader@example.com", first_name="Read", last_name="Me", tags=["python"]),
        source="talent-network",
    )
    return {
        "event_id": event.id,
        "candidate_id": candidate_id,
        "people": [
            {
                "candidate_id": r.candidate_id,
                "token": checkin_token(event.id, r.candidate_id, ends_at=event.ends_at),
            }
            for r in registered
        ],
    }


def checkins(stack: BenchStack, *, requests: int, warmup: int, log: Callable[[str], None]) -> dict[str, Any]:
    started = time.perf_counter()
    table = bench_stack.create_table(f"{stack.env['TABLE_NAME']}-events")
    with product_env(table):
        seeded = seed_checkins(requests + warmup)
    log(
        f"  one published event, {requests + warmup} people registered through the career site's "
        f"path, each with a check-in code; {time.perf_counter() - started:.0f} s"
    )
    spec = seeded | {"token": stack.token, "requests": requests, "warmup": warmup}
    source, target = processes._paths("events")
    source.write_text(json.dumps(spec), encoding="utf-8")
    env = stack.child_env(
        table=table,
        pythonpath=[ROOT, SHARED_DIR, API_DIR],
        extra={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    processes.run_child(
        ["-m", "tests.bench.events", str(source), str(target)], env, "events child", timeout=1800
    )
    result: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    c, g, r = (result[k]["own_ms"] for k in ("check_in", "get", "rescan"))
    m = result["metered"]
    log(
        f"  AWS requests: a registration {m['register']['aws_requests']} "
        f"({m['register_events_consent']['aws_requests']} with the events consent), a sign-up "
        f"{m['sign_up']['aws_requests']}"
    )
    log(
        f"  own time, median (p99): check-in {c['median']:.2f} ms ({c['p99']:.2f}), GET "
        f"{g['median']:.2f} ms ({g['p99']:.2f}), second scan {r['median']:.2f} ms ({r['p99']:.2f})"
    )
    return result


# ------------------------------------------------------------------ registrations: the local stack


class SignUps(Workload):
    """Every request a sign-up with a new email (figure 7's, without its reads)."""

    def pick(self, index: int, rng: random.Random) -> tuple[str, str, Any, dict[str, str], int]:
        return self.join(rng)


class Registrations(Workload):
    """Every request a registration for one event, with a new email."""

    def __init__(self, token: str, run_id: str, event_id: str) -> None:
        super().__init__(token, run_id)
        self.event_id = event_id

    def pick(self, index: int, rng: random.Random) -> tuple[str, str, Any, dict[str, str], int]:
        body = {
            "email": self.next_email(),
            "first_name": "Event",
            "last_name": "Visitor",
            "marketing_consent": rng.random() < 0.5,
            "events_consent": rng.random() < 0.5,
        }
        return "register", f"/public/events/{self.event_id}/registrations", body, {}, 202


def settle(stack: LocalStack, *, idle: float, timeout: float = 120.0, window: float = 1.0) -> dict[str, Any]:
    """Wait until the stack's CPU share over ``window`` is back near ``idle`` (its pollers alone):
    the seconds it took (``timeout`` at most, then ``timed_out``) and the CPU seconds it used."""
    began, cpu = time.perf_counter(), stack.cpu_seconds()
    timed_out = True
    while time.perf_counter() - began < timeout:
        before = stack.cpu_seconds()
        time.sleep(window)
        if (stack.cpu_seconds() - before) / window <= idle + 0.15:
            timed_out = False
            break
    return {
        "seconds": time.perf_counter() - began,
        "cpu_s": stack.cpu_seconds() - cpu,
        "timed_out": timed_out,
    }


def idle_share(stack: LocalStack, windows: int = 3) -> float:
    shares = []
    for _ in range(windows):
        before = stack.cpu_seconds()
        time.sleep(1.0)
        shares.append(stack.cpu_seconds() - before)
    return min(shares)


def _json(conn: Any, method: str, path: str, token: str, body: Any = None) -> Any:
    status, raw = request(conn, method, path, body, {"Authorization": f"Bearer {token}"})
    if status not in (200, 201):
        raise RuntimeError(f"events bench: {method} {path} answered {status}: {raw[:300]!r}")
    return json.loads(raw)


def _listed(conn: Any, token: str, event_id: str, state: str) -> int:
    count, cursor = 0, None
    while True:
        path = f"/v1/events/{event_id}/registrations?state={state}&limit=500"
        page = _json(conn, "GET", path + (f"&cursor={cursor}" if cursor else ""), token)
        count += len(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return count


def prefill(stack: LocalStack, workload: Registrations, count: int) -> int:
    """``count`` registrations one after the other (not timed): the places the race leaves."""
    rng = random.Random(1)
    conn = stack.connect()
    for index in range(count):
        _, path, body, headers, expected = workload.pick(index, rng)
        status, _ = request(conn, "POST", path, body, headers)
        if status != expected:
            raise RuntimeError(f"events bench: prefill {path} answered {status}")
    conn.close()
    return count


def check_event(conn: Any, token: str, event_id: str, accepted: int) -> dict[str, Any]:
    """The event's figures against its registrations and the 202s its phase got."""
    event = _json(conn, "GET", f"/v1/events/{event_id}", token)
    registered = _listed(conn, token, event_id, "registered")
    waitlisted = _listed(conn, token, event_id, "waitlisted")
    counts = event["counts"]
    problems = []
    if counts["registered"] > event["capacity"]:
        problems.append(f"registered_count {counts['registered']} > capacity {event['capacity']}")
    if counts["registered"] != registered:
        problems.append(f"registered_count {counts['registered']} != {registered} people registered")
    if counts["waitlisted"] != waitlisted:
        problems.append(f"waitlist_count {counts['waitlisted']} != {waitlisted} people waitlisted")
    if registered + waitlisted != accepted:
        problems.append(f"{registered} registered + {waitlisted} waitlisted != {accepted} accepted")
    return {
        "capacity": event["capacity"],
        "registered_count": counts["registered"],
        "waitlist_count": counts["waitlisted"],
        "registered_listed": registered,
        "waitlisted_listed": waitlisted,
        "accepted": accepted,
        "problems": problems,
    }


def registrations(
    *,
    clients: int,
    seconds: float,
    race_capacity: int,
    port: int | None = None,
    log: Callable[[str], None],
) -> dict[str, Any]:
    stack = LocalStack(port, LOCAL / "data")
    stack.out, stack.err = LOCAL / "crm-dev.out", LOCAL / "crm-dev.err"
    log(f"  starting crm dev --no-seed on 127.0.0.1:{stack.port}")
    stack.start()
    phases: dict[str, list[Phase]] = {"signups": [], "open": [], "race": []}
    settled: dict[str, dict[str, Any]] = {}
    accepted = {"open": 0, "race": 0}
    backlog: dict[str, list[float]] = {"signups": [], "open": [], "race": []}
    try:
        token = stack.sign_in()
        conn = stack.connect()
        events = {}
        for key, name, capacity in (
            ("open", "Open day (room for all)", OPEN_CAPACITY),
            ("race", f"Meetup ({race_capacity} places)", race_capacity),
        ):
            created = _json(conn, "POST", "/v1/events", token, _event_body(name, capacity))
            events[key] = _json(conn, "POST", f"/v1/events/{created['id']}/publish", token)["id"]
        conn.close()
        idle = idle_share(stack)
        run = f"{int(time.time())}"
        race = Registrations(token, f"{run}-race", events["race"])
        # The race's first burst (one request a client) goes for the last places; all after wait.
        prefilled = prefill(stack, race, max(0, race_capacity - clients))
        accepted["race"] += prefilled
        log(f"  crowded event: {prefilled} of its {race_capacity} places taken before its phase")
        plan: tuple[tuple[str, Workload, float], ...] = (
            ("signups", SignUps(token, f"{run}-s1"), seconds / 2),
            ("open", Registrations(token, f"{run}-open", events["open"]), seconds),
            ("race", race, seconds),
            ("signups", SignUps(token, f"{run}-s2"), seconds / 2),
        )
        settled["before"] = settle(stack, idle=idle)
        for n, (key, workload, length) in enumerate(plan):
            phase = run_phase(stack, workload, clients, length)
            after = settled[f"after-{n}-{key}"] = settle(stack, idle=idle)
            s = phase.summary()
            behind = max(0.0, after["cpu_s"] - idle * after["seconds"])
            backlog[key].append(behind)
            log(
                f"  {key}, {clients} clients, {length:g} s: {s['throughput_rps']:.1f} req/s, p50 "
                f"{s['p50_ms']:.0f} ms, p99 {s['p99_ms']:.0f} ms, {s['errors']} error(s) "
                f"{s['error_kinds'] or ''}; server CPU {s['server_cpu_ms_per_request']:.1f} ms a "
                f"request, and {after['seconds']:.0f} s ({behind:.1f} CPU s) settling after"
                + (
                    " (timed out: the next phase shares the stack with this one's work)"
                    if after["timed_out"]
                    else ""
                )
            )
            phases[key].append(phase)
            if key in accepted:
                accepted[key] += len(phase.ok)
        conn = stack.connect()
        checks = {key: check_event(conn, token, events[key], accepted[key]) for key in events}
        conn.close()
    finally:
        stack.stop()

    def with_backlog(summary: dict[str, Any], key: str) -> dict[str, Any]:
        """The summary, with the CPU the stack spent after the phase on the phase's work (the
        stream, the mail engine: what it used settling, less its idle share)."""
        left = sum(backlog[key])
        cpu = summary["server_cpu_s"] + left
        return summary | {
            "backlog_cpu_s": left,
            "server_cpu_ms_per_request_with_backlog": cpu * 1000 / summary["ok"] if summary["ok"] else 0.0,
        }

    first, second = phases["signups"]
    signups = with_backlog(
        summarise(
            first.samples + second.samples, first.wall + second.wall, first.server_cpu + second.server_cpu
        ),
        "signups",
    )
    for key, found in checks.items():
        log(
            f"  {key} event: {found['registered_count']} registered of {found['capacity']}, "
            f"{found['waitlist_count']} waitlisted, {found['accepted']} accepted"
            + (f"; {'; '.join(found['problems'])}" if found["problems"] else "")
        )
    return {
        "clients": clients,
        "seconds": seconds,
        "race_capacity": race_capacity,
        "race_prefilled": prefilled,
        "idle_cpu_share": idle,
        "settle": settled,
        "signups": signups,
        "signup_phases": [p.summary() for p in phases["signups"]],
        "open": with_backlog(phases["open"][0].summary(), "open"),
        "race": with_backlog(phases["race"][0].summary(), "race"),
        "checks": checks,
        "events": events,
    }


# ------------------------------------------------------------------ the figure


def run(
    stack: BenchStack,
    *,
    checkin_requests: int,
    warmup: int,
    clients: int,
    seconds: float,
    race_capacity: int,
    log: Callable[[str], None],
) -> tuple[list[Row], dict[str, Any]]:
    log(f"  check-in own time ({checkin_requests} first check-ins, {warmup} before them not timed)")
    desk = checkins(stack, requests=checkin_requests, warmup=warmup, log=log)
    log(f"  registrations on the local stack ({clients} clients, {seconds:g} s a phase)")
    career_site = registrations(clients=clients, seconds=seconds, race_capacity=race_capacity, log=log)
    raw = {"check_in": desk, "registrations": career_site}
    return rows(raw), raw


def rows(raw: dict[str, Any]) -> list[Row]:
    desk, site = raw["check_in"], raw["registrations"]
    c, g, r = (desk[k] for k in ("check_in", "get", "rescan"))
    n = c["requests"]
    get_label = "{:.2f} ms GET /v1/candidates/{{id}} {} (interleaved)"

    def requests_of(route: dict[str, Any]) -> str:
        fewest, most = route["aws_requests"]["min"], route["aws_requests"]["max"]
        return f"{fewest:g}" if fewest == most else f"{fewest:g}-{most:g}"

    out = [
        Row(
            figure=10,
            name=(
                f"check-in own time: POST /v1/events/{{id}}/check-ins, a code's first scan, median "
                f"({n} people, {requests_of(c)} AWS requests)"
            ),
            measured=c["own_ms"]["median"],
            unit="ms",
            baseline=g["own_ms"]["median"],
            baseline_label=get_label.format(g["own_ms"]["median"], "median"),
            goal=f"<= {CHECKIN_GOAL:g}x",
            passed=c["own_ms"]["median"] <= CHECKIN_GOAL * g["own_ms"]["median"],
            detail={"check_in": c, "get": g},
        ),
        Row(
            figure=10,
            name="check-in own time: the same, p99",
            measured=c["own_ms"]["p99"],
            unit="ms",
            baseline=g["own_ms"]["p99"],
            baseline_label=get_label.format(g["own_ms"]["p99"], "p99"),
            goal=f"<= {CHECKIN_GOAL:g}x",
            passed=c["own_ms"]["p99"] <= CHECKIN_GOAL * g["own_ms"]["p99"],
            detail={},
        ),
        Row(
            figure=10,
            name=(
                f"check-in own time: the same code again (already checked in), median "
                f"(p99 {r['own_ms']['p99']:.2f} ms, {requests_of(r)} AWS requests)"
            ),
            measured=r["own_ms"]["median"],
            unit="ms",
            baseline=g["own_ms"]["median"],
            baseline_label=get_label.format(g["own_ms"]["median"], "median"),
            goal=f"<= {RESCAN_GOAL:g}x",
            passed=r["own_ms"]["median"] <= RESCAN_GOAL * g["own_ms"]["median"],
            detail={"rescan": r},
        ),
    ]
    clients, base = site["clients"], site["signups"]
    base_label = (
        f"{base['throughput_rps']:.1f} sign-ups/s, {clients} clients (p50 {base['p50_ms']:.0f} ms, "
        f"p99 {base['p99_ms']:.0f} ms; {base['errors']} error(s))"
    )
    for key, what in (
        ("open", "an open event (nobody waitlisted)"),
        ("race", f"racing for {site['race_capacity']} places (the rest waitlisted)"),
    ):
        s, check = site[key], site["checks"][key]
        out.append(
            Row(
                figure=10,
                name=(
                    f"registrations/s, {clients} clients, local stack, {what} (p50 {s['p50_ms']:.0f} ms, "
                    f"p99 {s['p99_ms']:.0f} ms; {s['errors']} error(s))"
                ),
                measured=round(s["throughput_rps"], 1),
                unit="req/s",
                baseline=round(base["throughput_rps"], 1),
                baseline_label=base_label,
                goal=f">= {THROUGHPUT_GOAL:g}x, no errors",
                passed=s["throughput_rps"] >= THROUGHPUT_GOAL * base["throughput_rps"]
                and s["errors"] == 0
                and base["errors"] == 0,
                detail={key: s, "signups": base},
            )
        )
    for key, what in (("open", "the open event"), ("race", "the crowded event")):
        check = site["checks"][key]
        agrees = (
            f"= {check['registered_listed']} listed registered, {check['waitlist_count']} waitlisted, "
            f"of {check['accepted']} accepted"
        )
        out.append(
            Row(
                figure=10,
                name=(
                    f"registered_count of {what} after the run "
                    + (f"(MISMATCH: {'; '.join(check['problems'])})" if check["problems"] else f"({agrees})")
                ),
                measured=check["registered_count"],
                unit="",
                baseline=check["capacity"],
                baseline_label=f"capacity {check['capacity']:,}",
                goal="<= capacity, = people registered",
                passed=not check["problems"],
                detail=check,
            )
        )
    return out


# ------------------------------------------------------------------------ the child process


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "p90": percentile(values, 0.9),
        "p99": percentile(values, 0.99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


def measure(spec: dict[str, Any], meter: Any) -> dict[str, Any]:
    import app as api  # functions/api is on the child's PYTHONPATH

    handler = api.app
    auth = {"Authorization": f"Bearer {spec['token']}"}
    event_id, people = spec["event_id"], spec["people"]
    warmup, n = int(spec["warmup"]), int(spec["requests"])
    if len(people) != warmup + n:
        raise RuntimeError(f"events bench: {len(people)} people for {warmup + n} check-ins")

    def check_in(person: dict[str, str]) -> dict[str, Any]:
        return api_event(
            "POST",
            "/v1/events/{event_id}/check-ins",
            path_params={"event_id": event_id},
            headers=auth,
            body={"token": person["token"]},
        )

    def get(_: dict[str, str]) -> dict[str, Any]:
        return api_event(
            "GET",
            "/v1/candidates/{candidate_id}",
            path_params={"candidate_id": spec["candidate_id"]},
            headers=auth,
        )

    routes: dict[str, tuple[Callable[[dict[str, str]], dict[str, Any]], str | None]] = {
        "check_in": (check_in, "checked_in"),
        "get": (get, None),
        "rescan": (check_in, "already_checked_in"),
    }
    own: dict[str, list[float]] = {k: [] for k in routes}
    total: dict[str, list[float]] = {k: [] for k in routes}
    aws: dict[str, list[float]] = {k: [] for k in routes}
    sends: dict[str, list[float]] = {k: [] for k in routes}
    operations: dict[str, list[str]] = {}
    for i in range(-warmup, n):
        person = people[i + warmup]
        for name, (make, expected) in routes.items():
            event, context = make(person), LambdaContext("ApiFunction")
            meter.reset()
            start = time.perf_counter()
            response = handler(event, context)
            elapsed = time.perf_counter() - start
            if response["statusCode"] != 200:
                raise RuntimeError(f"{name}: {response['statusCode']} {str(response.get('body'))[:500]}")
            if expected and json.loads(response["body"])["status"] != expected:
                raise RuntimeError(f"{name}: {response['body'][:500]} (expected {expected})")
            if i < 0:
                continue
            operations.setdefault(name, meter.operations())
            own[name].append((elapsed - meter.aws_seconds) * 1000)
            total[name].append(elapsed * 1000)
            aws[name].append(meter.aws_seconds * 1000)
            sends[name].append(float(meter.sends))
    found = handler(
        api_event("GET", "/v1/events/{event_id}", path_params={"event_id": event_id}, headers=auth),
        LambdaContext("ApiFunction"),
    )
    counts = json.loads(found["body"])["counts"]
    if counts["attended"] != len(people) or counts["registered"] != len(people):
        raise RuntimeError(f"events bench: after {len(people)} check-ins the event counts {counts}")
    # What a registration asks of AWS, against a sign-up (the local stack's throughput follows it).
    metered: dict[str, Any] = {}
    for name in METERED:
        fields = {"email": f"metered.{name}@example.com", "first_name": "Metered", "last_name": "Person"}
        if name == "sign_up":
            event = api_event("POST", "/public/talent-network", body=fields)
        else:
            event = api_event(
                "POST",
                "/public/events/{event_id}/registrations",
                path_params={"event_id": event_id},
                body=fields | {"events_consent": name.endswith("consent")},
            )
        meter.reset()
        response = handler(event, LambdaContext("ApiFunction"))
        if response["statusCode"] != 202:
            raise RuntimeError(f"{name}: {response['statusCode']} {str(response.get('body'))[:500]}")
        metered[name] = {"aws_requests": meter.sends, "operations": meter.operations()}
    return {
        name: {
            "requests": len(own[name]),
            "own_ms": _summary(own[name]),
            "total_ms_median": statistics.median(total[name]),
            "aws_ms_median": statistics.median(aws[name]),
            "aws_requests": {"min": min(sends[name]), "max": max(sends[name])},
            "operations": operations[name],
            "samples_own_ms": own[name],
        }
        for name in routes
    } | {"event_counts": counts, "metered": metered}


def main() -> None:
    from tests.bench import aws_meter

    meter = aws_meter.install()  # before any client exists
    source, target = sys.argv[1:3]
    spec = json.loads(Path(source).read_text(encoding="utf-8"))
    result = measure(spec, meter)
    Path(target).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
