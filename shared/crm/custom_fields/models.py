"""Custom fields: what an admin defines (a definition), and the rules of the values a candidate or an
application carries for them (``custom_fields: {key: value}``).

The value rules are plain functions (:func:`check_values`, :func:`index_terms`, :func:`csv_text`), so
they are unit-tested without a table, and the candidates slice (above this one) applies them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from crm.platform.fields import _url, has_control_chars, one_line_text, search_term
from crm.platform.models import Input, Model, Patch

#: A field's key: a slug, fixed once created (``cf.<key>`` in filters and CSV columns).
KEY_PATTERN = r"^[a-z][a-z0-9_]{1,39}$"
_KEY = re.compile(KEY_PATTERN)
FieldKey = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
#: What carries the field.
Entity = Literal["candidate", "application"]
ENTITIES: tuple[Entity, ...] = ("candidate", "application")
#: text, number, date (YYYY-MM-DD), choice (one of the options), choices (any of them), url.
FieldType = Literal["text", "number", "date", "choice", "choices", "url"]
FIELD_TYPES: tuple[FieldType, ...] = ("text", "number", "date", "choice", "choices", "url")
WITH_OPTIONS = ("choice", "choices")

#: The most fields an admin may define (deleted ones included) and options a field may have.
MAX_FIELDS = 100
MAX_OPTIONS = 50
MAX_TEXT = 1000
#: Numbers beyond this are refused (they would not round-trip through JSON exactly).
MAX_NUMBER = 1e15
#: How much of a text value a filter compares (lower-cased, accents stripped).
MAX_TERM = 100
#: Separates several choices in one text cell (CSV, a form's text field).
CHOICES_SEPARATOR = ";"

#: One option of a list (no ';', which separates several in a CSV cell).
Option = one_line_text(100, required=True)
Label = one_line_text(100, required=True)


def _options_ok(options: list[str] | None, field_type: str) -> list[str]:
    """The options a definition keeps: required (at least one, unique) for choice and choices,
    refused for every other type."""
    if field_type in WITH_OPTIONS:
        if not options:
            raise ValueError("a choice field needs at least one option")
        if any(CHOICES_SEPARATOR in o for o in options):
            raise ValueError("an option may not contain ';'")
        if len(set(options)) != len(options):
            raise ValueError("options must be different from each other")
        return list(options)
    if options:
        raise ValueError(f"a {field_type} field has no options")
    return []


class CustomFieldCreate(Input):
    """``POST /v1/custom-fields``. The key is the field's name in the API, filters and CSV; it cannot
    change later."""

    key: FieldKey = Field(description="a slug: a letter, then letters, digits or _ (2-40 in all)")
    label: Label  # type: ignore[valid-type]
    entity: Entity = "candidate"
    type: FieldType
    options: list[Option] | None = Field(default=None, max_length=MAX_OPTIONS)  # type: ignore[valid-type]
    private: bool = Field(default=False, description="recruiters and admins only (never hiring managers)")
    required: bool = Field(default=False, description="every new record must carry a value")
    filterable: bool = Field(default=False, description="lists can be filtered by it (cf.<key>=value)")

    @model_validator(mode="after")
    def _options(self) -> CustomFieldCreate:
        self.options = _options_ok(self.options, self.type)
        return self


class CustomFieldPatch(Patch):
    """``PATCH /v1/custom-fields/{key}``: ``version`` is the one read. The key and the entity stay; the
    type can change only while no value was ever stored for the field (otherwise 409)."""

    not_null = ("version", "label", "type", "private", "required", "filterable")

    version: Annotated[int, Field(ge=1)]
    label: Label | None = None  # type: ignore[valid-type]
    type: FieldType | None = None
    options: list[Option] | None = Field(default=None, max_length=MAX_OPTIONS)  # type: ignore[valid-type]
    private: bool | None = None
    required: bool | None = None
    filterable: bool | None = None


class CustomField(Model):
    key: str
    label: str
    entity: Entity
    type: FieldType
    options: list[str] = Field(default_factory=list)
    private: bool = False
    required: bool = False
    filterable: bool = False
    in_use: bool = Field(default=False, description="a value was stored for it (its type is then fixed)")
    version: int
    created_at: str
    updated_at: str
    deleted_at: str | None = Field(default=None, description="deleted: hidden, its values kept")

    @property
    def active(self) -> bool:
        return self.deleted_at is None


def checked_definition(field: CustomField) -> CustomField:
    """A definition after a patch, checked as a new one is (options for the type)."""
    field.options = _options_ok(field.options, field.type)
    return field


# ---------------------------------------------------------------------------------- values


def _text(value: Any, form: bool) -> str:
    if not isinstance(value, str):
        raise ValueError("must be text")
    stripped: str = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    if len(stripped) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters")
    if any(has_control_chars(c) for c in stripped if c not in "\n\t"):
        raise ValueError("must not contain control characters")
    return stripped


def _number(value: Any, form: bool) -> int | float:
    if form and isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text):
            raise ValueError("must be a number")
        value = float(text)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if not math.isfinite(value) or abs(value) >= MAX_NUMBER:
        raise ValueError("must be a number between -10^15 and 10^15")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _date(value: Any, form: bool) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError("must be a date like 2026-12-31")
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise ValueError("must be a real date like 2026-12-31") from None


def _url_value(value: Any, form: bool) -> str:
    if not isinstance(value, str):
        raise ValueError("must be an http(s) URL")
    if len(value) > 500:
        raise ValueError("must be at most 500 characters")
    return _url(value)


def _choice(options: list[str]) -> Any:
    def check(value: Any, form: bool) -> str:
        if not isinstance(value, str) or value.strip() not in options:
            raise ValueError(f"must be one of: {', '.join(options)}")
        return value.strip()

    return check


def _choices(options: list[str]) -> Any:
    def check(value: Any, form: bool) -> list[str]:
        if form and isinstance(value, str):
            value = [part for part in value.split(CHOICES_SEPARATOR) if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of options")
        chosen = {v.strip() for v in value}
        wrong = sorted(chosen - set(options))
        if wrong:
            raise ValueError(f"{', '.join(wrong)} is not an option (options: {', '.join(options)})")
        return [o for o in options if o in chosen]  # in the definition's order, each once

    return check


def _checker(field: CustomField) -> Any:
    if field.type == "choice":
        return _choice(field.options)
    if field.type == "choices":
        return _choices(field.options)
    return {"text": _text, "number": _number, "date": _date, "url": _url_value}[field.type]


def _is_blank(value: Any, field: CustomField, form: bool) -> bool:
    """``null`` clears a value; so does an empty list, and in a form an empty text."""
    if value is None or value == []:
        return True
    return form and isinstance(value, str) and not value.strip()


def check_values(
    definitions: Mapping[str, CustomField],
    values: Mapping[str, Any],
    *,
    form: bool = False,
    prefix: str = "custom_fields",
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Each value checked against its field's definition (``definitions``: the entity's active
    fields by key): the normalised values (``None`` where a value is cleared) and the errors, each
    naming ``<prefix>.<key>``. ``form``: values come as text (a form, a CSV cell): numbers are
    parsed, several choices are split at ``;`` and an empty text clears."""
    out: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for key, value in values.items():
        name = f"{prefix}.{str(key)[:60]}"
        field = definitions.get(key) if isinstance(key, str) else None
        if field is None:
            errors.append({"field": name, "message": "there is no such custom field"})
            continue
        if _is_blank(value, field, form):
            out[key] = None
            continue
        try:
            out[key] = _checker(field)(value, form)
        except ValueError as exc:
            errors.append({"field": name, "message": str(exc)})
    return out, errors


def merged_values(
    definitions: Mapping[str, CustomField],
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    *,
    creating: bool,
    prefix: str = "custom_fields",
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """The values after ``changes`` (checked by :func:`check_values`; ``None`` clears): a required
    field may not be left empty by a new record, nor cleared by a change."""
    result = {k: v for k, v in current.items()}
    errors: list[dict[str, str]] = []
    for key, value in changes.items():
        if value is None:
            result.pop(key, None)
            field = definitions.get(key)
            if field is not None and field.required:
                errors.append({"field": f"{prefix}.{key}", "message": "is required"})
        else:
            result[key] = value
    if creating:
        for key, field in definitions.items():
            if field.required and key not in result and key not in changes:
                errors.append({"field": f"{prefix}.{key}", "message": "is required"})
    return result, errors


def number_text(value: int | float) -> str:
    """A number as filters and CSV read it: ``5`` for 5.0, ``2.5`` for 2.50."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def value_term(value: Any) -> str:
    """What a filter compares of one value (or one of several choices): a number as
    :func:`number_text`, a text lower-cased, accents stripped, whitespace collapsed (first
    :data:`MAX_TERM` characters)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return number_text(value)
    return " ".join(search_term(str(value)).split())[:MAX_TERM]


def index_terms(values: Mapping[str, Any] | None) -> list[str]:
    """The list projections' terms of a record's values, ``<key>#<term>`` each (one per choice of a
    several-choices field), sorted: what ``cf.<key>=<value>`` finds."""
    terms: set[str] = set()
    for key, value in (values or {}).items():
        if not isinstance(key, str) or not _KEY.fullmatch(key) or value is None:
            continue
        for one in value if isinstance(value, list) else [value]:
            term = value_term(one)
            if term:
                terms.add(f"{key}#{term}")
    return sorted(terms)


def csv_text(value: Any) -> str:
    """One value as a CSV cell's text (several choices joined by ``"; "``)."""
    if value is None:
        return ""
    if isinstance(value, list):
        return f"{CHOICES_SEPARATOR} ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return number_text(value)
    return str(value)


def filter_key(name: str) -> str | None:
    """``cf.<key>`` -> ``<key>`` (``None`` when ``name`` is not a custom-field filter)."""
    return name[3:] if name.startswith("cf.") else None


def is_key(text: str) -> bool:
    return bool(_KEY.fullmatch(text))
