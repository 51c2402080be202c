"""Free-text search (``q``): names, email, tags, location, notes and the text of resumes, every
word must start a word of the person, ranked by where the longest word matched, in cursor pages
— checked against a brute-force filter over the demo data, and through erasure, replays, bad
cursors and files that do not parse."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from urllib3 import encode_multipart_formdata

from crm.candidates import words as w
from crm.candidates.search import FreeTextIndex
from crm_tools.devstack.moto import install_fast_dynamodb, install_fast_transactions
from crm_tools.seed import demo_data
from tests.integration.conftest import Env, json_post
from tests.support.documents import docx_with_text, pdf_with_text

RESUMES = {
    0: ("cv.pdf", pdf_with_text("Senior Kubernetes engineer", "Terraform, Go and Rust in production")),
    1: ("cv.docx", docx_with_text("Data scientist", "PyTorch, pandas and Spark; based near Hamburg")),
    2: ("cv.pdf", pdf_with_text("Staff engineer: Elixir and Erlang/OTP", "Zurich")),
}
QUERIES = [
    "python berlin",
    "pyth",
    "berlin python meetup",
    "kubernetes",
    "kube terra",
    "pytorch hamburg",
    "erlang",
    "figma",
    "relocate berlin",
    "hypothesis",
    "java",
    "sales german",
    "remote",
    "example.com",
    "ma",  # short words alone: the name index, as before
    "nobody-matches-this",
]


@pytest.fixture
def demo(env: Env) -> dict[str, Any]:
    """The demo candidates with their notes, three of them with a resume sent with an application."""
    # moto backs up the whole table before each transaction: the local stack's patch backs up
    # only the items a transaction touches (the same answers), so 62 people take seconds.
    assert install_fast_transactions() and install_fast_dynamodb()
    data = demo_data()
    job = json_post(env, "/v1/jobs", {"title": "Platform Engineer", "tags": ["go"]}, env.auth("recruiter"))
    job_id = job.json_body["id"]
    people: dict[str, dict[str, Any]] = {}
    notes: dict[str, list[str]] = {}
    resumes: dict[str, list[str]] = {}
    ids = []
    for candidate in data.candidates:
        response = json_post(env, "/v1/candidates", candidate, env.auth("recruiter"))
        assert response.status_code == 201, response.body
        ids.append(response.json_body["id"])
        people[ids[-1]] = response.json_body
    for number, body in data.notes:
        response = json_post(
            env, f"/v1/candidates/{ids[number]}/notes", {"body": body}, env.auth("recruiter")
        )
        assert response.status_code == 201, response.body
        notes.setdefault(ids[number], []).append(body)
    for number, (filename, content) in RESUMES.items():
        person = data.candidates[number]
        body, content_type = encode_multipart_formdata(
            {
                "email": person["email"],
                "first_name": person["first_name"],
                "last_name": person["last_name"],
                "resume": (filename, content, "application/octet-stream"),
            }
        )
        response = env.client.http.post(
            f"/public/jobs/{job_id}/applications", body=body, headers={"Content-Type": content_type}
        )
        assert response.status_code == 202, response.body
    assert not env.pump.drain()
    texts = {0: "Senior Kubernetes engineer Terraform, Go and Rust in production"}
    texts[1] = "Data scientist PyTorch, pandas and Spark; based near Hamburg"
    texts[2] = "Staff engineer: Elixir and Erlang/OTP Zurich"
    for number, text in texts.items():
        resumes[ids[number]] = [text]
    for cid in ids:  # the application may have added the job's tags
        people[cid] = env.client.http.get(f"/v1/candidates/{cid}", headers=env.auth("recruiter")).json_body
    return {"ids": ids, "people": people, "notes": notes, "resumes": resumes, "job_id": job_id}


def search(env: Env, query: dict[str, str], *, limit: int = 7, who: str = "recruiter") -> list[str]:
    """Every id a search pages through, ``limit`` at a time."""
    seen: list[str] = []
    cursor = None
    while True:
        params = {**query, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = env.client.http.get(f"/v1/candidates?{urlencode(params)}", headers=env.auth(who))
        assert response.status_code == 200, (query, response.body)
        seen += [c["id"] for c in response.json_body["items"]]
        cursor = response.json_body["next_cursor"]
        if not cursor:
            return seen


def words_of(demo: dict[str, Any], cid: str) -> dict[int, list[str]]:
    return w.all_words(demo["people"][cid], demo["notes"].get(cid, []), demo["resumes"].get(cid, []))


def test_search_finds_exactly_who_a_brute_force_filter_finds_ranked_by_where_it_matched(
    env: Env, demo: dict[str, Any]
) -> None:
    for q in QUERIES:
        expected = {cid for cid in demo["ids"] if w.matches_all(words_of(demo, cid), q)}
        if w.lead_word(w.query_words(q)) is None:  # short words: names, email, tags, location only
            expected = {
                cid
                for cid in demo["ids"]
                if all(w.matches_profile(demo["people"][cid], x) for x in w.query_words(q))
            }
        found = search(env, {"q": q})
        assert len(found) == len(set(found)), f"{q!r} listed someone twice"
        assert set(found) == expected, q
        lead = w.lead_word(w.query_words(q))
        if lead:
            ranks = [w.best_tier(words_of(demo, cid), lead) for cid in found]
            assert ranks == sorted(ranks), f"{q!r} is not ranked by where {lead!r} matched: {ranks}"
    # Pages of one give the same people in the same order.
    assert search(env, {"q": "python berlin"}, limit=1) == search(env, {"q": "python berlin"}, limit=50)
    # (One set of demo data serves the other checks: building it is most of the time.)
    check_notes_and_resumes_are_searched_and_the_done_when_query_finds_people(env, demo)
    check_q_combines_with_the_other_filters(env, demo)
    check_a_cursor_from_another_list_is_a_400(env, demo)
    check_the_ui_search_reads_notes_and_resumes_too(env, demo)


def check_notes_and_resumes_are_searched_and_the_done_when_query_finds_people(
    env: Env, demo: dict[str, Any]
) -> None:
    ids = demo["ids"]
    assert ids[0] in search(env, {"q": "kubernetes terraform"})  # the PDF resume
    assert ids[1] in search(env, {"q": "PyTorch Hamburg"})  # the DOCX resume, any case
    assert search(env, {"q": "erlang zurich"}) == [ids[2]]
    found = search(env, {"q": "python berlin"})
    assert len(found) >= 5
    only_in_notes = [cid for cid in found if "python" not in demo["people"][cid]["tags"]]
    for cid in only_in_notes:
        assert any("python" in n.lower() for n in demo["notes"][cid])


def check_q_combines_with_the_other_filters(env: Env, demo: dict[str, Any]) -> None:
    tagged = search(env, {"q": "berlin", "tag": "python"})
    assert tagged and all("python" in demo["people"][cid]["tags"] for cid in tagged)
    expected = {
        cid
        for cid in demo["ids"]
        if "python" in demo["people"][cid]["tags"] and w.matches_all(words_of(demo, cid), "berlin")
    }
    assert set(tagged) == expected
    source = demo["people"][demo["ids"][0]]["source"]
    assert set(search(env, {"q": "kubernetes", "source": source})) <= set(search(env, {"q": "kubernetes"}))


def test_the_index_follows_changes_and_a_replay_changes_nothing(env: Env, demo: dict[str, Any]) -> None:
    cid = demo["ids"][5]
    assert cid not in search(env, {"q": "quantum"})
    json_post(env, f"/v1/candidates/{cid}/notes", {"body": "Quantum computing PhD"}, env.auth("recruiter"))
    env.pump.drain()
    assert search(env, {"q": "quantum"}) == [cid]
    version = demo["people"][cid]["version"]
    response = env.client.http.patch(
        f"/v1/candidates/{cid}",
        body=json.dumps({"location": "Quito", "version": version}),
        headers={**env.auth("recruiter"), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body
    env.pump.drain()
    assert search(env, {"q": "quito quantum"}) == [cid]
    assert FreeTextIndex().refresh(cid) == 0  # already in step: a replayed record writes nothing
    check_erasure_removes_the_persons_words_and_resume_text(env, demo)


def check_erasure_removes_the_persons_words_and_resume_text(env: Env, demo: dict[str, Any]) -> None:
    cid = demo["ids"][0]
    assert cid in search(env, {"q": "kubernetes"})
    response = env.client.http.delete(f"/v1/candidates/{cid}", headers=env.auth("admin"))
    assert response.status_code in (200, 202, 204), response.body
    env.pump.drain()
    assert cid not in search(env, {"q": "kubernetes"})
    ddb = boto3.client("dynamodb")
    left = ddb.query(
        TableName=env.stack.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"CAND#{cid}"}},
    )["Items"]
    assert left == []


def test_a_resume_that_does_not_parse_is_stored_and_searched_by_the_rest(env: Env) -> None:
    job = json_post(env, "/v1/jobs", {"title": "SRE"}, env.auth("recruiter")).json_body
    body, content_type = encode_multipart_formdata(
        {
            "email": "broken@example.com",
            "first_name": "Bruno",
            "last_name": "Kaputt",
            "resume": ("cv.pdf", b"%PDF-1.4\nnot a real pdf\n%%EOF\n", "application/pdf"),
        }
    )
    response = env.client.http.post(
        f"/public/jobs/{job['id']}/applications", body=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 202
    assert not env.pump.drain()  # no failed record
    found = env.client.http.get("/v1/candidates?q=kaputt", headers=env.auth("recruiter")).json_body["items"]
    assert [c["email"] for c in found] == ["broken@example.com"]


def check_a_cursor_from_another_list_is_a_400(env: Env, demo: dict[str, Any]) -> None:
    first = env.client.http.get("/v1/candidates?q=berlin&limit=1", headers=env.auth("recruiter")).json_body
    assert first["next_cursor"]
    other = env.client.http.get(
        f"/v1/candidates?q=python&limit=1&cursor={first['next_cursor']}", headers=env.auth("recruiter")
    )
    assert other.status_code == 400
    assert other.headers["Content-Type"].startswith("application/problem+json")


def check_the_ui_search_reads_notes_and_resumes_too(env: Env, demo: dict[str, Any]) -> None:
    from tests.integration.test_ui import cookie_value, get, header, sign_in

    cookie = f"crm_session={cookie_value(header(sign_in(env), 'set-cookie'))}"
    person = demo["people"][demo["ids"][2]]
    page = get(env, "/ui/candidates?q=erlang", cookie).body.decode()
    assert person["email"] in page
