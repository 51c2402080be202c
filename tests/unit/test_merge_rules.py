"""The pure rules of a merge: who is a possible duplicate, the stricter consent, the ids rewritten,
the survivor's profile."""

from __future__ import annotations

from crm.candidates.repository.projections import duplicate_keys
from crm.merges.service import merged_profile, rehome, stricter
from crm.platform import table


def consent(granted: bool, at: str) -> dict:
    return {
        "M": {
            "topic": {"S": "marketing"},
            "granted": {"BOOL": granted},
            "at": {"S": at},
            "source": {"S": "x"},
        }
    }


def test_duplicate_keys_ignore_country_codes_url_forms_and_case() -> None:
    one = duplicate_keys(
        {
            "phone": "+44 20 7946 0000",
            "linkedin_url": "https://www.LinkedIn.com/in/ada/?x=1",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "location": "London",
        }
    )
    two = duplicate_keys(
        {
            "phone": "020 7946 0000",
            "linkedin_url": "http://linkedin.com/in/ada",
            "first_name": "ADA",
            "last_name": "Lovelace",
            "location": "london",
        }
    )
    assert (
        one
        == two
        == {"phone": "079460000", "linkedin": "linkedin.com/in/ada", "nameplace": "ada lovelace|london"}
    )
    assert duplicate_keys({"phone": "12 34", "first_name": "Ada", "last_name": "L"}) == {}


def test_the_stricter_consent_wins() -> None:
    granted, withdrawn = consent(True, "2026-02-01"), consent(False, "2025-01-01")
    assert stricter(granted, withdrawn) is withdrawn and stricter(withdrawn, granted) is withdrawn
    assert stricter(None, granted) is granted and stricter(withdrawn, None) is withdrawn
    later = consent(True, "2026-03-01")
    assert stricter(granted, later) is later


def test_ids_are_rewritten_everywhere_in_an_item() -> None:
    item = table.to_item(
        {
            "pk": "CAND#old1",
            "sk": "APP#j",
            "gsi1sk": "2026#old1",
            "candidate_id": "old1",
            "history": [{"by": "user:u"}],
            "tags": ["a"],
        }
    )
    moved = table.from_item(rehome(item, "old1", "new2"))
    assert moved["pk"] == "CAND#new2" and moved["gsi1sk"] == "2026#new2" and moved["candidate_id"] == "new2"
    assert moved["history"] == [{"by": "user:u"}] and moved["tags"] == ["a"]


def test_the_survivors_profile_unites_and_chooses() -> None:
    survivor = table.to_item(
        {
            "id": "s",
            "email": "s@x.com",
            "first_name": "S",
            "tags": ["a"],
            "version": 3,
            "pools": {"p1": "new"},
            "consents": {},
        }
    )
    survivor["consents"] = {"M": {"marketing": consent(True, "2026")}}
    merged = table.to_item(
        {
            "id": "m",
            "email": "m@x.com",
            "first_name": "M",
            "phone": "1",
            "tags": ["b"],
            "version": 1,
            "pools": {"p1": "hired", "p2": "new"},
        }
    )
    merged["consents"] = {"M": {"marketing": consent(False, "2020")}}
    out, others = merged_profile(survivor, merged, {"email": "merged"}, now="2027")
    plain = table.from_item(out)
    assert plain["email"] == "m@x.com" and others == ["s@x.com"] and plain["first_name"] == "S"
    assert plain["phone"] == "1" and sorted(plain["tags"]) == ["a", "b"] and plain["version"] == 4
    assert plain["pools"] == {"p1": "new", "p2": "new"} and plain["consents"]["marketing"]["granted"] is False
