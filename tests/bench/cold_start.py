"""Figure 1: cold start of each function against the floor of any boto3 Lambda.

A scenario is one function serving one event in a fresh interpreter. Its floor is a fresh
interpreter that imports boto3, creates the client and makes the same DynamoDB call the function's
first request makes (operation and parameters captured from the function itself by the probe).
Scenarios and floors run interleaved, several times, and medians are compared.
"""

from __future__ import annotations

import json
import shutil
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.bench import processes
from tests.bench.bench_stack import API_DIR, BUILD, STREAM_DIR, BenchStack
from tests.bench.lambda_events import api_event, stream_event

PYCACHE = BUILD / "pycache"


@dataclass(frozen=True)
class Scenario:
    kind: str
    label: str
    handler: str  # api | stream
    event: dict[str, Any]
    expect: int = 200

    @property
    def floor(self) -> str:
        return f"floor-{self.kind}"

    @property
    def path(self) -> Path:
        return API_DIR if self.handler == "api" else STREAM_DIR


def scenarios(stack: BenchStack) -> list[Scenario]:
    from crm.platform.table import get_item

    profile = get_item(f"CAND#{stack.candidate_id}", "PROFILE")
    assert profile is not None
    keys = {"pk": profile["pk"], "sk": profile["sk"]}
    return [
        Scenario(
            "api-get",
            "ApiFunction GET /v1/candidates/{id} (bearer token)",
            "api",
            api_event(
                "GET",
                "/v1/candidates/{candidate_id}",
                path_params={"candidate_id": stack.candidate_id},
                headers={"Authorization": f"Bearer {stack.token}"},
            ),
        ),
        Scenario("api-jobs", "ApiFunction GET /public/jobs", "api", api_event("GET", "/public/jobs")),
        Scenario(
            "stream",
            "StreamFunction, one INSERT record of a profile",
            "stream",
            stream_event(stack.env["TABLE_NAME"], "INSERT", keys, profile),
        ),
    ]


def _floor_spec(scenario: Scenario, captured: dict[str, Any]) -> dict[str, Any]:
    found = [c for c in captured["calls"] if c["service"] == "dynamodb"]
    if not found:
        raise RuntimeError(f"{scenario.kind} made no DynamoDB call; captured {captured}")
    first = found[0]
    return {
        "handler": "floor",
        "service": "dynamodb",
        "operation": first["operation"],
        "params": first["params"],
    }


def _env(stack: BenchStack, scenario_path: Path | None, *, compiled: bool, cache: Path) -> dict[str, str]:
    extra = {"PYTHONPYCACHEPREFIX": str(cache)}
    if not compiled:
        extra["PYTHONDONTWRITEBYTECODE"] = "1"
    return stack.child_env(pythonpath=[scenario_path] if scenario_path else None, extra=extra)


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def run(stack: BenchStack, *, repeats: int, source_repeats: int, log: Any = print) -> dict[str, Any]:
    chosen = scenarios(stack)
    spec = {"scenarios": {s.kind: {"handler": s.handler, "event": s.event} for s in chosen}}
    captured = processes.probe(stack, "calls", spec)
    inputs: dict[str, Any] = {}
    for s in chosen:
        if captured[s.kind]["status"] != s.expect:
            raise RuntimeError(f"{s.kind}: status {captured[s.kind]['status']}")
        inputs[s.kind] = {"handler": s.handler, "event": s.event, "expect": s.expect}
        inputs[s.floor] = _floor_spec(s, captured[s.kind])
    inputs_path = BUILD / "cold-inputs.json"
    inputs_path.write_text(json.dumps(inputs), encoding="utf-8")

    paths = {s.kind: s.path for s in chosen} | {s.floor: None for s in chosen}
    kinds = list(paths)
    shutil.rmtree(PYCACHE, ignore_errors=True)
    envs = {k: _env(stack, p, compiled=True, cache=PYCACHE) for k, p in paths.items()}

    log(f"  cold start: warm-up (bytecode compiled into {PYCACHE.relative_to(BUILD.parents[1])})")
    for kind in kinds:
        processes.cold(kind, inputs_path, envs[kind])
    samples: dict[str, list[dict[str, Any]]] = {k: [] for k in kinds}
    for rep in range(repeats):
        order = kinds[rep % len(kinds) :] + kinds[: rep % len(kinds)]
        for kind in order:
            samples[kind].append(processes.cold(kind, inputs_path, envs[kind]))
        log(
            f"  cold start: round {rep + 1}/{repeats}: "
            + ", ".join(f"{k} {samples[k][-1]['spawn_to_ready'] * 1000:.0f}" for k in kinds)
            + " ms"
        )

    # As `crm package` ships code (no .pyc, read-only /var/task): every module compiled at each start.
    source_samples: dict[str, list[dict[str, Any]]] = {}
    if source_repeats:
        empty = BUILD / "pycache-empty"
        shutil.rmtree(empty, ignore_errors=True)
        source_kinds = ["api-get", "floor-api-get"]
        source_envs = {k: _env(stack, paths[k], compiled=False, cache=empty) for k in source_kinds}
        source_samples = {k: [] for k in source_kinds}
        for rep in range(source_repeats):
            for kind in source_kinds if rep % 2 == 0 else source_kinds[::-1]:
                source_samples[kind].append(processes.cold(kind, inputs_path, source_envs[kind]))
        log(
            "  cold start without bytecode: "
            + ", ".join(
                f"{k} {_median(v, 'spawn_to_ready') * 1000:.0f} ms" for k, v in source_samples.items()
            )
        )

    profile = import_profile(inputs_path, envs["api-get"])
    result: dict[str, Any] = {"scenarios": {}, "source": {}, "import_profile": profile, "captured": captured}
    for s in chosen:
        runs, floors = samples[s.kind], samples[s.floor]
        result["scenarios"][s.kind] = {
            "label": s.label,
            "floor_call": f"dynamodb.{inputs[s.floor]['operation']}",
            "calls": [f"{c['service']}.{c['operation']}" for c in captured[s.kind]["calls"]],
            "median_ms": _median(runs, "spawn_to_ready") * 1000,
            "floor_median_ms": _median(floors, "spawn_to_ready") * 1000,
            "in_process_ms": _median(runs, "t_ready") * 1000,
            "floor_in_process_ms": _median(floors, "t_ready") * 1000,
            "import_ms": _median(runs, "t_import") * 1000,
            "floor_import_ms": _median(floors, "t_import") * 1000,
            "modules": runs[0]["modules"],
            "floor_modules": floors[0]["modules"],
            "samples_ms": [r["spawn_to_ready"] * 1000 for r in runs],
            "floor_samples_ms": [r["spawn_to_ready"] * 1000 for r in floors],
        }
    if source_samples:
        result["source"] = {
            "median_ms": _median(source_samples["api-get"], "spawn_to_ready") * 1000,
            "floor_median_ms": _median(source_samples["floor-api-get"], "spawn_to_ready") * 1000,
            "samples_ms": [r["spawn_to_ready"] * 1000 for r in source_samples["api-get"]],
            "floor_samples_ms": [r["spawn_to_ready"] * 1000 for r in source_samples["floor-api-get"]],
        }
    return result


def import_profile(inputs: Path, env: dict[str, str], top: int = 12) -> dict[str, Any]:
    """``python -X importtime`` over one ApiFunction cold start (imports made while importing the
    handler module and while serving the first request): self time summed per top-level package,
    and the modules with the largest self and cumulative times."""
    run = processes.cold("api-get", inputs, env, flags=("-X", "importtime"))
    rows: list[tuple[str, int, int, int]] = []  # name, self us, cumulative us, depth
    for line in run["stderr"].splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, raw_name = line[len("import time:") :].split("|", 2)
        depth = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        rows.append((raw_name.strip(), int(self_us), int(cumulative_us), depth))
    packages: dict[str, int] = {}
    for name, self_us, _, _ in rows:
        top_name = name.split(".")[0]
        packages[top_name] = packages.get(top_name, 0) + self_us
    total = sum(packages.values())
    first_level = [r for r in rows if r[3] == 0]
    return {
        "total_ms": total / 1000,
        "packages_ms": dict(
            sorted(((k, v / 1000) for k, v in packages.items()), key=lambda kv: -kv[1])[:top]
        ),
        "top_self_ms": [(n, s / 1000) for n, s, _, _ in sorted(rows, key=lambda r: -r[1])[:top]],
        "top_level_cumulative_ms": [
            (n, c / 1000) for n, _, c, _ in sorted(first_level, key=lambda r: -r[2])[:top]
        ],
    }
