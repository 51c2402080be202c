"""The four figures of ``make bench``, each turned into table rows."""

from __future__ import annotations

import time
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


# Free-text searches of figure 4 (see seed.SEARCH_CITIES and seed.NOTE_SENTENCES for the mix): a
# common tag, the same and a common location (a second word, checked per person), a prefix, a rare
# word alone in its bucket, and a rare word in the bucket of a common one.
SEARCHES = ("python", "python berlin", "kube", "elixir", "pytest")
SEARCH_PAGES = 2


def scaling(
    stack: BenchStack, *, small: int, large: int, search_repeats: int, log: Any
) -> tuple[list[Row], dict[str, Any]]:
    from tests.bench import moto_speed

    loader = seed.DirectLoader(stack.lists_table)
    spec = {"token": stack.token, "tag": "python", "limit": PAGE}
    search_spec = {"queries": SEARCHES, "limit": PAGE, "pages": SEARCH_PAGES, "repeats": search_repeats}
    results: dict[str, Any] = {}
    loaded = 0
    for size in (small, large):
        started = time.perf_counter()
        items = seed.load_people(
            loader, loaded, size - loaded, period=small, progress=f"  loading candidates to {size:,}"
        )
        load_seconds = time.perf_counter() - started
        loaded = size
        partitions = moto_speed.index_partitions(loader.table)
        log(
            f"  {size:,} candidates: {loader.count:,} items in the table ({items:,} loaded in "
            f"{load_seconds:.0f} s), {partitions:,} index partitions; querying one page"
        )
        results[str(size)] = probe = processes.probe(stack, "scan", spec, table=stack.lists_table)
        probe["candidates"] = size
        probe["items_loaded_now"] = items
        probe["load_seconds"] = load_seconds
        probe["table_items"] = loader.count
        log(
            f"  {size:,} candidates: ScannedCount {probe['scanned']}, {probe['aws_requests']} request(s), "
            f"{probe['returned']} returned, served in {probe['seconds']:.2f} s"
        )
        log(f"  {size:,} candidates: {len(SEARCHES)} searches, {SEARCH_PAGES} pages, {search_repeats} rounds")
        probe["search"] = processes.probe(stack, "search", search_spec, table=stack.lists_table)
        for q, pages in probe["search"].items():
            log(
                f'    "{q}": '
                + "; ".join(
                    f"page {p['page']}: {len(p['people'])} listed, {p['items_read']} items read, "
                    f"{p['aws_requests']} requests, {p['ms_median']:.1f} ms (own {p['own_ms_median']:.1f})"
                    for p in pages
                )
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
            detail={k: v for k, v in first.items() if k != "search"},
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
            detail={k: v for k, v in second.items() if k != "search"},
        ),
    ]
    rows += search_rows(first["search"], second["search"], small=small, large=large)
    return rows, results


def search_rows(
    small_pages: dict[str, list[dict[str, Any]]],
    large_pages: dict[str, list[dict[str, Any]]],
    *,
    small: int,
    large: int,
) -> list[Row]:
    """Per query and page: items read at ``large`` against ``small`` candidates, and the median
    time. The goal is the same figure for the same page: both pages full and listing the same
    people of the mix (person n of the large table is drawn as person n % small). A page that is
    not full at ``small`` is not the same page; a one-word search's page is then held to what a
    full page costs when every entry read is listed: one entry and one summary per person, plus
    the entry and summary read ahead."""
    rows = []
    full_page = 2 * (PAGE + 1)
    for q in SEARCHES:
        for n in range(SEARCH_PAGES):
            if n >= len(large_pages[q]):
                continue
            big = large_pages[q][n]
            little = small_pages[q][n] if n < len(small_pages[q]) else None
            label = f'search "{q}", page {n + 1}'
            same = (
                little is not None
                and len(little["people"]) == len(big["people"]) == PAGE
                and [p % small for p in little["people"]] == [p % small for p in big["people"]]
            )
            if little is None:
                at_small = f"no page {n + 1} at {small:,}"
            else:
                listed = "" if same else f", {len(little['people'])} listed"
                at_small = f"{little['items_read']} at {small:,} ({little['aws_requests']} requests{listed})"
            passed: bool | None
            if little is not None and same:
                goal, passed = f"= {small:,} figure", big["items_read"] == little["items_read"]
            elif len(q.split()) == 1:
                goal, passed = (
                    f"<= {full_page}, a full page (not the same page)",
                    big["items_read"] <= full_page,
                )
            else:
                goal, passed = "none (not the same page)", None
            rows.append(
                Row(
                    figure=4,
                    name=(
                        f"{label}: items read, {large:,} candidates ({len(big['people'])} listed, "
                        f"{big['aws_requests']} requests)"
                    ),
                    measured=big["items_read"],
                    unit="",
                    baseline=little["items_read"] if little else 0,
                    baseline_label=at_small,
                    goal=goal,
                    passed=passed,
                    detail={"small": little, "large": big, "same_page": same},
                )
            )
            own = f"own {big['own_ms_median']:.1f} ms"
            if little:
                own += f", {little['own_ms_median']:.1f} at {small:,}"
            rows.append(
                Row(
                    figure=4,
                    name=f"{label}: median time, {large:,} candidates ({own})",
                    measured=big["ms_median"],
                    unit="ms",
                    baseline=little["ms_median"] if little else 0,
                    baseline_label=f"{little['ms_median']:.1f} ms at {small:,}" if little else at_small,
                    goal="none (reported)",
                    passed=None,
                    detail={"small": little, "large": big},
                )
            )
    return rows


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
