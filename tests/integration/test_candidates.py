"""The candidate aggregate through the HTTP API: dedupe and merge, concurrency, timeline,
notes, pools, lists and erasure."""

import io
import json
import zipfile

import boto3
from urllib3 import encode_multipart_formdata

from tests.integration.conftest import json_post

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def create(env, **fields):
    body = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", **fields}
    r = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
    assert r.status_code == 201, r.body
    return r.json_body


def get(env, cid):
    r = env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter"))
    assert r.status_code == 200, r.body
    return r.json_body


def timeline(env, cid):
    r = env.client.http.get(f"/v1/candidates/{cid}/timeline?limit=100", headers=env.auth("recruiter"))
    assert r.status_code == 200, r.body
    return r.json_body["items"]


def find_by_email(env, email):
    env.pump.drain()
    r = env.client.http.get(f"/v1/candidates?email={email}", headers=env.auth("recruiter"))
    assert r.status_code == 200, r.body
    return r.json_body["items"]


def test_created_candidate_has_the_contract_fields(env):
    c = create(env, tags=["Python"], source="referral")
    for field in (
        "id",
        "email",
        "first_name",
        "last_name",
        "tags",
        "source",
        "version",
        "created_at",
        "updated_at",
    ):
        assert field in c
    assert (c["tags"], c["source"], c["version"]) == (["python"], "referral", 1)
    assert get(env, c["id"]) == c
    assert [a["kind"] for a in timeline(env, c["id"])] == ["created"]


def test_known_email_merges_without_overwriting_what_a_recruiter_entered(env):
    c = create(env, location="Berlin", tags=["python"])
    r = json_post(
        env,
        "/public/talent-network",
        {
            "email": "  ANN@Example.com",
            "first_name": "Annie",
            "last_name": "Leigh",
            "location": "Paris",
            "phone": "+33 1 23",
            "tags": ["aws", "python"],
            "marketing_consent": True,
            "utm_source": "newsletter",
        },
    )
    assert r.status_code == 202 and r.json_body == {"status": "received"}
    merged = get(env, c["id"])
    assert (merged["first_name"], merged["last_name"], merged["location"]) == ("Ann", "Lee", "Berlin")
    assert merged["phone"] == "+33 1 23"  # missing, so filled
    assert merged["tags"] == ["aws", "python"]
    assert merged["sources"] == ["api", "talent-network"]
    assert merged["consents"]["marketing"]["granted"] is True
    assert merged["version"] == 2
    assert [a["kind"] for a in timeline(env, c["id"])] == ["merged", "created"]
    assert len(find_by_email(env, "ann@example.com")) == 1


def test_new_and_known_email_get_the_same_answer(env):
    body = {"email": "new@example.com", "first_name": "N", "last_name": "P"}
    first = json_post(env, "/public/talent-network", body)
    second = json_post(env, "/public/talent-network", body)
    assert (
        (first.status_code, first.json_body)
        == (second.status_code, second.json_body)
        == (202, {"status": "received"})
    )
    assert len(find_by_email(env, "new@example.com")) == 1


def test_application_with_resume_stores_it_privately_and_links_it(env):
    job = json_post(
        env, "/v1/jobs", {"title": "Data Engineer", "tags": ["python"]}, env.auth("recruiter")
    ).json_body
    for filename, data in (("cv.pdf", PDF), ("cv.docx", docx_bytes())):
        body, content_type = encode_multipart_formdata(
            {
                "email": "cv@example.com",
                "first_name": "Cy",
                "last_name": "Vee",
                "tags": "python",
                "resume": (filename, data, "application/octet-stream"),
            }
        )
        r = env.client.http.post(
            f"/public/jobs/{job['id']}/applications", body=body, headers={"Content-Type": content_type}
        )
        assert r.status_code == 202, r.body
    [candidate] = find_by_email(env, "cv@example.com")
    apps = env.client.http.get(
        f"/v1/candidates/{candidate['id']}/applications", headers=env.auth("recruiter")
    )
    [application] = apps.json_body["items"]
    assert application["job_id"] == job["id"] and application["resume_key"].endswith(".docx")
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=env.stack.bucket)["Contents"]]
    assert len(keys) == 2 and all(k.startswith(f"resumes/{candidate['id']}/") for k in keys)
    head = s3.head_object(Bucket=env.stack.bucket, Key=application["resume_key"])
    assert head["ServerSideEncryption"] == "AES256"
    link = env.client.http.get(
        f"/v1/candidates/{candidate['id']}/applications/{job['id']}/resume", headers=env.auth("recruiter")
    )
    assert link.status_code == 200 and "X-Amz-Signature" in link.json_body["url"]
    applicants = env.client.http.get(f"/v1/jobs/{job['id']}/applications", headers=env.auth("recruiter"))
    assert [a["candidate_id"] for a in applicants.json_body["items"]] == [candidate["id"]]


def test_stale_version_is_a_conflict_and_nothing_is_lost(env):
    c = create(env)
    ok = env.client.http.patch(
        f"/v1/candidates/{c['id']}",
        body=json.dumps({"version": 1, "location": "Oslo"}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert ok.status_code == 200 and ok.json_body["version"] == 2
    stale = env.client.http.patch(
        f"/v1/candidates/{c['id']}",
        body=json.dumps({"version": 1, "location": "Rome"}),
        headers={"Content-Type": "application/json", **env.auth("admin")},
    )
    assert stale.status_code == 409
    assert stale.headers["Content-Type"] == "application/problem+json"
    assert stale.json_body["current"]["location"] == "Oslo"
    assert get(env, c["id"])["location"] == "Oslo"
    assert [a["kind"] for a in timeline(env, c["id"])] == ["updated", "created"]


def test_email_change_moves_the_uniqueness_guard(env):
    a = create(env)
    create(env, email="bob@example.com", first_name="Bob")
    taken = env.client.http.patch(
        f"/v1/candidates/{a['id']}",
        body=json.dumps({"version": 1, "email": "BOB@example.com"}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert taken.status_code == 409
    moved = env.client.http.patch(
        f"/v1/candidates/{a['id']}",
        body=json.dumps({"version": 1, "email": "ann@new.org"}),
        headers={"Content-Type": "application/json", **env.auth("recruiter")},
    )
    assert moved.status_code == 200, moved.body
    # the old address is free again; the new one is guarded
    assert (
        json_post(
            env,
            "/v1/candidates",
            {"email": "ann@example.com", "first_name": "X", "last_name": "Y"},
            env.auth("recruiter"),
        ).status_code
        == 201
    )
    dup = json_post(
        env,
        "/v1/candidates",
        {"email": "ann@new.org", "first_name": "X", "last_name": "Y"},
        env.auth("recruiter"),
    )
    assert dup.status_code == 409 and dup.json_body["existing_id"] == a["id"]


def test_notes_pools_and_timeline(env):
    c = create(env)
    note = json_post(
        env, f"/v1/candidates/{c['id']}/notes", {"body": "Great call <b>today</b>"}, env.auth("recruiter")
    )
    assert note.status_code == 201 and note.json_body["body"] == "Great call <b>today</b>"
    pool = json_post(env, "/v1/pools", {"name": "Backend"}, env.auth("recruiter")).json_body
    added = json_post(
        env,
        f"/v1/pools/{pool['id']}/members",
        {"candidate_id": c["id"], "stage": "interview"},
        env.auth("recruiter"),
    )
    assert added.status_code == 201 and added.json_body["pools"] == {pool["id"]: "interview"}
    env.pump.drain()
    members = env.client.http.get(f"/v1/pools/{pool['id']}/members", headers=env.auth("recruiter")).json_body
    assert [(m["candidate"]["id"], m["stage"]) for m in members["items"]] == [(c["id"], "interview")]
    removed = env.client.http.delete(
        f"/v1/pools/{pool['id']}/members/{c['id']}", headers=env.auth("recruiter")
    )
    assert removed.status_code == 204
    env.pump.drain()
    assert (
        env.client.http.get(f"/v1/pools/{pool['id']}/members", headers=env.auth("recruiter")).json_body[
            "items"
        ]
        == []
    )
    kinds = [a["kind"] for a in timeline(env, c["id"])]
    assert kinds == ["pool_removed", "pool_stage_set", "note_added", "created"]
    notes = env.client.http.get(f"/v1/candidates/{c['id']}/notes", headers=env.auth("recruiter")).json_body
    assert [n["id"] for n in notes["items"]] == [note.json_body["id"]]


def test_filters_and_cursor_pagination(env):
    for i in range(7):
        create(
            env,
            email=f"p{i}@example.com",
            first_name=f"Zoë{i}",
            last_name="Smith",
            tags=["python"] if i % 2 == 0 else ["java"],
            source="referral" if i < 3 else "api",
        )
    env.pump.drain()
    h = env.auth("recruiter")

    def ids(query):
        seen, cursor = [], None
        while True:
            r = env.client.http.get(
                f"/v1/candidates?{query}&limit=2" + (f"&cursor={cursor}" if cursor else ""), headers=h
            )
            assert r.status_code == 200, r.body
            seen += [c["email"] for c in r.json_body["items"]]
            cursor = r.json_body["next_cursor"]
            if not cursor:
                return seen

    assert len(ids("x=1")) == 7
    assert sorted(ids("tag=python")) == [
        "p0@example.com",
        "p2@example.com",
        "p4@example.com",
        "p6@example.com",
    ]
    assert sorted(ids("source=referral")) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert sorted(ids("tag=python&source=referral")) == ["p0@example.com", "p2@example.com"]
    assert len(ids("q=zoe")) == 7 and len(ids("q=ZOË3")) == 1 and len(ids("q=smi")) == 7
    assert ids("q=p5@") == ["p5@example.com"]
    assert ids("email=P6@Example.com") == ["p6@example.com"]


def test_erasure_leaves_nothing_that_holds_the_person(env):
    job = json_post(env, "/v1/jobs", {"title": "SRE"}, env.auth("recruiter")).json_body
    body, content_type = encode_multipart_formdata(
        {
            "email": "Erin.Unique@example.com",
            "first_name": "Erinna",
            "last_name": "Quixotic",
            "resume": ("cv.pdf", PDF, "application/pdf"),
        }
    )
    assert (
        env.client.http.post(
            f"/public/jobs/{job['id']}/applications", body=body, headers={"Content-Type": content_type}
        ).status_code
        == 202
    )
    [c] = find_by_email(env, "erin.unique@example.com")
    json_post(
        env, f"/v1/candidates/{c['id']}/notes", {"body": "Erinna Quixotic called"}, env.auth("recruiter")
    )
    pool = json_post(env, "/v1/pools", {"name": "P"}, env.auth("recruiter")).json_body
    json_post(env, f"/v1/pools/{pool['id']}/members", {"candidate_id": c["id"]}, env.auth("recruiter"))
    env.pump.drain()
    assert (
        env.client.http.delete(f"/v1/candidates/{c['id']}", headers=env.auth("recruiter")).status_code == 403
    )
    assert env.client.http.delete(f"/v1/candidates/{c['id']}", headers=env.auth("admin")).status_code == 204
    env.pump.drain()
    ddb, s3 = boto3.client("dynamodb"), boto3.client("s3")
    items = ddb.scan(TableName=env.stack.table)["Items"]
    dump = json.dumps(items).lower()
    for needle in ("erin.unique", "erinna", "quixotic"):
        assert needle not in dump
    versions = s3.list_object_versions(Bucket=env.stack.bucket)
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    assert env.client.http.get(f"/v1/candidates/{c['id']}", headers=env.auth("admin")).status_code == 404
    assert env.client.http.delete(f"/v1/candidates/{c['id']}", headers=env.auth("admin")).status_code == 404
    # the email is free again
    assert (
        json_post(
            env,
            "/public/talent-network",
            {"email": "erin.unique@example.com", "first_name": "E", "last_name": "Q"},
        ).status_code
        == 202
    )
    assert len(find_by_email(env, "erin.unique@example.com")) == 1
