"""The four figures of ``make bench``, each turned into table rows."""

from __future__ import annotations

from typing import Any

from tests.bench import cold_start, processes, seed
from tests.bench.bench_stack import BenchStack
from tests.bench.report import Row

COLD_GOAL = 1.25
OWN_TIME_GOAL_MS = 2.0
PAGE = 25


def cold(
    stack: BenchStack, *, repeats: int, source_repeats: int, log: Any
) -> tuple[list[Row], dict[str, Any]]:
    result = cold_start.run(stack, repeats=repeats, source_repeats=source_repeats, log=log)
    rows = []
    for s in result["scenarios"].values():
        ratio = s["median_ms"] / s["floor_median_ms"]
        rows.append(
            Row(
                figure=1,
                name=f"cold start: {s['label']}",
                measured=s["median_ms"],
                unit="ms",
                baseline=s["floor_median_ms"],
                baseline_label=f"{s['floor_median_ms']:.0f} ms boto3 floor ({s['floor_call']})",
                goal=f"<= {COLD_GOAL}x",
                passed=ratio <= COLD_GOAL,
                detail={k: v for k, v in s.items() if k != "label"},
            )
        )
    if result["source"]:
        src = result["source"]
        rows.append(
            Row(
                figure=1,
                name="cold start, no bytecode (as packaged): ApiFunction GET /v1/candidates/{id}",
                measured=src["median_ms"],
                unit="ms",
                baseline=src["floor_median_ms"],
                baseline_label=f"{src['floor_median_ms']:.0f} ms boto3 floor, no bytecode",
                goal=f"<= {COLD_GOAL}x",
                passed=src["median_ms"] / src["floor_median_ms"] <= COLD_GOAL,
                detail=src,
            )
        )
    return rows, result


WARM_LABELS = {
    "get": "warm own time: GET /v1/candidates/{id} (bearer)",
    "join": "warm own time: POST /public/talent-network (new email)",
    "list": "warm own time: GET /v1/candidates?tag=python&limit=25",
}


def warm(stack: BenchStack, *, requests: int, warmup: int) -> tuple[list[Row], dict[str, Any]]:
    spec = {
        "token": stack.token,
        "candidate_id": stack.warm_candidate_id,
        "requests": requests,
        "warmup": warmup,
    }
    # Reads and joins in two processes, each on its own table: joins grow theirs, and moto's Query
    # time grows with the table.
    result = processes.probe(stack, "warm", spec | {"routes": ["get", "list"]}, table=stack.warm_table)
    result |= processes.probe(stack, "warm", spec | {"routes": ["join"]}, table=stack.joins_table)
    rows = []
    for name, label in WARM_LABELS.items():
        r = result[name]
        own = r["own_ms"]
        rows.append(
            Row(
                figure=2,
                name=f"{label}, median (p99 {own['p99']:.2f} ms)",
                measured=own["median"],
                unit="ms",
                baseline=OWN_TIME_GOAL_MS,
                baseline_label=f"goal {OWN_TIME_GOAL_MS:g} ms",
                goal=f"median <= {OWN_TIME_GOAL_MS:g} ms",
                passed=own["median"] <= OWN_TIME_GOAL_MS,
                detail=r,
            )
        )
    return rows, result


# name -> (label, goal). Goals: a public join reads the email guard and writes one transaction;
# an Idempotency-Key adds Powertools' in-progress put and completion update; a replay is answered
# from the record the failed conditional put returns; reads are one request each.
COUNT_GOALS = {
    "join_new": ("AWS requests: public join, new email", 2),
    "join_known": ("AWS requests: public join, known email", 2),
    "join_new_key": ("AWS requests: public join, new email + Idempotency-Key", 4),
    "join_known_key": ("AWS requests: public join, known email + Idempotency-Key", 4),
    "join_replay_key": ("AWS requests: public join, replayed Idempotency-Key", 1),
    "get": ("AWS requests: get a candidate (bearer, JWKS warm)", 1),
    "list_page": ("AWS requests: one page of ?tag=python&limit=25", 1),
}


def counts(stack: BenchStack) -> tuple[list[Row], dict[str, Any]]:
    result = processes.probe(
        stack,
        "counts",
        {"token": stack.token, "candidate_id": stack.warm_candidate_id},
        table=stack.warm_table,
    )
    rows = []
    for name, (label, goal) in COUNT_GOALS.items():
        r = result[name]
        rows.append(
            Row(
                figure=3,
                name=label,
                measured=r["aws_requests"],
                unit="",
                baseline=goal,
                baseline_label=f"goal {goal}",
                goal=f"<= {goal}" + (", no other HTTP" if name == "get" else ""),
                passed=r["aws_requests"] <= goal and (name != "get" or r["other_http"] == 0),
                detail=r,
            )
        )
    return rows, result


def scaling(stack: BenchStack, *, small: int, large: int, log: Any) -> tuple[list[Row], dict[str, Any]]:
    loader = seed.DirectLoader(stack.lists_table)
    spec = {"token": stack.token, "tag": "python", "limit": PAGE}
    results: dict[str, Any] = {}
    loaded = 0
    for size in (small, large):
        items = seed.load(loader, loaded, size - loaded, progress=f"  loading candidates to {size:,}")
        loaded = size
        log(f"  {size:,} candidates: {loader.count:,} items in the table; querying one page")
        results[str(size)] = probe = processes.probe(stack, "scan", spec, table=stack.lists_table)
        probe["candidates"] = size
        probe["items_loaded_now"] = items
        probe["table_items"] = loader.count
        log(
            f"  {size:,} candidates: ScannedCount {probe['scanned']}, {probe['aws_requests']} request(s), "
            f"{probe['returned']} returned, served in {probe['seconds']:.1f} s by moto"
        )
    first, second = results[str(small)], results[str(large)]
    limit = PAGE + 1
    rows = [
        Row(
            figure=4,
            name=f"items read for one page of {PAGE} (?tag=python), {small:,} candidates",
            measured=first["scanned"],
            unit="",
            baseline=limit,
            baseline_label=f"page + 1 = {limit}",
            goal=f"<= {limit}",
            passed=first["scanned"] <= limit and first["returned"] == PAGE,
            detail=first,
        ),
        Row(
            figure=4,
            name=f"items read for one page of {PAGE} (?tag=python), {large:,} candidates",
            measured=second["scanned"],
            unit="",
            baseline=first["scanned"],
            baseline_label=f"{first['scanned']} at {small:,} candidates",
            goal=f"= {small:,} figure, <= {limit}",
            passed=second["scanned"] == first["scanned"]
            and second["scanned"] <= limit
            and second["returned"] == PAGE,
            detail=second,
        ),
    ]
    return rows, results


RENDER_GOAL_MS = 50.0
DASHBOARD_GOAL_KB = 200.0


def ui(stack: BenchStack, *, requests: int, warmup: int) -> tuple[list[Row], dict[str, Any]]:
    """Figure 6: the recruiter UI's server-side render time (the handler's own time, AWS excluded)
    against the JSON API serving the same data, and the bytes of a first visit to the dashboard
    against the sign-in page."""
    result = processes.probe(
        stack,
        "ui",
        {
            "token": stack.token,
            "candidate_id": stack.warm_candidate_id,
            "requests": max(50, requests // 5),
            "warmup": warmup,
        },
        table=stack.warm_table,
    )
    rows = []
    for page, api, label in (
        ("ui_list", "api_list", "render: /ui/candidates (25 rows)"),
        ("ui_profile", "api_profile", "render: /ui/candidates/{id} (notes, timeline, reminders)"),
    ):
        measured, baseline = result[page]["own_ms_median"], result[api]["own_ms_median"]
        rows.append(
            Row(
                figure=6,
                name=f"{label}, median own time (p90 {result[page]['own_ms_p90']:.1f} ms)",
                measured=measured,
                unit="ms",
                baseline=baseline,
                baseline_label=f"{baseline:.2f} ms JSON API, same data",
                goal=f"median < {RENDER_GOAL_MS:g} ms",
                passed=measured < RENDER_GOAL_MS,
                detail={"page": result[page], "api": result[api]},
            )
        )
    dashboard, login = result["dashboard"], result["login"]
    rows.append(
        Row(
            figure=6,
            name=f"first visit to the dashboard: page + {len(dashboard['assets'])} file(s)",
            measured=dashboard["total_bytes"] / 1024,
            unit="KB",
            baseline=login["total_bytes"] / 1024,
            baseline_label=f"{login['total_bytes'] / 1024:.1f} KB sign-in page",
            goal=f"< {DASHBOARD_GOAL_KB:g} KB",
            passed=dashboard["total_bytes"] / 1024 < DASHBOARD_GOAL_KB,
            detail={"dashboard": dashboard, "login": login},
        )
    )
    return rows, result
