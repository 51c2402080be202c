"""The HTTP API: one Chalice app for career sites, recruiters and integrations.

Routes live in blueprints by resource (``chalicelib/``); each is declared with
``chalicelib.web.endpoint.endpoint``, which authenticates, validates and maps errors to
problem+json. Domain logic lives in the ``crm`` package.

What Chalice answers by itself, before or around a view (405 for a method the path does not
allow, 415, the 400 of a binary response without a matching ``Accept``, the 500 of an exception
outside ``endpoint``), is turned into problem+json by ``chalice_errors_as_problems`` with the
same status and headers (``Allow`` on a 405): in AWS and in the local stack alike.
"""

import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from chalice import Chalice, ConvertToMiddleware, Response

from chalicelib.api import api_keys as admin
from chalicelib.api import audit as audit_log
from chalicelib.api import auth as auth_routes
from chalicelib.api import (
    bulk,
    campaigns,
    candidates,
    events,
    hiring,
    inbound,
    interviews,
    jobs,
    outreach,
    pools,
    referrals,
    reminders,
    sequences,
    templates,
)
from chalicelib.api import custom_fields as custom_fields_api
from chalicelib.api import exports as exports_api  # exports
from chalicelib.api import imports as candidate_imports  # imports slice
from chalicelib.api import merges as merge_routes  # merges
from chalicelib.api import users as admin_users
from chalicelib.api import webhooks as webhooks_api  # webhooks
from chalicelib.public import alerts, careers, docs, portal, unsubscribe
from chalicelib.public import events as career_events
from chalicelib.public import intake as public
from chalicelib.public import interviews as public_interviews
from chalicelib.public import referrals as public_referrals
from chalicelib.ui import admin as ui_admin
from chalicelib.ui import audit as ui_audit
from chalicelib.ui import bulk as ui_bulk
from chalicelib.ui import candidates as ui
from chalicelib.ui import custom_fields as ui_custom_fields
from chalicelib.ui import dashboard as ui_dashboard
from chalicelib.ui import engagement as ui_engagement
from chalicelib.ui import events as ui_events
from chalicelib.ui import exports as ui_exports  # exports
from chalicelib.ui import imports as ui_imports  # imports slice
from chalicelib.ui import inbound as ui_inbound
from chalicelib.ui import interviews as ui_interviews
from chalicelib.ui import jobs as ui_jobs
from chalicelib.ui import merges as ui_merges  # merges
from chalicelib.ui import pools as ui_pools
from chalicelib.ui import referrals as ui_referrals
from chalicelib.ui import sequences as ui_sequences
from chalicelib.ui import session as ui_session
from chalicelib.ui import webhooks as ui_webhooks  # webhooks
from chalicelib.web.endpoint import problem
from crm.custom_fields.service import clear_cache as fresh_custom_fields
from crm.platform.config import get_settings
from crm.platform.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InternalError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)

logger = Logger(service="crm")  # not the app name, or every line is logged twice
log = logging.getLogger("crm.api")

app = Chalice(app_name="crm-api")
app.api.binary_types.append("multipart/form-data")

#: Chalice's own error statuses and the domain error each becomes.
_CHALICE_ERRORS: dict[int, type[DomainError]] = {
    401: Unauthenticated,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
}


def _is_chalice_error(response: Response) -> bool:
    body = response.body
    return response.status_code >= 400 and isinstance(body, dict) and set(body) == {"Code", "Message"}


def chalice_errors_as_problems(
    of: Chalice,
) -> Callable[[Any, Callable[[Any], Response]], Response]:
    """An http middleware for the app ``of`` that answers Chalice's own ``{"Code", "Message"}``
    error bodies as problem+json, with the same status and headers."""

    def middleware(request: Any, get_response: Callable[[Any], Response]) -> Response:
        return _as_problem(of, request, get_response)

    return middleware


def _as_problem(of: Chalice, request: Any, get_response: Callable[[Any], Response]) -> Response:
    context = getattr(request, "context", None) or {}
    resource = context.get("resourcePath")
    if resource is not None and resource not in of.routes:
        # Only a hand-made event can name a resource the app does not have (API Gateway and the
        # local server route first); Chalice would answer 405 and add the path to its route table.
        return problem(NotFound("No route matches this method and path."))
    try:
        response = get_response(request)
    except Exception as exc:
        log.error("unhandled %s outside the route's handler on %s", type(exc).__name__, resource)
        return problem(InternalError())
    if not _is_chalice_error(response):
        return response
    status = response.status_code
    headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
    error: DomainError
    if status == 405:
        method = context.get("httpMethod") or "This method"
        allowed = headers.get("Allow") or ""
        error = MethodNotAllowed(f"{method} is not allowed on this path; it allows {allowed}.")
    elif status >= 500:
        log.error("Chalice answered %s (%s) on %s", status, response.body.get("Code"), resource)
        return problem(InternalError(), headers, status=status)
    else:
        error = _CHALICE_ERRORS.get(status, DomainError)(str(response.body.get("Message") or "Bad request."))
    return problem(error, headers, status=status)


app.register_middleware(ConvertToMiddleware(logger.inject_lambda_context(clear_state=True)))
app.register_middleware(chalice_errors_as_problems(app), "http")


def custom_field_definitions_per_invocation(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Custom-field definitions are read afresh by each invocation (custom_fields slice)."""
    fresh_custom_fields()
    return get_response(event)


app.register_middleware(custom_field_definitions_per_invocation, "all")

for blueprint in (
    docs.bp,
    auth_routes.bp,
    public.bp,
    unsubscribe.bp,
    alerts.bp,
    portal.bp,
    careers.bp,
    public_interviews.bp,
    career_events.bp,
    ui_session.bp,
    ui.bp,
    ui_dashboard.bp,
    ui_pools.bp,
    ui_jobs.bp,
    ui_interviews.bp,
    ui_events.bp,
    ui_engagement.bp,
    ui_sequences.bp,
    candidates.bp,
    jobs.bp,
    hiring.bp,
    interviews.bp,
    events.bp,
    pools.bp,
    templates.bp,
    campaigns.bp,
    sequences.bp,
    reminders.bp,
    outreach.bp,
    inbound.bp,
    ui_inbound.bp,
    bulk.bp,
    admin.bp,
    admin_users.bp,
    ui_admin.bp,
    ui_bulk.bp,
    referrals.bp,
    public_referrals.bp,
    ui_referrals.bp,
    audit_log.bp,
    ui_audit.bp,
    # webhooks
    webhooks_api.bp,
    ui_webhooks.bp,
    exports_api.bp,  # exports
    ui_exports.bp,  # exports
    # custom_fields slice
    custom_fields_api.bp,
    ui_custom_fields.bp,
    # merges
    merge_routes.bp,
    ui_merges.bp,
    # imports slice
    candidate_imports.bp,
    ui_imports.bp,
):
    app.register_blueprint(blueprint)

if get_settings().local_stack:  # set by `crm dev` only: never in AWS
    from chalicelib.api import dev
    from chalicelib.ui import dev as ui_dev

    app.register_blueprint(dev.bp)
    app.register_blueprint(ui_dev.bp)
