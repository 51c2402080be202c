"""Field types every model uses: what the server accepts, and a JSON Schema that says exactly that.

Each type checks its raw input and then normalises it (trims it, lower-cases a tag). The same rule
is written into the JSON Schema as a ``pattern`` and ``maxLength`` over the raw input, so the
OpenAPI document says what the server checks: a client (or a fuzzer) that follows the document is
never refused for a reason the document hides, and one that breaks it is refused. The patterns are
Python regular expressions, where ``\\s`` is exactly what ``str.strip`` removes and ``\\w`` what
``str.isalnum`` (and ``_``) accepts; the checks are written in Python with the same meaning, and
``tests/unit/test_fields.py`` proves the two agree.

Lengths are counted on the raw input (trimming happens after), so ``maxLength`` is exact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field, GetJsonSchemaHandler, StringConstraints
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_TAGS = 30
MAX_TAG_LENGTH = 50
#: Tags as one comma-separated string: at most this long (room for 30 tags and their separators).
MAX_TAG_TEXT = 2000

#: Unicode category Cc (C0 and C1 control characters), never allowed in a one-line text.
CONTROL = r"\x00-\x1f\x7f-\x9f"
_EDGE = rf"[^\s{CONTROL}]"  # a visible character (not whitespace, not a control character)
_INNER = rf"[^{CONTROL}]"
#: One line of text with something visible in it, and any whitespace around it (trimmed).
REQUIRED_TEXT = rf"^\s*{_EDGE}(?:{_INNER}*{_EDGE})?\s*$"
#: The same, or nothing but whitespace (an empty optional field).
OPTIONAL_TEXT = rf"^\s*(?:{_EDGE}(?:{_INNER}*{_EDGE})?)?\s*$"
#: Free text of several lines (notes, a template's subject): something visible in it.
VISIBLE_TEXT = r"^[\s\S]*\S[\s\S]*$"

# A tag is lower-cased and its whitespace collapsed; then it starts with a letter, digit or "_" and
# goes on with those and " .+#/-". U+0130 (İ) is the one word character whose lower case is not one.
_TAG_WORD = r"[^\W\u0130]"
_TAG_BODY = rf"{_TAG_WORD}(?:{_TAG_WORD}|[\s.+#/-])*"
TAG = rf"^\s*{_TAG_BODY}$"
#: Tags as one form field: comma-separated (empty pieces are ignored).
TAG_LIST_TEXT = rf"^(?:\s*|\s*{_TAG_BODY})(?:,(?:\s*|\s*{_TAG_BODY}))*$"
_NORMALISED_TAG = re.compile(r"\w[\w .+#/-]*")

PHONE = r"^\s*[0-9+()./ -]*\s*$"
#: The spaces a URL may be wrapped in, named one by one: JSON Schema's ``\s`` (ECMAScript's) and
#: Python's differ (Python's also matches U+001C-U+001F and U+0085), so the published pattern
#: and the validator both use this class and mean the same thing.
URL_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_URL_SPACE_CHARS = (
    "\t\n\v\f\r \u00a0\u1680"
    + "".join(map(chr, range(0x2000, 0x200B)))
    + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
URL = f"^[{URL_SPACE}]*[hH][tT][tT][pP][sS]?://[^{URL_SPACE}/$.?#][^{URL_SPACE}]*[{URL_SPACE}]*$"
ID = r"^[A-Za-z0-9_-]+$"
SLUG = r"^\s*[\w.-]+\s*$"
STAGE = r"^\s*[\w-](?:[\w -]*[\w-])?\s*$"
#: An ISO 8601 date and time; the time zone is checked by the validator (``Z`` or an offset).
DATE_TIME = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}"

_URL = re.compile(f"https?://[^{URL_SPACE}/$.?#][^{URL_SPACE}]*", re.IGNORECASE)
_PHONE = re.compile(r"[0-9+()./ -]*")
_SLUG = re.compile(r"[\w.-]+")
_STAGE = re.compile(r"[\w -]+")
_DATE_TIME = re.compile(DATE_TIME)


@dataclass(frozen=True)
class JsonPattern:
    """Annotated marker: the JSON Schema of this string says ``pattern``."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True, eq=False)  # hashed by identity: the values may hold dicts
class JsonSchemaUpdate:
    """Annotated marker: merge ``values`` into this field's JSON Schema."""

    values: tuple[tuple[str, Any], ...]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema.update({name.rstrip("_"): value for name, value in self.values})  # not_ -> not
        return schema


def schema_update(**values: Any) -> JsonSchemaUpdate:
    return JsonSchemaUpdate(tuple(values.items()))


def has_control_chars(value: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in value)


def _one_line(required: bool) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.strip()
        if required and not value:
            raise ValueError("must not be empty")
        if has_control_chars(value):
            raise ValueError("must not contain control characters")
        return value

    return check


def _visible(value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    return stripped


def _matching(compiled: re.Pattern[str], message: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        value = value.strip()
        if not compiled.fullmatch(value):
            raise ValueError(message)
        return value

    return check


def one_line_text(max_length: int, *, required: bool) -> Any:
    """A one-line text of at most ``max_length`` characters (trimmed; no control characters)."""
    return Annotated[
        str,
        StringConstraints(max_length=max_length),
        AfterValidator(_one_line(required)),
        JsonPattern(REQUIRED_TEXT if required else OPTIONAL_TEXT),
    ]


def visible_text(max_length: int) -> Any:
    """Text of several lines with something visible in it (trimmed)."""
    return Annotated[
        str, StringConstraints(max_length=max_length), AfterValidator(_visible), JsonPattern(VISIBLE_TEXT)
    ]


def _lower_email(value: str) -> str:
    return value.strip().lower()


def _strip_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def normalise_tag(value: Any) -> Any:
    if isinstance(value, str):
        return re.sub(r"\s+", " ", value.strip().lower())
    return value


TAG_RULE = "Tags may use letters, digits, spaces and . + # / -, starting with a letter or digit"


def _tag(value: str) -> str:
    tag = normalise_tag(value)
    if not tag:
        raise ValueError("must not be empty")
    if "\u0130" in value or not _NORMALISED_TAG.fullmatch(tag) or len(tag) > MAX_TAG_LENGTH:
        raise ValueError(TAG_RULE)
    return str(tag)


def _split_tags(value: Any) -> Any:
    """Tags arrive as a list, a repeated form field, or one comma-separated string (``null`` is
    none of them: where a field may be null, the model says so)."""
    if isinstance(value, str):
        if len(value) > MAX_TAG_TEXT:
            raise ValueError(f"give at most {MAX_TAG_TEXT} characters of comma-separated tags")
        return [t for t in (p.strip() for p in value.split(",")) if t]
    return value


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _iso_text(value: Any) -> Any:
    """Times are ISO 8601 strings with a time zone: a number is refused, not read as 1970."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not _DATE_TIME.match(value.strip()):
        raise ValueError("give an ISO 8601 time with a time zone, e.g. 2026-12-01T09:00:00Z")
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValueError("is not a valid ISO 8601 time, e.g. 2026-12-01T09:00:00Z") from exc


def _aware_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("give a time zone, e.g. 2026-12-01T09:00:00Z")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # year 1 at +14:00 has no UTC time
        raise ValueError("is out of range") from exc


Name = one_line_text(100, required=True)
ShortText = one_line_text(200, required=False)
Label = one_line_text(200, required=True)
Phone = Annotated[
    str,
    StringConstraints(max_length=40),
    AfterValidator(_matching(_PHONE, "use digits, spaces and + ( ) . / - only")),
    JsonPattern(PHONE),
]


def _url(value: str) -> str:
    value = value.strip(_URL_SPACE_CHARS)
    if not _URL.fullmatch(value):
        raise ValueError("must be an http(s) URL")
    return value


Url = Annotated[
    str,
    StringConstraints(max_length=500),
    AfterValidator(_url),
    JsonPattern(URL),
]
#: The top-level domains email-validator refuses (RFC 6761 special-use names), and what it asks of
#: a domain: a dot, and a last label that is not all digits.
SPECIAL_USE_DOMAINS = ("arpa", "invalid", "local", "localhost", "onion", "test")
_SPECIAL_USE = "|".join("".join(f"[{c}{c.upper()}]" for c in name) for name in SPECIAL_USE_DOMAINS)
EMAIL_DOMAIN = r"@[^@\s\[\]]+\.[^@\s.\[\]]*[^\W\d][^@\s.\[\]]*\s*$"
Email = Annotated[
    EmailStr,
    BeforeValidator(_strip_text),
    StringConstraints(max_length=254),
    AfterValidator(_lower_email),
    JsonPattern(EMAIL_DOMAIN),
    schema_update(not_={"pattern": rf"\.(?:{_SPECIAL_USE})\.?\s*$"}),
]
Tag = Annotated[
    str,
    StringConstraints(max_length=MAX_TAG_LENGTH),
    AfterValidator(_tag),
    JsonPattern(TAG),
    schema_update(minLength=1),
]


@dataclass(frozen=True)
class _TagsSchema:
    """The JSON Schema of ``Tags``: the list, or one comma-separated string (as a form sends it)."""

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        listed = handler(core_schema)
        return {
            "anyOf": [listed, {"type": "string", "pattern": TAG_LIST_TEXT, "maxLength": MAX_TAG_TEXT}],
            "description": f"At most {MAX_TAGS} tags, as a list or one comma-separated string; each is "
            "lower-cased, with its whitespace collapsed, and starts with a letter or digit.",
        }


Tags = Annotated[
    list[Tag],
    BeforeValidator(_split_tags),
    AfterValidator(_unique),
    Field(max_length=MAX_TAGS),
    _TagsSchema(),
]
#: Where a person came from (``source``): letters, digits and ``. _ -``, stored and matched in
#: lower case, as tags are (``LinkedIn`` and ``linkedin`` are one source).
Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=50),
    AfterValidator(_matching(_SLUG, "Use only letters, digits and . _ -")),
    AfterValidator(str.lower),
    JsonPattern(SLUG),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID)]


def _integral(value: Any) -> Any:
    """JSON has one kind of number: ``3.0`` is the integer 3 (as JSON Schema reads it)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: The version of a record a client read (optimistic concurrency).
Version = Annotated[int, Field(ge=1), BeforeValidator(_integral)]
Stage = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40),
    AfterValidator(_matching(_STAGE, "use letters, digits, spaces and - only")),
    JsonPattern(STAGE),
]
AwareDatetime = Annotated[
    datetime,
    BeforeValidator(_iso_text),
    AfterValidator(_aware_utc),
    schema_update(description="ISO 8601 with a time zone, e.g. 2026-12-01T09:00:00Z"),
]


def normalise_email(email: str) -> str:
    """The identity of a person: trimmed and case-insensitive."""
    return email.strip().lower()


def search_term(text: str) -> str:
    """Lower-cased and accent-stripped, for prefix search."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))
