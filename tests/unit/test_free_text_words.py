"""The rules of free-text search, without a table: what the words of a person and of a search
are, how the index groups them, and that a person is listed once, at the best place."""

from __future__ import annotations

from crm.candidates import words as w
from crm.candidates.resume_text import extract_text
from tests.support.documents import docx_with_text, pdf_with_text

PERSON = {
    "id": "c1",
    "first_name": "Dóra",
    "last_name": "de Wit",
    "email": "dora.wit@example.com",
    "tags": ["Python", "machine learning", "c++"],
    "location": "Berlin, Germany",
    "created_at": "2026-01-02T03:04:05.678Z",
}


def test_words_are_lower_case_without_accents_and_keep_cpp_and_csharp() -> None:
    assert w.tokenize("Dóra DE-Wit, C++ and C# (Node.js)") == [
        "dora",
        "de",
        "wit",
        "c++",
        "and",
        "c#",
        "node",
        "js",
    ]
    assert w.tokenize("x" * 41 + " ok") == ["ok"]  # a run that long is no word


def test_a_search_keeps_an_email_address_whole_and_each_word_once() -> None:
    assert w.query_words("Ana@Example.com python PYTHON") == ["ana@example.com", "python"]
    assert w.query_words("  \x00 ") == []
    assert w.lead_word(["go", "python", "berlin"]) == "python"
    assert w.lead_word(["go", "r"]) is None


def test_a_person_has_words_by_place() -> None:
    words = w.all_words(PERSON, ["Great call about Kubernetes"], ["Senior Python developer in Berlin"])
    assert words[w.TIERS["name"]] == ["dora", "de", "wit"]
    assert words[w.TIERS["email"]] == ["dora.wit@example.com", "dora", "wit"]
    assert words[w.TIERS["tag"]] == ["python", "machine", "learning", "c++"]
    assert words[w.TIERS["location"]] == ["berlin", "germany"]
    assert words[w.TIERS["note"]] == ["great", "call", "about", "kubernetes"]
    assert "in" not in words[w.TIERS["resume"]]  # a stop word of free text


def test_each_entry_knows_the_words_of_its_bucket_found_at_a_better_place() -> None:
    words = w.all_words(PERSON, ["pythonic code"], ["python pytest"])
    entries = w.word_entries(words)
    assert entries[("pyt", w.TIERS["tag"])] == {"words": ["python"], "above": []}
    assert entries[("pyt", w.TIERS["note"])] == {"words": ["pythonic"], "above": ["python"]}
    assert entries[("pyt", w.TIERS["resume"])] == {
        "words": ["pytest", "python"],
        "above": ["python", "pythonic"],
    }
    # "python" lists the person at the tag; "pythoni" at the note; "pyte" at the resume: once each.
    for typed, tier in (("python", "tag"), ("pythoni", "note"), ("pyte", "resume")):
        listed = [t for (b, t), e in entries.items() if b == "pyt" and w.is_listed(e, typed)]
        assert listed == [w.TIERS[tier]], typed


def test_every_word_must_start_a_word_somewhere() -> None:
    words = w.all_words(PERSON, ["kubernetes"], [])
    assert w.matches_all(words, "pyth berl kube")
    assert w.matches_all(words, "DORA.wit@exa")
    assert not w.matches_all(words, "dora@example.com")  # an address matches from its start
    assert not w.matches_all(words, "python paris")
    assert w.best_tier(words, "wit") == w.TIERS["name"]
    assert w.best_tier(words, "kub") == w.TIERS["note"]


def test_the_newest_person_sorts_first() -> None:
    older, newer = w.newest_first("2026-01-01T00:00:00.000Z"), w.newest_first("2026-06-01T00:00:00.000Z")
    assert newer < older


def test_resume_text_comes_out_of_a_pdf_and_a_docx_and_a_broken_file_gives_none() -> None:
    assert extract_text(pdf_with_text("Senior Python developer", "Berlin"), "pdf").text == (
        "Senior Python developer Berlin"
    )
    assert extract_text(docx_with_text("Kubernetes operator"), "docx").text == "Kubernetes operator"
    broken = extract_text(b"%PDF-1.4 not really", "pdf")
    assert (broken.text, broken.outcome) == ("", "unreadable")
    assert extract_text(b"\xd0\xcf\x11\xe0", "doc").outcome == "unsupported"
