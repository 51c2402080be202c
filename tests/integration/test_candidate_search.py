"""Candidate lists: ``q`` combines with every filter (the start of a word of the names or the
email, whichever filter leads the Query), checked against a brute-force filter over the same
people; source is matched in any case, as tags are; bad filters are 422s in plain words."""

from __future__ import annotations

import itertools
from typing import Any
from urllib.parse import urlencode

import pytest

from crm.candidates.models import Candidate, CandidateFilter
from crm.candidates.repository.candidates import matches_filter
from crm.platform.fields import TAG_RULE
from tests.integration.conftest import Env, json_post

PEOPLE = [
    ("ana@example.com", "Ana", "Berg", ["python"], "referral", "Berlin"),
    ("ben@example.com", "Ben", "Ernst", ["python", "go"], "api", "Munich"),
    ("eve@example.com", "Eve", "Stone", ["java"], "referral", "Berlin, Germany"),
    ("carl@sample.org", "Carl", "Weber", ["python"], "LinkedIn", None),
    ("dora@example.com", "Dóra", "Evans", ["go", "machine learning"], "linkedin", "Bern"),
    ("fin@sample.org", "Finn", "de Wit", ["python", "java"], "api", "San Francisco"),
    ("gus@example.com", "Gus", "Nettle", [], "referral", None),
]


@pytest.fixture
def people(env: Env) -> dict[str, dict[str, Any]]:
    made = {}
    for email, first, last, tags, source, location in PEOPLE:
        body = {"email": email, "first_name": first, "last_name": last, "tags": tags, "source": source}
        if location:
            body["location"] = location
        response = json_post(env, "/v1/candidates", body, env.auth("recruiter"))
        assert response.status_code == 201, response.body
        made[email] = response.json_body
    env.pump.drain()
    return made


def listed(env: Env, query: dict[str, str]) -> list[str]:
    """Every email a filtered list pages through (two at a time, so combinations page on)."""
    seen: list[str] = []
    cursor = None
    while True:
        params = {**query, "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = env.client.http.get(f"/v1/candidates?{urlencode(params)}", headers=env.auth("recruiter"))
        assert response.status_code == 200, (query, response.body)
        seen += [c["email"] for c in response.json_body["items"]]
        cursor = response.json_body["next_cursor"]
        if not cursor:
            return seen


def test_q_combined_with_a_tag_keeps_the_text(env: Env, people: dict[str, Any]) -> None:
    # The report: ?q=e&tag=python answered every python candidate ("e" is in every address).
    assert listed(env, {"q": "e", "tag": "python"}) == ["ben@example.com"]  # Ernst
    assert sorted(listed(env, {"q": "be", "tag": "python"})) == ["ana@example.com", "ben@example.com"]
    assert listed(env, {"q": "wit", "tag": "java"}) == ["fin@sample.org"]  # the second word of "de Wit"
    assert listed(env, {"q": "carl@", "source": "linkedin"}) == ["carl@sample.org"]


def test_free_text_words_match_names_tags_and_location(env: Env, people: dict[str, Any]) -> None:
    assert listed(env, {"q": "python berlin"}) == ["ana@example.com"]
    # Berg, Berlin, Bern, Berlin: never "Weber" (inside a word)
    assert sorted(listed(env, {"q": "ber"})) == ["ana@example.com", "dora@example.com", "eve@example.com"]
    assert listed(env, {"q": "learning"}) == ["dora@example.com"]
    assert listed(env, {"q": "francisco fin"}) == ["fin@sample.org"]
    assert listed(env, {"q": "java berlin", "source": "referral"}) == ["eve@example.com"]


def test_source_matches_in_any_case(env: Env, people: dict[str, Any]) -> None:
    assert people["carl@sample.org"]["source"] == "linkedin"
    for asked in ("linkedin", "LinkedIn", "LINKEDIN"):
        assert sorted(listed(env, {"source": asked})) == ["carl@sample.org", "dora@example.com"], asked


def test_every_combination_answers_what_a_brute_force_filter_does(env: Env, people: dict[str, Any]) -> None:
    everyone = [Candidate.model_validate(c) for c in people.values()]
    texts = [
        "",
        "e",
        "ev",
        "be",
        "ber",
        "DORA",
        "dó",
        "sample",
        "wi",
        "x",
        "python berlin",
        "learn",
        "ger ber",
        "fin de",
    ]
    tags = ["", "python", "java", "go"]
    sources = ["", "referral", "api", "LinkedIn"]
    checked = 0
    for q, tag, source in itertools.product(texts, tags, sources):
        query = {k: v for k, v in {"q": q, "tag": tag, "source": source}.items() if v}
        flt = CandidateFilter.model_validate(query)
        expected = sorted(c.email for c in everyone if matches_filter(c, flt))
        assert sorted(listed(env, query)) == expected, (query, [c.model_dump() for c in everyone])
        checked += 1
    assert checked == len(texts) * len(tags) * len(sources)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("tag=%25%25", "tag", TAG_RULE + "."),
        ("source=a%20b", "source", "Use only letters, digits and . _ -."),
        ("q=" + "x" * 101, "q", "Use at most 100 characters."),
        ("limit=abc", "limit", "Give a whole number."),
        ("email=nope", "email", "Give a valid email address. An email address must have an @-sign."),
    ],
)
def test_a_bad_filter_is_a_422_in_plain_words(env: Env, query: str, field: str, message: str) -> None:
    response = env.client.http.get(f"/v1/candidates?{query}", headers=env.auth("recruiter"))
    assert response.status_code == 422, response.body
    assert {e["field"]: e["message"] for e in response.json_body["errors"]} == {field: message}


def test_records_made_after_the_local_clock_moved_carry_its_time(env: Env, local_clock: None) -> None:
    from crm.platform import clock

    clock.advance(3 * 24 * 3600)
    before = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    body = {"email": "later@example.com", "first_name": "Lat", "last_name": "Er"}
    created = json_post(env, "/v1/candidates", body, env.auth("recruiter")).json_body
    note = json_post(env, f"/v1/candidates/{created['id']}/notes", {"body": "Hi"}, env.auth("recruiter"))
    after = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert before <= created["created_at"] == created["updated_at"] <= note.json_body["created_at"] <= after
