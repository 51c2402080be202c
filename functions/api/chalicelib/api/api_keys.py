"""Admin API: integration keys (stored as hashes only; the secret is shown once)."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, PageQuery, endpoint, page
from crm.api_keys.models import ApiKey, ApiKeyCreate, ApiKeyCreated
from crm.api_keys.service import ApiKeyService

bp = Blueprint(__name__)


@endpoint(
    bp,
    "/v1/api-keys",
    "GET",
    summary="List integration keys (admins)",
    tag="admin",
    permission="admin",
    query=PageQuery,
    response=ApiKey,
    paginated=True,
)
def list_keys(call: Call) -> dict[str, Any]:
    items, next_cursor = ApiKeyService().list_page(limit=call.query.limit, cursor=call.query.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/api-keys",
    "POST",
    summary="Create an integration key; the secret is returned once (admins)",
    tag="admin",
    permission="admin",
    body=ApiKeyCreate,
    response=ApiKeyCreated,
    status=201,
)
def create_key(call: Call) -> ApiKeyCreated:
    created = ApiKeyService().create(call.body, created_by=call.actor)
    audit(call, "api_key.created", subject=f"api-key:{created.id}", details={"scope": created.scope})
    return created


@endpoint(
    bp,
    "/v1/api-keys/{key_id}",
    "DELETE",
    summary="Revoke an integration key (admins)",
    tag="admin",
    permission="admin",
    status=204,
    errors=(404,),
)
def revoke_key(call: Call, key_id: str) -> None:
    ApiKeyService().revoke(key_id)
    audit(call, "api_key.revoked", subject=f"api-key:{key_id}")
