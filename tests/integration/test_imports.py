"""CSV import: announce, upload through the presigned POST, preview with guessed columns, start,
and the worker (the real handler, fed real SQS events) reads the file in chunks through the intake.
Bad rows land in the failed rows with a reason; a file that is not UTF-8 or has no email column gets
a clear answer; a known email is merged without overwriting; a crash mid-file resumes from the
checkpoint; a dry run writes no candidate."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import boto3
import pytest
import requests

from crm.candidates.service import CandidateService
from crm.imports.models import ImportStart
from crm.imports.service import ImportService
from crm_tools.devstack.runtime import LambdaContext, load_handler
from tests.integration.conftest import Env, json_post
from tests.support.documents import pdf_with_text
from tests.support.stack import ROOT

HEADER = "E-mail,First name,Surname,Phone,City,LinkedIn,Tags,Newsletter,Consent date,CV\n"


def handler() -> Any:
    return load_handler(ROOT / "functions" / "imports", "handler.handler")


def drain(env: Env, *, most: int = 20) -> int:
    """Deliver the import queue's messages to the import function until it is empty."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = env.stack.queues["import"]
    arn = "arn:aws:sqs:us-east-1:123456789012:crm-test-import"
    delivered = 0
    for _ in range(most):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return delivered
        message = messages[0]
        event = {
            "Records": [
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
            ]
        }
        context = LambdaContext("crm-test-import", 512, "arn:aws:lambda:us-east-1:1:function:imp", 300)
        answer = handler()(event, context)
        if not answer.get("batchItemFailures"):
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        delivered += 1
    return delivered


def create(env: Env, *, with_resumes: bool = False, who: str = "recruiter") -> dict[str, Any]:
    response = json_post(
        env, "/v1/imports", {"file_name": "people.csv", "with_resumes": with_resumes}, env.auth(who)
    )
    assert response.status_code == 201, response.body
    return dict(response.json_body)


def upload(form: dict[str, Any], data: bytes, name: str = "people.csv") -> None:
    response = requests.post(form["url"], data=form["fields"], files={"file": (name, data)}, timeout=10)
    assert response.status_code in (200, 201, 204), response.text


def start(env: Env, import_id: str, body: dict[str, Any] | None = None) -> Any:
    return json_post(env, f"/v1/imports/{import_id}/start", body or {}, env.auth("recruiter"))


def status(env: Env, import_id: str) -> dict[str, Any]:
    response = env.client.http.get(f"/v1/imports/{import_id}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def failed_rows(env: Env, import_id: str) -> list[dict[str, str]]:
    response = env.client.http.get(f"/v1/imports/{import_id}/failed-rows", headers=env.auth("recruiter"))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.body.decode())))


def candidate(env: Env, email: str) -> dict[str, Any] | None:
    response = env.client.http.get(f"/v1/candidates?email={email}", headers=env.auth("recruiter"))
    assert response.status_code == 200, response.body
    items = response.json_body["items"]
    assert len(items) <= 1
    if not items:
        return None
    full = env.client.http.get(f"/v1/candidates/{items[0]['id']}", headers=env.auth("recruiter"))
    return dict(full.json_body)


def imported(env: Env, data: bytes, body: dict[str, Any] | None = None) -> dict[str, Any]:
    made = create(env)
    upload(made["upload"], data)
    response = start(env, made["id"], body)
    assert response.status_code == 202, response.body
    drain(env)
    env.pump.drain()
    return status(env, made["id"])


def test_a_good_file_with_bad_rows_is_imported_with_a_report(env: Env) -> None:
    pool = json_post(env, "/v1/pools", {"name": "Imported"}, env.auth("recruiter")).json_body["id"]
    rows = (
        HEADER
        + "ada@example.com,Ada,Lovelace,+44 20 7946 0000,London,https://linkedin.com/in/ada,math;poetry,yes,2024-05-01,\n"
        + "not-an-email,Bad,Row,,,,,,,\n"
        + ",,,,,,,,,\n"
        + "grace@example.com,Grace,Hopper,,Arlington,,,yes,,\n"
        + '=cmd@x,"=HYPERLINK(""x"")",Evil,,,,,,,\n'
        + "alan@example.com,Alan,Turing,,,,,no,,\n"
    )
    made = create(env)
    upload(made["upload"], rows.encode())
    preview = json_post(env, f"/v1/imports/{made['id']}/preview", {}, env.auth("recruiter"))
    assert preview.status_code == 200, preview.body
    guessed = preview.json_body["mapping"]
    assert (
        guessed["E-mail"] == "email" and guessed["Surname"] == "last_name" and guessed["City"] == "location"
    )
    assert guessed["LinkedIn"] == "linkedin_url" and guessed["Consent date"] == "consent_date"
    assert preview.json_body["rows"][0][0] == "ada@example.com" and preview.json_body["problems"] == []
    response = start(env, made["id"], {"tags": ["spring-fair"], "pool_id": pool, "source": "fair-2026"})
    assert response.status_code == 202, response.body
    assert response.json_body["status"] == "queued"
    drain(env)
    env.pump.drain()
    report = status(env, made["id"])
    assert report["status"] == "done" and report["progress"] == 100
    assert report["counts"] | {} == {
        "rows": 6,
        "created": 2,
        "merged": 0,
        "skipped": 1,
        "failed": 3,
        "resumes": 0,
    }
    ada = candidate(env, "ada@example.com")
    assert ada is not None
    assert ada["last_name"] == "Lovelace" and ada["location"] == "London" and ada["source"] == "fair-2026"
    assert set(ada["tags"]) == {"math", "poetry", "spring-fair"}
    assert pool in ada["pools"]
    assert ada["consents"]["marketing"]["granted"] is True
    assert ada["consents"]["marketing"]["at"].startswith("2024-05-01")
    alan = candidate(env, "alan@example.com")
    assert alan is not None and "marketing" not in alan["consents"]
    assert candidate(env, "grace@example.com") is None  # consent without its date: not imported
    failed = failed_rows(env, made["id"])
    assert [f["E-mail"] for f in failed] == ["not-an-email", "grace@example.com", "'=cmd@x"]
    assert failed[0]["reason"].startswith("email")
    assert "date" in failed[1]["reason"]
    assert failed[2]["First name"].startswith("'=")  # formula-safe
    entries = env.client.http.get("/v1/audit?action=import.started", headers=env.auth("admin")).json_body
    assert [e["subject"] for e in entries["items"]] == [f"import:{made['id']}"]


def test_a_known_email_is_merged_and_nothing_a_recruiter_typed_is_overwritten(env: Env) -> None:
    body = {"email": "ada@example.com", "first_name": "Augusta", "last_name": "King", "tags": ["vip"]}
    assert json_post(env, "/v1/candidates", body, env.auth("recruiter")).status_code == 201
    rows = "Email Address,First Name,Last Name,Phone\nADA@example.com ,Ada,Lovelace,+44 20 7946 0000\n"
    report = imported(env, rows.encode(), {"tags": ["imported"]})
    assert report["counts"]["merged"] == 1 and report["counts"]["created"] == 0
    ada = candidate(env, "ada@example.com")
    assert ada is not None
    assert (ada["first_name"], ada["last_name"]) == ("Augusta", "King")  # kept
    assert ada["phone"] == "+44 20 7946 0000"  # a blank filled
    assert set(ada["tags"]) == {"vip", "imported"}


def test_a_file_that_is_not_utf8_fails_with_a_reason(env: Env) -> None:
    made = create(env)
    upload(made["upload"], "email,first_name,last_name\nzoé@example.com,Zoé,Müller\n".encode("latin-1"))
    preview = json_post(env, f"/v1/imports/{made['id']}/preview", {}, env.auth("recruiter"))
    assert preview.status_code == 200 and "UTF-8" in preview.json_body["problems"][0]
    response = start(env, made["id"])
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "file"
    report = status(env, made["id"])
    assert report["status"] == "failed" and "UTF-8" in report["reason"]


def test_no_email_column_is_422_naming_the_mapping(env: Env) -> None:
    made = create(env)
    upload(made["upload"], b"name,phone\nAda Lovelace,+44 20 7946 0000\n")
    preview = json_post(env, f"/v1/imports/{made['id']}/preview", {}, env.auth("recruiter")).json_body
    assert any("email" in p for p in preview["problems"])
    response = start(env, made["id"])
    assert response.status_code == 422
    assert response.json_body["errors"][0]["field"] == "mapping"
    wrong = start(env, made["id"], {"mapping": {"nope": "email"}})
    assert wrong.status_code == 422 and "nope" in wrong.json_body["errors"][0]["message"]
    bad_field = start(env, made["id"], {"mapping": {"name": "salary"}})
    assert bad_field.status_code == 422
    assert status(env, made["id"])["status"] == "created"


def test_start_before_upload_and_unknown_ids_are_client_errors(env: Env) -> None:
    made = create(env)
    assert start(env, made["id"]).status_code == 422
    assert env.client.http.get("/v1/imports/nope", headers=env.auth("recruiter")).status_code == 404
    assert json_post(env, "/v1/imports/nope/preview", {}, env.auth("recruiter")).status_code == 404
    assert json_post(env, "/v1/imports", {"bogus": 1}, env.auth("recruiter")).status_code == 422


def test_a_dry_run_writes_no_candidate(env: Env) -> None:
    rows = "email,first_name,last_name\n" + "".join(f"p{i}@example.com,P,{i}\n" for i in range(5))
    report = imported(env, rows.encode(), {"dry_run": True})
    assert report["status"] == "done" and report["dry_run"] is True
    assert report["counts"]["created"] == 5
    assert candidate(env, "p0@example.com") is None


def test_a_crash_mid_file_resumes_from_the_checkpoint(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "email,first_name,last_name\n" + "".join(f"p{i}@example.com,P,N{i}\n" for i in range(25))
    made = create(env)
    upload(made["upload"], rows.encode())
    assert start(env, made["id"]).status_code == 202
    original = ImportService._row
    seen: list[int] = []

    def crashing(self: ImportService, run: Any, cells: list[str], bad: bool, number: int, *a: Any) -> None:
        seen.append(number)
        if number == 15 and seen.count(15) == 1:
            raise RuntimeError("the worker died")
        original(self, run, cells, bad, number, *a)

    monkeypatch.setattr(ImportService, "_row", crashing)
    monkeypatch.setattr(ImportService, "__init__", _chunked(ImportService.__init__, 10))
    sqs = boto3.client("sqs", region_name="us-east-1")
    body = sqs.receive_message(QueueUrl=env.stack.queues["import"])["Messages"][0]["Body"]
    with pytest.raises(RuntimeError):
        ImportService().run(json.loads(body)["import_id"])
    halfway = status(env, made["id"])
    assert halfway["status"] == "running" and halfway["counts"]["rows"] == 10 and halfway["chunks"] == 1
    ImportService().run(made["id"])  # the message comes back: carry on from the checkpoint
    report = status(env, made["id"])
    assert report["status"] == "done" and report["counts"]["rows"] == 25
    assert report["counts"]["created"] + report["counts"]["merged"] == 25
    assert seen.count(5) == 1 and seen.count(15) == 2  # the committed chunk was not read again
    people = CandidateService()
    assert all(people.find_id_by_email(f"p{i}@example.com") for i in range(25))


def _chunked(init: Any, rows: int) -> Any:
    def patched(self: ImportService, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **{**kwargs, "chunk_rows": rows})

    return patched


def test_resumes_from_a_zip_are_attached(env: Env) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("cvs/ada.pdf", pdf_with_text("Ada Lovelace resume"))
        zipped.writestr("cvs/notes.txt", b"not a resume")
    made = create(env, with_resumes=True)
    upload(
        made["upload"],
        b"email,first_name,last_name,resume\nada@example.com,Ada,L,ada.pdf\nbob@example.com,Bob,B,notes.txt\n",
    )
    upload(made["resumes_upload"], archive.getvalue(), "resumes.zip")
    assert start(env, made["id"]).status_code == 202
    drain(env)
    report = status(env, made["id"])
    assert report["counts"]["resumes"] == 1 and report["counts"]["created"] == 2
    env.pump.drain()
    ada = candidate(env, "ada@example.com")
    assert ada is not None
    resumes = env.client.http.get(f"/v1/candidates/{ada['id']}/resumes", headers=env.auth("recruiter"))
    assert resumes.status_code == 200 and len(resumes.json_body["items"]) == 1
    notes = failed_rows(env, made["id"])
    assert [n["email"] for n in notes] == ["bob@example.com"] and notes[0]["reason"].startswith(
        "imported, but"
    )


def test_a_worker_short_of_time_queues_its_continuation(env: Env) -> None:
    rows = "email,first_name,last_name\n" + "".join(f"q{i}@example.com,Q,N{i}\n" for i in range(12))
    made = create(env)
    upload(made["upload"], rows.encode())
    queued: list[str] = []
    service = ImportService(enqueue=queued.append, chunk_rows=5)
    service.start(made["id"], ImportStart(), actor="test")
    left = iter([60_000, 1_000])  # enough for one chunk, then too little
    run = service.run(made["id"], remaining_ms=lambda: next(left))
    assert run is not None and run.status == "running" and run.counts.rows == 5
    assert queued == [made["id"], made["id"]]  # the start, then the continuation
    done = service.run(made["id"], remaining_ms=lambda: 60_000)
    assert done is not None and done.status == "done" and done.counts.created == 12


def test_a_row_that_is_not_utf8_after_the_first_block_fails_alone(env: Env) -> None:
    good = "".join(f"r{i}@example.com,R,N{i}\n" for i in range(4000)).encode()  # past the preview
    data = (
        b"email,first_name,last_name\n" + good + b"zo\xe9@example.com,Zo\xe9,M\n" + b"last@example.com,L,N\n"
    )
    report = imported(env, data, {"dry_run": True})
    assert report["status"] == "done"
    assert report["counts"] | {} == {
        "rows": 4002,
        "created": 4001,
        "merged": 0,
        "skipped": 0,
        "failed": 1,
        "resumes": 0,
    }
    (failed,) = failed_rows(env, report["id"])
    assert "UTF-8" in failed["reason"]
