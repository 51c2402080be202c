"""The JSON Schema of each field type says exactly what its validator accepts (crm.platform.fields): a
string matches the documented ``pattern`` and ``maxLength`` if and only if the server takes it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from crm.platform import fields

TYPES: dict[str, Any] = {
    "Name": fields.Name,
    "ShortText": fields.ShortText,
    "Label": fields.Label,
    "Phone": fields.Phone,
    "Url": fields.Url,
    "Tag": fields.Tag,
    "Slug": fields.Slug,
    "Stage": fields.Stage,
    "Id": fields.Id,
    "Subject": fields.visible_text(500),
}
#: Characters a fuzzer likes: letters (some that change under lower()), digits, punctuation the
#: rules name, every kind of whitespace, C0 and C1 controls.
CHARACTERS = "aZé9_ .+#/-,:()$?\u0130\u00df\u2028\u00a0\u3000\t\n\r\x0b\x0c\x1c\x1f\x00\x7f\x85\x9f"
ALPHABET = st.sampled_from([*CHARACTERS, "http://", "HTTPS://"])


def accepted(kind: str, value: str) -> bool:
    try:
        TypeAdapter(TYPES[kind]).validate_python(value)
    except ValidationError:
        return False
    return True


def documented(kind: str, value: str) -> bool:
    schema = TypeAdapter(TYPES[kind]).json_schema()
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return False
    if "minLength" in schema and len(value) < schema["minLength"]:
        return False
    return re.fullmatch(schema["pattern"], value) is not None


@pytest.mark.parametrize("kind", sorted(TYPES))
@settings(max_examples=400, deadline=None)
@given(value=st.lists(ALPHABET, max_size=12).map("".join))
def test_the_schema_and_the_validator_agree(kind: str, value: str) -> None:
    assert accepted(kind, value) == documented(kind, value), repr(value)


@pytest.mark.parametrize("kind", sorted(TYPES))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_what_the_pattern_generates_is_accepted(kind: str, data: st.DataObject) -> None:
    schema = TypeAdapter(TYPES[kind]).json_schema()
    value = data.draw(st.from_regex(schema["pattern"], fullmatch=True))
    if len(value) <= schema.get("maxLength", len(value)) and len(value) >= schema.get("minLength", 0):
        assert accepted(kind, value), repr(value)


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        ("Name", "  Ada \t", "Ada"),
        ("Tag", "  Machine   Learning ", "machine learning"),
        ("Url", " https://www.linkedin.com/in/ada ", "https://www.linkedin.com/in/ada"),
        ("Slug", " career-site ", "career-site"),
    ],
)
def test_values_are_stored_trimmed(kind: str, raw: str, stored: str) -> None:
    assert TypeAdapter(TYPES[kind]).validate_python(raw) == stored


@pytest.mark.parametrize("text", ["python, go ,, rust", "", " , ", "c++,c#"])
def test_comma_separated_tags_match_their_pattern(text: str) -> None:
    assert re.fullmatch(fields.TAG_LIST_TEXT, text)
    TypeAdapter(fields.Tags).validate_python(text)


@pytest.mark.parametrize("value", [0, 1.5, "1700000000", "2026-12-01", "2026-12-01T09:00:00", "soon"])
def test_a_time_is_an_iso_string_with_a_zone(value: Any) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(fields.AwareDatetime).validate_python(value)


def test_a_time_with_a_zone_is_read_in_utc() -> None:
    when = TypeAdapter(fields.AwareDatetime).validate_python("2026-12-01T10:00:00+01:00")
    assert when.isoformat() == "2026-12-01T09:00:00+00:00"


def test_a_url_is_checked_with_the_whitespace_its_published_pattern_means() -> None:
    """JSON Schema's \\s is ECMAScript's: U+001C-U+001F are not spaces there, as they are for
    Python's re; a URL the document allows is accepted (found by the fuzzer)."""
    import re

    from pydantic import TypeAdapter

    from crm.platform.fields import URL, Url

    value = "\f \u000bHTtP://\U0007a343\u0018\u00bc\u001e\u075d\f"
    assert TypeAdapter(Url).validate_python(value).startswith("HTtP://")
    with pytest.raises(ValueError):
        TypeAdapter(Url).validate_python("https:// spaced.example.com")
    assert re.compile(URL)  # the published pattern still compiles
