"""Request bodies in the three encodings career sites use: JSON, urlencoded and multipart.

Decoding is framework-neutral: it takes the Content-Type and the raw bytes and returns
fields (repeated fields as lists) and files. Size limits are checked before parsing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from crm.platform.errors import (
    MalformedBody,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    validation_errors_from_pydantic,
)

ModelT = TypeVar("ModelT", bound=BaseModel)


def is_bot(fields: dict[str, Any]) -> bool:
    """The honeypot field ``website`` was filled in: humans never see it, bots fill everything.
    Public forms then answer as usual and store nothing."""
    honeypot = fields.get("website")
    return isinstance(honeypot, str) and bool(honeypot.strip())


def parse_fields(model: type[ModelT], fields: dict[str, Any]) -> ModelT:
    """Decoded form fields as ``model``; a 422 naming every invalid field otherwise."""
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        raise ValidationFailed(
            "Some fields are missing or invalid.", errors=validation_errors_from_pydantic(exc)
        ) from exc


FORM_TYPES = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class Upload:
    """A file as the API received it (a resume)."""

    filename: str
    data: bytes


@dataclass
class DecodedBody:
    fields: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


#: No body of this API nests deeper than a few levels; deeper is refused before it is parsed
#: (Python's JSON parser recurses, and a 2 KB body of brackets would exhaust the stack).
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")


def json_depth(body: bytes) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings do not count).
    Linear in the body's size; a malformed text gets some number, and the parser refuses it."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def decode_json_object(body: bytes, *, max_bytes: int) -> dict[str, Any]:
    if len(body) > max_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_bytes} bytes.")
    if not body.strip():
        raise MalformedBody("The body is empty; send a JSON object.")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise MalformedBody(f"The body nests deeper than {MAX_JSON_DEPTH} levels.")
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedBody(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(parsed, dict):
        raise MalformedBody("The body must be a JSON object.")
    return parsed


def decode_form(
    content_type: str | None,
    body: bytes,
    *,
    max_form_bytes: int,
    max_multipart_bytes: int,
    allowed: tuple[str, ...] = FORM_TYPES,
) -> DecodedBody:
    kind = media_type(content_type) or "application/json"
    if kind not in allowed:
        raise UnsupportedMediaType(f"Send one of: {', '.join(allowed)}.")
    if kind == "application/json":
        return DecodedBody(fields=decode_json_object(body, max_bytes=max_form_bytes))
    if kind == "application/x-www-form-urlencoded":
        if len(body) > max_form_bytes:
            raise PayloadTooLarge(f"The body is larger than {max_form_bytes} bytes.")
        return _parse_urlencoded(body)
    if len(body) > max_multipart_bytes:
        raise PayloadTooLarge(f"The body is larger than {max_multipart_bytes} bytes.")
    if "boundary=" not in (content_type or ""):
        raise MalformedBody("A multipart body needs a boundary in its Content-Type.")
    return _parse_with_python_multipart(content_type or kind, body)


def _parse_urlencoded(body: bytes) -> DecodedBody:
    from urllib.parse import parse_qsl

    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=200,
            errors="strict",  # %FF is not text: a 400, never replacement characters
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedBody(f"The form body could not be parsed: {_reason(exc)}.") from exc
    decoded = DecodedBody()
    for name, val in pairs:
        _add(decoded.fields, name, val)
    return decoded


def _parse_with_python_multipart(content_type: str, body: bytes) -> DecodedBody:
    from python_multipart import create_form_parser
    from python_multipart.exceptions import FormParserError

    decoded = DecodedBody()

    def on_field(f: Any) -> None:
        name = _text(f.field_name)
        val = _text(f.value)
        _add(decoded.fields, name, val)

    def on_file(f: Any) -> None:
        name = _text(f.field_name)
        f.file_object.seek(0)
        data = f.file_object.read()
        filename = _text(f.file_name)
        if filename or data:
            decoded.files[name] = Upload(filename=filename, data=data)

    headers = {
        "Content-Type": content_type.encode("latin-1", "replace"),
        "Content-Length": str(len(body)).encode(),
    }
    try:
        parser = create_form_parser(
            headers,
            on_field,
            on_file,
            config={"MAX_MEMORY_FILE_SIZE": 16 * 1024 * 1024, "UPLOAD_KEEP_FILENAME": False},
        )
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError, UnicodeError) as exc:
        raise MalformedBody(f"The form body could not be parsed: {_reason(exc)}.") from exc
    return decoded


def _text(raw: bytes | None) -> str:
    """A multipart field name or value as text: UTF-8, or the form is refused (never replaced)."""
    return (raw or b"").decode("utf-8")


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "it is not valid UTF-8 text"
    return str(exc)


def _add(fields: dict[str, Any], name: str, val: str) -> None:
    if name.endswith("[]"):
        name = name[:-2]
    if name in fields:
        existing = fields[name]
        fields[name] = [*existing, val] if isinstance(existing, list) else [existing, val]
    else:
        fields[name] = val
