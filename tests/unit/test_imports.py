"""The import's pure parts: column guesses, the byte offsets a resumed read starts from, row rules."""

from __future__ import annotations

import csv

import pytest

from crm.imports.service import (
    NOT_UTF8,
    Records,
    RowProblem,
    guess_mapping,
    header_names,
    parse_row,
    preview_of,
)


def test_guesses_for_the_usual_headers() -> None:
    columns = ["E-mail", "Email Address", "First name", "Surname", "Phone", "LinkedIn", "City", "Notes"]
    assert guess_mapping(columns) == {
        "E-mail": "email",
        "Email Address": "ignore",  # one column per field: the first wins
        "First name": "first_name",
        "Surname": "last_name",
        "Phone": "phone",
        "LinkedIn": "linkedin_url",
        "City": "location",
        "Notes": "ignore",
    }
    assert guess_mapping(["Name", "Work Email"]) == {"Name": "full_name", "Work Email": "email"}
    assert header_names(["a", "a", " "]) == ["a", "a (2)", "column 3"]


def test_offsets_after_each_record_let_a_read_resume_exactly_there() -> None:
    data = b'\xef\xbb\xbfemail,name\r\n"a@x.org","multi\nline"\nb@x.org,B\n'
    records = Records(iter([data[:7], data[7:20], data[20:]]), 0)
    seen = [(row, records.offset) for row in records]
    assert [row for row, _ in seen] == [["email", "name"], ["a@x.org", "multi\nline"], ["b@x.org", "B"]]
    resumed = Records(iter([data[seen[1][1] :]]), seen[1][1])
    assert [next(resumed), resumed.offset] == [["b@x.org", "B"], len(data)]


def test_a_line_that_is_not_utf8_marks_its_record_only() -> None:
    records = Records(iter([b"a,b\n\xff\xfe,c\nd,e\n"]), 0)
    flags = [(next(records), records.bad) for _ in range(3)]
    assert [bad for _, bad in flags] == [False, True, False]
    with pytest.raises(csv.Error):
        next(Records(iter([b"x" * (2 * 1024 * 1024)]), 0))


def test_rows_consent_needs_its_date_and_names_split() -> None:
    columns = ["email", "name", "consent", "date"]
    mapping = {"email": "email", "name": "full_name", "consent": "marketing_consent", "date": "consent_date"}
    row = parse_row(["ADA@x.org ", "Ada King Lovelace", "yes", "2024-05-01"], columns, mapping, ["t"])
    assert row is not None and row.submission.email == "ada@x.org"
    assert (row.submission.first_name, row.submission.last_name) == ("Ada King", "Lovelace")
    assert row.consent_at is not None and row.consent_at.startswith("2024-05-01")
    assert parse_row(["", "", "", ""], columns, mapping, []) is None
    for cells, reason in (
        (["a@x.org", "A B", "yes", ""], "date"),
        (["a@x.org", "A B", "maybe", ""], "yes or no"),
        (["a@x.org", "A B", "yes", "2999-01-01"], "future"),
        (["nope", "A B", "", ""], "email"),
    ):
        with pytest.raises(RowProblem, match=reason):
            parse_row(cells, columns, mapping, [])


def test_previews_name_their_problems() -> None:
    assert preview_of("email\nzoé\n".encode("latin-1"), whole=True).problems == [NOT_UTF8]
    assert "email" in preview_of(b"name,phone\nA,1\n", whole=True).problems[0]
    assert preview_of(b"", whole=True).problems == ["The file is empty."]
    cut = preview_of(b"email,first_name\na@x.org,A\nb@x.org,\xc3", whole=False)
    assert cut.problems == [] and cut.rows == [["a@x.org", "A"]]
