"""Figure 8: the job board page ``/ui/jobs/{id}`` of a job with 500 applications (then 5,000),
against the candidate list showing as many people, in the same run.

The board (``chalicelib.ui.jobs._job_page``) reads one column per stage (the job's five, then
``rejected`` and ``withdrawn``: a Query on gsi2 ``JOBSTAGE#<job>#<stage>`` each, the first
``BOARD_CARDS``), the applicant table below it (a page of ``PAGE_SIZE`` from gsi1 ``JOBAPPS#<job>``)
and the people's profiles (BatchGet), so its items read are bounded by the page, not by the job:
``columns x (cards + 1) + (rows + 1) + profiles (<= columns x cards + rows)`` plus the few single
items every page reads (the job, the rejection reasons). The baseline is ``/ui/candidates`` (25
rows a page, its only size) read twice, first page and next, for 50 rows.

Seeding (the fast way of ``seed``): the people as ``seed.load`` writes them, one job made by
``JobService.create``, and each application as the product leaves it, written straight into moto:
the item of ``CandidateRepository._application_operations`` (the intake's or a recruiter's
sourcing, at the job's first stage) moved along the stages with ``crm.hiring.service.moved_to``
and stored as ``CandidateRepository.move_application`` sets it, with the timeline entries of each.
Before loading, one application of a second job goes through the product's own calls
(``HiringService.add_candidate`` and three ``HiringService.move``) and its stored item must equal
the one this module builds for the same steps and times, or the figure stops.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.bench import bench_stack, processes, seed
from tests.bench.bench_stack import BenchStack
from tests.bench.report import Row

#: Applications per stage of the 500 (scaled for other sizes): 200 applied, 150 screen, 80
#: interview, 40 offer, 10 hired, 20 rejected, none withdrawn.
MIX = (("applied", 200), ("screen", 150), ("interview", 80), ("offer", 40), ("hired", 10), ("rejected", 20))
PIPELINE = ("applied", "screen", "interview", "offer", "hired")
SOURCED_SHARE = 0.2
FIRST_PERSON = 30_000_000
APPLIED_FROM = 1_735_689_600  # 2025-01-01
RECRUITER_ACTOR = "user:bench-recruiter"
RENDER_GOAL_MS = 50.0  # figure 6's render goal


def stage_counts(size: int) -> dict[str, int]:
    """:data:`MIX` scaled to ``size`` applications (largest remainders)."""
    total = sum(n for _, n in MIX)
    exact = {stage: n * size / total for stage, n in MIX}
    counts = {stage: int(v) for stage, v in exact.items()}
    for stage in sorted(exact, key=lambda s: exact[s] - counts[s], reverse=True)[
        : size - sum(counts.values())
    ]:
        counts[stage] += 1
    return counts


def _iso(second: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def plan(n: int, stage: str, rng: random.Random) -> dict[str, Any]:
    """Application number ``n`` ending at ``stage``: how it came in, when, and its moves (stage,
    reason, time), oldest first. Applied ten minutes apart; each move one to nine days later."""
    sourced = rng.random() < SOURCED_SHARE
    applied = APPLIED_FROM + n * 600
    if stage == "rejected":
        path = [*PIPELINE[1 : rng.randrange(1, 4)], "rejected"]
    else:
        path = list(PIPELINE[1 : PIPELINE.index(stage) + 1])
    moves, at = [], applied
    reasons = _reasons()
    for step in path:
        at += rng.randrange(86_400, 9 * 86_400)
        moves.append((step, rng.choice(reasons) if step == "rejected" else None, _iso(at)))
    utm = (
        {}
        if sourced or rng.random() < 0.6
        else {"utm_source": rng.choice(("linkedin", "indeed", "newsletter"))}
    )
    return {"sourced": sourced, "applied_at": _iso(applied), "utm": utm, "moves": moves}


def _reasons() -> list[str]:
    from crm.hiring.models import DEFAULT_REJECTION_REASONS

    return list(DEFAULT_REJECTION_REASONS)


def application_items(candidate_id: str, job_id: str, planned: dict[str, Any]) -> list[dict[str, Any]]:
    """The items the product holds for one application after ``planned``: the application and a
    timeline entry for its arrival and for each move (DynamoDB form)."""
    from crm.candidates.models import FIRST_STAGE, SOURCED, Application
    from crm.candidates.repository.candidates import CandidateRepository, activity_put
    from crm.candidates.repository.keys import job_stage_pk
    from crm.candidates.service import INTAKE_ACTOR
    from crm.hiring.models import ApplicationMove
    from crm.hiring.service import moved_to
    from crm.platform import table

    sourced = planned["sourced"]
    application = Application(
        candidate_id=candidate_id,
        job_id=job_id,
        source=SOURCED if sourced else "job-application",
        applied_at=planned["applied_at"],
        utm=planned["utm"],
        stage=FIRST_STAGE,
    )
    first = CandidateRepository()._application_operations(
        application, RECRUITER_ACTOR if sourced else INTAKE_ACTOR
    )
    update = first[0]["Update"]
    item = dict(update["Key"])
    values = update["ExpressionAttributeValues"]
    for alias, name in update["ExpressionAttributeNames"].items():
        item[name] = values[":" + alias[1:]]
    items = [item, first[1]["Put"]["Item"]]
    current = Application.model_validate(table.from_item(item))
    for stage, reason, at in planned["moves"]:
        moved = moved_to(
            current,
            ApplicationMove(stage=stage, reason=reason, version=current.version),
            actor=RECRUITER_ACTOR,
            now=at,
        )
        # What CandidateRepository.move_application sets.
        stored = moved.model_dump(exclude={"id", "seconds_in_stages"})
        item.update(
            stage=table.value(moved.stage),
            version=table.value(moved.version),
            stage_entered_at=table.value(moved.stage_entered_at),
            moved_by=table.value(moved.moved_by),
            history=table.value(stored["history"]),
            gsi2pk=table.value(job_stage_pk(job_id, moved.stage)),
            gsi2sk=table.value(f"{moved.stage_entered_at}#{candidate_id}"),
        )
        if moved.reason is not None:
            item["reason"] = table.value(moved.reason)
        else:
            item.pop("reason", None)
        detail: dict[str, Any] = {"job_id": job_id, "from": current.stage, "to": stage}
        if reason:
            detail["reason"] = reason
        items.append(activity_put(candidate_id, "stage_changed", RECRUITER_ACTOR, at, detail)["Put"]["Item"])
        current = moved
    return items


@contextmanager
def on_table(name: str) -> Iterator[None]:
    """The product's services in this process use table ``name`` meanwhile."""
    from crm.platform.config import reset_settings

    before = os.environ.get("TABLE_NAME")
    os.environ["TABLE_NAME"] = name
    reset_settings()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TABLE_NAME", None)
        else:
            os.environ["TABLE_NAME"] = before
        reset_settings()


def create_job(title: str) -> str:
    from crm.jobs.models import JobCreate
    from crm.jobs.service import JobService

    job = JobService().create(
        JobCreate(
            title=title, department="Engineering", location="Berlin", tags=["python"], description="Bench."
        )
    )
    return job.id


def check_seed(candidate_id: str) -> dict[str, Any]:
    """One application through the product's own calls (sourced, to screen, to interview, then
    rejected) on a job of its own, against :func:`application_items` for the same steps and times."""
    from crm.candidates.repository.keys import application_sk, candidate_pk
    from crm.hiring.models import ApplicationMove
    from crm.hiring.service import HiringService
    from crm.platform import table

    job_id = create_job("Seed check")
    reason = _reasons()[0]
    times = [_iso(APPLIED_FROM + k * 86_400) for k in range(4)]
    clock = iter(times)
    hiring = HiringService(now=lambda: next(clock))
    application = hiring.add_candidate(job_id, candidate_id, actor=RECRUITER_ACTOR)
    for stage in ("screen", "interview", "rejected"):
        application = hiring.move(
            application.id,
            ApplicationMove(
                stage=stage, reason=reason if stage == "rejected" else None, version=application.version
            ),
            actor=RECRUITER_ACTOR,
        )
    stored = table.get_item(candidate_pk(candidate_id), application_sk(job_id))
    planned = {
        "sourced": True,
        "applied_at": times[0],
        "utm": {},
        "moves": [("screen", None, times[1]), ("interview", None, times[2]), ("rejected", reason, times[3])],
    }
    built = application_items(candidate_id, job_id, planned)[0]
    if stored != built:
        names = sorted(k for k in {*stored, *built} if stored.get(k) != built.get(k))
        raise RuntimeError(f"board seed: the seeded application differs from the product's in {names}")
    return {"job_id": job_id, "attributes": sorted(stored), "equal": True}


def load(loader: seed.DirectLoader, job_id: str, start: int, count: int, rng: random.Random) -> int:
    """People ``start .. start+count-1`` (as ``seed.load`` writes them) with one application each
    to ``job_id``, their final stages drawn from :data:`MIX` scaled to ``count``; returns the
    items written."""
    stages = [stage for stage, n in stage_counts(count).items() for _ in range(n)]
    rng.shuffle(stages)
    before = loader.count
    import gc

    gc.disable()
    try:
        for k, (data, stage) in enumerate(
            zip(seed.candidates(FIRST_PERSON + start, count, seed=13), stages, strict=True)
        ):
            items = seed.candidate_items(data) + application_items(
                data["id"], job_id, plan(start + k, stage, rng)
            )
            loader.put(sorted(items, key=lambda i: i["sk"]["S"]))
    finally:
        gc.freeze()
        gc.enable()
    return loader.count - before


def run(
    stack: BenchStack, *, sizes: tuple[int, ...], views: int, warmup: int, log: Any
) -> tuple[list[Row], dict[str, Any]]:
    from tests.bench import moto_speed

    name = bench_stack.create_table(f"{stack.env['TABLE_NAME']}-board")
    loader = seed.DirectLoader(name)
    rng = random.Random(8)
    results: dict[str, Any] = {}
    loaded = 0
    with on_table(name):
        job_id = create_job("Backend engineer (board)")
        seed.load(loader, FIRST_PERSON - 1, 1)  # the seed check's person
        check = check_seed(next(seed.candidates(FIRST_PERSON - 1, 1))["id"])
    log(
        "  seed check: the product's application item equals the seed's "
        f"({len(check['attributes'])} attributes)"
    )
    for size in sizes:
        started = time.perf_counter()
        items = load(loader, job_id, loaded, size - loaded, rng)
        loaded = size
        moto_speed.index_partitions(loader.table)
        log(
            f"  {size:,} applications: {items:,} items loaded in {time.perf_counter() - started:.0f} s "
            f"({loader.count:,} in the table); {views} views of each page"
        )
        spec = {"token": stack.token, "job_id": job_id, "views": views, "warmup": warmup}
        results[str(size)] = probe = processes.probe(stack, "board", spec, table=name)
        probe["applications"] = size
        probe["stage_counts"] = stage_counts(size)
        b, lst = probe["board"], probe["list_50"]
        log(
            f"  {size:,}: board {b['items_read']} items read, {b['aws_requests']} requests, own "
            f"{b['own_ms_median']:.1f} ms (p90 {b['own_ms_p90']:.1f}); list (50 rows) {lst['items_read']} "
            f"items, {lst['aws_requests']} requests, own {lst['own_ms_median']:.1f} ms"
        )
    return rows(results, sizes), {"seed_check": check, "sizes": results}


def bound(shape: dict[str, Any]) -> int:
    """The most items one board view can read, whatever the job's size: every column and the
    applicant page full (each Query reads one more, to know there are more), a profile per card
    and row, and the single items."""
    columns, cards, page = shape["columns"], shape["board_cards"], shape["page_size"]
    return columns * (cards + 1) + (page + 1) + (columns * cards + page) + shape["single_items"]


def rows(results: dict[str, Any], sizes: tuple[int, ...]) -> list[Row]:
    first = results[str(sizes[0])]
    b, lst, shape = first["board"], first["list_50"], first["shape"]
    limit = bound(shape)
    shown = f"{shape['cards']} cards in {shape['columns']} columns + {shape['rows']} rows"
    out = [
        Row(
            figure=8,
            name=(
                f"render: /ui/jobs/{{id}}, {sizes[0]:,} applications ({shown}), median own time "
                f"(p90 {b['own_ms_p90']:.1f} ms)"
            ),
            measured=b["own_ms_median"],
            unit="ms",
            baseline=lst["own_ms_median"],
            baseline_label=(
                f"{lst['own_ms_median']:.2f} ms /ui/candidates, 50 rows "
                f"(2 pages; p90 {lst['own_ms_p90']:.1f})"
            ),
            goal=f"median < {RENDER_GOAL_MS:g} ms",
            passed=b["own_ms_median"] < RENDER_GOAL_MS,
            detail={"board": b, "list_50": lst, "shape": shape},
        ),
        Row(
            figure=8,
            name=(
                f"items read: /ui/jobs/{{id}}, {sizes[0]:,} applications ({b['aws_requests']} requests, "
                f"{shape['profiles']} profiles)"
            ),
            measured=b["items_read"],
            unit="",
            baseline=lst["items_read"],
            baseline_label=f"{lst['items_read']} /ui/candidates, 50 rows ({lst['aws_requests']} requests)",
            goal=f"<= {limit} (a full board)",
            passed=b["items_read"] <= limit,
            detail={"board": b, "list_50": lst, "shape": shape, "bound": limit},
        ),
    ]
    for size in sizes[1:]:
        r = results[str(size)]
        big, big_shape = r["board"], r["shape"]
        big_limit = bound(big_shape)
        out += [
            Row(
                figure=8,
                name=(
                    f"items read: /ui/jobs/{{id}}, {size:,} applications ({big['aws_requests']} requests, "
                    f"{big_shape['cards']} cards, {big_shape['profiles']} profiles)"
                ),
                measured=big["items_read"],
                unit="",
                baseline=b["items_read"],
                baseline_label=f"{b['items_read']} at {sizes[0]:,} applications",
                goal=f"<= {big_limit} (a full board)",
                passed=big["items_read"] <= big_limit,
                detail={"board": big, "shape": big_shape, "bound": big_limit},
            ),
            Row(
                figure=8,
                name=(
                    f"render: /ui/jobs/{{id}}, {size:,} applications, median own time "
                    f"(p90 {big['own_ms_p90']:.1f} ms)"
                ),
                measured=big["own_ms_median"],
                unit="ms",
                baseline=b["own_ms_median"],
                baseline_label=f"{b['own_ms_median']:.2f} ms at {sizes[0]:,} applications",
                goal=f"median < {RENDER_GOAL_MS:g} ms",
                passed=big["own_ms_median"] < RENDER_GOAL_MS,
                detail={"board": big, "list_50": r["list_50"], "shape": big_shape},
            ),
        ]
    return out
