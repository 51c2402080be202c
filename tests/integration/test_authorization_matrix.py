"""Who may call what: every route against eight principals, as a literal table.

Rows are ``(method, path) -> (anonymous, recruiter, admin, read key, read-write key, hiring
manager, hiring manager of another job, employee)``: the world's job names ``hm@example.com`` its hiring
manager, and ``hm-other@example.com`` manages a job of its own and tries this one (403 for the
job, 404 for its applicants: ids they cannot know of). A route
added to the app without a row here fails ``test_matrix_covers_every_route``. Authorised cells
call the route with real resources and valid bodies, so the expected status is the success code;
denied cells must be problem+json and must not change anything in the table or the bucket.

The AWS back end (moto), the users and the keys are set up once for the module: each cell that
changes or removes something gets fresh resources of its own.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import boto3
import jwt
import pytest
from chalice.test import Client
from moto import mock_aws

from crm.access.service import jwks_cache
from crm.platform import aws
from crm.platform.config import reset_settings
from tests.integration.conftest import PASSWORD, Env
from tests.support.stack import create_user, provision
from tests.support.streams import StreamPump

# One moto back end per module: keep the module on one xdist worker (make test: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("authorization-matrix")

PRINCIPALS = ("anonymous", "recruiter", "admin", "read_key", "rw_key", "hm", "hm_other", "employee")
#: The UI takes none of these credentials; the first five show it (a hiring manager's bearer token
#: is one more bearer token).
UI_PRINCIPALS = PRINCIPALS[:5]
HIRING_MANAGERS = {"hm": "hm@example.com", "hm_other": "hm-other@example.com"}

# (method, path) -> expected status for (anonymous, recruiter, admin, read key, read-write key,
# hiring manager of the job, hiring manager of another job, employee: a member of the ``employee``
# group, who may refer people and nothing else).
MATRIX: dict[tuple[str, str], tuple[int, int, int, int, int, int, int, int]] = {
    # candidates
    ("GET", "/v1/candidates"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/candidates"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("PATCH", "/v1/candidates/{candidate_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("DELETE", "/v1/candidates/{candidate_id}"): (401, 403, 204, 403, 403, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/timeline"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/notes"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/candidates/{candidate_id}/notes"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/applications"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("GET", "/v1/candidates/{candidate_id}/applications/{job_id}/resume"): (
        401,
        200,
        200,
        200,
        200,
        200,
        404,
        403,
    ),
    ("GET", "/v1/candidates/{candidate_id}/emails"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/candidates/{candidate_id}/emails"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/resumes"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/candidates/{candidate_id}/resumes"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/resumes/{resume_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/interactions"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/candidates/{candidate_id}/interactions"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/replies"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/replies/{reply_id}/attachments/{index}"): (
        401,
        200,
        200,
        200,
        200,
        403,
        403,
        403,
    ),
    # bulk actions (the export is personal data in bulk: keys with the read scope may not take it)
    ("GET", "/v1/bulk-actions"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/bulk-actions"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("GET", "/v1/bulk-actions/{bulk_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/bulk-actions/{bulk_id}/export"): (401, 200, 200, 403, 200, 403, 403, 403),
    # jobs
    ("GET", "/v1/jobs"): (401, 200, 200, 200, 200, 200, 200, 403),
    ("POST", "/v1/jobs"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/jobs/{job_id}"): (401, 200, 200, 200, 200, 200, 403, 403),
    ("PATCH", "/v1/jobs/{job_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/jobs/{job_id}/applications"): (401, 200, 200, 200, 200, 200, 403, 403),
    ("POST", "/v1/jobs/{job_id}/applications"): (401, 201, 201, 403, 201, 403, 403, 403),
    # hiring: applications in their pipeline; the rejection reasons are the admins' to change
    ("GET", "/v1/applications/{application_id}"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("PATCH", "/v1/applications/{application_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    # feedback is given by people who sign in: an API key is nobody's feedback, whatever its scope
    ("GET", "/v1/applications/{application_id}/feedback"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("POST", "/v1/applications/{application_id}/feedback"): (401, 201, 201, 403, 403, 201, 404, 403),
    ("GET", "/v1/rejection-reasons"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PUT", "/v1/rejection-reasons"): (401, 403, 200, 403, 403, 403, 403, 403),
    # interviews: recruiters offer and cancel; the job's hiring team reads them and gives feedback
    ("POST", "/v1/applications/{application_id}/interviews"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/applications/{application_id}/interviews"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("GET", "/v1/interviews/{interview_id}"): (401, 200, 200, 200, 200, 200, 404, 403),
    ("POST", "/v1/interviews/{interview_id}/cancel"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/interviews/{interview_id}/feedback"): (401, 201, 201, 403, 403, 201, 404, 403),
    # pools
    ("GET", "/v1/pools"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/pools"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/pools/{pool_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PATCH", "/v1/pools/{pool_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/pools/{pool_id}/members"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/pools/{pool_id}/members"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("DELETE", "/v1/pools/{pool_id}/members/{candidate_id}"): (401, 204, 204, 403, 204, 403, 403, 403),
    # email templates
    ("GET", "/v1/templates"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/templates"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/templates/{template_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PATCH", "/v1/templates/{template_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/templates/{template_id}/preview"): (401, 200, 200, 200, 200, 403, 403, 403),
    # campaigns
    ("GET", "/v1/campaigns"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/campaigns"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/campaigns/{campaign_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/campaigns/{campaign_id}/audience"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/campaigns/{campaign_id}/launch"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("POST", "/v1/campaigns/{campaign_id}/cancel"): (401, 200, 200, 403, 200, 403, 403, 403),
    # a test email goes to the caller's own address: an API key has none (409, see NEEDS_AN_ADDRESS)
    ("POST", "/v1/campaigns/{campaign_id}/test"): (401, 202, 202, 403, 409, 403, 403, 403),
    # nurture sequences
    ("GET", "/v1/sequences"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/sequences"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/sequences/{sequence_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PATCH", "/v1/sequences/{sequence_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/sequences/{sequence_id}/enrollments"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("DELETE", "/v1/sequences/{sequence_id}/enrollments/{candidate_id}"): (
        401,
        204,
        204,
        403,
        204,
        403,
        403,
        403,
    ),
    # reminders belong to a person: API keys have no inbox (USER_ONLY)
    ("GET", "/v1/reminders"): (401, 200, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/reminders"): (401, 201, 201, 403, 403, 403, 403, 403),
    ("GET", "/v1/candidates/{candidate_id}/reminders"): (401, 200, 200, 200, 200, 403, 403, 403),
    # the owner (the recruiter here) or an admin; never an API key
    ("PATCH", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"): (
        401,
        200,
        200,
        403,
        403,
        403,
        403,
        403,
    ),
    ("DELETE", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"): (
        401,
        204,
        204,
        403,
        403,
        403,
        403,
        403,
    ),
    # integration keys (admins only)
    ("GET", "/v1/api-keys"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/api-keys"): (401, 403, 201, 403, 403, 403, 403, 403),
    ("DELETE", "/v1/api-keys/{key_id}"): (401, 403, 204, 403, 403, 403, 403, 403),
    ("GET", "/v1/audit"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("GET", "/v1/audit/export"): (401, 403, 200, 403, 403, 403, 403, 403),
    # exports (a list's: anyone who may export; the whole account's: admins, see test_exports.py)
    ("POST", "/v1/exports"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("GET", "/v1/exports"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/exports/{export_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/exports/{export_id}/download"): (401, 200, 200, 403, 200, 403, 403, 403),
    # recruiting events, their registrations and check-ins
    ("GET", "/v1/events"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/events"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/events/{event_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PATCH", "/v1/events/{event_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/events/{event_id}/publish"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/events/{event_id}/cancel"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/events/{event_id}/finish"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/events/{event_id}/registrations"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/events/{event_id}/check-ins"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/events/{event_id}/check-ins"): (401, 200, 200, 200, 200, 403, 403, 403),
    # the people who sign in (admins only; no API key, whatever its scope)
    ("GET", "/v1/users"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/users"): (401, 403, 201, 403, 403, 403, 403, 403),
    ("PATCH", "/v1/users/{username}"): (401, 403, 200, 403, 403, 403, 403, 403),
    # referrals: everyone who signs in refers and follows their own (employees too, and only
    # this); an API key is nobody's referral. Every referral and the report are recruiters'.
    ("POST", "/v1/referrals"): (401, 202, 202, 403, 403, 202, 202, 202),
    ("GET", "/v1/referrals/mine"): (401, 200, 200, 403, 403, 200, 200, 200),
    ("GET", "/v1/referrals"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("GET", "/v1/referrals/report"): (401, 200, 200, 200, 200, 403, 403, 403),
    # imports slice: CSV imports of candidates (write permission)
    ("POST", "/v1/imports"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("POST", "/v1/imports/{import_id}/preview"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/imports/{import_id}/start"): (401, 202, 202, 403, 202, 403, 403, 403),
    ("GET", "/v1/imports/{import_id}"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("GET", "/v1/imports/{import_id}/failed-rows"): (401, 200, 200, 403, 200, 403, 403, 403),
    # webhooks (admins only)
    ("GET", "/v1/webhooks"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/webhooks"): (401, 403, 201, 403, 403, 403, 403, 403),
    ("GET", "/v1/webhooks/{webhook_id}"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("PATCH", "/v1/webhooks/{webhook_id}"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("DELETE", "/v1/webhooks/{webhook_id}"): (401, 403, 204, 403, 403, 403, 403, 403),
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver"): (
        401,
        403,
        202,
        403,
        403,
        403,
        403,
        403,
    ),
    ("POST", "/v1/webhooks/{webhook_id}/redeliver"): (401, 403, 202, 403, 403, 403, 403, 403),
    # custom fields (custom_fields slice): everyone who reads candidates lists them; admins define
    ("GET", "/v1/custom-fields"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/custom-fields"): (401, 403, 201, 403, 403, 403, 403, 403),
    ("GET", "/v1/custom-fields/{key}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("PATCH", "/v1/custom-fields/{key}"): (401, 403, 200, 403, 403, 403, 403, 403),
    ("DELETE", "/v1/custom-fields/{key}"): (401, 403, 204, 403, 403, 403, 403, 403),
    ("PATCH", "/v1/applications/{application_id}/custom-fields"): (401, 200, 200, 403, 200, 403, 403, 403),
    # merges: possible duplicates, merging two people and undoing it (recruiters, keys by scope)
    ("GET", "/v1/candidates/{candidate_id}/duplicates"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/merges/preview"): (401, 200, 200, 403, 200, 403, 403, 403),
    ("POST", "/v1/merges"): (401, 201, 201, 403, 201, 403, 403, 403),
    ("GET", "/v1/merges/{merge_id}"): (401, 200, 200, 200, 200, 403, 403, 403),
    ("POST", "/v1/merges/{merge_id}/undo"): (401, 200, 200, 403, 200, 403, 403, 403),
}

# Public and documentation routes need no credentials: (method, path) -> status for anyone.
PUBLIC: dict[tuple[str, str], int] = {
    ("GET", "/health"): 200,
    ("GET", "/openapi.json"): 200,
    ("GET", "/docs"): 200,
    ("GET", "/"): 302,
    ("POST", "/auth/login"): 200,
    ("GET", "/public/jobs"): 200,
    ("POST", "/public/talent-network"): 202,
    ("POST", "/public/jobs/{job_id}/applications"): 202,
    ("GET", "/public/unsubscribe"): 200,
    ("POST", "/public/unsubscribe"): 200,
    ("POST", "/public/job-alerts"): 202,
    ("GET", "/public/confirm"): 200,
    ("POST", "/public/portal/link"): 202,
    ("GET", "/portal"): 200,
    ("POST", "/portal/details"): 200,
    ("POST", "/portal/preferences"): 200,
    ("GET", "/portal/export"): 200,
    ("POST", "/portal/erase"): 200,
    ("GET", "/careers"): 200,
    ("GET", "/careers/jobs/{job_id}"): 200,
    ("GET", "/careers/thanks"): 200,
    ("GET", "/careers/events"): 200,
    ("GET", "/careers/events/{event_id}"): 200,
    ("GET", "/careers/events/{event_id}/thanks"): 200,
    ("POST", "/public/events/{event_id}/registrations"): 202,
    ("GET", "/careers/events/{event_id}/registration"): 200,
    ("POST", "/careers/events/{event_id}/registration"): 200,
    ("GET", "/favicon.ico"): 200,
    ("GET", "/public/referrals/confirm"): 200,
    ("POST", "/public/referrals/confirm"): 200,
    # the candidate's interview page: the signed link is the credential (a fresh one per call)
    ("GET", "/careers/interviews"): 200,
    ("POST", "/careers/interviews"): 200,
}

# The recruiter web UI authenticates by its session cookie, never by these credentials: without a
# session its pages send the browser to sign in (303); signing in itself needs the form's own token.
UI_CANDIDATES: dict[tuple[str, str], int] = {
    ("GET", "/ui/login"): 200,
    ("POST", "/ui/login"): 403,
    ("POST", "/ui/logout"): 303,
    ("GET", "/ui/candidates"): 303,
    ("POST", "/ui/candidates"): 303,
    ("GET", "/ui/candidates/new"): 303,
    ("GET", "/ui/candidates/{candidate_id}"): 303,
    ("POST", "/ui/candidates/{candidate_id}"): 303,
    ("POST", "/ui/candidates/{candidate_id}/notes"): 303,
    ("GET", "/ui/candidates/{candidate_id}/applications/{job_id}/resume"): 303,
    ("POST", "/ui/candidates/{candidate_id}/reminders"): 303,
    ("POST", "/ui/candidates/{candidate_id}/reminders/{reminder_id}"): 303,
    ("POST", "/ui/candidates/{candidate_id}/emails"): 303,
    ("GET", "/ui/candidates/{candidate_id}/replies/{reply_id}/attachments/{index}"): 303,
    ("POST", "/ui/candidates/{candidate_id}/pools"): 303,
    ("POST", "/ui/candidates/{candidate_id}/erase"): 303,
    ("GET", "/ui/candidates/{candidate_id}/resumes/{resume_id}"): 303,
    ("POST", "/ui/candidates/{candidate_id}/resumes"): 303,
    ("POST", "/ui/candidates/{candidate_id}/interactions"): 303,
}
UI_DASHBOARD: dict[tuple[str, str], int] = {
    ("GET", "/ui"): 303,
}
UI_POOLS_JOBS: dict[tuple[str, str], int] = {
    ("POST", "/ui/bulk"): 303,
    ("GET", "/ui/bulk/{bulk_id}"): 303,
    ("GET", "/ui/bulk/{bulk_id}/export"): 303,
    ("GET", "/ui/pools"): 303,
    ("POST", "/ui/pools"): 303,
    ("GET", "/ui/pools/{pool_id}"): 303,
    ("POST", "/ui/pools/{pool_id}/members"): 303,
    ("POST", "/ui/pools/{pool_id}/members/{candidate_id}"): 303,
    ("POST", "/ui/pools/{pool_id}/members/{candidate_id}/remove"): 303,
    ("POST", "/ui/pools/{pool_id}/rename"): 303,
    ("POST", "/ui/pools/{pool_id}/archive"): 303,
    ("GET", "/ui/jobs"): 303,
    ("POST", "/ui/jobs"): 303,
    ("GET", "/ui/jobs/{job_id}"): 303,
    ("POST", "/ui/jobs/{job_id}"): 303,
    ("POST", "/ui/jobs/{job_id}/status"): 303,
    ("POST", "/ui/jobs/{job_id}/pipeline"): 303,
    ("POST", "/ui/applications/{application_id}/move"): 303,
    ("POST", "/ui/applications/{application_id}/feedback"): 303,
    ("POST", "/ui/candidates/{candidate_id}/applications"): 303,
}
UI_ENGAGEMENT: dict[tuple[str, str], int] = {
    # The UI's own scripts need no session; the row's request names no such file (/ui/static/id-1).
    ("GET", "/ui/static/{name}"): 404,
    ("GET", "/ui/templates"): 303,
    ("POST", "/ui/templates"): 303,
    ("GET", "/ui/templates/new"): 303,
    ("POST", "/ui/templates/preview"): 303,
    ("GET", "/ui/templates/{template_id}"): 303,
    ("POST", "/ui/templates/{template_id}"): 303,
    ("GET", "/ui/campaigns"): 303,
    ("POST", "/ui/campaigns"): 303,
    ("GET", "/ui/campaigns/new"): 303,
    ("GET", "/ui/campaigns/{campaign_id}"): 303,
    ("POST", "/ui/campaigns/{campaign_id}/launch"): 303,
    ("POST", "/ui/campaigns/{campaign_id}/cancel"): 303,
    ("POST", "/ui/campaigns/{campaign_id}/test"): 303,
}
UI_SEQUENCES: dict[tuple[str, str], int] = {
    ("GET", "/ui/sequences"): 303,
    ("GET", "/ui/sequences/new"): 303,
    ("POST", "/ui/sequences"): 303,
    ("GET", "/ui/sequences/{sequence_id}"): 303,
    ("GET", "/ui/sequences/{sequence_id}/edit"): 303,
    ("POST", "/ui/sequences/{sequence_id}/edit"): 303,
    ("POST", "/ui/sequences/{sequence_id}/enrollments"): 303,
    ("POST", "/ui/sequences/{sequence_id}/status"): 303,
    ("POST", "/ui/sequences/{sequence_id}/enrollments/{candidate_id}/remove"): 303,
    ("GET", "/ui/reminders"): 303,
}
UI_ADMIN: dict[tuple[str, str], int] = {
    # A first sign-in's new password needs the sign-in form's own token, as signing in does.
    ("POST", "/ui/login/new-password"): 403,
    ("GET", "/ui/admin/users"): 303,
    ("POST", "/ui/admin/users"): 303,
    ("POST", "/ui/admin/users/{username}"): 303,
    ("GET", "/ui/admin/api-keys"): 303,
    ("POST", "/ui/admin/api-keys"): 303,
    ("POST", "/ui/admin/api-keys/{key_id}/revoke"): 303,
    ("GET", "/ui/admin/audit"): 303,
    ("GET", "/ui/admin/audit/export"): 303,
    # webhooks
    ("GET", "/ui/admin/webhooks"): 303,
    ("POST", "/ui/admin/webhooks"): 303,
    ("GET", "/ui/admin/webhooks/{webhook_id}"): 303,
    ("POST", "/ui/admin/webhooks/{webhook_id}/status"): 303,
    ("POST", "/ui/admin/webhooks/{webhook_id}/delete"): 303,
    ("POST", "/ui/admin/webhooks/{webhook_id}/rotate-secret"): 303,
    ("POST", "/ui/admin/webhooks/{webhook_id}/deliveries/{message_id}/redeliver"): 303,
    ("POST", "/ui/admin/webhooks/{webhook_id}/redeliver"): 303,
    # custom_fields slice
    ("GET", "/ui/admin/custom-fields"): 303,
    ("POST", "/ui/admin/custom-fields"): 303,
    ("POST", "/ui/admin/custom-fields/{key}"): 303,
    ("POST", "/ui/candidates/{candidate_id}/applications/{job_id}/custom-fields"): 303,
}
UI_REFERRALS: dict[tuple[str, str], int] = {
    ("GET", "/ui/referrals/new"): 303,
    ("POST", "/ui/referrals"): 303,
    ("GET", "/ui/referrals/mine"): 303,
    ("GET", "/ui/referrals"): 303,
}
UI_INTERVIEWS: dict[tuple[str, str], int] = {
    ("GET", "/ui/applications/{application_id}/interviews"): 303,
    ("POST", "/ui/applications/{application_id}/interviews"): 303,
    ("POST", "/ui/interviews/{interview_id}/cancel"): 303,
    ("POST", "/ui/interviews/{interview_id}/feedback"): 303,
}
UI_EVENTS: dict[tuple[str, str], int] = {
    ("GET", "/ui/events"): 303,
    ("GET", "/ui/events/new"): 303,
    ("POST", "/ui/events"): 303,
    ("GET", "/ui/events/{event_id}"): 303,
    ("GET", "/ui/events/{event_id}/edit"): 303,
    ("POST", "/ui/events/{event_id}"): 303,
    ("POST", "/ui/events/{event_id}/status"): 303,
    ("GET", "/ui/events/{event_id}/check-in"): 303,
    ("POST", "/ui/events/{event_id}/check-in"): 303,
    ("POST", "/ui/events/{event_id}/walk-in"): 303,
}
UI_EXPORTS: dict[tuple[str, str], int] = {
    ("GET", "/ui/exports"): 303,
    ("POST", "/ui/exports"): 303,
    ("GET", "/ui/exports/{export_id}/download"): 303,
}
# merges: the merge page and the undo
UI_MERGES: dict[tuple[str, str], int] = {
    ("GET", "/ui/merge"): 303,
    ("POST", "/ui/merge"): 303,
    ("POST", "/ui/merges/{merge_id}/undo"): 303,
}
# imports slice: the CSV import pages
UI_IMPORTS: dict[tuple[str, str], int] = {
    ("GET", "/ui/imports"): 303,
    ("POST", "/ui/imports"): 303,
    ("GET", "/ui/imports/{import_id}"): 303,
    ("POST", "/ui/imports/{import_id}/start"): 303,
    ("GET", "/ui/imports/{import_id}/status"): 303,
    ("GET", "/ui/imports/{import_id}/failed-rows"): 303,
}
UI = {
    **UI_CANDIDATES,
    **UI_DASHBOARD,
    **UI_POOLS_JOBS,
    **UI_ENGAGEMENT,
    **UI_SEQUENCES,
    **UI_ADMIN,
    **UI_REFERRALS,
    **UI_INTERVIEWS,
    **UI_EVENTS,
    **UI_IMPORTS,
    **UI_EXPORTS,
    **UI_MERGES,
}

# Routes only a signed-in person may use (their own reminders): API keys get 403 whatever their scope.
USER_ONLY = {
    ("GET", "/v1/reminders"),
    ("POST", "/v1/reminders"),
    ("PATCH", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"),
    ("DELETE", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"),
    ("POST", "/v1/applications/{application_id}/feedback"),
    ("POST", "/v1/interviews/{interview_id}/feedback"),
}

# Routes that mail the caller: a read-write API key passes the permission check but has no
# address, so it gets a 409 problem+json instead of the success status.
NEEDS_AN_ADDRESS = {("POST", "/v1/campaigns/{campaign_id}/test")}

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


# ---------------------------------------------------------------------------------- the world


@dataclass
class World:
    env: Env
    headers: dict[str, dict[str, str]]  # principal -> credential headers
    job_id: str
    candidate_id: str  # applied to job_id with a resume
    pool_id: str

    @property
    def client(self) -> Client:
        return self.env.client

    @property
    def application_id(self) -> str:
        return f"{self.candidate_id}_{self.job_id}"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw_body: tuple[bytes, str] | None = None,
    ) -> Any:
        sent = dict(headers or {})
        raw = b""
        if raw_body is not None:
            raw, sent["Content-Type"] = raw_body
        elif body is not None:
            raw = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        return self.client.http.request(method, path, headers=sent, body=raw)

    def admin(self, method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        response = self.call(method, path, body, self.headers["admin"])
        assert response.status_code == expect, (method, path, response.status_code, response.body)
        return response.json_body

    def new_candidate(self) -> str:
        email = f"c-{uuid4().hex[:10]}@example.com"
        return str(
            self.admin(
                "POST", "/v1/candidates", {"email": email, "first_name": "Cy", "last_name": "Doe"}, 201
            )["id"]
        )


def unique_email(prefix: str = "p") -> str:
    return f"{prefix}-{uuid4().hex[:10]}@example.com"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    import urllib3

    parts: dict[str, Any] = dict(fields)
    parts.update(files)
    return urllib3.encode_multipart_formdata(parts)


def login(client: Client, username: str) -> dict[str, Any]:
    response = client.http.post(
        "/auth/login",
        body=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.body
    return dict(response.json_body)


def make_world() -> Iterator[World]:
    """A moto back end with users, keys, an open job, a pool and an applicant with a resume."""
    with mock_aws():
        stack = provision()
        os.environ.update(stack.env())
        reset_settings()
        aws.reset_clients()
        jwks_cache.clear()
        import app as api

        create_user(stack, "admin@example.com", PASSWORD, "admin")
        create_user(stack, "recruiter@example.com", PASSWORD, "recruiter")
        for email in HIRING_MANAGERS.values():
            create_user(stack, email, PASSWORD, "hiring_manager")
        create_user(stack, "employee@example.com", PASSWORD, "employee")
        with Client(api.app) as client:
            tokens = {
                who: login(client, f"{who}@example.com")["id_token"]
                for who in ("admin", "recruiter", "employee")
            }
            tokens.update({who: login(client, email)["id_token"] for who, email in HIRING_MANAGERS.items()})
            env = Env(stack=stack, client=client, pump=StreamPump(stack.table), tokens=tokens)
            headers: dict[str, dict[str, str]] = {
                "anonymous": {},
                "recruiter": env.auth("recruiter"),
                "admin": env.auth("admin"),
                "employee": env.auth("employee"),
                **{who: env.auth(who) for who in HIRING_MANAGERS},
            }
            w = World(env=env, headers=headers, job_id="", candidate_id="", pool_id="")
            for principal, scope in (("read_key", "read"), ("rw_key", "read-write")):
                key = w.admin("POST", "/v1/api-keys", {"name": principal, "scope": scope}, 201)["key"]
                headers[principal] = {"X-Api-Key": key}
            job = {"title": "Platform engineer", "tags": ["aws"], "hiring_managers": [HIRING_MANAGERS["hm"]]}
            w.job_id = w.admin("POST", "/v1/jobs", job, 201)["id"]
            other = {"title": "Office manager", "hiring_managers": [HIRING_MANAGERS["hm_other"]]}
            w.admin("POST", "/v1/jobs", other, 201)
            w.pool_id = w.admin("POST", "/v1/pools", {"name": "Shortlist"}, 201)["id"]
            email = unique_email("applicant")
            body, content_type = multipart(
                {"email": email, "first_name": "Ann", "last_name": "Lee"},
                {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")},
            )
            response = client.http.post(
                f"/public/jobs/{w.job_id}/applications", body=body, headers={"Content-Type": content_type}
            )
            assert response.status_code == 202, response.body
            found = w.admin("GET", f"/v1/candidates?email={email}")
            if not found["items"]:  # lists are projections: feed the stream first
                assert env.pump.drain() == []
                found = w.admin("GET", f"/v1/candidates?email={email}")
            w.candidate_id = found["items"][0]["id"]
            w.admin("POST", f"/v1/pools/{w.pool_id}/members", {"candidate_id": w.candidate_id}, 201)
            assert env.pump.drain() == []
            yield w
        aws.reset_clients()
        reset_settings()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    yield from make_world()


# ---------------------------------------------------------------------------------- requests per route


# merges: fresh people for each cell; a denied cell leaves both (and the merge) as they were
def _merge_body(survivor: str, merged: str) -> dict[str, Any]:
    return {"survivor_id": survivor, "merged_id": merged, "survivor_version": 1, "merged_version": 1}


def _new_merge(w: World) -> str:
    return str(w.admin("POST", "/v1/merges", _merge_body(w.new_candidate(), w.new_candidate()), 201)["id"])


def _merge(w: World) -> Req:
    survivor, merged = w.new_candidate(), w.new_candidate()

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/candidates/{merged}")["version"] == 1
        assert world.admin("GET", f"/v1/candidates/{survivor}")["version"] == 1

    return Req("/v1/merges", _merge_body(survivor, merged), check)


def _undo_merge(w: World) -> Req:
    merge_id = _new_merge(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/merges/{merge_id}")["state"] == "merged"

    return Req(f"/v1/merges/{merge_id}/undo", {}, check)


@dataclass
class Req:
    path: str
    body: Any = None
    check: Callable[[World], None] | None = None  # after a denied call: the resource is intact
    raw: tuple[bytes, str] | None = None  # a body that is not JSON, and its Content-Type


def _candidate_intact(candidate_id: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        assert w.admin("GET", f"/v1/candidates/{candidate_id}")["version"] == 1

    return check


def _patch_candidate(w: World) -> Req:
    cid = w.new_candidate()
    return Req(f"/v1/candidates/{cid}", {"version": 1, "first_name": "Changed"}, _candidate_intact(cid))


def _delete_candidate(w: World) -> Req:
    cid = w.new_candidate()
    return Req(f"/v1/candidates/{cid}", check=_candidate_intact(cid))


def _remove_member(w: World) -> Req:
    cid = w.new_candidate()
    w.admin("POST", f"/v1/pools/{w.pool_id}/members", {"candidate_id": cid, "stage": "screen"}, 201)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/candidates/{cid}")["pools"] == {world.pool_id: "screen"}

    return Req(f"/v1/pools/{w.pool_id}/members/{cid}", check=check)


def _patch_pool(w: World) -> Req:
    name = f"Pool {uuid4().hex[:6]}"
    pid = w.admin("POST", "/v1/pools", {"name": name}, 201)["id"]

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/pools/{pid}")["name"] == name

    return Req(f"/v1/pools/{pid}", {"name": f"Renamed {uuid4().hex[:6]}", "archived": True}, check)


def _revoke_key(w: World) -> Req:
    created = w.admin("POST", "/v1/api-keys", {"name": "to revoke", "scope": "read"}, 201)

    def check(world: World) -> None:
        still = world.call("GET", "/v1/candidates", headers={"X-Api-Key": created["key"]})
        assert still.status_code == 200, still.body

    return Req(f"/v1/api-keys/{created['id']}", check=check)


TEMPLATE = {
    "name": "Welcome",
    "subject": "Hi {{ first_name }}",
    "html": "<p>Hi {{ first_name }}</p>",
    "text": "Hi {{ first_name }}",
}


def _new_template(w: World) -> str:
    return str(w.admin("POST", "/v1/templates", {**TEMPLATE, "name": f"T {uuid4().hex[:6]}"}, 201)["id"])


def _patch_template(w: World) -> Req:
    tid = _new_template(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/templates/{tid}")["version"] == 1

    return Req(f"/v1/templates/{tid}", {"version": 1, "subject": "Hello {{ first_name }}"}, check)


def _new_campaign(w: World) -> str:
    body = {"name": f"C {uuid4().hex[:6]}", "template_id": _new_template(w), "audience": {"pool": w.pool_id}}
    return str(w.admin("POST", "/v1/campaigns", body, 201)["id"])


def _launch_campaign(w: World) -> Req:
    cid = _new_campaign(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/campaigns/{cid}")["status"] == "draft"

    return Req(f"/v1/campaigns/{cid}/launch", check=check)


def _cancel_campaign(w: World) -> Req:
    cid = _new_campaign(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/campaigns/{cid}")["status"] == "draft"

    return Req(f"/v1/campaigns/{cid}/cancel", check=check)


def _new_sequence(w: World) -> str:
    body = {"name": f"S {uuid4().hex[:6]}", "steps": [{"template_id": _new_template(w), "delay_days": 1}]}
    return str(w.admin("POST", "/v1/sequences", body, 201)["id"])


def _enroll(w: World) -> Req:
    sid = _new_sequence(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/sequences/{sid}")["enrollments"] == {}

    return Req(f"/v1/sequences/{sid}/enrollments", {"candidate_ids": [w.candidate_id]}, check)


def _pause_sequence(w: World) -> Req:
    sid = _new_sequence(w)

    def check(world: World) -> None:
        current = world.admin("GET", f"/v1/sequences/{sid}")
        assert (current["status"], current["version"]) == ("active", 1)

    return Req(f"/v1/sequences/{sid}", {"version": 1, "status": "paused"}, check)


def _unenroll(w: World) -> Req:
    sid = _new_sequence(w)
    body = {"email": f"c-{uuid4().hex[:10]}@example.com", "first_name": "Cy", "last_name": "Doe"}
    cid = w.admin("POST", "/v1/candidates", {**body, "marketing_consent": True}, 201)["id"]
    report = w.admin("POST", f"/v1/sequences/{sid}/enrollments", {"candidate_ids": [cid]}, 202)
    assert report["enrolled_ids"] == [cid], report

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/sequences/{sid}")["enrollments"] == {"active": 1}

    return Req(f"/v1/sequences/{sid}/enrollments/{cid}", check=check)


def _recruiters_reminder(w: World) -> tuple[str, dict[str, Any]]:
    """A fresh reminder the recruiter set, its path, and a check that it is as it was."""
    body = {"candidate_id": w.candidate_id, "due_at": "2030-01-01T09:00:00Z", "note": "Call back"}
    response = w.call("POST", "/v1/reminders", body, w.headers["recruiter"])
    assert response.status_code == 201, response.body
    return f"/v1/candidates/{w.candidate_id}/reminders/{response.json_body['id']}", response.json_body


def _reminder_intact(reminder: dict[str, Any]) -> Callable[[World], None]:
    def check(w: World) -> None:
        found = w.admin("GET", f"/v1/candidates/{w.candidate_id}/reminders")["items"]
        assert [r for r in found if r["id"] == reminder["id"]] == [{**reminder, "due": False}]

    return check


def _patch_reminder(w: World) -> Req:
    path, reminder = _recruiters_reminder(w)
    return Req(path, {"done": True}, _reminder_intact(reminder))


def _delete_reminder(w: World) -> Req:
    path, reminder = _recruiters_reminder(w)
    return Req(path, check=_reminder_intact(reminder))


def _reply_attachment(w: World) -> Req:
    """A reply with one attachment, stored as the inbound slice stores one."""
    from crm.candidates.service import CandidateService
    from crm.inbound.models import Reply, ReplyAttachment
    from crm.inbound.repository import ReplyRepository
    from crm.platform.config import get_settings
    from crm.platform.ids import utcnow
    from crm.platform.objects import ObjectStore

    cid = w.new_candidate()
    reply_id = uuid4().hex
    key = f"resumes/{cid}/replies/{reply_id}/0.pdf"
    ObjectStore(get_settings().resume_bucket).put(
        key, b"%PDF-1.4 cv", content_type="application/pdf", filename="cv.pdf"
    )
    reply = Reply(
        id=reply_id,
        candidate_id=cid,
        conversation_id=uuid4().hex,
        sender="c@example.com",
        subject="Re: Hi",
        text="Here it is.",
        received_at=utcnow(),
        attachments=[ReplyAttachment(index=0, filename="cv.pdf", kind="pdf", size=11)],
    )
    CandidateService().record_activity(
        cid,
        "replied",
        actor="candidate",
        at=reply.received_at,
        detail={"reply_id": reply_id},
        along_with=[ReplyRepository().put_operation(reply, attachment_keys=[key])],
    )
    return Req(f"/v1/candidates/{cid}/replies/{reply_id}/attachments/0")


def _email_candidate(w: World) -> Req:
    cid = w.new_candidate()

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/candidates/{cid}/emails")["items"] == []

    return Req(f"/v1/candidates/{cid}/emails", {"subject": "Hello", "body": "Are you free to talk?"}, check)


def _pool_user(w: World, email: str) -> dict[str, Any] | None:
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    try:
        user = idp.admin_get_user(UserPoolId=w.env.stack.user_pool_id, Username=email)
    except idp.exceptions.UserNotFoundException:
        return None
    groups = idp.admin_list_groups_for_user(UserPoolId=w.env.stack.user_pool_id, Username=email)
    return {
        "username": user["Username"],
        "enabled": user["Enabled"],
        "groups": [g["GroupName"] for g in groups["Groups"]],
    }


def _invite_user(w: World) -> Req:
    email = unique_email("invitee")

    def check(world: World) -> None:
        assert _pool_user(world, email) is None, "a denied invitation created the user"

    body = {"email": email, "group": "recruiter", "temporary_password": "Temporary-pass-1"}
    return Req("/v1/users", body, check)


def _patch_user(w: World) -> Req:
    email = unique_email("member")
    create_user(w.env.stack, email, PASSWORD, "recruiter")
    found = _pool_user(w, email)
    assert found is not None

    def check(world: World) -> None:
        assert _pool_user(world, email) == found, "a denied change changed the user"

    return Req(f"/v1/users/{found['username']}", {"group": "admin", "enabled": False}, check)


def _finished_export(w: World) -> str:
    """An export of the world's applicant, carried out (as the dispatcher would)."""
    from crm.bulk.service import BulkActionService

    bulk_id = str(
        w.admin("POST", "/v1/bulk-actions", {"action": "export", "candidate_ids": [w.candidate_id]}, 202)[
            "id"
        ]
    )
    BulkActionService().run(bulk_id)
    return bulk_id


def _resume_of_applicant(w: World) -> Req:
    resumes = w.admin("GET", f"/v1/candidates/{w.candidate_id}/resumes")["items"]
    return Req(f"/v1/candidates/{w.candidate_id}/resumes/{resumes[-1]['id']}")


def _move_application(w: World) -> Req:
    """A move from where the application is now (its current version) to the other stage."""
    current = w.admin("GET", f"/v1/applications/{w.application_id}")
    stage = "screen" if current["stage"] != "screen" else "interview"
    return Req(f"/v1/applications/{w.application_id}", {"stage": stage, "version": current["version"]})


def _give_feedback(w: World) -> Req:
    """Feedback on a fresh application (each person gives one per interview)."""
    candidate_id = w.new_candidate()
    w.admin("POST", f"/v1/jobs/{w.job_id}/applications", {"candidate_id": candidate_id}, 201)
    body = {
        "interview": "Interview",
        "ratings": {"Skills for the role": 3, "Communication": 4, "Motivation": 3},
        "recommendation": "yes",
    }
    return Req(f"/v1/applications/{candidate_id}_{w.job_id}/feedback", body)


def _refer(w: World) -> Req:
    """A referral of someone new (for the job); a denied one leaves no trace of them."""
    email = unique_email("referred")

    def check(world: World) -> None:
        from crm.candidates.service import CandidateService

        assert CandidateService().find_id_by_email(email) is None

    body = {"email": email, "first_name": "Rae", "last_name": "Ferd", "job_id": w.job_id, "why": "Sharp"}
    return Req("/v1/referrals", body, check)


def _fresh_interview(w: World, *, booked: bool = False) -> str:
    """An interview offered on a fresh application of the world's job, with an interviewer of its
    own (so its slot is free), and booked when asked."""
    from datetime import UTC, datetime, timedelta

    from crm.interviews.models import InterviewOffer
    from crm.interviews.service import InterviewService

    candidate_id = w.new_candidate()
    w.admin("POST", f"/v1/jobs/{w.job_id}/applications", {"candidate_id": candidate_id}, 201)
    start = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    data = InterviewOffer.model_validate(
        {
            "slots": [{"start": start.isoformat()}],
            "duration_minutes": 30,
            "timezone": "UTC",
            "interviewers": [unique_email("interviewer")],
        }
    )
    service = InterviewService()
    interview = service.offer(f"{candidate_id}_{w.job_id}", data, actor="user:matrix", email=None)
    if booked:
        service.book(interview.id, interview.slots[0].start)
    return interview.id


def _offer_interview(w: World) -> Req:
    from datetime import UTC, datetime, timedelta

    start = (datetime.now(UTC) + timedelta(days=6)).replace(microsecond=0).isoformat()
    body = {
        "slots": [{"start": start}],
        "duration_minutes": 30,
        "timezone": "Europe/Berlin",
        "interviewers": [unique_email("interviewer")],
    }
    return Req(f"/v1/applications/{w.application_id}/interviews", body)


def _cancel_interview(w: World) -> Req:
    interview_id = _fresh_interview(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/interviews/{interview_id}")["state"] == "offered"

    return Req(f"/v1/interviews/{interview_id}/cancel", check=check)


def _interview_feedback(w: World) -> Req:
    interview_id = _fresh_interview(w, booked=True)
    body = {
        "ratings": {"Skills for the role": 3, "Communication": 4, "Motivation": 3},
        "recommendation": "yes",
    }
    return Req(f"/v1/interviews/{interview_id}/feedback", body)


def _event_body(days: float = 7, **changes: Any) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    start = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    body = {
        "name": f"Fair {uuid4().hex[:6]}",
        "kind": "career_fair",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=4)).isoformat(),
        "timezone": "Europe/Berlin",
        "mode": "in_person",
        "venue": {"name": "Hall 1", "city": "Berlin", "country": "DE"},
        "capacity": 10,
    }
    body.update(changes)
    return body


def _new_event(w: World, *, published: bool = False, days: float = 7) -> str:
    event_id = str(w.admin("POST", "/v1/events", _event_body(days), 201)["id"])
    if published:
        w.admin("POST", f"/v1/events/{event_id}/publish")
    return event_id


def _event_intact(event_id: str, status: str, version: int) -> Callable[[World], None]:
    def check(world: World) -> None:
        current = world.admin("GET", f"/v1/events/{event_id}")
        assert (current["status"], current["version"]) == (status, version)

    return check


def _patch_event(w: World) -> Req:
    event_id = _new_event(w)
    return Req(f"/v1/events/{event_id}", {"version": 1, "capacity": 20}, _event_intact(event_id, "draft", 1))


def _publish_event(w: World) -> Req:
    event_id = _new_event(w)
    return Req(f"/v1/events/{event_id}/publish", check=_event_intact(event_id, "draft", 1))


def _cancel_event(w: World) -> Req:
    event_id = _new_event(w, published=True)
    return Req(f"/v1/events/{event_id}/cancel", check=_event_intact(event_id, "published", 2))


def _finish_event(w: World) -> Req:
    """A published event that has started (published while it was ahead, as the table holds one)."""
    from crm.events.repository import EventRepository
    from crm.platform.ids import utcnow

    event_id = str(w.admin("POST", "/v1/events", _event_body(-0.01), 201)["id"])
    EventRepository().set_status(event_id, to="published", allowed_from=("draft",), at=utcnow())
    return Req(f"/v1/events/{event_id}/finish", check=_event_intact(event_id, "published", 2))


def _check_in(w: World) -> Req:
    from crm.candidates.service import CandidateService
    from crm.events.service import EventService

    event_id = _new_event(w, published=True)
    candidate_id = w.new_candidate()
    EventService().register(event_id, CandidateService().get(candidate_id), actor="test")

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/events/{event_id}")["counts"]["attended"] == 0

    return Req(f"/v1/events/{event_id}/check-ins", {"candidate_id": candidate_id}, check)


# webhooks
WEBHOOK = {"url": "https://93.184.215.14/hook", "event_types": ["candidate.created"], "description": "ATS"}


def _new_webhook(w: World) -> str:
    return str(w.admin("POST", "/v1/webhooks", WEBHOOK, 201)["id"])


def _webhook_intact(webhook_id: str) -> Callable[[World], None]:
    def check(world: World) -> None:
        found = world.admin("GET", f"/v1/webhooks/{webhook_id}")
        assert (found["version"], found["description"]) == (1, "ATS"), found

    return check


def _webhook(path: str, body: Any = None) -> Callable[[World], Req]:
    def build(w: World) -> Req:
        webhook_id = _new_webhook(w)
        return Req(path.format(webhook_id=webhook_id), body, _webhook_intact(webhook_id))

    return build


def _redeliver_message(w: World) -> Req:
    from crm.webhooks.service import DeliveryService, message_id_for

    webhook_id = _new_webhook(w)
    event = f"evt-{uuid4().hex}"
    DeliveryService().fan_out(event, "candidate.created", {"candidate_id": w.candidate_id})
    message_id = message_id_for(event, webhook_id)
    return Req(
        f"/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver", check=_webhook_intact(webhook_id)
    )


def _new_export(w: World) -> str:
    """An export of the world's applicant, built (as the export worker would)."""
    from crm.exports.service import ExportService

    export_id = str(w.admin("POST", "/v1/exports", {"candidate_ids": [w.candidate_id]}, 202)["id"])
    assert ExportService().run(export_id)
    return export_id


def _new_custom_field(w: World) -> str:
    """A fresh custom field (custom_fields slice)."""
    key = f"f_{uuid4().hex[:8]}"
    w.admin("POST", "/v1/custom-fields", {"key": key, "label": "Label", "type": "text"}, 201)
    return key


def _custom_field_request(w: World, body: dict[str, Any] | None) -> Req:
    key = _new_custom_field(w)

    def check(world: World) -> None:
        assert world.admin("GET", f"/v1/custom-fields/{key}")["label"] == "Label"

    return Req(f"/v1/custom-fields/{key}", body, check)


REQUESTS: dict[tuple[str, str], Callable[[World], Req]] = {
    ("GET", "/v1/candidates"): lambda w: Req("/v1/candidates?limit=5"),
    ("POST", "/v1/candidates"): lambda w: Req(
        "/v1/candidates",
        {"email": unique_email(), "first_name": "New", "last_name": "Person", "tags": ["go"]},
    ),
    ("GET", "/v1/candidates/{candidate_id}"): lambda w: Req(f"/v1/candidates/{w.candidate_id}"),
    ("PATCH", "/v1/candidates/{candidate_id}"): _patch_candidate,
    ("DELETE", "/v1/candidates/{candidate_id}"): _delete_candidate,
    ("GET", "/v1/candidates/{candidate_id}/timeline"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/timeline"
    ),
    ("GET", "/v1/candidates/{candidate_id}/notes"): lambda w: Req(f"/v1/candidates/{w.candidate_id}/notes"),
    ("POST", "/v1/candidates/{candidate_id}/notes"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/notes", {"body": "Called; keen on remote work."}
    ),
    ("GET", "/v1/candidates/{candidate_id}/applications"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/applications"
    ),
    ("GET", "/v1/candidates/{candidate_id}/applications/{job_id}/resume"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/applications/{w.job_id}/resume"
    ),
    ("GET", "/v1/candidates/{candidate_id}/emails"): lambda w: Req(f"/v1/candidates/{w.candidate_id}/emails"),
    ("POST", "/v1/candidates/{candidate_id}/emails"): _email_candidate,
    ("GET", "/v1/candidates/{candidate_id}/resumes"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/resumes"
    ),
    ("POST", "/v1/candidates/{candidate_id}/resumes"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/resumes",
        raw=multipart({}, {"resume": ("cv.pdf", MINIMAL_PDF, "application/pdf")}),
    ),
    ("GET", "/v1/candidates/{candidate_id}/resumes/{resume_id}"): _resume_of_applicant,
    ("GET", "/v1/candidates/{candidate_id}/interactions"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/interactions"
    ),
    ("POST", "/v1/candidates/{candidate_id}/interactions"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/interactions", {"kind": "call", "outcome": "reached"}
    ),
    ("GET", "/v1/candidates/{candidate_id}/replies"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/replies"
    ),
    ("GET", "/v1/candidates/{candidate_id}/replies/{reply_id}/attachments/{index}"): _reply_attachment,
    ("GET", "/v1/bulk-actions"): lambda w: Req("/v1/bulk-actions"),
    ("POST", "/v1/bulk-actions"): lambda w: Req(
        "/v1/bulk-actions", {"action": "add_tags", "candidate_ids": [w.new_candidate()], "tags": ["matrix"]}
    ),
    ("GET", "/v1/bulk-actions/{bulk_id}"): lambda w: Req(f"/v1/bulk-actions/{_finished_export(w)}"),
    ("GET", "/v1/bulk-actions/{bulk_id}/export"): lambda w: Req(
        f"/v1/bulk-actions/{_finished_export(w)}/export"
    ),
    ("GET", "/v1/jobs"): lambda w: Req("/v1/jobs"),
    ("POST", "/v1/jobs"): lambda w: Req("/v1/jobs", {"title": "Data engineer", "location": "Remote"}),
    ("GET", "/v1/jobs/{job_id}"): lambda w: Req(f"/v1/jobs/{w.job_id}"),
    ("PATCH", "/v1/jobs/{job_id}"): lambda w: Req(
        f"/v1/jobs/{w.job_id}", {"title": f"Platform engineer {uuid4().hex[:4]}"}
    ),
    ("GET", "/v1/jobs/{job_id}/applications"): lambda w: Req(f"/v1/jobs/{w.job_id}/applications"),
    ("POST", "/v1/jobs/{job_id}/applications"): lambda w: Req(
        f"/v1/jobs/{w.job_id}/applications", {"candidate_id": w.new_candidate()}
    ),
    ("GET", "/v1/applications/{application_id}"): lambda w: Req(f"/v1/applications/{w.application_id}"),
    ("PATCH", "/v1/applications/{application_id}"): _move_application,
    ("GET", "/v1/applications/{application_id}/feedback"): lambda w: Req(
        f"/v1/applications/{w.application_id}/feedback"
    ),
    ("POST", "/v1/applications/{application_id}/feedback"): _give_feedback,
    ("POST", "/v1/applications/{application_id}/interviews"): _offer_interview,
    ("GET", "/v1/applications/{application_id}/interviews"): lambda w: Req(
        f"/v1/applications/{w.application_id}/interviews"
    ),
    ("GET", "/v1/interviews/{interview_id}"): lambda w: Req(f"/v1/interviews/{_fresh_interview(w)}"),
    ("POST", "/v1/interviews/{interview_id}/cancel"): _cancel_interview,
    ("POST", "/v1/interviews/{interview_id}/feedback"): _interview_feedback,
    ("GET", "/v1/rejection-reasons"): lambda w: Req("/v1/rejection-reasons"),
    ("PUT", "/v1/rejection-reasons"): lambda w: Req(
        "/v1/rejection-reasons", {"reasons": ["Not a fit", f"Closed {uuid4().hex[:4]}"]}
    ),
    ("GET", "/v1/pools"): lambda w: Req("/v1/pools"),
    ("POST", "/v1/pools"): lambda w: Req("/v1/pools", {"name": f"Pool {uuid4().hex[:6]}"}),
    ("GET", "/v1/pools/{pool_id}"): lambda w: Req(f"/v1/pools/{w.pool_id}"),
    ("PATCH", "/v1/pools/{pool_id}"): _patch_pool,
    ("GET", "/v1/pools/{pool_id}/members"): lambda w: Req(f"/v1/pools/{w.pool_id}/members"),
    ("POST", "/v1/pools/{pool_id}/members"): lambda w: Req(
        f"/v1/pools/{w.pool_id}/members", {"candidate_id": w.new_candidate(), "stage": "sourced"}
    ),
    ("DELETE", "/v1/pools/{pool_id}/members/{candidate_id}"): _remove_member,
    ("GET", "/v1/templates"): lambda w: Req("/v1/templates"),
    ("POST", "/v1/templates"): lambda w: Req("/v1/templates", TEMPLATE),
    ("GET", "/v1/templates/{template_id}"): lambda w: Req(f"/v1/templates/{_new_template(w)}"),
    ("PATCH", "/v1/templates/{template_id}"): _patch_template,
    ("POST", "/v1/templates/{template_id}/preview"): lambda w: Req(
        f"/v1/templates/{_new_template(w)}/preview", {"candidate_id": w.candidate_id}
    ),
    ("GET", "/v1/campaigns"): lambda w: Req("/v1/campaigns"),
    ("POST", "/v1/campaigns"): lambda w: Req(
        "/v1/campaigns",
        {"name": "Autumn news", "template_id": _new_template(w), "audience": {"tags": ["aws"]}},
    ),
    ("GET", "/v1/campaigns/{campaign_id}"): lambda w: Req(f"/v1/campaigns/{_new_campaign(w)}"),
    ("GET", "/v1/campaigns/{campaign_id}/audience"): lambda w: Req(
        f"/v1/campaigns/{_new_campaign(w)}/audience"
    ),
    ("POST", "/v1/campaigns/{campaign_id}/launch"): _launch_campaign,
    ("POST", "/v1/campaigns/{campaign_id}/cancel"): _cancel_campaign,
    ("POST", "/v1/campaigns/{campaign_id}/test"): lambda w: Req(f"/v1/campaigns/{_new_campaign(w)}/test"),
    ("GET", "/v1/sequences"): lambda w: Req("/v1/sequences"),
    ("POST", "/v1/sequences"): lambda w: Req(
        "/v1/sequences", {"name": "Warm up", "steps": [{"template_id": _new_template(w), "delay_days": 0}]}
    ),
    ("GET", "/v1/sequences/{sequence_id}"): lambda w: Req(f"/v1/sequences/{_new_sequence(w)}"),
    ("PATCH", "/v1/sequences/{sequence_id}"): _pause_sequence,
    ("POST", "/v1/sequences/{sequence_id}/enrollments"): _enroll,
    ("DELETE", "/v1/sequences/{sequence_id}/enrollments/{candidate_id}"): _unenroll,
    ("GET", "/v1/reminders"): lambda w: Req("/v1/reminders?due=true"),
    ("POST", "/v1/reminders"): lambda w: Req(
        "/v1/reminders",
        {"candidate_id": w.candidate_id, "due_at": "2030-01-01T09:00:00Z", "note": "Call back"},
    ),
    ("GET", "/v1/candidates/{candidate_id}/reminders"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/reminders"
    ),
    ("PATCH", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"): _patch_reminder,
    ("DELETE", "/v1/candidates/{candidate_id}/reminders/{reminder_id}"): _delete_reminder,
    ("GET", "/v1/api-keys"): lambda w: Req("/v1/api-keys"),
    ("POST", "/v1/api-keys"): lambda w: Req("/v1/api-keys", {"name": "ats sync", "scope": "read-write"}),
    ("DELETE", "/v1/api-keys/{key_id}"): _revoke_key,
    ("GET", "/v1/audit"): lambda w: Req("/v1/audit?action=candidate.read"),
    ("GET", "/v1/audit/export"): lambda w: Req("/v1/audit/export?from=2020-01-01T00:00:00Z"),
    ("GET", "/v1/events"): lambda w: Req("/v1/events"),
    ("POST", "/v1/events"): lambda w: Req("/v1/events", _event_body()),
    ("GET", "/v1/events/{event_id}"): lambda w: Req(f"/v1/events/{_new_event(w)}"),
    ("PATCH", "/v1/events/{event_id}"): _patch_event,
    ("POST", "/v1/events/{event_id}/publish"): _publish_event,
    ("POST", "/v1/events/{event_id}/cancel"): _cancel_event,
    ("POST", "/v1/events/{event_id}/finish"): _finish_event,
    ("GET", "/v1/events/{event_id}/registrations"): lambda w: Req(
        f"/v1/events/{_new_event(w)}/registrations"
    ),
    ("POST", "/v1/events/{event_id}/check-ins"): _check_in,
    ("GET", "/v1/events/{event_id}/check-ins"): lambda w: Req(f"/v1/events/{_new_event(w)}/check-ins"),
    ("GET", "/v1/users"): lambda w: Req("/v1/users"),
    ("POST", "/v1/users"): _invite_user,
    ("PATCH", "/v1/users/{username}"): _patch_user,
    ("POST", "/v1/referrals"): _refer,
    ("GET", "/v1/referrals/mine"): lambda w: Req("/v1/referrals/mine"),
    ("GET", "/v1/referrals"): lambda w: Req("/v1/referrals?limit=5"),
    ("GET", "/v1/referrals/report"): lambda w: Req("/v1/referrals/report"),
    # imports slice
    ("POST", "/v1/imports"): lambda w: Req("/v1/imports", {"file_name": "people.csv"}),
    ("POST", "/v1/imports/{import_id}/preview"): lambda w: Req(f"/v1/imports/{_new_import(w)}/preview"),
    ("POST", "/v1/imports/{import_id}/start"): lambda w: Req(
        f"/v1/imports/{_new_import(w)}/start", {"dry_run": True}
    ),
    ("GET", "/v1/imports/{import_id}"): lambda w: Req(f"/v1/imports/{_new_import(w)}"),
    ("GET", "/v1/imports/{import_id}/failed-rows"): lambda w: Req(
        f"/v1/imports/{_new_import(w)}/failed-rows"
    ),
    # webhooks
    ("GET", "/v1/webhooks"): lambda w: Req("/v1/webhooks"),
    ("POST", "/v1/webhooks"): lambda w: Req("/v1/webhooks", WEBHOOK),
    ("GET", "/v1/webhooks/{webhook_id}"): _webhook("/v1/webhooks/{webhook_id}"),
    ("PATCH", "/v1/webhooks/{webhook_id}"): _webhook("/v1/webhooks/{webhook_id}", {"description": "Changed"}),
    ("DELETE", "/v1/webhooks/{webhook_id}"): _webhook("/v1/webhooks/{webhook_id}"),
    ("POST", "/v1/webhooks/{webhook_id}/rotate-secret"): _webhook("/v1/webhooks/{webhook_id}/rotate-secret"),
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): _webhook("/v1/webhooks/{webhook_id}/deliveries"),
    ("POST", "/v1/webhooks/{webhook_id}/deliveries/{message_id}/redeliver"): _redeliver_message,
    ("POST", "/v1/webhooks/{webhook_id}/redeliver"): _webhook(
        "/v1/webhooks/{webhook_id}/redeliver", {"since": "2000-01-01T00:00:00Z"}
    ),
    # exports
    ("POST", "/v1/exports"): lambda w: Req("/v1/exports", {"candidate_ids": [w.candidate_id]}),
    ("GET", "/v1/exports"): lambda w: Req("/v1/exports"),
    ("GET", "/v1/exports/{export_id}"): lambda w: Req(f"/v1/exports/{_new_export(w)}"),
    ("GET", "/v1/exports/{export_id}/download"): lambda w: Req(f"/v1/exports/{_new_export(w)}/download"),
    # custom_fields slice
    ("GET", "/v1/custom-fields"): lambda w: Req("/v1/custom-fields?entity=candidate"),
    ("POST", "/v1/custom-fields"): lambda w: Req(
        "/v1/custom-fields", {"key": f"f_{uuid4().hex[:8]}", "label": "Level", "type": "text"}
    ),
    ("GET", "/v1/custom-fields/{key}"): lambda w: Req(f"/v1/custom-fields/{_new_custom_field(w)}"),
    ("PATCH", "/v1/custom-fields/{key}"): lambda w: _custom_field_request(w, {"version": 1, "label": "New"}),
    ("DELETE", "/v1/custom-fields/{key}"): lambda w: _custom_field_request(w, None),
    ("PATCH", "/v1/applications/{application_id}/custom-fields"): lambda w: Req(
        f"/v1/applications/{w.application_id}/custom-fields",
        {"version": w.admin("GET", f"/v1/applications/{w.application_id}")["version"], "custom_fields": {}},
    ),
    # merges
    ("GET", "/v1/candidates/{candidate_id}/duplicates"): lambda w: Req(
        f"/v1/candidates/{w.candidate_id}/duplicates"
    ),
    ("POST", "/v1/merges/preview"): lambda w: Req(
        "/v1/merges/preview", {"survivor_id": w.candidate_id, "merged_id": w.new_candidate()}
    ),
    ("POST", "/v1/merges"): _merge,
    ("GET", "/v1/merges/{merge_id}"): lambda w: Req(f"/v1/merges/{_new_merge(w)}"),
    ("POST", "/v1/merges/{merge_id}/undo"): _undo_merge,
}


def _new_import(w: World) -> str:
    """An import with its CSV uploaded (imports slice)."""
    import_id = str(w.admin("POST", "/v1/imports", {"file_name": "people.csv"}, 201)["id"])
    boto3.client("s3", region_name="us-east-1").put_object(
        Bucket=w.env.stack.bucket,
        Key=f"imports/{import_id}/source.csv",
        Body=b"email,first_name,last_name\nada@example.com,Ada,Lovelace\n",
    )
    return import_id


# ---------------------------------------------------------------------------------- helpers


def header(response: Any, name: str) -> str:
    for key, value in response.headers.items():
        if key.lower() == name.lower():
            return str(value)
    return ""


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.body)
    assert header(response, "content-type").split(";")[0].strip() == "application/problem+json", (
        response.headers
    )
    body = json.loads(response.body)
    for key in ("type", "title", "status", "detail"):
        assert key in body, (key, body)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def snapshot(w: World) -> tuple[list[str], list[tuple[str, str]]]:
    """Every item in the table and every object version in the bucket.

    Read from moto's in-memory back ends: a Scan through botocore costs seconds per call once
    the module's table holds a few hundred items.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.s3.models import s3_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(w.env.stack.table)
    items = sorted(json.dumps(item.to_json(), sort_keys=True) for item in table.all_items())
    bucket = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(w.env.stack.bucket)
    objects = sorted(
        (key, str(version.version_id)) for key, versions in bucket.keys.iterlists() for version in versions
    )
    return items, objects


def app_routes() -> set[tuple[str, str]]:
    import app as api

    return {
        (method, path)
        for path, by_method in api.app.routes.items()
        for method in by_method
        if method != "OPTIONS"
    }


# ---------------------------------------------------------------------------------- the matrix


def test_matrix_covers_every_route() -> None:
    routes = app_routes()
    assert not set(MATRIX) & set(PUBLIC), "a route is both public and in the matrix"
    assert not (set(MATRIX) | set(PUBLIC)) & set(UI), "a UI route is also in another table"
    missing = routes - set(MATRIX) - set(PUBLIC) - set(UI)
    extra = (set(MATRIX) | set(PUBLIC) | set(UI)) - routes
    assert not missing, f"routes without a row in the authorization matrix: {sorted(missing)}"
    assert not extra, f"rows for routes the app does not have: {sorted(extra)}"
    assert set(REQUESTS) == set(MATRIX)


def test_matrix_rows_follow_the_permission_rules() -> None:
    """The table agrees with the permission each route declares (read, write, admin)."""
    import app as api  # registers the routes (and their ROUTE_DOCS)

    from chalicelib.web.endpoint import ROUTE_DOCS

    assert api.app.routes
    expected = {
        # 0: the route's success status; None (a hiring manager of another job) is checked apart
        "read": (401, 0, 0, 0, 0, 403, 403, 403),
        "write": (401, 0, 0, 403, 0, 403, 403, 403),
        "refer": (401, 0, 0, 403, 403, 0, 0, 0),
        "admin": (401, 403, 0, 403, 403, 403, 403, 403),
        "team": (401, 0, 0, 0, 0, 0, None, 403),
        "team_write": (401, 0, 0, 403, 0, 0, None, 403),
    }
    declared = {(d.method, d.path): d for d in ROUTE_DOCS}
    for route, row in MATRIX.items():
        doc = declared[route]
        assert doc.permission is not None, f"{route} is public but has a matrix row"
        pattern: tuple[int | None, ...] = expected[doc.permission]
        if route in USER_ONLY:
            pattern = (*pattern[:3], 403, 403, *pattern[5:])
        if route in NEEDS_AN_ADDRESS:
            assert row[4] == 409, (route, row)
            pattern = (*pattern[:4], 409, *pattern[5:])
        for want, got in zip(pattern, row, strict=True):
            if want is None:  # a hiring manager of another job: refused, or their own list
                assert got in (403, 404, doc.status), (route, row)
            else:
                assert got == (want if want in (401, 403, 409) else doc.status), (route, row)
    for route in (*PUBLIC, *UI):
        if route in declared:
            assert declared[route].permission is None, route


CELLS = [
    pytest.param(method, path, principal, MATRIX[(method, path)][i], id=f"{method} {path} as {principal}")
    for (method, path) in MATRIX
    for i, principal in enumerate(PRINCIPALS)
]


@pytest.mark.parametrize(("method", "path", "principal", "expected"), CELLS)
def test_cell(world: World, method: str, path: str, principal: str, expected: int) -> None:
    req = REQUESTS[(method, path)](world)
    denied = expected in (401, 403) or (expected == 404 and principal.startswith("hm"))
    before = snapshot(world) if denied else None
    response = world.call(method, req.path, req.body, world.headers[principal], raw_body=req.raw)
    if denied:
        assert_problem(response, expected)
        assert snapshot(world) == before, "a denied request changed the table or the bucket"
        if req.check is not None:
            req.check(world)
    else:
        assert response.status_code == expected, (response.status_code, response.body)
        assert response.status_code < 500


def _public_request(w: World, method: str, path: str) -> tuple[str, bytes, dict[str, str]]:
    if path == "/auth/login":
        body = json.dumps({"username": "recruiter@example.com", "password": PASSWORD}).encode()
        return path, body, {"Content-Type": "application/json"}
    if path == "/public/talent-network":
        body = json.dumps({"email": unique_email("tn"), "first_name": "Tia", "last_name": "Ng"}).encode()
        return path, body, {"Content-Type": "application/json"}
    if path == "/public/jobs/{job_id}/applications":
        body = json.dumps({"email": unique_email("ap"), "first_name": "Al", "last_name": "Po"}).encode()
        return f"/public/jobs/{w.job_id}/applications", body, {"Content-Type": "application/json"}
    if path == "/public/unsubscribe":
        from crm.portal.unsubscribe import unsubscribe_url

        link = unsubscribe_url(w.candidate_id, "events")
        body = b"List-Unsubscribe=One-Click" if method == "POST" else b""
        return link[link.index("/public/") :], body, {"Content-Type": "application/x-www-form-urlencoded"}
    if path == "/public/job-alerts":
        body = json.dumps(
            {"email": unique_email("ja"), "first_name": "Jo", "last_name": "Al", "tags": ["aws"]}
        )
        return path, body.encode(), {"Content-Type": "application/json"}
    if path == "/public/confirm":
        return _confirmation_link(w), b"", {"Accept": "text/html"}
    if path == "/public/referrals/confirm":
        return _referral_link(w), b"", {"Accept": "text/html"}
    if path == "/public/portal/link" or path.startswith("/portal"):
        return _portal_request(w, method, path)
    if path == "/careers/jobs/{job_id}":
        return f"/careers/jobs/{w.job_id}", b"", {"Accept": "text/html"}
    if path == "/careers/thanks":
        return "/careers/thanks?form=application", b"", {"Accept": "text/html"}
    if path == "/careers/interviews":
        from crm.interviews.links import booking_token
        from crm.interviews.service import InterviewService

        interview_id = _fresh_interview(w)
        token = booking_token(interview_id)
        if method == "GET":
            return f"{path}?token={token}", b"", {"Accept": "text/html"}
        slot = InterviewService().get(interview_id).slots[0].start
        body = json.dumps({"token": token, "slot": slot}).encode()
        return path, body, {"Content-Type": "application/json"}
    if "{event_id}" in path:
        return _event_request(w, method, path)
    return path, b"", {}


def _event_request(w: World, method: str, path: str) -> tuple[str, bytes, dict[str, str]]:
    """A published event's public pages, its registration form, and a registrant's own page."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    from crm.candidates.service import CandidateService
    from crm.events.service import EventService
    from crm.events.tickets import manage_url

    event_id = _new_event(w, published=True)
    url = path.replace("{event_id}", event_id)
    if path.startswith("/public/"):
        body = {"email": unique_email("ev"), "first_name": "Ev", "last_name": "Ent"}
        return url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    if path.endswith("/registration"):
        candidate_id = w.new_candidate()
        event = EventService().get(event_id)
        EventService().register(event_id, CandidateService().get(candidate_id), actor="test")
        token = parse_qs(urlsplit(manage_url(event_id, candidate_id, ends_at=event.ends_at)).query)["token"][
            0
        ]
        if method == "GET":
            return f"{url}?{urlencode({'token': token})}", b"", {"Accept": "text/html"}
        fields = urlencode({"token": token, "action": "cancel"}).encode()
        return url, fields, {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"}
    return url, b"", {"Accept": "text/html"}


def _portal_request(w: World, method: str, path: str) -> tuple[str, bytes, dict[str, str]]:
    """A portal link request, or a portal page with a fresh link (a form: for a person of its own)."""
    from urllib.parse import parse_qs, urlencode, urlsplit

    from crm.candidates.models import CandidateCreate
    from crm.candidates.service import CandidateService
    from crm.mailing.links import signed_portal_url

    if path == "/public/portal/link":
        return path, json.dumps({"email": unique_email("pl")}).encode(), {"Content-Type": "application/json"}
    candidate_id = w.candidate_id
    if method == "POST":
        created = CandidateService().create(
            CandidateCreate(email=unique_email("portal"), first_name="Po", last_name="Rt"), actor="test"
        )
        candidate_id = created.id
    token = parse_qs(urlsplit(signed_portal_url(candidate_id)).query)["token"][0]
    if method == "GET":
        return f"{path}?{urlencode({'token': token})}", b"", {"Accept": "text/html"}
    fields = {"token": token, "version": "1", "first_name": "Po", "last_name": "Rt", "confirm": "yes"}
    return path, urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}


def _referral_link(w: World) -> str:
    """The confirmation link of a fresh referral (an employee's)."""
    from crm.candidates.service import CandidateService
    from crm.referrals.service import ReferralService

    email = unique_email("referral")
    body = {"email": email, "first_name": "Re", "last_name": "Ferd", "why": "Sharp"}
    response = w.call("POST", "/v1/referrals", body, w.headers["employee"])
    assert response.status_code == 202, response.body
    candidate_id = CandidateService().find_id_by_email(email)
    assert candidate_id
    (referral,) = ReferralService().of_candidate(candidate_id)
    link = ReferralService().confirm_url(candidate_id, referral.id)
    return link[link.index("/public/") :]


def _confirmation_link(w: World) -> str:
    from crm.alerts.repository import AlertSubscriptionRepository
    from crm.alerts.service import confirm_url
    from crm.candidates.service import CandidateService

    email = unique_email("confirm")
    body = {"email": email, "first_name": "Co", "last_name": "Nf", "location": "Berlin"}
    response = w.call("POST", "/public/job-alerts", body)
    assert response.status_code == 202, response.body
    candidate_id = CandidateService().find_id_by_email(email)
    assert candidate_id
    pending = (AlertSubscriptionRepository().get(candidate_id) or {})["pending"]
    link = confirm_url(candidate_id, pending["request_id"])
    return link[link.index("/public/") :]


@pytest.mark.parametrize(("method", "path"), sorted(PUBLIC))
@pytest.mark.parametrize("principal", ["anonymous", "recruiter"])
def test_public_route_needs_no_credentials(world: World, method: str, path: str, principal: str) -> None:
    url, body, headers = _public_request(world, method, path)
    response = world.client.http.request(
        method, url, headers={**headers, **world.headers[principal]}, body=body
    )
    assert response.status_code == PUBLIC[(method, path)], (response.status_code, response.body)


@pytest.mark.parametrize(("method", "path"), sorted(UI))
@pytest.mark.parametrize("principal", UI_PRINCIPALS)
def test_ui_route_ignores_api_credentials(world: World, method: str, path: str, principal: str) -> None:
    """Bearer tokens and API keys are not a UI session: no page opens and nothing changes."""
    before = snapshot(world)
    # Any other id in the path is never looked at: without a session nothing is read or written.
    url = re.sub(r"\{\w+\}", "id-1", path.replace("{candidate_id}", world.candidate_id))
    body = b"first_name=X&last_name=Y&email=x%40example.com&version=1&body=n&note=n&name=n&stage=s"
    headers = {"Content-Type": "application/x-www-form-urlencoded", **world.headers[principal]}
    response = world.client.http.request(method, url, headers=headers, body=body if method == "POST" else b"")
    assert response.status_code == UI[(method, path)], (response.status_code, response.body)
    if response.status_code == 303:
        assert response.headers["Location"].startswith("/ui/login")
    assert snapshot(world) == before


# ---------------------------------------------------------------------------------- bad credentials


def _moto_pool(w: World) -> Any:
    from moto.cognitoidp.models import cognitoidp_backends
    from moto.core import DEFAULT_ACCOUNT_ID

    return cognitoidp_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].user_pools[w.env.stack.user_pool_id]


def _moto_jwt(
    w: World,
    *,
    client_id: str | None = None,
    token_use: str = "id",
    expires_in: int = 3600,
    groups: list[str] | None = None,
) -> str:
    pool = _moto_pool(w)
    token, _ = pool.create_jwt(
        client_id or w.env.stack.client_id,
        "admin@example.com",
        token_use,
        expires_in=expires_in,
        extra_data={"cognito:groups": groups if groups is not None else ["admin"]},
    )
    return str(token)


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def _foreign_rsa_token(w: World) -> str:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = _claims(w.env.tokens["admin"])
    return jwt.encode(
        claims,
        key,
        algorithm="RS256",
        headers={"kid": jwt.get_unverified_header(w.env.tokens["admin"])["kid"]},
    )


def _tampered_token(w: World) -> str:
    """The recruiter's real token with its payload swapped for one claiming the admin group."""
    import base64

    head, _, signature = w.env.tokens["recruiter"].split(".")
    claims = _claims(w.env.tokens["recruiter"])
    claims["cognito:groups"] = ["admin"]
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{payload}.{signature}"


def _unsigned_token(w: World) -> str:
    claims = _claims(w.env.tokens["admin"])
    return jwt.encode(claims, None, algorithm="none")


BAD_AUTHORIZATION: dict[str, Callable[[World], str]] = {
    "basic": lambda w: "Basic YWRtaW5AZXhhbXBsZS5jb206Q29ycmVjdC1Ib3JzZS00Mg==",
    "token scheme": lambda w: f"Token {w.env.tokens['admin']}",
    "bearer without token": lambda w: "Bearer ",
    "garbled": lambda w: "Bearer not-a-jwt",
    "three garbled parts": lambda w: "Bearer aaaa.bbbb.cccc",
    "truncated": lambda w: f"Bearer {w.env.tokens['admin'][:-12]}",
    "wrong signature": lambda w: f"Bearer {_tampered_token(w)}",
    "signed by another key": lambda w: f"Bearer {_foreign_rsa_token(w)}",
    "alg none": lambda w: f"Bearer {_unsigned_token(w)}",
    "expired": lambda w: f"Bearer {_moto_jwt(w, expires_in=-600)}",
    "expired access token": lambda w: f"Bearer {_moto_jwt(w, token_use='access', expires_in=-600)}",
    "other client id token": lambda w: f"Bearer {_moto_jwt(w, client_id='some-other-client')}",
    "other client access token": lambda w: (
        f"Bearer {_moto_jwt(w, client_id='some-other-client', token_use='access')}"
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_AUTHORIZATION))
def test_bad_authorization_is_401(world: World, case: str) -> None:
    authorization = BAD_AUTHORIZATION[case](world)
    for method, path, body in (
        ("GET", "/v1/candidates", None),
        ("POST", "/v1/pools", {"name": "should not exist"}),
        ("GET", "/v1/api-keys", None),
    ):
        before = snapshot(world)
        response = world.call(method, path, body, {"Authorization": authorization})
        assert_problem(response, 401)
        assert snapshot(world) == before


def test_moto_minted_token_is_accepted_as_a_control(world: World) -> None:
    """The forged-token cases above fail for the reason they name, not because minting is broken."""
    token = _moto_jwt(world)
    response = world.call("GET", "/v1/api-keys", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.body


def test_id_token_from_another_app_client_is_401(world: World) -> None:
    """A real sign-in through a second app client of the same pool: right issuer, wrong audience."""
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    other = idp.create_user_pool_client(
        UserPoolId=world.env.stack.user_pool_id,
        ClientName="another-app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    result = idp.initiate_auth(
        ClientId=other,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    assert _claims(result["IdToken"])["aud"] == other
    for token in (result["IdToken"], result["AccessToken"]):
        assert_problem(world.call("GET", "/v1/candidates", headers={"Authorization": f"Bearer {token}"}), 401)


def test_token_from_another_user_pool_is_401(world: World) -> None:
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="elsewhere", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="x",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.create_group(GroupName="admin", UserPoolId=pool)
    idp.admin_create_user(UserPoolId=pool, Username="admin@example.com", MessageAction="SUPPRESS")
    idp.admin_set_user_password(
        UserPoolId=pool, Username="admin@example.com", Password=PASSWORD, Permanent=True
    )
    idp.admin_add_user_to_group(UserPoolId=pool, Username="admin@example.com", GroupName="admin")
    token = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "admin@example.com", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]
    assert_problem(world.call("GET", "/v1/candidates", headers={"Authorization": f"Bearer {token}"}), 401)


def test_access_token_works_like_the_id_token(world: World) -> None:
    tokens = login(world.client, "recruiter@example.com")
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert world.call("GET", "/v1/candidates", headers=auth).status_code == 200
    assert_problem(world.call("GET", "/v1/api-keys", headers=auth), 403)


def test_user_in_no_group_is_403(world: World) -> None:
    create_user(world.env.stack, "nobody@example.com", PASSWORD, None)
    auth = {"Authorization": f"Bearer {login(world.client, 'nobody@example.com')['id_token']}"}
    before = snapshot(world)
    assert_problem(world.call("GET", "/v1/candidates", headers=auth), 403)
    assert_problem(world.call("POST", "/v1/jobs", {"title": "nope"}, headers=auth), 403)
    assert snapshot(world) == before


def test_revoked_api_key_is_401(world: World) -> None:
    created = world.admin("POST", "/v1/api-keys", {"name": "short-lived", "scope": "read-write"}, 201)
    key = {"X-Api-Key": created["key"]}
    assert world.call("GET", "/v1/candidates", headers=key).status_code == 200
    world.admin("DELETE", f"/v1/api-keys/{created['id']}", expect=204)
    before = snapshot(world)
    assert_problem(world.call("GET", "/v1/candidates", headers=key), 401)
    assert_problem(world.call("POST", "/v1/pools", {"name": "after revoke"}, headers=key), 401)
    assert snapshot(world) == before
    listed = {k["id"]: k for k in world.admin("GET", "/v1/api-keys?limit=100")["items"]}
    assert listed[created["id"]]["revoked_at"]


@pytest.mark.parametrize(
    "make_key",
    [
        pytest.param(lambda real: "not-a-key", id="garbage"),
        pytest.param(lambda real: "crm_0123456789abcdef_secret", id="unknown id"),
        pytest.param(lambda real: real[:-1] + ("A" if real[-1] != "A" else "B"), id="wrong secret"),
        pytest.param(lambda real: real + "x", id="extra character"),
        pytest.param(lambda real: "crm_" + "a" * 300, id="overlong"),
        pytest.param(lambda real: "crm_../../x_y", id="path characters"),
    ],
)
def test_invalid_api_key_is_401(world: World, make_key: Callable[[str], str]) -> None:
    real = world.headers["rw_key"]["X-Api-Key"]
    assert_problem(world.call("GET", "/v1/candidates", headers={"X-Api-Key": make_key(real)}), 401)


def test_secrets_are_never_listed(world: World) -> None:
    listed = world.admin("GET", "/v1/api-keys?limit=100")["items"]
    assert listed
    text = json.dumps(listed)
    assert "key_hash" not in text
    assert world.headers["rw_key"]["X-Api-Key"] not in text


def test_resume_link_shape(world: World) -> None:
    """The resume route's success body is a link, and it needs no more than read access."""
    body = world.call(
        "GET",
        f"/v1/candidates/{world.candidate_id}/applications/{world.job_id}/resume",
        headers=world.headers["read_key"],
    ).json_body
    assert body["url"].startswith("https://")
    assert body["expires_in"] > 0
