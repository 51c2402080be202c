"""Field errors speak plain language: never a regex, never pydantic's own wording."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from crm.candidates.models import CandidateCreate, CandidateFilter
from crm.platform.errors import validation_errors_from_pydantic
from crm.platform.fields import TAG_RULE
from crm.platform.messages import plain_message

PYDANTIC_WORDING = re.compile(r"Value error|Input should|String should|Field required|pattern|\^|\\w|\[\\")

GOOD = {"email": "ann@example.com", "first_name": "Ann", "last_name": "Lee"}


def messages(model: Any, data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return {e["field"]: e["message"] for e in validation_errors_from_pydantic(caught.value)}


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"tags": ["%%"]}, "tags.0", TAG_RULE + "."),
        ({"source": "a b"}, "source", "Use only letters, digits and . _ -."),
        ({"first_name": ""}, "first_name", None),
        ({"first_name": "x" * 500}, "first_name", None),
        ({"email": "nope"}, "email", "Give a valid email address. An email address must have an @-sign."),
        ({"marketing_consent": "perhaps"}, "marketing_consent", None),
        ({"phone": 12}, "phone", None),
        ({"unknown": 1}, "unknown", "This field is not one this form or request takes; leave it out."),
    ],
)
def test_candidate_fields_are_explained_in_plain_words(
    data: dict[str, Any], field: str, expected: str | None
) -> None:
    found = messages(CandidateCreate, {**GOOD, **data})
    assert field in found, found
    message = found[field]
    assert not PYDANTIC_WORDING.search(message), message
    assert message[0].isupper() and message.endswith("."), message
    if expected is not None:
        assert message == expected


def test_a_missing_field_is_required() -> None:
    assert messages(CandidateCreate, {"email": "ann@example.com"})["first_name"] == "This field is required."


def test_a_too_long_query_says_how_long_it_may_be() -> None:
    assert messages(CandidateFilter, {"q": "x" * 101}) == {"q": "Use at most 100 characters."}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        ({"type": "int_parsing", "msg": "Input should be a valid integer"}, "Give a whole number."),
        ({"type": "less_than_equal", "msg": "...", "ctx": {"le": 100}}, "Give a number of at most 100."),
        ({"type": "greater_than_equal", "msg": "...", "ctx": {"ge": 1}}, "Give a number of at least 1."),
        ({"type": "string_too_short", "msg": "", "ctx": {"min_length": 12}}, "Use at least 12 characters."),
        ({"type": "string_too_long", "msg": "...", "ctx": {"max_length": 1}}, "Use at most 1 character."),
        ({"type": "string_pattern_mismatch", "msg": "String should match pattern '^[a-z]+$'"}, None),
        ({"type": "literal_error", "msg": "", "ctx": {"expected": "'a' or 'b'"}}, "Choose one of: a or b."),
        ({"type": "value_error", "msg": "Value error, must not be empty"}, "Must not be empty."),
        ({"type": "something_new", "msg": "made up by a future pydantic"}, "Made up by a future pydantic."),
    ],
)
def test_each_kind_of_error_reads_as_a_sentence(error: dict[str, Any], expected: str | None) -> None:
    message = plain_message(error)
    assert not PYDANTIC_WORDING.search(message), message
    if expected is not None:
        assert message == expected
