"""Child processes: the probe (``python -m tests.bench.probe``) and the cold-start driver script."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.bench_stack import API_DIR, BUILD, ROOT, SHARED_DIR, STREAM_DIR, BenchStack

COLD_CHILD = Path(__file__).resolve().parent / "children" / "cold_child.py"
_serial = {"n": 0}


def _paths(stem: str) -> tuple[Path, Path]:
    _serial["n"] += 1
    work = BUILD / "runs"
    work.mkdir(parents=True, exist_ok=True)
    return work / f"{stem}-{_serial['n']}.in.json", work / f"{stem}-{_serial['n']}.out.json"


def _check(proc: subprocess.CompletedProcess[str], what: str) -> None:
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-25:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def run_child(args: list[str], env: dict[str, str], what: str, *, timeout: float) -> None:
    """Run ``python <args>`` from the project's root with ``env``; its stderr tail on failure."""
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )
    _check(proc, what)


def probe(
    stack: BenchStack, task: str, spec: dict[str, Any], *, table: str | None = None, timeout: float = 900
) -> Any:
    """Run one probe task in a fresh function-like process; returns its JSON result."""
    source, target = _paths(f"probe-{task}")
    source.write_text(json.dumps(spec), encoding="utf-8")
    env = stack.child_env(
        table=table,
        pythonpath=[ROOT, SHARED_DIR, API_DIR, STREAM_DIR],
        extra={"PYTHONDONTWRITEBYTECODE": "1"},
    )
    run_child(
        ["-m", "tests.bench.probe", task, str(source), str(target)], env, f"probe {task}", timeout=timeout
    )
    return json.loads(target.read_text(encoding="utf-8"))


def cold(kind: str, inputs: Path, env: dict[str, str], *, flags: tuple[str, ...] = ()) -> dict[str, Any]:
    """One cold start of ``kind`` (see ``cold_child.py``); adds ``spawn_to_ready`` (seconds from just
    before the spawn to the first response) and ``spawn_to_exit``."""
    _, target = _paths(f"cold-{kind}")
    spawned_at = time.time()
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *flags, str(COLD_CHILD), kind, str(inputs), str(target)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
        check=False,
    )
    exited = time.perf_counter() - started
    _check(proc, f"cold start {kind}")
    result: dict[str, Any] = json.loads(target.read_text(encoding="utf-8"))
    if not result["ok"]:
        raise RuntimeError(f"cold start {kind}: unexpected status {result['status']}")
    result["spawn_to_ready"] = result["wall_done"] - spawned_at
    result["spawn_to_exit"] = exited
    result["stderr"] = proc.stderr
    return result
