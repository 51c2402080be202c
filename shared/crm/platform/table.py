"""The single DynamoDB table: item (de)serialisation, keys, cursors, and SDK-error translation.

Access patterns are written down in ``docs/data-model.md``. Every request path uses
GetItem, Query or a transaction; nothing here scans.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from crm.platform import aws
from crm.platform.config import get_settings
from crm.platform.errors import DomainError, MalformedBody, ServiceUnavailable

# Attributes written as DynamoDB string sets (so updates can union them with ADD).
SET_ATTRIBUTES = frozenset({"tags", "sources"})


class InvalidCursor(MalformedBody):
    """A cursor this API did not return (or one of another list)."""


class StoreUnavailable(ServiceUnavailable):
    """The table kept refusing part of a batch."""


class WriteRefused(Exception):
    """The table refused a write because of its condition. Not a domain error: the repository
    that wrote says what it means (already done, a conflict, no such record)."""


class ConditionFailed(WriteRefused):
    """A single conditional write's condition did not hold."""


class TransactionCancelled(WriteRefused):
    """A transaction was cancelled. ``reasons`` has one code per operation, in order
    (``"None"`` for one that was fine, ``"ConditionalCheckFailed"``, ``"TransactionConflict"``...)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons) or "cancelled")
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether operation ``index`` failed its condition."""
        return len(self.reasons) > index and self.reasons[index] == "ConditionalCheckFailed"

    @property
    def conflicted(self) -> bool:
        """Cancelled only because another transaction was writing the same items (worth retrying):
        no condition failed."""
        return "TransactionConflict" in self.reasons and "ConditionalCheckFailed" not in self.reasons

    @property
    def only_first_failed(self) -> bool:
        """The first operation (the guard of the rest) failed its condition, and only it."""
        return self.reasons[:1] == ["ConditionalCheckFailed"]


def table_name() -> str:
    return get_settings().table_name


def ddb() -> Any:
    return aws.client("dynamodb")


# A small codec for DynamoDB's attribute values. boto3.dynamodb.types does the same, but
# importing it loads all of boto3 and s3transfer (~100 ms of every cold start), and its
# Decimal round trip made a list page cost twice the warm-time budget (docs/benchmarks.md).


def encode(python_value: Any) -> dict[str, Any]:
    """A Python value as a DynamoDB attribute value."""
    if python_value is None:
        return {"NULL": True}
    if isinstance(python_value, bool):
        return {"BOOL": python_value}
    if isinstance(python_value, str):
        return {"S": python_value}
    if isinstance(python_value, int | float | Decimal):
        return {"N": str(python_value)}
    if isinstance(python_value, bytes):
        return {"B": python_value}
    if isinstance(python_value, Mapping):
        return {"M": {str(k): encode(v) for k, v in python_value.items()}}
    if isinstance(python_value, list | tuple):
        return {"L": [encode(v) for v in python_value]}
    if isinstance(python_value, set | frozenset):
        return {"SS": sorted(str(v) for v in python_value)}
    raise TypeError(f"cannot store a {type(python_value).__name__} in DynamoDB")


def decode(attribute: Mapping[str, Any]) -> Any:
    """A DynamoDB attribute value as a plain Python value (sets as sorted lists)."""
    (kind, raw), *_ = attribute.items()
    if kind == "S":
        return raw
    if kind == "N":
        return _number(raw)
    if kind == "M":
        return {k: decode(v) for k, v in raw.items()}
    if kind == "L":
        return [decode(v) for v in raw]
    if kind == "SS":
        return sorted(raw)
    if kind == "NS":
        return sorted(_number(v) for v in raw)
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    return raw  # B, BS: bytes as they are


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to a DynamoDB item. ``None`` and empty sets are left out."""
    item: dict[str, Any] = {}
    for name, python_value in values.items():
        if python_value is None:
            continue
        if name in SET_ATTRIBUTES:
            if python_value:
                item[name] = {"SS": sorted(set(python_value))}
            continue
        item[name] = encode(python_value)
    return item


value = encode


def string_set(values: list[str] | set[str]) -> dict[str, Any]:
    return {"SS": sorted(set(values))}


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: decode(attribute) for name, attribute in item.items()}


def plain(decoded: Any) -> Any:
    """Values as boto3's deserializer gives them (Decimal, set) to plain int/float/list."""
    if isinstance(decoded, Decimal):
        return int(decoded) if decoded == decoded.to_integral_value() else float(decoded)
    if isinstance(decoded, dict):
        return {k: plain(v) for k, v in decoded.items()}
    if isinstance(decoded, list):
        return [plain(v) for v in decoded]
    if isinstance(decoded, set | frozenset):
        return sorted(plain(v) for v in decoded)
    return decoded


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _cancellation_reasons(exc: ClientError) -> list[str]:
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "None")) for r in reasons]


def _refused(exc: ClientError) -> WriteRefused | None:
    """The typed error for a refused write (None: another failure, raised as it is)."""
    code = _error_code(exc)
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(code)
    if code == "TransactionCanceledException":
        return TransactionCancelled(_cancellation_reasons(exc))
    return None


# ---------------------------------------------------------------------------------- cursors

_CURSOR_KEYS = {"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}


def encode_cursor(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    plain = {k: v["S"] for k, v in last_key.items()}
    raw = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, expected: set[str]) -> dict[str, Any] | None:
    """A client-supplied cursor back to an ExclusiveStartKey; anything odd is a 400, never a 5xx."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor("The cursor is not one this API returned.") from exc
    if (
        not isinstance(plain, dict)
        or set(plain) != expected
        or not expected <= _CURSOR_KEYS
        or not all(isinstance(v, str) and 0 < len(v) <= 1024 for v in plain.values())
    ):
        raise InvalidCursor("The cursor is not one this API returned.")
    return {k: {"S": v} for k, v in plain.items()}


def cursor_from_item(item: Mapping[str, Any], key_names: set[str]) -> str | None:
    return encode_cursor({k: item[k] for k in key_names})


# ---------------------------------------------------------------------------------- queries


def query_page(
    *,
    key_condition: str,
    values: dict[str, Any],
    limit: int,
    cursor: str | None,
    index: str | None = None,
    forward: bool = True,
    filter_expression: str | None = None,
    names: dict[str, str] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of raw items and the cursor of the next page (``None`` on the last page).

    Asks for one item more than the page so the last page is known without a further
    request; with a filter it keeps reading until the page is full or the key range ends.
    """
    key_names = {"pk", "sk"} | ({f"{index}pk", f"{index}sk"} if index else set())
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": forward,
    }
    if index:
        params["IndexName"] = index
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if names:
        params["ExpressionAttributeNames"] = names
    start = decode_cursor(cursor, key_names)
    items: list[dict[str, Any]] = []
    while True:
        params["Limit"] = limit + 1 - len(items)
        if start:
            params["ExclusiveStartKey"] = start
        try:
            response = ddb().query(**params)
        except ClientError as exc:
            if _error_code(exc) == "ValidationException" and cursor:
                raise InvalidCursor("The cursor does not belong to this list.") from exc
            raise
        items.extend(response.get("Items", []))
        start = response.get("LastEvaluatedKey")
        if len(items) > limit or not start:
            break
    if len(items) > limit:
        page = items[:limit]
        return page, cursor_from_item(page[-1], key_names)
    return items, None


def query_all(
    *,
    key_condition: str,
    values: dict[str, Any],
    index: str | None = None,
    projection: str | None = None,
    names: dict[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item under one key condition (erasure, exports), page by page."""
    params: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeValues": values,
    }
    if index:
        params["IndexName"] = index
    if projection:
        params["ProjectionExpression"] = projection
    if names:
        params["ExpressionAttributeNames"] = names
    while True:
        response = ddb().query(**params)
        yield from response.get("Items", [])
        last = response.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last


def get_item(pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
    response = ddb().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=consistent)
    item = response.get("Item")
    return dict(item) if item else None


def transact(operations: list[dict[str, Any]], *, cancelled: DomainError | None = None) -> None:
    """Write items atomically. Each operation is ``{"Put"|"Update"|"Delete"|"ConditionCheck": {...}}``
    without the table name, which is filled in here. A cancelled transaction raises
    ``TransactionCancelled`` with each operation's reason, or ``cancelled`` when it is given."""
    name = table_name()
    for op in operations:
        next(iter(op.values()))["TableName"] = name
    try:
        ddb().transact_write_items(TransactItems=operations)
    except ClientError as exc:
        refused = _refused(exc)
        if isinstance(refused, TransactionCancelled):
            if cancelled is not None:
                raise cancelled from exc
            raise refused from exc
        raise


def _write(operation: str, params: dict[str, Any]) -> dict[str, Any]:
    params.setdefault("TableName", table_name())
    try:
        return dict(getattr(ddb(), operation)(**params))
    except ClientError as exc:
        refused = _refused(exc)
        if refused is not None:
            raise refused from exc
        raise


def put(item: dict[str, Any], *, condition: str | None = None, **params: Any) -> None:
    """PutItem of a whole item (DynamoDB form); a failed ``condition`` is ``ConditionFailed``.
    ``params``: ``ExpressionAttributeNames``/``Values`` of the condition."""
    if condition:
        params["ConditionExpression"] = condition
    _write("put_item", {"Item": item, **params})


def update(
    key: dict[str, Any], expression: str, *, condition: str | None = None, **params: Any
) -> dict[str, Any]:
    """UpdateItem; returns the answer (``Attributes`` when ``ReturnValues`` asks for them); a failed
    ``condition`` is ``ConditionFailed``."""
    if condition:
        params["ConditionExpression"] = condition
    return _write("update_item", {"Key": key, "UpdateExpression": expression, **params})


def delete(key: dict[str, Any], *, condition: str | None = None, **params: Any) -> None:
    """DeleteItem; a failed ``condition`` is ``ConditionFailed``."""
    if condition:
        params["ConditionExpression"] = condition
    _write("delete_item", {"Key": key, **params})


def query(**params: Any) -> dict[str, Any]:
    """One Query request as DynamoDB answers it (for reads that page themselves)."""
    params.setdefault("TableName", table_name())
    return dict(ddb().query(**params))


def batch_delete(keys: list[dict[str, Any]]) -> None:
    _batch_write([{"DeleteRequest": {"Key": k}} for k in keys])


def _batch_write(requests: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 requests at a time, retrying what DynamoDB leaves unprocessed."""
    name = table_name()
    for start in range(0, len(requests), 25):
        pending = requests[start : start + 25]
        for _attempt in range(8):
            if not pending:
                break
            response = ddb().batch_write_item(RequestItems={name: pending})
            pending = list(response.get("UnprocessedItems", {}).get(name, []))
        if pending:
            raise StoreUnavailable("The store is busy; try again.")


def batch_get(
    keys: list[tuple[str, str]], *, consistent: bool = True
) -> dict[tuple[str, str], dict[str, Any]]:
    """Many items by key, 100 per request; missing items are absent from the answer."""
    name = table_name()
    found: dict[tuple[str, str], dict[str, Any]] = {}
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 100):
        pending: dict[str, Any] = {
            name: {
                "Keys": [key(pk, sk) for pk, sk in unique[start : start + 100]],
                "ConsistentRead": consistent,
            }
        }
        for _attempt in range(8):
            response = ddb().batch_get_item(RequestItems=pending)
            for item in response.get("Responses", {}).get(name, []):
                found[(item["pk"]["S"], item["sk"]["S"])] = item
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                break
        if pending:
            raise StoreUnavailable("The store is busy; try again.")
    return found


def batch_put(items: list[dict[str, Any]]) -> None:
    """Write whole items (already in DynamoDB form), 25 per request, no conditions."""
    _batch_write([{"PutRequest": {"Item": i}} for i in items])


def write_if(operation: str, **params: Any) -> bool:
    """One conditional write (``put_item``, ``update_item`` or ``delete_item``); False when its
    condition did not hold, which callers treat as "already done" or "someone else's"."""
    try:
        _write(operation, params)
    except ConditionFailed:
        return False
    return True
