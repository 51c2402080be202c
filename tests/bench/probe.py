"""Measurements taken inside one warm function process, with every botocore client metered.

Run by the benchmark as ``python -m tests.bench.probe TASK INPUT.json OUTPUT.json`` in a child
process whose environment is the function's (see ``bench_stack.BenchStack.child_env``), against the
moto server of the parent. The measured code shares its process with nothing else: moto runs in the
parent, so its work never lands in the handler's own time.

Tasks:
  calls     serve each cold-start event once; report the AWS calls (operation and parameters)
  warm      the handler's own time (total minus time inside botocore) over many requests
  counts    AWS requests sent per public join, candidate read and list page
  scan      items DynamoDB read (ScannedCount) to serve one filtered list page
  search    items read, AWS requests and time of free-text search pages (the first pages of
            each query, repeated; the median time)
  ui        the recruiter UI's render time (candidate list and profile) against the JSON API's
            time for the same data, and the bytes a first visit to the dashboard transfers
  board     the job board page's render time, items read and requests against the candidate
            list's first two pages (50 rows), and what the board shows
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.bench import aws_meter
from tests.bench.lambda_events import LambdaContext, api_event

ROOT = Path(__file__).resolve().parents[2]

meter = aws_meter.install()
_other_http = {"count": 0}


def _count_other_http() -> None:
    """Count HTTP requests that do not go through botocore (``requests``: the JWKS fetch)."""
    import requests

    send = requests.Session.send

    def counted(self: Any, request: Any, **kwargs: Any) -> Any:
        _other_http["count"] += 1
        return send(self, request, **kwargs)

    requests.Session.send = counted  # type: ignore[method-assign]


def _api() -> Any:
    for sub in ("functions/api", "functions/stream"):
        path = str(ROOT / sub)
        if path not in sys.path:
            sys.path.insert(0, path)
    import app

    return app.app


def _stream() -> Any:
    _api()
    import handler

    return handler.handler


def _call_api(app: Any, event: dict[str, Any]) -> dict[str, Any]:
    return dict(app(event, LambdaContext("ApiFunction")))


# ------------------------------------------------------------------------------------ tasks


def calls(spec: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind, scenario in spec["scenarios"].items():
        meter.reset()
        if scenario["handler"] == "api":
            response = _call_api(_api(), scenario["event"])
            status = response["statusCode"]
        else:
            result = _stream()(scenario["event"], LambdaContext("StreamFunction"))
            status = 500 if result.get("batchItemFailures") else 200
        out[kind] = {
            "status": status,
            "calls": [
                {"service": c.service, "operation": c.operation, "params": c.params} for c in meter.calls
            ],
        }
    return out


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


def warm(spec: dict[str, Any]) -> dict[str, Any]:
    app = _api()
    auth = {"Authorization": f"Bearer {spec['token']}"}
    run = uuid.uuid4().hex[:8]
    routes = {
        "get": (
            lambda i: api_event(
                "GET",
                "/v1/candidates/{candidate_id}",
                path_params={"candidate_id": spec["candidate_id"]},
                headers=auth,
            ),
            200,
        ),
        "join": (
            lambda i: api_event(
                "POST",
                "/public/talent-network",
                body={
                    "email": f"warm.{run}.{i}@example.com",
                    "first_name": "Warm",
                    "last_name": "Request",
                    "tags": ["python"],
                    "marketing_consent": True,
                },
            ),
            202,
        ),
        "list": (
            lambda i: api_event(
                "GET", "/v1/candidates", query={"tag": "python", "limit": "25"}, headers=auth
            ),
            200,
        ),
    }
    routes = {k: v for k, v in routes.items() if k in spec["routes"]}
    samples: dict[str, dict[str, list[float]]] = {k: {"total": [], "aws": [], "own": []} for k in routes}
    sends: dict[str, list[int]] = {k: [] for k in routes}
    warmup, n = int(spec["warmup"]), int(spec["requests"])
    for i in range(-warmup, n):
        for name, (make, expect) in routes.items():
            event, context = make(i), LambdaContext("ApiFunction")
            meter.reset()
            start = time.perf_counter()
            response = app(event, context)
            total = time.perf_counter() - start
            if response["statusCode"] != expect:
                raise SystemExit(f"{name}: {response['statusCode']} {response.get('body')}")
            if i >= 0:
                samples[name]["total"].append(total)
                samples[name]["aws"].append(meter.aws_seconds)
                samples[name]["own"].append(total - meter.aws_seconds)
                sends[name].append(meter.sends)
    out: dict[str, Any] = {}
    for name, s in samples.items():
        own_ms = [v * 1000 for v in s["own"]]
        out[name] = {
            "requests": len(own_ms),
            "own_ms": {
                "median": statistics.median(own_ms),
                "p90": _percentile(own_ms, 90),
                "p99": _percentile(own_ms, 99),
                "max": max(own_ms),
                "mean": statistics.fmean(own_ms),
            },
            "total_ms_median": statistics.median(v * 1000 for v in s["total"]),
            "aws_ms_median": statistics.median(v * 1000 for v in s["aws"]),
            "aws_requests_per_call": statistics.median(sends[name]),
        }
    return out


def counts(spec: dict[str, Any]) -> dict[str, Any]:
    _count_other_http()
    app = _api()
    auth = {"Authorization": f"Bearer {spec['token']}"}
    run = uuid.uuid4().hex[:8]
    new_email, keyed_email = f"count.{run}@example.com", f"keyed.{run}@example.com"

    def join(email: str, key: str | None = None, first: str = "Count") -> dict[str, Any]:
        headers = {"Idempotency-Key": key} if key else {}
        return api_event(
            "POST",
            "/public/talent-network",
            headers=headers,
            body={"email": email, "first_name": first, "last_name": "Person", "tags": ["python"]},
        )

    get = api_event(
        "GET",
        "/v1/candidates/{candidate_id}",
        path_params={"candidate_id": spec["candidate_id"]},
        headers=auth,
    )
    page = api_event("GET", "/v1/candidates", query={"tag": "python", "limit": "25"}, headers=auth)
    key_new, key_known = str(uuid.uuid4()), str(uuid.uuid4())
    # Warm-up, not counted: the JWKS fetch (requests), client creation, and one of each route.
    _call_api(app, get)
    _call_api(app, join(f"warmup.{run}@example.com"))
    _call_api(app, page)
    scenarios = [
        ("join_new", join(new_email), 202),
        ("join_known", join(new_email), 202),
        ("join_new_key", join(keyed_email, key_new), 202),
        ("join_replay_key", join(keyed_email, key_new), 202),
        ("join_known_key", join(new_email, key_known, first="Again"), 202),
        ("get", get, 200),
        ("list_page", page, 200),
    ]
    out: dict[str, Any] = {}
    for name, event, expect in scenarios:
        meter.reset()
        _other_http["count"] = 0
        response = _call_api(app, event)
        if response["statusCode"] != expect:
            raise SystemExit(f"{name}: {response['statusCode']} {response.get('body')}")
        out[name] = {
            "aws_requests": meter.sends,
            "operations": meter.operations(),
            "other_http": _other_http["count"],
            "status": response["statusCode"],
        }
    return out


def scan(spec: dict[str, Any]) -> dict[str, Any]:
    app = _api()
    auth = {"Authorization": f"Bearer {spec['token']}"}
    # Warm-up: JWKS and the DynamoDB client, on a read that touches no list.
    _call_api(
        app,
        api_event(
            "GET", "/v1/candidates/{candidate_id}", path_params={"candidate_id": "0" * 32}, headers=auth
        ),
    )
    query = {"tag": spec["tag"], "limit": str(spec["limit"])}
    meter.reset()
    start = time.perf_counter()
    response = _call_api(app, api_event("GET", "/v1/candidates", query=query, headers=auth))
    elapsed = time.perf_counter() - start
    if response["statusCode"] != 200:
        raise SystemExit(f"list: {response['statusCode']} {response.get('body')}")
    body = json.loads(response["body"])
    return {
        "scanned": meter.scanned,
        "aws_requests": meter.sends,
        "operations": meter.operations(),
        "returned": len(body["items"]),
        "has_next": body["next_cursor"] is not None,
        "seconds": elapsed,
    }


def search(spec: dict[str, Any]) -> dict[str, Any]:
    """The first ``pages`` pages of each query of ``spec["queries"]``, ``repeats`` times over after
    one untimed round (the client, imports and models warm): per page the items read
    (``SearchPage.items_read``), the AWS requests, the people listed (their numbers, from the
    ids) and the wall time of ``WordIndexRepository.search``, and that time minus the time inside
    botocore (the repository's own work)."""
    _api()
    from crm.candidates.models import CandidateFilter
    from crm.candidates.repository.words import WordIndexRepository

    repository = WordIndexRepository()
    limit, pages = int(spec["limit"]), int(spec["pages"])

    def page(q: str, cursor: str | None) -> tuple[str | None, dict[str, Any]]:
        flt = CandidateFilter(q=q)
        meter.reset()
        start = time.perf_counter()
        found = repository.search(flt, limit=limit, cursor=cursor)
        wall = time.perf_counter() - start
        return found.cursor, {
            "items_read": found.items_read,
            "aws_requests": meter.sends,
            "operations": meter.operations(),
            "scanned": meter.scanned,
            "people": [int(p.id[:12], 16) for p in found.people],
            "has_next": found.cursor is not None,
            "ms": wall * 1000,
            "own_ms": (wall - meter.aws_seconds) * 1000,
        }

    def round_of_pages() -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for q in spec["queries"]:
            cursor: str | None = None
            out[q] = []
            for _ in range(pages):
                cursor, measured = page(q, cursor)
                out[q].append(measured)
                if cursor is None:
                    break
        return out

    first = round_of_pages()
    rounds = [round_of_pages() for _ in range(int(spec["repeats"]))]
    result: dict[str, Any] = {}
    for q, measured in first.items():
        result[q] = []
        for n, base in enumerate(measured):
            timed = [r[q][n] for r in rounds]
            result[q].append(
                {
                    "page": n + 1,
                    **{k: base[k] for k in ("aws_requests", "operations", "scanned", "people", "has_next")},
                    "items_read": base["items_read"],
                    "items_read_every_round": sorted({t["items_read"] for t in [base, *timed]}),
                    "ms_median": statistics.median(t["ms"] for t in timed),
                    "own_ms_median": statistics.median(t["own_ms"] for t in timed),
                    "ms": [t["ms"] for t in timed],
                    "untimed_first_ms": base["ms"],
                }
            )
    return result


def _own_times(app: Any, events: dict[str, dict[str, Any]], *, requests: int, warmup: int) -> dict[str, Any]:
    """Median handler time minus time inside botocore, per event, interleaved."""
    own: dict[str, list[float]] = {k: [] for k in events}
    total: dict[str, list[float]] = {k: [] for k in events}
    for i in range(-warmup, requests):
        for name, event in events.items():
            meter.reset()
            start = time.perf_counter()
            response = app(event, LambdaContext("ApiFunction"))
            elapsed = time.perf_counter() - start
            if response["statusCode"] != 200:
                raise SystemExit(f"{name}: {response['statusCode']} {str(response.get('body'))[:500]}")
            if i >= 0:
                own[name].append((elapsed - meter.aws_seconds) * 1000)
                total[name].append(elapsed * 1000)
    return {
        name: {
            "own_ms_median": statistics.median(own[name]),
            "own_ms_p90": _percentile(own[name], 90),
            "total_ms_median": statistics.median(total[name]),
            "requests": len(own[name]),
        }
        for name in events
    }


def _transferred(app: Any, path: str, headers: dict[str, str]) -> dict[str, Any]:
    """Bytes of a page (status line, headers, body) and of every same-site file it references."""
    import re

    def fetch(resource: str, path_params: dict[str, str] | None = None) -> tuple[int, str]:
        response = _call_api(app, api_event("GET", resource, path_params=path_params, headers=headers))
        if response["statusCode"] != 200:
            raise SystemExit(f"GET {resource}: {response['statusCode']}")
        head = sum(len(f"{k}: {v}\r\n") for k, v in response["headers"].items()) + len(
            "HTTP/1.1 200 OK\r\n\r\n"
        )
        return head + len(response["body"].encode()), response["body"]

    page_bytes, html = fetch(path)
    assets = sorted(set(re.findall(r'(?:src|href)="(/ui/static/[^"?#]+)"', html)))
    if re.search(r'(?:src|href)="(?:https?:)?//', html.split("<main", 1)[0] + html.split("</main>")[-1]):
        raise SystemExit(f"{path} loads something from another site")
    asset_bytes = {a: fetch("/ui/static/{name}", {"name": a.rsplit("/", 1)[1]})[0] for a in assets}
    return {
        "page_bytes": page_bytes,
        "assets": asset_bytes,
        "total_bytes": page_bytes + sum(asset_bytes.values()),
    }


def ui(spec: dict[str, Any]) -> dict[str, Any]:
    app = _api()
    token = spec["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    cookie = {"Cookie": f"crm_session={token}", "Accept": "text/html"}
    cid = spec["candidate_id"]
    # A profile with some history, and dashboard data: pools with members in several stages,
    # a template and campaigns.
    for n in range(5):
        body = {"body": f"Bench note {n}: " + "talked about the role and next steps. " * 5}
        _call_api(
            app,
            api_event(
                "POST",
                "/v1/candidates/{candidate_id}/notes",
                path_params={"candidate_id": cid},
                headers=bearer,
                body=body,
            ),
        )
    listed = json.loads(
        _call_api(
            app, api_event("GET", "/v1/candidates", query={"tag": "python", "limit": "25"}, headers=bearer)
        )["body"]
    )["items"]
    stages = ["sourced", "contacted", "interviewing", "offer", "hired"]
    for p in range(4):
        pool = json.loads(
            _call_api(
                app,
                api_event(
                    "POST", "/v1/pools", headers=bearer, body={"name": f"Bench pool {p} with a long-ish name"}
                ),
            )["body"]
        )
        for i, member in enumerate(listed):
            _call_api(
                app,
                api_event(
                    "POST",
                    "/v1/pools/{pool_id}/members",
                    path_params={"pool_id": pool["id"]},
                    headers=bearer,
                    body={"candidate_id": member["id"], "stage": stages[(i + p) % 5]},
                ),
            )
    template = json.loads(
        _call_api(
            app,
            api_event(
                "POST",
                "/v1/templates",
                headers=bearer,
                body={
                    "name": "Bench",
                    "subject": "Hello {{ first_name }}",
                    "html": "<p>Hi {{ first_name }}</p>",
                    "text": "Hi {{ first_name }}",
                },
            ),
        )["body"]
    )
    for c in range(6):
        _call_api(
            app,
            api_event(
                "POST",
                "/v1/campaigns",
                headers=bearer,
                body={
                    "name": f"Bench campaign {c}",
                    "template_id": template["id"],
                    "audience": {"tags": ["python"]},
                },
            ),
        )
    events = {
        "ui_list": api_event("GET", "/ui/candidates", headers=cookie),
        "api_list": api_event("GET", "/v1/candidates", query={"limit": "25"}, headers=bearer),
        "ui_profile": api_event(
            "GET", "/ui/candidates/{candidate_id}", path_params={"candidate_id": cid}, headers=cookie
        ),
        "api_profile": api_event(
            "GET", "/v1/candidates/{candidate_id}", path_params={"candidate_id": cid}, headers=bearer
        ),
    }
    out = _own_times(app, events, requests=int(spec["requests"]), warmup=int(spec["warmup"]))
    out["dashboard"] = _transferred(app, "/ui", cookie)
    out["login"] = _transferred(app, "/ui/login", {"Accept": "text/html"})
    return out


def board(spec: dict[str, Any]) -> dict[str, Any]:
    """``/ui/jobs/{id}`` against ``/ui/candidates`` and its next page (25 rows each: the list's
    one page size), for 50 rows. Per page one metered view (items read, requests, operations,
    bytes), then ``views`` timed views of each, interleaved, after ``warmup``; the list's own
    time is its two pages' added up, view by view. Then what the board showed, read again
    through the services (not metered): cards per column, applicant rows, people."""
    import html as html_text
    import re
    from urllib.parse import parse_qs

    app = _api()
    from chalicelib.ui.jobs import BOARD_CARDS, PAGE_SIZE
    from crm.candidates.service import CandidateService
    from crm.hiring.service import HiringService
    from crm.jobs.service import JobService

    cookie = {"Cookie": f"crm_session={spec['token']}", "Accept": "text/html"}
    job_id = spec["job_id"]
    first = api_event("GET", "/ui/candidates", headers=cookie)
    listed = _call_api(app, first)
    found = re.search(r'href="/ui/candidates\?([^"#]*cursor=[^"#]*)"', listed["body"])
    cursor = parse_qs(html_text.unescape(found.group(1))).get("cursor", [None])[0] if found else None
    if not cursor:
        raise SystemExit("/ui/candidates: no next page")
    events = {
        "board": api_event("GET", "/ui/jobs/{job_id}", path_params={"job_id": job_id}, headers=cookie),
        "list_1": first,
        "list_2": api_event("GET", "/ui/candidates", query={"cursor": cursor}, headers=cookie),
    }
    out: dict[str, Any] = {}
    for name, event in events.items():
        _call_api(app, event)  # warm: templates, clients
        meter.reset()
        response = _call_api(app, event)
        if response["statusCode"] != 200:
            raise SystemExit(f"{name}: {response['statusCode']} {str(response.get('body'))[:500]}")
        out[name] = {
            "items_read": meter.items_read,
            "aws_requests": meter.sends,
            "operations": meter.operations(),
            "items_per_call": [(c.operation, (c.scanned or 0) + (c.got or 0)) for c in meter.calls],
            "ms_per_call": [round(c.seconds * 1000, 1) for c in meter.calls],
            "get_items": sum(1 for c in meter.calls if c.operation == "GetItem"),
            "body_bytes": len(response["body"].encode()),
        }
    own: dict[str, list[float]] = {k: [] for k in events}
    total: dict[str, list[float]] = {k: [] for k in events}
    for i in range(-int(spec["warmup"]), int(spec["views"])):
        for name, event in events.items():
            meter.reset()
            start = time.perf_counter()
            response = app(event, LambdaContext("ApiFunction"))
            elapsed = time.perf_counter() - start
            if response["statusCode"] != 200:
                raise SystemExit(f"{name}: {response['statusCode']}")
            if i >= 0:
                own[name].append((elapsed - meter.aws_seconds) * 1000)
                total[name].append(elapsed * 1000)
    own["list_50"] = [a + b for a, b in zip(own["list_1"], own["list_2"], strict=True)]
    total["list_50"] = [a + b for a, b in zip(total["list_1"], total["list_2"], strict=True)]
    out["list_50"] = {
        "items_read": out["list_1"]["items_read"] + out["list_2"]["items_read"],
        "aws_requests": out["list_1"]["aws_requests"] + out["list_2"]["aws_requests"],
    }
    for name, values in own.items():
        out[name] |= {
            "own_ms_median": statistics.median(values),
            "own_ms_p90": _percentile(values, 90),
            "total_ms_median": statistics.median(total[name]),
            "views": len(values),
        }
    candidates = CandidateService()
    job = JobService().get(job_id)
    columns = HiringService(candidates).board(job, per_stage=BOARD_CARDS)
    applications, _ = candidates.applications_for_job(job_id, limit=PAGE_SIZE, cursor=None)
    people = {a.candidate_id for _, items, _ in columns for a in items} | {
        a.candidate_id for a in applications
    }
    out["shape"] = {
        "columns": len(columns),
        "board_cards": BOARD_CARDS,
        "page_size": PAGE_SIZE,
        "cards_per_column": {stage: len(items) for stage, items, _ in columns},
        "more_per_column": {stage: more for stage, _, more in columns},
        "cards": sum(len(items) for _, items, _ in columns),
        "rows": len(applications),
        "profiles": len(people),
        "single_items": out["board"]["get_items"],
    }
    return out


TASKS = {
    "calls": calls,
    "warm": warm,
    "counts": counts,
    "scan": scan,
    "search": search,
    "ui": ui,
    "board": board,
}


def main() -> None:
    task, source, target = sys.argv[1:4]
    spec = json.loads(Path(source).read_text(encoding="utf-8"))
    meter.keep_params = task == "calls"
    result = TASKS[task](spec)
    Path(target).write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
