"""A 202 from the local stack is durable, as it is in AWS: `crm dev` killed with SIGKILL or stopped
with SIGTERM while 20 clients sign up comes back with every person it answered 202 for, found by
email, by name search and in the list of their tag (the list projections are up to date on start).
And `crm dev` refuses to listen beyond loopback unless told that it is insecure."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests

from tests.e2e.conftest import DEMO_PASSWORD, ROOT, CrmDev, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

CLIENTS = 20
#: Sign-ups answered before the stack is stopped: enough that the stream is still behind.
AT_LEAST = 150
LOAD_DEADLINE = 60.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmDev]:
    """One data directory for the whole module: each test stops and restarts it."""
    dev = CrmDev(tmp_path_factory.mktemp("e2e-durability") / "data", "--no-seed")
    try:
        yield dev
    finally:
        if dev.process is not None:
            dev.stop_cleanly(signal.SIGTERM)


def aws(stack: CrmDev, service: str) -> Any:
    endpoint = stack.stack_file()["endpoint_url"]
    assert endpoint.startswith("http://127.0.0.1:")
    return boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client(service, endpoint_url=endpoint)


def environment(stack: CrmDev) -> dict[str, str]:
    return dict(stack.stack_file()["functions"]["ApiFunction"]["environment"])


SCHEDULE = {
    "ScheduleExpression": "at(2030-01-01T09:00:00)",
    "FlexibleTimeWindow": {"Mode": "OFF"},
    "ActionAfterCompletion": "DELETE",
}


def write_objects_and_schedules(stack: CrmDev) -> None:
    """The other kinds of write the stack keeps: objects (put, presigned POST, every version
    deleted) and Scheduler schedules (created, updated, deleted)."""
    env = environment(stack)
    s3, bucket = aws(stack, "s3"), env["RESUME_BUCKET"]
    s3.put_object(
        Bucket=bucket, Key="resumes/k/kept.pdf", Body=b"%PDF-1.7 kept", ContentType="application/pdf"
    )
    s3.put_object(Bucket=bucket, Key="resumes/k/erased.pdf", Body=b"%PDF-1.7 erased")
    versions = s3.list_object_versions(Bucket=bucket, Prefix="resumes/k/erased.pdf")["Versions"]
    s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in versions]}
    )
    post = s3.generate_presigned_post(Bucket=bucket, Key="resumes/k/posted.pdf")
    http = requests.Session()
    http.trust_env = False
    uploaded = http.post(
        post["url"], data=post["fields"], files={"file": ("cv.pdf", b"%PDF-1.7 posted")}, timeout=30
    )
    assert uploaded.status_code in (200, 201, 204), uploaded.text
    scheduler, group = aws(stack, "scheduler"), env["SCHEDULE_GROUP"]
    target = {"Arn": env["DISPATCH_QUEUE_ARN"], "RoleArn": env["SCHEDULER_ROLE_ARN"], "Input": '{"n": 1}'}
    for name in ("kept", "gone"):
        scheduler.create_schedule(Name=f"e2e-{name}", GroupName=group, Target=target, **SCHEDULE)
    scheduler.update_schedule(
        Name="e2e-kept", GroupName=group, Target=dict(target, Input='{"n": 2}'), **SCHEDULE
    )
    scheduler.delete_schedule(Name="e2e-gone", GroupName=group)


def assert_objects_and_schedules_kept(stack: CrmDev) -> None:
    env = environment(stack)
    s3, bucket = aws(stack, "s3"), env["RESUME_BUCKET"]
    listed = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="resumes/k/").get("Contents", [])}
    assert listed == {"resumes/k/kept.pdf", "resumes/k/posted.pdf"}
    kept = s3.get_object(Bucket=bucket, Key="resumes/k/kept.pdf")
    assert kept["Body"].read() == b"%PDF-1.7 kept" and kept["ContentType"] == "application/pdf"
    assert s3.get_object(Bucket=bucket, Key="resumes/k/posted.pdf")["Body"].read() == b"%PDF-1.7 posted"
    scheduler, group = aws(stack, "scheduler"), env["SCHEDULE_GROUP"]
    names = {s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]}
    assert "e2e-kept" in names and "e2e-gone" not in names
    assert scheduler.get_schedule(Name="e2e-kept", GroupName=group)["Target"]["Input"] == '{"n": 2}'


def start(stack: CrmDev, *args: str) -> dict[str, str]:
    """Start the stack and return a recruiter's headers (users are not kept: made on every start)."""
    from crm_tools.seed import create_demo_users

    stack.start(*args)
    described = stack.stack_file()
    endpoint = described["endpoint_url"]
    assert endpoint.startswith("http://127.0.0.1:")
    cognito = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("cognito-idp", endpoint_url=endpoint)
    create_demo_users(
        cognito, described["functions"]["ApiFunction"]["environment"]["USER_POOL_ID"], DEMO_PASSWORD
    )
    headers = stack.auth()
    # One request before the parallel ones: the API fetches the pool's keys on first use.
    assert stack.get("/v1/candidates", params={"limit": 1}, headers=headers).status_code == 200
    return headers


class SignUps:
    """CLIENTS threads joining the talent network until stopped; keeps every person answered 202."""

    def __init__(self, stack: CrmDev, tag: str) -> None:
        self.url = stack.base_url + "/public/talent-network"
        self.tag = tag
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[int] = []
        self._lock = threading.Lock()
        self._enough = threading.Event()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def _client(self, n: int) -> None:
        http = requests.Session()
        http.trust_env = False
        i = 0
        while not self._stop.is_set():
            i += 1
            person = {
                "email": f"{self.tag}-{n}-{i}@example.com",
                # Unique; "<tag>q" starts every first name of this load and nothing else.
                "first_name": f"{self.tag}q{n:02d}x{i:05d}",
                "last_name": "Durable",
                "tags": [self.tag],
            }
            try:
                response = http.post(self.url, json=person, timeout=30)
            except requests.RequestException:
                return  # the stack went away: this one was never answered
            with self._lock:
                if response.status_code == 202:
                    self.accepted.append(person)
                    if len(self.accepted) >= AT_LEAST:
                        self._enough.set()
                else:
                    self.refused.append(response.status_code)

    def __enter__(self) -> SignUps:
        for thread in self._threads:
            thread.start()
        return self

    def wait_for_enough(self) -> None:
        assert self._enough.wait(LOAD_DEADLINE), f"only {len(self.accepted)} sign-ups were answered 202"

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def answered(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.accepted)


def listed(stack: CrmDev, headers: dict[str, str], **filters: str) -> set[str]:
    """The emails of every candidate a filtered list shows, page by page."""
    emails: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {**filters, "limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = stack.get("/v1/candidates", params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        emails.update(item["email"] for item in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return emails


def missing_after_restart(
    stack: CrmDev, headers: dict[str, str], people: list[dict[str, Any]], tag: str
) -> dict[str, list[str]]:
    """Who cannot be found, by each way a recruiter looks (no waiting: the lists are up to date
    when the stack says it is ready)."""
    http = requests.Session()
    http.trust_env = False

    def found_by_email(person: dict[str, Any]) -> bool:
        response = http.get(
            stack.base_url + "/v1/candidates", params={"email": person["email"]}, headers=headers, timeout=30
        )
        assert response.status_code == 200, response.text
        return [c["email"] for c in response.json()["items"]] == [person["email"]]

    def found_by_name(person: dict[str, Any]) -> bool:
        return listed(stack, headers, q=person["first_name"]) == {person["email"]}

    with ThreadPoolExecutor(max_workers=4) as pool:
        by_email = list(pool.map(found_by_email, people))
        # Each tenth person by their own first name; everyone by the prefix all their names share.
        sample = people[::10]
        by_own_name = dict(zip((p["email"] for p in sample), pool.map(found_by_name, sample), strict=True))
    by_name = {e for e in listed(stack, headers, q=f"{tag}q") if by_own_name.get(e, True)}
    by_tag = listed(stack, headers, tag=tag)
    return {
        "email": [p["email"] for p, found in zip(people, by_email, strict=True) if not found],
        "q": [p["email"] for p in people if p["email"] not in by_name],
        "tag": [p["email"] for p in people if p["email"] not in by_tag],
    }


def assert_all_found(missing: dict[str, list[str]], answered: int, how: str) -> None:
    counts = {way: len(emails) for way, emails in missing.items()}
    assert not any(counts.values()), (
        f"after {how}, of {answered} sign-ups answered 202, missing by ?email=: {counts['email']}, "
        f"by the name search: {counts['q']}, from the tag's list: {counts['tag']} "
        f"(first missing: {[e[:3] for e in missing.values()]})"
    )


def test_every_202_survives_sigkill_mid_load(stack: CrmDev) -> None:
    """And the objects and schedules written before the kill, which no snapshot has yet."""
    start(stack, "--fresh")
    write_objects_and_schedules(stack)
    with SignUps(stack, "kill") as load:
        load.wait_for_enough()
        assert stack.process is not None
        stack.process.kill()  # SIGKILL while the clients are still signing up
        stack.process.wait(timeout=30)
        stack.process = None
    people = load.answered()
    assert not load.refused, f"some sign-ups were refused: {sorted(set(load.refused))}"

    headers = start(stack)
    assert_all_found(missing_after_restart(stack, headers, people, "kill"), len(people), "SIGKILL")
    assert_objects_and_schedules_kept(stack)


def test_every_202_survives_sigterm_mid_load(stack: CrmDev) -> None:
    headers = start(stack) if stack.process is None else stack.auth()
    earlier = listed(stack, headers, tag="kill")
    with SignUps(stack, "term") as load:
        load.wait_for_enough()
        code = stack.stop(signal.SIGTERM)  # while the clients are still signing up
    assert code == 0, f"crm dev exited with {code} after SIGTERM\n{stack.logs()}"
    people = load.answered()

    headers = start(stack)
    assert_all_found(missing_after_restart(stack, headers, people, "term"), len(people), "SIGTERM")
    assert listed(stack, headers, tag="kill") == earlier  # what was there before is still there


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10"])
def test_a_non_loopback_host_is_refused_without_the_flag(host: str, tmp_path: Any) -> None:
    port = free_port()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crm_tools.cli",
            "dev",
            "--host",
            host,
            "--port",
            str(port),
            "--data-dir",
            str(tmp_path / "data"),
            "--no-seed",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert "--i-understand-this-is-insecure" in result.stderr
    assert "admin" in result.stderr  # it says why: anyone who reaches it can mint admin tokens
    assert "CRM is ready" not in result.stdout
    assert not (tmp_path / "data").exists()  # refused before anything started
