"""Figure 11: CSV import through the import worker's own code path, at 10,000 and 100,000 rows.

For each size, a fresh table of the template's design (``bench_stack.create_table``: no stream,
so moto does not copy stream records) and a generated CSV (``email, first name, last name, phone,
city, tags``; one row in 50 with a broken email, one in 20 a repeat of an earlier email) written
to a file and uploaded by the benchmark process. A child process (``python -m tests.bench.imports IN
OUT``, the worker's environment: ``BenchStack.child_env``) creates the import, copies the uploaded
object to the import's key (server side), starts it and
then runs ``ImportService.run`` to the end, as ``ImportFunction`` does chunk after chunk; moto is
in the benchmark process, so the child's memory is the worker's. Measured: rows per second of
``run`` (wall time, moto's round trips included), and the child's own peak resident memory
(``VmHWM``, see ``_rss_mb``) before the run and after it. The goal: the peak at 100,000 rows within 1.2 times
the peak at 10,000 (the file is streamed, never held; memory does not grow with it).

    python -m tests.bench --only imports [--import-sizes 10000,100000]
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from tests.bench import bench_stack, processes
from tests.bench.bench_stack import BUILD, REGION, ROOT, BenchStack
from tests.bench.report import Row

HEADER = "Email,First name,Last name,Phone,City,Tags\n"
CITIES = ("Berlin", "London", "Paris", "Lisbon", "Madrid", "Warsaw")


def write_csv(path: Path, rows: int) -> int:
    """A file of ``rows`` rows; returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        for i in range(rows):
            if i % 50 == 49:
                email = f"broken-{i}-at-example.com"
            elif i % 20 == 19:
                email = f"person{i - 10}@example.com"  # a repeat: merged
            else:
                email = f"person{i}@example.com"
            out.write(f"{email},Pat{i},Doe{i % 997},+49 30 {i:07d},{CITIES[i % len(CITIES)]},python;import\n")
    return path.stat().st_size


def run(
    stack: BenchStack, *, sizes: tuple[int, ...] = (10_000, 100_000), log: Any = print
) -> tuple[list[Row], dict[str, Any]]:
    results: dict[str, Any] = {}
    for size in sizes:
        table = bench_stack.create_table(f"{stack.env['TABLE_NAME']}-imports-{size}")
        work = BUILD / "runs"
        work.mkdir(parents=True, exist_ok=True)
        csv_path = work / f"import-{size}.csv"
        started = time.perf_counter()
        file_bytes = write_csv(csv_path, size)
        log(f"  {size:,} rows generated ({file_bytes / 1e6:.1f} MB) in {time.perf_counter() - started:.0f} s")
        # Uploaded here, so the child's memory is the worker's alone (it copies the object server side).
        staged = f"bench/import-{size}.csv"
        boto3.client("s3", region_name=REGION).upload_file(str(csv_path), stack.env["RESUME_BUCKET"], staged)
        source, target = processes._paths(f"imports-{size}")
        source.write_text(json.dumps({"csv": str(csv_path), "staged": staged}), encoding="utf-8")
        env = stack.child_env(table=table, pythonpath=[ROOT, bench_stack.SHARED_DIR])
        env["POWERTOOLS_LOG_LEVEL"] = "WARNING"
        processes.run_child(
            ["-m", "tests.bench.imports", str(source), str(target)],
            env,
            f"imports child ({size})",
            timeout=7200,
        )
        result = json.loads(target.read_text(encoding="utf-8"))
        result["file_bytes"] = file_bytes
        results[str(size)] = result
        log(
            f"  {size:,} rows: {result['rows_per_s']:.0f} rows/s, peak {result['peak_rss_mb']:.0f} MB "
            f"(before the run {result['rss_before_mb']:.0f} MB); {result['counts']}"
        )
        csv_path.unlink(missing_ok=True)
    return rows(results), results


def rows(results: dict[str, Any]) -> list[Row]:
    found = []
    for size, result in results.items():
        found.append(
            Row(
                figure=11,
                name=(
                    f"CSV import: ImportService.run, rows per second at {int(size):,} rows "
                    "(moto round trips included)"
                ),
                measured=round(result["rows_per_s"]),
                unit="rows/s",
                baseline=0,
                baseline_label="-",
                goal="none (reported)",
                passed=None,
                detail=result,
            )
        )
    if len(results) >= 2:
        small, large = sorted(results, key=int)[0], sorted(results, key=int)[-1]
        ratio = results[large]["peak_rss_mb"] / results[small]["peak_rss_mb"]
        found.append(
            Row(
                figure=11,
                name=(
                    f"CSV import: worker peak memory at {int(large):,} rows "
                    f"(ratio {ratio:.2f} to {int(small):,} rows)"
                ),
                measured=round(results[large]["peak_rss_mb"], 1),
                unit="MB",
                baseline=round(results[small]["peak_rss_mb"], 1),
                baseline_label=f"{results[small]['peak_rss_mb']:.1f} MB peak at {int(small):,} rows",
                goal="< 1.2x",
                passed=ratio < 1.2,
                detail={"ratio": ratio},
            )
        )
    return found


def _rss_mb() -> float:
    """This process's own peak resident memory. ``ru_maxrss`` is not: Linux carries the parent's
    resident size at ``fork`` over into the child's, so it reported the benchmark process's size
    (which grows with moto's tables); ``VmHWM`` of ``/proc/self/status`` is reset by ``exec``."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(source: Path, target: Path) -> None:
    """The worker's side: create, upload, start, run to the end (moto in the parent process)."""
    spec = json.loads(source.read_text(encoding="utf-8"))
    path = Path(spec["csv"])
    from crm.imports.models import ImportCreate, ImportStart
    from crm.imports.repository import ImportFiles
    from crm.imports.service import ImportService
    from crm.platform.config import get_settings
    from crm.platform.objects import ObjectStore

    service = ImportService(enqueue=lambda _id: None)
    created = service.create(ImportCreate(file_name=path.name), actor="bench")
    ObjectStore(get_settings().resume_bucket).copy(spec["staged"], ImportFiles.source_key(created.id))
    service.start(created.id, ImportStart(tags=["bench"]), actor="bench")
    before = _rss_mb()
    started = time.perf_counter()
    run = service.run(created.id)
    elapsed = time.perf_counter() - started
    assert run is not None and run.status == "done", run
    out = {
        "rows": run.counts.rows,
        "seconds": elapsed,
        "rows_per_s": run.counts.rows / elapsed,
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
        "counts": run.counts.model_dump(),
        "chunks": run.chunks,
    }
    target.write_text(json.dumps(out), encoding="utf-8")


if __name__ == "__main__":
    child(Path(sys.argv[1]), Path(sys.argv[2]))
