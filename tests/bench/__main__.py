"""``make bench``: cold start, warm handler overhead, AWS requests per operation, list reads at
scale, campaign fan-out, the recruiter UI, the local stack under load, the job board, inbound
mail and events (check-in, registrations), each as a ratio against a baseline measured in the
same run. See docs/benchmarks.md.

    python -m tests.bench [--repeats 7] [--requests 1000] [--large 100000] [--only 1,...,10] [--strict]
    python -m tests.bench --only lists       # figure 4 alone (list and free-text search reads at scale)
    python -m tests.bench --only fanout      # figure 5 alone
    python -m tests.bench --only ui          # figure 6 alone (UI render time, dashboard bytes)
    python -m tests.bench --only load        # figure 7 alone (crm dev, 50 clients against 1)
    python -m tests.bench --only board       # figure 8 alone (the job board, 500 then 5,000 applications)
    python -m tests.bench --only inbound     # figure 9 alone (inbound replies: parse and store, 200 messages)
    python -m tests.bench --only events      # figure 10 alone (check-in own time; registrations, 50 clients)
    python -m tests.bench --only imports     # figure 11 alone (CSV import, 10,000 then 100,000 rows)
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.bench_stack import ROOT

ALIASES = {
    "cold": 1,
    "warm": 2,
    "counts": 3,
    "lists": 4,
    "search": 4,
    "fanout": 5,
    "ui": 6,
    "load": 7,
    "board": 8,
    "inbound": 9,
    "events": 10,
    "imports": 11,  # imports slice
}
PACKAGES = ("boto3", "botocore", "chalice", "pydantic", "aws-lambda-powertools", "PyJWT", "moto")


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="cold starts per scenario and floor (7)")
    parser.add_argument(
        "--source-repeats",
        type=int,
        default=5,
        help="cold starts without bytecode, ApiFunction and floor each (5; 0 skips)",
    )
    parser.add_argument("--requests", type=int, default=1000, help="warm requests per route (1000)")
    parser.add_argument(
        "--warmup", type=int, default=50, help="warm-up requests per route, not measured (50)"
    )
    parser.add_argument("--small", type=int, default=1_000, help="candidates in the small list table (1000)")
    parser.add_argument(
        "--large", type=int, default=100_000, help="candidates in the large list table (100000)"
    )
    parser.add_argument(
        "--search-repeats", type=int, default=5, help="timed rounds of figure 4's searches (5)"
    )
    parser.add_argument(
        "--fanout-sizes", default="1000,10000,50000", help="campaign audiences of figure 5 (1000,10000,50000)"
    )
    parser.add_argument(
        "--fanout-full-up-to",
        type=int,
        default=10_000,
        help="larger audiences are dispatched whole but mailed for a sample only (10000)",
    )
    parser.add_argument(
        "--fanout-sample", type=int, default=100, help="mail messages (of 50) mailed in that sample (100)"
    )
    parser.add_argument(
        "--fanout-memory-sizes", default="1000,50000", help="dispatcher memory: small,large (1000,50000)"
    )
    parser.add_argument("--load-clients", type=int, default=50, help="figure 7: concurrent clients (50)")
    parser.add_argument(
        "--load-seconds", type=float, default=20.0, help="figure 7: seconds with the clients (20)"
    )
    parser.add_argument(
        "--load-single-seconds",
        type=float,
        default=10.0,
        help="figure 7: seconds with one client, half before and half after (10)",
    )
    parser.add_argument(
        "--load-preload", type=int, default=300, help="figure 7: sign-ups before measuring (300)"
    )
    parser.add_argument(
        "--board-sizes",
        default="500,5000",
        help="figure 8: applications to the job, first then grown (500,5000)",
    )
    parser.add_argument("--board-views", type=int, default=30, help="figure 8: timed views of each page (30)")
    parser.add_argument(
        "--board-warmup", type=int, default=3, help="figure 8: views of each page before timing (3)"
    )
    parser.add_argument(
        "--inbound-messages",
        type=int,
        default=200,
        help="figure 9: timed replies, half with a PDF (200)",
    )
    parser.add_argument(
        "--events-checkins",
        type=int,
        default=300,
        help="figure 10: timed first check-ins (and second scans, and GETs), after --warmup (300)",
    )
    parser.add_argument(
        "--events-clients", type=int, default=50, help="figure 10: racing clients on the local stack (50)"
    )
    parser.add_argument(
        "--events-seconds",
        type=float,
        default=10.0,
        help="figure 10: seconds of each registration phase; the sign-ups' are split in two halves (10)",
    )
    parser.add_argument(
        "--events-race-capacity",
        type=int,
        default=100,
        help="figure 10: places of the crowded event, the rest waitlisted (100)",
    )
    parser.add_argument(
        "--import-sizes",
        default="10000,100000",
        help="figure 11: rows of the generated CSV files (10000,100000)",
    )
    parser.add_argument(
        "--only", default="1,2,3,4,5,6,7,8,9,10,11", help="figures to run, e.g. 1,3 or fanout (all)"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "build" / "bench.json", help="build/bench.json")
    parser.add_argument("--strict", action="store_true", help="exit 1 when any row misses its goal")
    return parser.parse_args(argv)


def _environment() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "packages": versions,
    }


def _shown(path: Path) -> Path:
    """The path relative to the project when it is inside it (``--json build/x.json`` or absolute)."""
    resolved = path.resolve()
    return resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else path


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    only = {ALIASES.get(x.strip(), 0) or int(x) for x in args.only.split(",") if x.strip()}
    started = time.perf_counter()

    from tests.bench import bench_stack, fanout, figures
    from tests.bench.report import table, write_json

    stack = None
    if only & {1, 2, 3, 4, 6, 8, 9, 10, 11}:
        _log("bench: starting moto on loopback and provisioning the stack from infra/template.yaml")
        stack = bench_stack.start()
    rows = []
    raw: dict[str, Any] = {}
    timings: dict[str, float] = {}
    try:
        if 1 in only:
            t = time.perf_counter()
            _log(f"bench: 1/10 cold starts ({args.repeats} of each, interleaved)")
            found, raw["cold_start"] = figures.cold(
                stack, repeats=args.repeats, source_repeats=args.source_repeats, log=_log
            )
            rows += found
            timings["cold_start"] = time.perf_counter() - t
            _log(f"  ({timings['cold_start']:.0f} s)")
        if 2 in only:
            t = time.perf_counter()
            _log(f"bench: 2/10 warm handler time ({args.requests} requests per route)")
            found, raw["warm"] = figures.warm(stack, requests=args.requests, warmup=args.warmup)
            rows += found
            timings["warm"] = time.perf_counter() - t
            _log(f"  ({timings['warm']:.0f} s)")
        if 3 in only:
            t = time.perf_counter()
            _log("bench: 3/10 AWS requests per operation")
            found, raw["counts"] = figures.counts(stack)
            rows += found
            timings["counts"] = time.perf_counter() - t
            _log(f"  ({timings['counts']:.0f} s)")
        if 4 in only:
            t = time.perf_counter()
            _log(
                f"bench: 4/10 items read per list and search page ({args.small:,} then "
                f"{args.large:,} candidates)"
            )
            found, raw["list_scaling"] = figures.scaling(
                stack, small=args.small, large=args.large, search_repeats=args.search_repeats, log=_log
            )
            rows += found
            timings["list_scaling"] = time.perf_counter() - t
            _log(f"  ({timings['list_scaling']:.0f} s)")
        if 5 in only:
            t = time.perf_counter()
            sizes = tuple(int(x) for x in args.fanout_sizes.split(",") if x.strip())
            memory_sizes = tuple(int(x) for x in args.fanout_memory_sizes.split(",") if x.strip())
            _log(f"bench: 5/10 campaign fan-out ({', '.join(f'{n:,}' for n in sizes)} recipients)")
            found, raw["fanout"] = fanout.run(
                sizes=sizes,
                memory_sizes=memory_sizes,
                full_up_to=args.fanout_full_up_to,
                sample_messages=args.fanout_sample,
                log=_log,
            )
            rows += found
            timings["fanout"] = time.perf_counter() - t
            _log(f"  ({timings['fanout']:.0f} s)")
        if 6 in only:
            t = time.perf_counter()
            _log("bench: 6/10 recruiter UI render time and dashboard bytes")
            found, raw["ui"] = figures.ui(stack, requests=args.requests, warmup=args.warmup)
            rows += found
            timings["ui"] = time.perf_counter() - t
            _log(f"  ({timings['ui']:.0f} s)")
        if 7 in only:
            from tests.bench import load

            t = time.perf_counter()
            _log(
                f"bench: 7/10 the local stack under load ({args.load_clients} clients against 1, "
                f"{args.load_seconds:.0f} s)"
            )
            found, raw["load"] = load.run(
                clients=args.load_clients,
                seconds=args.load_seconds,
                single_seconds=args.load_single_seconds,
                preload_count=args.load_preload,
                log=_log,
            )
            rows += found
            timings["load"] = time.perf_counter() - t
            _log(f"  ({timings['load']:.0f} s)")
        if 8 in only:
            from tests.bench import board

            t = time.perf_counter()
            sizes = tuple(int(x) for x in args.board_sizes.split(",") if x.strip())
            _log(f"bench: 8/10 the job board ({', '.join(f'{n:,}' for n in sizes)} applications to one job)")
            found, raw["board"] = board.run(
                stack, sizes=sizes, views=args.board_views, warmup=args.board_warmup, log=_log
            )
            rows += found
            timings["board"] = time.perf_counter() - t
            _log(f"  ({timings['board']:.0f} s)")
        if 9 in only:
            from tests.bench import inbound

            t = time.perf_counter()
            _log(
                f"bench: 9/10 inbound mail, parse and store ({args.inbound_messages:,} replies, "
                "half with a PDF)"
            )
            found, raw["inbound"] = inbound.run(stack, messages=args.inbound_messages, log=_log)
            rows += found
            timings["inbound"] = time.perf_counter() - t
            _log(f"  ({timings['inbound']:.0f} s)")
        if 10 in only:
            from tests.bench import events

            t = time.perf_counter()
            _log(
                f"bench: 10/10 events: check-in own time ({args.events_checkins} first check-ins), "
                f"registrations on the local stack ({args.events_clients} clients)"
            )
            found, raw["events"] = events.run(
                stack,
                checkin_requests=args.events_checkins,
                warmup=args.warmup,
                clients=args.events_clients,
                seconds=args.events_seconds,
                race_capacity=args.events_race_capacity,
                log=_log,
            )
            rows += found
            timings["events"] = time.perf_counter() - t
            _log(f"  ({timings['events']:.0f} s)")
        if 11 in only:  # imports slice
            from tests.bench import imports

            t = time.perf_counter()
            import_sizes = tuple(int(x) for x in args.import_sizes.split(",") if x.strip())
            _log(f"bench: 11/11 CSV import ({', '.join(f'{n:,}' for n in import_sizes)} rows)")
            found, raw["imports"] = imports.run(stack, sizes=import_sizes, log=_log)
            rows += found
            timings["imports"] = time.perf_counter() - t
            _log(f"  ({timings['imports']:.0f} s)")
    finally:
        if stack is not None:
            stack.stop()
    timings["total"] = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    print()
    print(table(rows))
    profile = raw.get("cold_start", {}).get("import_profile")
    if profile:
        print()
        print(
            f"ApiFunction cold start, import time by package (python -X importtime, "
            f"{profile['total_ms']:.0f} ms in all):"
        )
        print("  " + ", ".join(f"{name} {ms:.0f}" for name, ms in profile["packages_ms"].items()) + " (ms)")
    missed = [r for r in rows if r.passed is False]
    goals = [r for r in rows if r.passed is not None]
    others = f" ({len(rows) - len(goals)} more reported without one)" if len(goals) < len(rows) else ""
    print()
    print(
        f"{len(goals) - len(missed)} of {len(goals)} rows meet their goal{others}; "
        f"{timings['total']:.0f} s in all, {peak_mb:,.0f} MB peak; details in {_shown(args.json)}"
    )
    write_json(
        args.json,
        rows,
        {
            "environment": _environment(),
            "arguments": vars(args) | {"json": str(args.json)},
            "timings_s": timings,
            "peak_rss_mb": peak_mb,
            "raw": raw,
        },
    )
    return 1 if (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
