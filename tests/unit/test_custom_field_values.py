"""Custom-field values, checked per type without a table: what each type accepts and normalises,
what it refuses (naming ``custom_fields.<key>``), form text, required fields, the projection terms a
filter finds, and the CSV text."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from crm.custom_fields.models import (
    CustomField,
    CustomFieldCreate,
    check_values,
    csv_text,
    index_terms,
    merged_values,
)
from crm.custom_fields.service import flatten_for_csv


def field(key: str, type_: str, options: list[str] | None = None, **flags: Any) -> CustomField:
    return CustomField(
        key=key,
        label=key.title(),
        entity="candidate",
        type=type_,  # type: ignore[arg-type]
        options=options or [],
        version=1,
        created_at="2026-01-01T00:00:00Z",
        updated_at="2026-01-01T00:00:00Z",
        **flags,
    )


DEFS = {
    f.key: f
    for f in (
        field("note", "text"),
        field("years", "number"),
        field("start", "date"),
        field("level", "choice", ["Junior", "Senior"]),
        field("skills", "choices", ["Go", "Rust", "SQL"]),
        field("site", "url"),
    )
}


@pytest.mark.parametrize(
    ("key", "given", "stored"),
    [
        ("note", "  hello\nworld ", "hello\nworld"),
        ("years", 3, 3),
        ("years", 2.5, 2.5),
        ("years", 4.0, 4),
        ("start", "2027-02-28", "2027-02-28"),
        ("level", " Senior ", "Senior"),
        ("skills", ["SQL", "Go", "Go"], ["Go", "SQL"]),
        ("site", " https://example.com/a ", "https://example.com/a"),
        ("note", None, None),
        ("skills", [], None),
    ],
)
def test_each_type_accepts_and_normalises(key: str, given: Any, stored: Any) -> None:
    values, errors = check_values(DEFS, {key: given})
    assert errors == [] and values == {key: stored}


@pytest.mark.parametrize(
    ("key", "given"),
    [
        ("note", 5),
        ("note", "   "),
        ("note", "x" * 1001),
        ("note", "bell\x07"),
        ("years", "3"),
        ("years", True),
        ("years", float("inf")),
        ("years", 1e16),
        ("start", "2027-02-30"),
        ("start", "27-2-1"),
        ("start", 20270201),
        ("level", "Principal"),
        ("level", ["Senior"]),
        ("skills", "Go"),
        ("skills", ["Go", "Cobol"]),
        ("skills", [1]),
        ("site", "ftp://example.com"),
        ("site", "javascript:alert(1)"),
        ("site", 7),
        ("unknown", "x"),
    ],
)
def test_wrong_values_name_the_field(key: str, given: Any) -> None:
    values, errors = check_values(DEFS, {key: given})
    assert [e["field"] for e in errors] == [f"custom_fields.{key}"], values


def test_form_text_is_parsed() -> None:
    values, errors = check_values(
        DEFS, {"years": " 12.50 ", "skills": "Rust; Go", "note": "", "level": "Junior"}, form=True
    )
    assert errors == []
    assert values == {"years": 12.5, "skills": ["Go", "Rust"], "note": None, "level": "Junior"}
    _, wrong = check_values(DEFS, {"years": "twelve"}, form=True)
    assert wrong == [{"field": "custom_fields.years", "message": "must be a number"}]


def test_required_fields_on_creation_and_clearing() -> None:
    defs = {"city": field("city", "text", required=True), "note": field("note", "text")}
    _, errors = merged_values(defs, {}, {"note": "x"}, creating=True)
    assert errors == [{"field": "custom_fields.city", "message": "is required"}]
    merged, errors = merged_values(defs, {"city": "Oslo"}, {"note": "x"}, creating=False)
    assert errors == [] and merged == {"city": "Oslo", "note": "x"}
    _, errors = merged_values(defs, {"city": "Oslo"}, {"city": None}, creating=False)
    assert errors == [{"field": "custom_fields.city", "message": "is required"}]


def test_definitions_need_options_exactly_for_lists() -> None:
    CustomFieldCreate.model_validate({"key": "level", "label": "Level", "type": "choice", "options": ["A"]})
    for bad in (
        {"key": "level", "label": "Level", "type": "choice"},
        {"key": "level", "label": "Level", "type": "text", "options": ["A"]},
        {"key": "level", "label": "Level", "type": "choices", "options": ["A", "A"]},
        {"key": "level", "label": "Level", "type": "choices", "options": ["A;B"]},
        {"key": "Level", "label": "Level", "type": "text"},
        {"key": "l", "label": "Level", "type": "text"},
        {"key": "level", "label": "Level", "type": "colour"},
    ):
        with pytest.raises(ValidationError):
            CustomFieldCreate.model_validate(bad)


def test_projection_terms_and_csv_text() -> None:
    values = {"level": "Senior", "skills": ["Go", "SQL"], "years": 4, "note": "  Crème  Brûlée ", "x": None}
    assert index_terms(values) == ["level#senior", "note#creme brulee", "skills#go", "skills#sql", "years#4"]
    assert index_terms({"years": 2.5}) == ["years#2.5"]
    assert csv_text(["Go", "SQL"]) == "Go; SQL" and csv_text(4.0) == "4" and csv_text(None) == ""
    assert flatten_for_csv({"skills": ["Go"], "years": 3}) == {"cf.skills": "Go", "cf.years": "3"}


def test_list_filters_read_cf_parameters_and_never_terms() -> None:
    from crm.bulk.models import BulkActionCreate
    from crm.candidates.models import CandidateFilter

    flt = CandidateFilter.model_validate({"cf.level": " Senior ", "tag": "x", "cf_terms": ["level#junior"]})
    assert flt.custom_fields == {"level": "Senior"} and flt.cf_terms == [] and flt.tag == "x"
    bulk = BulkActionCreate.model_validate(
        {"action": "add_tags", "tags": ["x"], "filter": {"cf.level": "Senior"}}
    )
    assert bulk.filter is not None and bulk.filter.custom_fields == {"level": "Senior"}


def test_projections_index_each_value_and_the_list_query_reads_them() -> None:
    from crm.candidates.models import CandidateFilter
    from crm.candidates.repository.projections import (
        candidate_list_query,
        dimensions,
        list_attributes,
        summary_passes,
    )

    person = {
        "id": "c1",
        "email": "a@example.com",
        "first_name": "A",
        "last_name": "B",
        "source": "api",
        "created_at": "2026-01-01T00:00:00Z",
        "custom_fields": {"level": "Senior", "skills": ["Go", "SQL"]},
    }
    dims = dimensions(person)
    assert dims["CF#level#senior"] == ("CANDCF#level#senior", "2026-01-01T00:00:00Z#c1")
    assert "CF#skills#go" in dims and "CF#skills#sql" in dims
    summary = {**person, **list_attributes(person)}
    assert summary["cfv"] == ["level#senior", "skills#go", "skills#sql"]
    assert "cfv" not in list_attributes({**person, "custom_fields": {}})  # old items stay as they were

    flt = CandidateFilter().model_copy(update={"cf_terms": ["skills#go", "level#senior"], "tag": "x"})
    query = candidate_list_query(flt)
    assert query["values"][":pk"]["S"] == "CANDTAG#x"  # a tag leads; both values are filtered
    assert query["filter_expression"].count("contains(cfv") == 2
    alone = candidate_list_query(CandidateFilter().model_copy(update={"cf_terms": ["skills#go"]}))
    assert alone["values"][":pk"]["S"] == "CANDCF#skills#go" and "filter_expression" not in alone
    assert summary_passes(summary, CandidateFilter().model_copy(update={"cf_terms": ["skills#go"]}))
    assert not summary_passes(summary, CandidateFilter().model_copy(update={"cf_terms": ["skills#rust"]}))
