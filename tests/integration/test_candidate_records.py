"""A candidate's resumes (from every source, the newest current), where they came from (first and
last touch) and the calls and meetings a recruiter logs: through the API, on the profile page, in
the portal's download and in erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from tests.integration.conftest import Env, json_post
from tests.integration.test_candidates import PDF, docx_bytes, find_by_email, get, timeline
from tests.integration.test_ui import csrf_of, header, session
from tests.integration.test_ui import get as ui_get
from tests.support.documents import pdf_with_text

__all__ = ["session"]


def apply(env: Env, path: str, fields: dict[str, Any], resume: tuple[str, bytes] | None = None) -> Any:
    parts: dict[str, Any] = dict(fields)
    if resume is not None:
        parts["resume"] = (resume[0], resume[1], "application/octet-stream")
    body, content_type = encode_multipart_formdata(parts)
    return env.client.http.post(path, body=body, headers={"Content-Type": content_type})


def upload(env: Env, cid: str, filename: str, data: bytes, who: str = "recruiter") -> Any:
    body, content_type = encode_multipart_formdata({"resume": (filename, data, "application/pdf")})
    return env.client.http.post(
        f"/v1/candidates/{cid}/resumes", body=body, headers={"Content-Type": content_type, **env.auth(who)}
    )


def resumes(env: Env, cid: str) -> list[dict[str, Any]]:
    r = env.client.http.get(f"/v1/candidates/{cid}/resumes", headers=env.auth("recruiter"))
    assert r.status_code == 200, r.body
    return list(r.json_body["items"])


def new_job(env: Env, title: str = "Data Engineer") -> str:
    return str(
        json_post(env, "/v1/jobs", {"title": title, "tags": ["python"]}, env.auth("recruiter")).json_body[
            "id"
        ]
    )


PERSON = {"email": "rita@example.com", "first_name": "Rita", "last_name": "Resume"}


# ------------------------------------------------------------------------------- resumes


def test_resumes_from_a_sign_up_an_application_and_a_recruiter_are_listed_newest_first(env: Env) -> None:
    assert apply(env, "/public/talent-network", PERSON, ("My CV.pdf", PDF)).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    cid = person["id"]
    [signup] = resumes(env, cid)
    assert signup["source"] == "signup" and signup["current"] is True
    assert (signup["file_name"], signup["content_type"], signup["size"]) == (
        "My CV.pdf",
        "application/pdf",
        len(PDF),
    )
    job = new_job(env)
    assert (
        apply(env, f"/public/jobs/{job}/applications", PERSON, ("cv.docx", docx_bytes())).status_code == 202
    )
    uploaded = upload(env, cid, "C:\\Users\\rita\\latest.pdf", PDF)
    assert uploaded.status_code == 201, uploaded.body
    assert uploaded.json_body["file_name"] == "latest.pdf" and uploaded.json_body["source"] == "recruiter"
    listed = resumes(env, cid)
    assert [(r["source"], r["job_id"], r["current"]) for r in listed] == [
        ("recruiter", None, True),
        ("application", job, False),
        ("signup", None, False),
    ]
    assert set(listed[0]) == {
        "id",
        "file_name",
        "content_type",
        "size",
        "source",
        "job_id",
        "uploaded_at",
        "current",
    }
    # every one of them downloads; the application's old route still works
    paths = set()
    for r in listed:
        link = env.client.http.get(f"/v1/candidates/{cid}/resumes/{r['id']}", headers=env.auth("recruiter"))
        assert link.status_code == 200 and "X-Amz-Signature" in link.json_body["url"]
        assert link.json_body["expires_in"] == 300
        paths.add(urlsplit(link.json_body["url"]).path)
    assert len(paths) == 3 and all(f"resumes/{cid}/" in p for p in paths)
    old = env.client.http.get(
        f"/v1/candidates/{cid}/applications/{job}/resume", headers=env.auth("recruiter")
    )
    assert old.status_code == 200
    kinds = [a["kind"] for a in timeline(env, cid)]
    assert kinds[0] == "resume_added"


def test_an_upload_is_checked_as_the_public_forms_check_it(env: Env) -> None:
    cid = json_post(env, "/v1/candidates", PERSON, env.auth("recruiter")).json_body["id"]
    bad = upload(env, cid, "cv.pdf", b"not a resume at all")
    assert bad.status_code == 422 and bad.json_body["errors"][0]["field"] == "resume"
    big = upload(env, cid, "cv.pdf", PDF + b"0" * (5 * 1024 * 1024))
    assert big.status_code == 422 and "5 MB" in big.json_body["errors"][0]["message"]
    empty = upload(env, cid, "cv.pdf", b"")
    assert empty.status_code == 422
    body, content_type = encode_multipart_formdata({"other": "x"})
    missing = env.client.http.post(
        f"/v1/candidates/{cid}/resumes",
        body=body,
        headers={"Content-Type": content_type, **env.auth("recruiter")},
    )
    assert missing.status_code == 422 and missing.json_body["errors"][0]["field"] == "resume"
    as_json = json_post(env, f"/v1/candidates/{cid}/resumes", {"resume": "x"}, env.auth("recruiter"))
    assert as_json.status_code == 415
    nobody = upload(env, "0" * 32, "cv.pdf", PDF)
    assert nobody.status_code == 404
    assert resumes(env, cid) == []
    assert not boto3.client("s3").list_objects_v2(Bucket=env.stack.bucket).get("Contents")
    unknown = env.client.http.get(f"/v1/candidates/{cid}/resumes/nope", headers=env.auth("recruiter"))
    assert unknown.status_code == 404 and unknown.headers["Content-Type"] == "application/problem+json"


def test_a_person_whose_application_resume_came_before_the_list_still_has_it_listed(env: Env) -> None:
    job = new_job(env)
    assert apply(env, f"/public/jobs/{job}/applications", PERSON, ("cv.pdf", PDF)).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    cid = person["id"]
    ddb = boto3.client("dynamodb")
    items = ddb.query(
        TableName=env.stack.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :r)",
        ExpressionAttributeValues={":pk": {"S": f"CAND#{cid}"}, ":r": {"S": "RESUME#"}},
    )["Items"]
    for item in items:  # as the data was before resume items existed
        ddb.delete_item(TableName=env.stack.table, Key={"pk": item["pk"], "sk": item["sk"]})
    [legacy] = resumes(env, cid)
    assert (legacy["id"], legacy["source"], legacy["job_id"], legacy["current"]) == (
        f"app-{job}",
        "application",
        job,
        True,
    )
    assert legacy["size"] is None
    link = env.client.http.get(f"/v1/candidates/{cid}/resumes/{legacy['id']}", headers=env.auth("recruiter"))
    assert link.status_code == 200


def test_a_sign_up_resume_is_found_by_free_text_search(env: Env) -> None:
    assert (
        apply(
            env,
            "/public/talent-network",
            PERSON,
            ("cv.pdf", pdf_with_text("Zanzibarian kubernetes wrangler")),
        ).status_code
        == 202
    )
    env.pump.drain()
    env.pump.drain()
    found = env.client.http.get("/v1/candidates?q=zanzibarian", headers=env.auth("recruiter"))
    assert [c["email"] for c in found.json_body["items"]] == [PERSON["email"]]


# ------------------------------------------------------------------------------- first and last touch


def test_a_sign_up_then_an_application_give_the_first_and_the_last_touch(env: Env) -> None:
    signup = {
        **PERSON,
        "utm_source": "linkedin",
        "utm_medium": "social",
        "utm_campaign": "spring",
        "referral_code": "R1",
    }
    assert json_post(env, "/public/talent-network", signup).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    first = get(env, person["id"])
    assert first["first_touch"] == first["last_touch"]
    assert first["first_touch"]["form"] == "signup" and first["first_touch"]["source"] == "talent-network"
    assert first["first_touch"]["utm_source"] == "linkedin" and first["first_touch"]["referral_code"] == "R1"
    job = new_job(env)
    application = {**PERSON, "utm_source": "newsletter", "utm_campaign": "autumn"}
    assert json_post(env, f"/public/jobs/{job}/applications", application).status_code == 202
    after = get(env, person["id"])
    assert after["first_touch"] == first["first_touch"]
    last = after["last_touch"]
    assert (last["form"], last["source"], last["job_id"]) == ("application", "job-application", job)
    assert (last["utm_source"], last["utm_campaign"], last.get("utm_medium"), last.get("referral_code")) == (
        "newsletter",
        "autumn",
        None,
        None,
    )
    assert last["at"] >= first["first_touch"]["at"]


def test_replayed_and_duplicated_forms_do_not_corrupt_the_touches(env: Env) -> None:
    job = new_job(env)
    body = {**PERSON, "utm_source": "google"}
    key = {"Idempotency-Key": "form-1"}
    assert json_post(env, f"/public/jobs/{job}/applications", body, key).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    before = get(env, person["id"])
    assert json_post(env, f"/public/jobs/{job}/applications", body, key).status_code == 202  # a replay
    assert get(env, person["id"]) == before
    assert json_post(env, "/public/talent-network", body).status_code == 202  # the same person again
    again = get(env, person["id"])
    assert again["first_touch"] == before["first_touch"]
    assert again["last_touch"]["form"] == "signup" and again["last_touch"]["utm_source"] == "google"
    # a recruiter's edit is no touch
    patched = env.client.http.patch(
        f"/v1/candidates/{person['id']}",
        body=json.dumps({"version": again["version"], "location": "Oslo"}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert patched.status_code == 200
    assert (patched.json_body["first_touch"], patched.json_body["last_touch"]) == (
        again["first_touch"],
        again["last_touch"],
    )


def test_creation_through_the_api_is_the_first_touch_and_campaign_fields_are_checked(env: Env) -> None:
    created = json_post(
        env, "/v1/candidates", {**PERSON, "utm_source": "fair"}, env.auth("recruiter")
    ).json_body
    assert created["first_touch"]["form"] == "api" and created["first_touch"]["utm_source"] == "fair"
    for path in ("/public/talent-network", f"/public/jobs/{new_job(env)}/applications"):
        too_long = json_post(env, path, {**PERSON, "email": "x@example.com", "utm_campaign": "c" * 201})
        assert too_long.status_code == 422
        assert [e["field"] for e in too_long.json_body["errors"]] == ["utm_campaign"]
    api = json_post(
        env,
        "/v1/candidates",
        {**PERSON, "email": "y@example.com", "referral_code": "r" * 201},
        env.auth("recruiter"),
    )
    assert api.status_code == 422 and [e["field"] for e in api.json_body["errors"]] == ["referral_code"]
    assert find_by_email(env, "x@example.com") == []


def test_the_portal_download_carries_the_touches(env: Env) -> None:
    from crm.candidates.service import CandidateService
    from crm.portal.service import export

    assert json_post(env, "/public/talent-network", {**PERSON, "utm_source": "meetup"}).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    data = export(CandidateService().get(person["id"]))
    assert data["profile"]["first_touch"]["utm_source"] == "meetup"
    assert data["profile"]["last_touch"]["form"] == "signup"


# ------------------------------------------------------------------------------- calls and meetings


def log(env: Env, cid: str, body: dict[str, Any], who: str = "recruiter") -> Any:
    return json_post(env, f"/v1/candidates/{cid}/interactions", body, env.auth(who))


def test_calls_and_meetings_are_logged_listed_newest_first_and_on_the_timeline(env: Env) -> None:
    cid = json_post(env, "/v1/candidates", PERSON, env.auth("recruiter")).json_body["id"]
    earlier = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    meeting = log(
        env,
        cid,
        {
            "kind": "meeting",
            "outcome": "held",
            "happened_at": earlier,
            "duration_minutes": 45,
            "notes": "Keen on remote",
        },
    )
    assert meeting.status_code == 201, meeting.body
    call = log(env, cid, {"kind": "call", "outcome": "left_voicemail"})
    assert call.status_code == 201
    assert call.json_body["happened_at"] > meeting.json_body["happened_at"]
    page = env.client.http.get(
        f"/v1/candidates/{cid}/interactions?limit=1", headers=env.auth("recruiter")
    ).json_body
    assert [i["outcome"] for i in page["items"]] == ["left_voicemail"] and page["next_cursor"]
    rest = env.client.http.get(
        f"/v1/candidates/{cid}/interactions?limit=1&cursor={page['next_cursor']}",
        headers=env.auth("recruiter"),
    ).json_body
    assert [(i["kind"], i["duration_minutes"], i["notes"]) for i in rest["items"]] == [
        ("meeting", 45, "Keen on remote")
    ]
    entries = [a for a in timeline(env, cid) if a["kind"] == "interaction_logged"]
    assert len(entries) == 2 and entries[0]["detail"]["outcome"] == "left_voicemail"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "email", "outcome": "reached"}, "kind"),
        ({"kind": "call", "outcome": "maybe"}, "outcome"),
        ({"kind": "call"}, "outcome"),
        ({"kind": "call", "outcome": "reached", "duration_minutes": 0}, "duration_minutes"),
        ({"kind": "call", "outcome": "reached", "duration_minutes": 601}, "duration_minutes"),
        ({"kind": "call", "outcome": "reached", "happened_at": "yesterday"}, "happened_at"),
        ({"kind": "call", "outcome": "reached", "happened_at": "2026-01-01T10:00:00"}, "happened_at"),
        ({"kind": "call", "outcome": "reached", "happened_at": "2999-01-01T10:00:00Z"}, "happened_at"),
        ({"kind": "call", "outcome": "reached", "notes": "   "}, "notes"),
        ({"kind": "call", "outcome": "reached", "notes": "n" * 10_001}, "notes"),
        ({"kind": "call", "outcome": "reached", "extra": 1}, "extra"),
    ],
)
def test_bad_interactions_are_422_naming_the_field(env: Env, body: dict[str, Any], field: str) -> None:
    cid = json_post(env, "/v1/candidates", PERSON, env.auth("recruiter")).json_body["id"]
    r = log(env, cid, body)
    assert r.status_code == 422, r.body
    assert field in [e["field"] for e in r.json_body["errors"]]
    listed = env.client.http.get(f"/v1/candidates/{cid}/interactions", headers=env.auth("recruiter"))
    assert listed.json_body["items"] == []


def test_an_interaction_for_nobody_is_404(env: Env) -> None:
    assert log(env, "0" * 32, {"kind": "call", "outcome": "reached"}).status_code == 404
    assert (
        env.client.http.get(
            f"/v1/candidates/{'0' * 32}/interactions", headers=env.auth("recruiter")
        ).status_code
        == 404
    )


# ------------------------------------------------------------------------------- erasure


def test_erasure_removes_every_resume_and_interaction(env: Env) -> None:
    job = new_job(env)
    person = {"email": "zed.unique@example.com", "first_name": "Zedrina", "last_name": "Quaxley"}
    assert apply(env, "/public/talent-network", person, ("cv.pdf", PDF)).status_code == 202
    assert (
        apply(env, f"/public/jobs/{job}/applications", person, ("cv.docx", docx_bytes())).status_code == 202
    )
    [found] = find_by_email(env, person["email"])
    cid = found["id"]
    assert upload(env, cid, "Zedrina Quaxley.pdf", PDF).status_code == 201
    assert (
        log(
            env, cid, {"kind": "call", "outcome": "reached", "notes": "Zedrina Quaxley wants Berlin"}
        ).status_code
        == 201
    )
    env.pump.drain()
    assert len(boto3.client("s3").list_objects_v2(Bucket=env.stack.bucket)["Contents"]) == 3
    assert env.client.http.delete(f"/v1/candidates/{cid}", headers=env.auth("admin")).status_code == 204
    env.pump.drain()
    items = boto3.client("dynamodb").scan(TableName=env.stack.table)["Items"]
    dump = json.dumps(items).lower()
    for needle in ("zed.unique", "zedrina", "quaxley", cid):
        if needle == cid:
            assert all(not i["pk"]["S"].startswith(f"CAND#{cid}") for i in items)
        else:
            assert needle not in dump
    versions = boto3.client("s3").list_object_versions(Bucket=env.stack.bucket)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")


# ------------------------------------------------------------------------------- the profile page


def multipart_post(env: Env, path: str, fields: dict[str, Any], cookie: str) -> Any:
    body, content_type = encode_multipart_formdata(fields)
    return env.client.http.post(path, body=body, headers={"Content-Type": content_type, "Cookie": cookie})


def test_profile_shows_where_they_came_from_and_uploads_a_resume(env: Env, session: str) -> None:
    assert json_post(env, "/public/talent-network", {**PERSON, "utm_source": "podcast"}).status_code == 202
    [person] = find_by_email(env, PERSON["email"])
    cid = person["id"]
    page = ui_get(env, f"/ui/candidates/{cid}", session)
    html = page.body.decode()
    assert "Where they came from" in html and "podcast" in html and "No resume yet." in html
    csrf = csrf_of(page.body)
    bad = multipart_post(
        env,
        f"/ui/candidates/{cid}/resumes",
        {"csrf": csrf, "resume": ("x.pdf", b"hello", "application/pdf")},
        session,
    )
    assert bad.status_code == 422 and "must be a PDF, DOC or DOCX file" in bad.body.decode()
    big = multipart_post(
        env,
        f"/ui/candidates/{cid}/resumes",
        {"csrf": csrf, "resume": ("x.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")},
        session,
    )
    assert big.status_code == 422 and "5 MB" in big.body.decode()
    forged = multipart_post(
        env,
        f"/ui/candidates/{cid}/resumes",
        {"csrf": "nope", "resume": ("x.pdf", PDF, "application/pdf")},
        session,
    )
    assert forged.status_code == 403
    assert resumes(env, cid) == []
    for name in ("first.pdf", "second.pdf"):
        ok = multipart_post(
            env,
            f"/ui/candidates/{cid}/resumes",
            {"csrf": csrf, "resume": (name, PDF, "application/pdf")},
            session,
        )
        assert ok.status_code == 303 and header(ok, "location").endswith("?done=resume#resume")
    html = ui_get(env, f"/ui/candidates/{cid}", session).body.decode()
    assert "Download second.pdf" in html and "Earlier resumes (1)" in html and "first.pdf" in html
    current = resumes(env, cid)[0]
    download = ui_get(env, f"/ui/candidates/{cid}/resumes/{current['id']}", session)
    assert download.status_code == 303 and "X-Amz-Signature" in header(download, "location")


def test_profile_logs_a_call_without_javascript(env: Env, session: str) -> None:
    from urllib.parse import urlencode

    cid = json_post(env, "/v1/candidates", PERSON, env.auth("recruiter")).json_body["id"]
    csrf = csrf_of(ui_get(env, f"/ui/candidates/{cid}", session).body)
    form = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session}

    def post(fields: dict[str, str]) -> Any:
        return env.client.http.post(
            f"/ui/candidates/{cid}/interactions",
            body=urlencode({"csrf": csrf, **fields}).encode(),
            headers=form,
        )

    future = post(
        {"kind": "call", "outcome": "reached", "happened_at": "2999-01-01T10:00", "notes": "<b>typed</b>"}
    )
    assert future.status_code == 422
    html = future.body.decode()
    assert "must not be in the future" in html and "&lt;b&gt;typed&lt;/b&gt;" in html
    long = post({"kind": "call", "outcome": "reached", "duration_minutes": "900"})
    assert long.status_code == 422 and 'id="e-i-duration"' in long.body.decode()
    ok = post({"kind": "meeting", "outcome": "no_show", "duration_minutes": "30", "notes": "Did not come"})
    assert ok.status_code == 303 and header(ok, "location").endswith("#interactions")
    html = ui_get(env, f"/ui/candidates/{cid}", session).body.decode()
    assert (
        "They did not show" in html and "Did not come" in html and "Meeting logged: no show, 30 min" in html
    )


def test_a_person_added_in_the_ui_came_from_the_ui(env: Env, session: str) -> None:
    from urllib.parse import urlencode

    csrf = csrf_of(ui_get(env, "/ui/candidates/new", session).body)
    fields = {"csrf": csrf, "first_name": "Uli", "last_name": "Ui", "email": "uli@example.com"}
    created = env.client.http.post(
        "/ui/candidates",
        body=urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": session},
    )
    assert created.status_code == 303
    cid = header(created, "location").split("/ui/candidates/", 1)[1].split("?", 1)[0]
    touch = get(env, cid)["first_touch"]
    assert (touch["form"], touch["source"]) == ("ui", "recruiter")
    assert "Added by a recruiter" in ui_get(env, f"/ui/candidates/{cid}", session).body.decode()
