"""Figure 7: the local stack (``crm dev``) under load, 50 clients against one, in the same run.

A fresh ``crm dev --no-seed`` is started in a subprocess on a free loopback port, a recruiter is
created in its user pool and signs in through ``POST /auth/login``, and a few hundred candidates
are loaded through the public form so that reads return full pages. Then closed-loop clients,
each on its own keep-alive connection (as a browser or an integration keeps one), send what a
career site and recruiters send: four ``POST /public/talent-network`` sign-ups (a new email
each) for every authenticated ``GET /v1/candidates?...`` read. Phases run in the order
1 client, 50 clients, 1 client; the single-client figure pools both single-client phases, so a
table that grew during the run weighs on the baseline as on the measured figure.

Every request counts: a status other than the expected one, a reset or a timeout is an error.
The 50 clients open their connections at the same instant (a barrier), as a burst of visitors
does. Latency is measured from just before the request is written to the end of the response
body. This is a benchmark of the local stack only (moto, the API and the local runtime share
one Python process): it says nothing of AWS.

    python -m tests.bench --only load [--load-clients 50] [--load-seconds 20] [--load-port 8400]
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.bench_stack import BUILD, ROOT, SHARED_DIR, free_port
from tests.bench.report import Row

RATIO_GOAL = 10.0
READY = "CRM is ready on "
PASSWORD = "Load-Bench-Password-42"
RECRUITER = "recruiter@example.com"
#: One read for every this many requests of a client (the rest are sign-ups).
READ_EVERY = 5
READ_QUERIES = (
    "/v1/candidates?tag=python&limit=25",
    "/v1/candidates?limit=25",
    "/v1/candidates?source=talent-network&limit=10",
    "/v1/candidates?tag=aws&limit=25",
)
TAGS = ("python", "aws", "java", "sql", "react", "go")


@dataclass
class Sample:
    kind: str  # "join" or "read"
    started: float  # perf_counter
    seconds: float
    status: int  # 0 for a transport error
    error: str = ""


@dataclass
class Phase:
    clients: int
    seconds: float
    samples: list[Sample] = field(default_factory=list)
    wall: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the crm dev process used meanwhile (all its threads)

    @property
    def ok(self) -> list[Sample]:
        return [s for s in self.samples if not s.error]

    @property
    def errors(self) -> list[Sample]:
        return [s for s in self.samples if s.error]

    def summary(self) -> dict[str, Any]:
        return summarise(self.samples, self.wall, self.server_cpu) | {
            "clients": self.clients,
            "seconds": self.seconds,
        }


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summarise(samples: list[Sample], wall: float, server_cpu: float = 0.0) -> dict[str, Any]:
    ok = [s for s in samples if not s.error]
    times = [s.seconds * 1000 for s in ok]
    by_kind = {}
    for kind in ("join", "read"):
        mine = [s.seconds * 1000 for s in ok if s.kind == kind]
        by_kind[kind] = {
            "requests": len(mine),
            "p50_ms": percentile(mine, 0.5),
            "p99_ms": percentile(mine, 0.99),
        }
    errors: dict[str, int] = {}
    for s in samples:
        if s.error:
            errors[s.error] = errors.get(s.error, 0) + 1
    return {
        "requests": len(samples),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "wall_s": wall,
        "throughput_rps": len(ok) / wall if wall else 0.0,
        "p50_ms": percentile(times, 0.5),
        "p90_ms": percentile(times, 0.9),
        "p99_ms": percentile(times, 0.99),
        "max_ms": max(times, default=0.0),
        "mean_ms": statistics.fmean(times) if times else 0.0,
        "by_kind": by_kind,
        "server_cpu_s": server_cpu,
        # CPU-bound server: a closed loop of N clients waits about N x this for each answer.
        "server_cpu_ms_per_request": server_cpu * 1000 / len(ok) if ok else 0.0,
        "server_cpu_share": server_cpu / wall if wall else 0.0,
    }


# ---------------------------------------------------------------- the stack


class LocalStack:
    """One ``crm dev --no-seed --fresh`` in a subprocess, on a loopback port."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir or BUILD / "load" / "data"
        self.process: subprocess.Popen[bytes] | None = None
        self.out = BUILD / "load" / "crm-dev.out"
        self.err = BUILD / "load" / "crm-dev.err"

    @property
    def host(self) -> str:
        return "127.0.0.1"

    def start(self, timeout: float = 120) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable,
            "-m",
            "crm_tools.cli",
            "dev",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            "--fresh",
            "--no-seed",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_", "POWERTOOLS_"))}
        # This checkout's code (in a git worktree the editable install names the main checkout's).
        env["PYTHONPATH"] = os.pathsep.join(
            [str(SHARED_DIR), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        )
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if READY in self.out.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"crm dev exited with {self.process.returncode}: {self._tail()}")
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"crm dev was not ready within {timeout:.0f} s: {self._tail()}")

    def _tail(self) -> str:
        return "\n".join(self.err.read_text(errors="replace").splitlines()[-20:])

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def cpu_seconds(self) -> float:
        """User and system CPU time of the crm dev process so far (0 when it cannot be read)."""
        try:
            pid = int(self.stack_file()["pid"])
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, KeyError, ValueError, IndexError):
            return 0.0

    def stack_file(self) -> dict[str, Any]:
        return dict(json.loads((self.data_dir / "stack.json").read_text()))

    def sign_in(self) -> str:
        """Create the demo recruiter in the stack's user pool and sign in over HTTP."""
        import boto3

        from crm_tools.seed import create_demo_users

        described = self.stack_file()
        endpoint = described["endpoint_url"]
        assert endpoint.startswith("http://127.0.0.1:"), endpoint
        cognito = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=described["region"]
        ).client("cognito-idp", endpoint_url=endpoint)
        for pool_id in described["user_pools"].values():
            create_demo_users(cognito, pool_id, PASSWORD)
        status, body = request(
            self.connect(), "POST", "/auth/login", {"username": RECRUITER, "password": PASSWORD}
        )
        if status != 200:
            raise RuntimeError(f"sign-in answered {status}")
        return str(json.loads(body)["id_token"])

    def connect(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)


def request(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes]:
    payload = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json"} if payload is not None else {}
    conn.request(method, path, body=payload, headers={**sent, **(headers or {})})
    response = conn.getresponse()
    return response.status, response.read()


# ---------------------------------------------------------------- the clients


class Workload:
    """What one client sends next: sign-ups with unique emails, and every n-th request a read."""

    def __init__(self, token: str, run_id: str) -> None:
        self.token = token
        self.run_id = run_id
        self._counter = 0
        self._lock = threading.Lock()

    def next_email(self) -> str:
        with self._lock:
            self._counter += 1
            n = self._counter
        return f"load.{self.run_id}.{n}@example.com"

    def join(self, rng: random.Random) -> tuple[str, str, Any, dict[str, str], int]:
        body = {
            "email": self.next_email(),
            "first_name": "Load",
            "last_name": "Test",
            "tags": rng.sample(TAGS, 2),
            "marketing_consent": rng.random() < 0.5,
            "utm_source": "bench",
        }
        return "join", "/public/talent-network", body, {}, 202

    def read(self, rng: random.Random) -> tuple[str, str, Any, dict[str, str], int]:
        return "read", rng.choice(READ_QUERIES), None, {"Authorization": f"Bearer {self.token}"}, 200

    def pick(self, index: int, rng: random.Random) -> tuple[str, str, Any, dict[str, str], int]:
        return self.read(rng) if index % READ_EVERY == READ_EVERY - 1 else self.join(rng)


def _client(
    stack: LocalStack,
    workload: Workload,
    number: int,
    start: threading.Barrier,
    until: list[float],
    out: list[Sample],
) -> None:
    rng = random.Random(number)
    index = number  # clients start at different points of the mix
    conn: http.client.HTTPConnection | None = None
    start.wait()
    while time.perf_counter() < until[0]:
        kind, path, body, headers, expected = workload.pick(index, rng)
        index += 1
        if conn is None:
            conn = stack.connect()
        began = time.perf_counter()
        try:
            status, _ = request(conn, "POST" if body is not None else "GET", path, body, headers)
        except (OSError, http.client.HTTPException) as exc:
            out.append(Sample(kind, began, time.perf_counter() - began, 0, type(exc).__name__))
            conn.close()
            conn = None
            continue
        elapsed = time.perf_counter() - began
        out.append(Sample(kind, began, elapsed, status, "" if status == expected else f"HTTP {status}"))
    if conn is not None:
        conn.close()


def run_phase(stack: LocalStack, workload: Workload, clients: int, seconds: float) -> Phase:
    """``clients`` closed-loop clients for ``seconds``; all connect at the same instant."""
    phase = Phase(clients=clients, seconds=seconds)
    barrier = threading.Barrier(clients + 1)
    until = [float("inf")]
    outs: list[list[Sample]] = [[] for _ in range(clients)]
    threads = [
        threading.Thread(target=_client, args=(stack, workload, n, barrier, until, outs[n]), daemon=True)
        for n in range(clients)
    ]
    for t in threads:
        t.start()
    cpu = stack.cpu_seconds()
    began = time.perf_counter()
    until[0] = began + seconds
    barrier.wait()
    for t in threads:
        t.join(timeout=seconds + 120)
    phase.wall = time.perf_counter() - began
    phase.server_cpu = stack.cpu_seconds() - cpu
    phase.samples = sorted((s for out in outs for s in out), key=lambda s: s.started)
    return phase


def preload(stack: LocalStack, workload: Workload, count: int, log: Callable[[str], None]) -> None:
    """``count`` sign-ups before anything is measured (so reads return full pages), then a pause
    for the local runtime to project them."""
    rng = random.Random(0)
    conn = stack.connect()
    for _ in range(count):
        _, path, body, headers, expected = workload.join(rng)
        status, _ = request(conn, "POST", path, body, headers)
        if status != expected:
            raise RuntimeError(f"preload: {path} answered {status}")
    for _ in range(10):
        _, path, _, headers, expected = workload.read(rng)
        status, _ = request(conn, "GET", path, None, headers)
        if status != expected:
            raise RuntimeError(f"preload: {path} answered {status}")
    conn.close()
    log(f"  {count} candidates loaded through the public form")


def run(
    *,
    clients: int = 50,
    seconds: float = 20.0,
    single_seconds: float = 10.0,
    preload_count: int = 300,
    port: int | None = None,
    attach: Path | None = None,
    log: Callable[[str], None] = print,
) -> tuple[list[Row], dict[str, Any]]:
    """Start a stack (or use the running one whose data dir is ``attach``) and measure it."""
    stack = LocalStack(port, attach)
    if attach is None:
        log(f"  starting crm dev --no-seed on 127.0.0.1:{stack.port}")
        stack.start()
    try:
        workload = Workload(stack.sign_in(), run_id=f"{int(time.time())}")
        preload(stack, workload, preload_count, log)
        time.sleep(2.0)  # let the stream catch up with the preload
        phases = []
        for n, s in ((1, single_seconds / 2), (clients, seconds), (1, single_seconds / 2)):
            phase = run_phase(stack, workload, n, s)
            summary = phase.summary()
            log(
                f"  {n} client(s), {s:.0f} s: {summary['throughput_rps']:.1f} req/s, "
                f"p50 {summary['p50_ms']:.0f} ms, p99 {summary['p99_ms']:.0f} ms, "
                f"{summary['errors']} error(s) {summary['error_kinds'] or ''}; server CPU "
                f"{summary['server_cpu_ms_per_request']:.1f} ms a request, "
                f"{summary['server_cpu_share']:.0%} of a core"
            )
            phases.append(phase)
            time.sleep(1.0)
    finally:
        stack.stop()
    single = summarise(
        phases[0].samples + phases[2].samples,
        phases[0].wall + phases[2].wall,
        phases[0].server_cpu + phases[2].server_cpu,
    )
    many = phases[1].summary()
    raw = {
        "single": single,
        "many": many,
        "phases": [p.summary() for p in phases],
        "preload": preload_count,
        "read_every": READ_EVERY,
    }
    return rows(single, many, clients), raw


def rows(single: dict[str, Any], many: dict[str, Any], clients: int) -> list[Row]:
    mix = f"{READ_EVERY - 1}:1 sign-ups:reads"
    base = single["p50_ms"]
    return [
        Row(
            figure=7,
            name=f"local stack, {clients} clients ({mix}): median latency (p99 {many['p99_ms']:.0f} ms)",
            measured=many["p50_ms"],
            unit="ms",
            baseline=base,
            baseline_label=f"{base:.1f} ms median, 1 client (p99 {single['p99_ms']:.0f} ms)",
            goal=f"< {RATIO_GOAL:g}x, no errors",
            passed=many["p50_ms"] < RATIO_GOAL * base and many["errors"] == 0 and single["errors"] == 0,
            detail={"many": many, "single": single},
        ),
        Row(
            figure=7,
            name=f"local stack, {clients} clients: throughput ({many['errors']} error(s))",
            measured=round(many["throughput_rps"], 1),
            unit="req/s",
            baseline=round(single["throughput_rps"], 1),
            baseline_label=f"{single['throughput_rps']:.1f} req/s, 1 client ({single['errors']} error(s))",
            goal=">= 1x, no errors",
            passed=many["throughput_rps"] >= single["throughput_rps"] and many["errors"] == 0,
            detail={},
        ),
    ]


if __name__ == "__main__":  # while developing: python -m tests.bench.load [PORT [DATA_DIR [SECONDS]]]
    found, details = run(
        port=int(sys.argv[1]) if len(sys.argv) > 1 else None,
        attach=Path(sys.argv[2]) if len(sys.argv) > 2 else None,
        seconds=float(sys.argv[3]) if len(sys.argv) > 3 else 10,
        single_seconds=float(sys.argv[4]) if len(sys.argv) > 4 else 6,
    )
    (BUILD / "load").mkdir(parents=True, exist_ok=True)
    (BUILD / "load" / "last.json").write_text(json.dumps(details, indent=2))
