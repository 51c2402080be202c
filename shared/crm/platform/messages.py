"""Field errors in plain language: what a person should type, never a regex or pydantic's wording.

:func:`plain_message` turns one pydantic error (``ValidationError.errors()``) into a sentence.
A validator of ours says what is wrong in its own words (``ValueError("must not be empty")``);
pydantic's own wording ("String should have at most 100 characters", "Input should be a valid
integer, unable to parse string as an integer", "String should match pattern '^[\\w.-]+$'") is
replaced by a sentence built from the error's type and context. Every message starts with a
capital letter and ends with a full stop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

_VALUE_ERROR_PREFIXES = ("Value error, ", "Assertion failed, ")


def _count(n: Any, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _expected(ctx: Mapping[str, Any]) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b or c"."""
    return str(ctx.get("expected", "")).replace("'", "")


_BY_TYPE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "missing": lambda ctx: "This field is required",
    "extra_forbidden": lambda ctx: "This field is not one this form or request takes; leave it out",
    "string_too_short": lambda ctx: (
        "Fill this in"
        if ctx.get("min_length") == 1
        else f"Use at least {_count(ctx.get('min_length'), 'character')}"
    ),
    "string_too_long": lambda ctx: f"Use at most {_count(ctx.get('max_length'), 'character')}",
    "string_type": lambda ctx: "Give text here",
    "string_pattern_mismatch": lambda ctx: "This is not in the form expected here",
    "string_unicode": lambda ctx: "Give text in UTF-8",
    "int_parsing": lambda ctx: "Give a whole number",
    "int_type": lambda ctx: "Give a whole number",
    "int_from_float": lambda ctx: "Give a whole number",
    "float_parsing": lambda ctx: "Give a number",
    "float_type": lambda ctx: "Give a number",
    "finite_number": lambda ctx: "Give a finite number",
    "greater_than": lambda ctx: f"Give a number greater than {ctx.get('gt')}",
    "greater_than_equal": lambda ctx: f"Give a number of at least {ctx.get('ge')}",
    "less_than": lambda ctx: f"Give a number less than {ctx.get('lt')}",
    "less_than_equal": lambda ctx: f"Give a number of at most {ctx.get('le')}",
    "bool_parsing": lambda ctx: "Give true or false",
    "bool_type": lambda ctx: "Give true or false",
    "literal_error": lambda ctx: f"Choose one of: {_expected(ctx)}",
    "enum": lambda ctx: f"Choose one of: {_expected(ctx)}",
    "list_type": lambda ctx: "Give a list here",
    "too_short": lambda ctx: f"Give at least {_count(ctx.get('min_length'), 'item')}",
    "too_long": lambda ctx: f"Give at most {_count(ctx.get('max_length'), 'item')}",
    "dict_type": lambda ctx: "Give an object with named fields here",
    "model_type": lambda ctx: "Give an object with named fields here",
    "model_attributes_type": lambda ctx: "Give an object with named fields here",
    "json_invalid": lambda ctx: "This is not valid JSON",
    "json_type": lambda ctx: "Give JSON text here",
    "none_required": lambda ctx: "Leave this empty",
    "date_parsing": lambda ctx: "Give a date such as 2026-12-01",
    "date_from_datetime_parsing": lambda ctx: "Give a date such as 2026-12-01",
    "date_type": lambda ctx: "Give a date such as 2026-12-01",
    "datetime_parsing": lambda ctx: "Give a time such as 2026-12-01T09:00:00Z",
    "datetime_from_date_parsing": lambda ctx: "Give a time such as 2026-12-01T09:00:00Z",
    "datetime_type": lambda ctx: "Give a time such as 2026-12-01T09:00:00Z",
    "timezone_aware": lambda ctx: "Give the time with a time zone, e.g. 2026-12-01T09:00:00Z",
    "uuid_parsing": lambda ctx: "Give an id as this API returned it",
    "uuid_type": lambda ctx: "Give an id as this API returned it",
    "url_parsing": lambda ctx: "Give a full web address starting with https://",
    "url_scheme": lambda ctx: "Give a web address starting with https:// or http://",
    "url_type": lambda ctx: "Give a full web address starting with https://",
    "url_too_long": lambda ctx: f"Use at most {_count(ctx.get('max_length'), 'character')}",
}

_EMAIL_PREFIX = "value is not a valid email address: "


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "This value is not accepted."
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def plain_message(error: Mapping[str, Any]) -> str:
    """One pydantic error (a dict of ``ValidationError.errors()``) as a plain sentence."""
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    message = str(error.get("msg", ""))
    if kind in {"value_error", "assertion_error"}:
        for prefix in _VALUE_ERROR_PREFIXES:
            message = message.removeprefix(prefix)
        if message.startswith(_EMAIL_PREFIX):
            reason = message.removeprefix(_EMAIL_PREFIX).strip()
            return "Give a valid email address." + (f" {_sentence(reason)}" if reason else "")
        return _sentence(message)
    plain = _BY_TYPE.get(kind)
    if plain is not None:
        return _sentence(plain(ctx))
    return _sentence(message or "This value is not accepted")
