"""`crm dev` as a user gets it: one seeded stack serves this module, over HTTP on loopback."""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.e2e.conftest import ROOT, CrmDev

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def all_candidates(stack: CrmDev, headers: dict[str, str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": 25}
        if cursor:
            params["cursor"] = cursor
        response = stack.get("/v1/candidates", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        found.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found
    raise AssertionError("the candidate list never ends")


def poll(check: Any, timeout: float = 20.0) -> Any:
    """Lists are projected asynchronously (by the stream worker): allow them a moment."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def test_health(seeded_stack: CrmDev) -> None:
    response = seeded_stack.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("username", ["recruiter@example.com", "admin@example.com"])
def test_demo_users_log_in(seeded_stack: CrmDev, username: str) -> None:
    tokens = seeded_stack.login(username)
    assert tokens["id_token"] and tokens["access_token"] and tokens["refresh_token"]
    assert int(tokens["expires_in"]) > 0


def test_wrong_password_is_refused(seeded_stack: CrmDev) -> None:
    response = seeded_stack.post(
        "/auth/login", json={"username": "recruiter@example.com", "password": "Not-The-Password-1"}
    )
    assert response.status_code == 401


def test_candidates_are_seeded_and_paginated(seeded_stack: CrmDev) -> None:
    headers = seeded_stack.auth()
    first = seeded_stack.get("/v1/candidates", params={"limit": 25}, headers=headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert len(page["items"]) == 25
    assert page["next_cursor"]
    candidates = all_candidates(seeded_stack, headers)
    assert len(candidates) >= 50
    assert len({c["id"] for c in candidates}) == len(candidates)
    for field in ("id", "email", "first_name", "last_name", "tags", "source", "version", "created_at"):
        assert all(field in c for c in candidates), field
    assert any(not (c["first_name"] + c["last_name"]).isascii() for c in candidates)


def test_public_jobs_lists_the_open_jobs(seeded_stack: CrmDev) -> None:
    response = seeded_stack.get("/public/jobs")
    assert response.status_code == 200, response.text
    titles = {job["title"] for job in response.json()["items"]}
    assert len(titles) >= 3
    assert "Engineering Manager" not in titles  # the closed demo job


def test_a_talent_network_sign_up_reaches_the_recruiter_list(seeded_stack: CrmDev) -> None:
    email = "e2e.signup@example.com"
    response = seeded_stack.post(
        "/public/talent-network",
        json={"email": email, "first_name": "Łucja", "last_name": "Ende", "tags": ["python"]},
    )
    assert response.status_code == 202, response.text
    assert response.json() == {"status": "received"}
    headers = seeded_stack.auth()

    def listed() -> list[dict[str, Any]]:
        page = seeded_stack.get("/v1/candidates", params={"email": email}, headers=headers).json()
        return [c for c in page["items"] if c["email"] == email]

    found = poll(listed)
    assert found, "the sign-up never appeared in the candidate list"
    assert found[0]["first_name"] == "Łucja"


def test_stack_file_describes_the_running_stack(seeded_stack: CrmDev) -> None:
    described = seeded_stack.stack_file()
    assert described["endpoint_url"].startswith("http://127.0.0.1:")
    assert described["api_url"] == seeded_stack.base_url
    env_json = json.loads((ROOT / "events" / "env.json").read_text())
    for logical_id, function in described["functions"].items():
        assert function["environment"] == env_json[logical_id], logical_id
        assert {k: env_json["Parameters"][k] for k in function["environment"]} == function["environment"]


def invoke(stack: CrmDev, function: str, event: str) -> tuple[int, Any, str]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_tools.cli",
            "invoke",
            function,
            "--event",
            event,
            "--data-dir",
            str(stack.data_dir),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, output, result.stderr


def test_crm_invoke_runs_the_api_with_a_sample_event(seeded_stack: CrmDev) -> None:
    code, output, stderr = invoke(seeded_stack, "api", "events/api-health.json")
    assert code == 0, stderr
    assert output["statusCode"] == 200
    assert json.loads(output["body"]) == {"status": "ok"}
    code, output, stderr = invoke(seeded_stack, "ApiFunction", "events/api-public-jobs.json")
    assert code == 0, stderr
    assert output["statusCode"] == 200 and json.loads(output["body"])["items"]


@pytest.mark.parametrize("event", ["insert", "modify", "remove"])
def test_crm_invoke_runs_the_stream_worker_with_a_sample_event(seeded_stack: CrmDev, event: str) -> None:
    code, output, stderr = invoke(seeded_stack, "stream", f"events/stream-candidate-{event}.json")
    assert code == 0, stderr
    assert output == {"batchItemFailures": []}


def test_crm_invoke_names_unknown_functions(seeded_stack: CrmDev) -> None:
    code, _, stderr = invoke(seeded_stack, "nope", "events/api-health.json")
    assert code == 2
    assert "ApiFunction" in stderr


def token_subject(stack: CrmDev, username: str) -> str:
    payload = stack.login(username)["id_token"].split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def test_a_restart_keeps_the_data_and_does_not_seed_again(seeded_stack: CrmDev) -> None:
    subject = token_subject(seeded_stack, "recruiter@example.com")
    headers = seeded_stack.auth()
    email = "e2e.persisted@example.com"
    response = seeded_stack.post(
        "/public/talent-network", json={"email": email, "first_name": "Per", "last_name": "Sistent"}
    )
    assert response.status_code == 202
    # ?email= is answered at once (read your writes); the full list is a projection: wait for it.
    assert poll(lambda: any(c["email"] == email for c in all_candidates(seeded_stack, headers)))
    before = sorted(c["id"] for c in all_candidates(seeded_stack, headers))

    seeded_stack.stop_cleanly(signal.SIGINT)
    assert not (seeded_stack.data_dir / "stack.json").exists()
    seeded_stack.start()  # same data dir, no --fresh

    assert "Loading demo data" not in seeded_stack.stderr_path.read_text(errors="replace")
    headers = seeded_stack.auth()
    after = sorted(c["id"] for c in all_candidates(seeded_stack, headers))
    assert after == before
    found = seeded_stack.get("/v1/candidates", params={"email": email}, headers=headers).json()["items"]
    assert [c["email"] for c in found] == [email]
    assert token_subject(seeded_stack, "recruiter@example.com") == subject  # the same user after a restart
