"""Recruiter and integration API: candidates, their notes, timeline and applications."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint

from chalicelib.api.custom_fields import shown_application
from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call, PageQuery, endpoint, page, request_form
from crm.candidates.models import (
    Activity,
    Application,
    Candidate,
    CandidateCreate,
    CandidateFilter,
    CandidatePatch,
    CandidateSummary,
    Interaction,
    InteractionCreate,
    Note,
    NoteCreate,
    Resume,
    ResumeLink,
    application_id,
)
from crm.candidates.resumes import ResumeStore
from crm.candidates.service import RESUME_LINK_SECONDS, CandidateService
from crm.custom_fields.service import CustomFields
from crm.hiring.team import TeamScope
from crm.platform.errors import ValidationFailed

bp = Blueprint(__name__)


class CandidateListQuery(PageQuery, CandidateFilter):
    """Filters: ``q`` (free text), ``email``, ``tag``/``tags`` with ``match``, ``pool`` and
    ``stage``, ``source``/``sources``, ``location``, ``consent``, created and last-activity
    ranges, ``sort``, and ``cf.<key>=<value>`` for each filterable custom field."""


def shown(call: Call, candidate: Candidate) -> Candidate:
    """The candidate as the caller may see them: custom fields of deleted definitions hidden, and
    private ones too from a hiring manager."""
    private = not (call.principal is not None and call.principal.team_only)
    values = CustomFields().visible("candidate", candidate.custom_fields, private=private)
    return candidate.model_copy(update={"custom_fields": values})


@endpoint(
    bp,
    "/v1/candidates",
    "GET",
    summary="List candidates (free text q, and filters that combine with it and each other)",
    description="`q` is free text over names, email, tags, location, notes and resume text, "
    "ranked by where it matched. `tags` (comma-separated) match all of them or, with "
    "`match=any`, any; `sources` (comma-separated) any of them; `stage` needs `pool`; "
    "`location` words in any case; `consent` the marketing consent; `created_from`/`created_to` "
    "and `active_from`/`active_to` (last change to the profile) are dates, both ends included; "
    "`sort` is newest (the default), oldest, name or last_activity, and is not taken with `q`. "
    "A combination that cannot be answered exactly is a 422 naming the field. "
    "`cf.<key>=<value>` filters by a filterable custom field (text in any case, a number, a date "
    "YYYY-MM-DD, or one option; a several-choices field matches when it holds that option). "
    "An exact `email` is answered at once from the person's record (strongly "
    "consistent: a candidate just created or a sign-up just answered 202 is found). Every other "
    "list is read from list projections that the table's stream maintains, so a change shows "
    "there a moment later (under a second in AWS).",
    tag="candidates",
    permission="read",
    query=CandidateListQuery,
    response=CandidateSummary,
    paginated=True,
)
def list_candidates(call: Call) -> dict[str, Any]:
    q: CandidateListQuery = call.query
    items, next_cursor = CandidateService().list_page(q, limit=q.limit, cursor=q.cursor)
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/candidates",
    "POST",
    summary="Add a candidate (409 with the existing id on a known email)",
    tag="candidates",
    permission="write",
    body=CandidateCreate,
    response=Candidate,
    status=201,
    errors=(409,),
)
def create_candidate(call: Call) -> Candidate:
    return shown(call, CandidateService().create(call.body, actor=call.actor))


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}",
    "GET",
    summary="Get a candidate",
    description="`first_touch` is the contact that created the record (a sign-up, an application, "
    "a job-alert request, the API or the UI) and `last_touch` the latest form or application since "
    "(each with its source, UTM fields, referral code, form, job and time). Records kept before "
    "touches were recorded have no `first_touch`. A hiring manager gets only the applicants of the "
    "jobs that name them (anyone else: 404).",
    tag="candidates",
    permission="team",
    response=Candidate,
    errors=(404,),
)
def get_candidate(call: Call, candidate_id: str) -> Candidate:
    TeamScope(call.principal).candidate(candidate_id)
    candidate = CandidateService().get(candidate_id)
    audit(call, "candidate.read", subject=f"candidate:{candidate_id}", person_id=candidate_id)
    return shown(call, candidate)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}",
    "PATCH",
    summary="Update a candidate; the body carries the version read (a stale one is a 409)",
    tag="candidates",
    permission="write",
    body=CandidatePatch,
    response=Candidate,
    errors=(404, 409),
)
def update_candidate(call: Call, candidate_id: str) -> Candidate:
    return shown(call, CandidateService().update(candidate_id, call.body, actor=call.actor))


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}",
    "DELETE",
    summary="Erase a candidate and everything that holds their data (admins)",
    tag="candidates",
    permission="admin",
    status=204,
    errors=(404,),
)
def delete_candidate(call: Call, candidate_id: str) -> None:
    CandidateService().erase(candidate_id, actor=call.actor)
    audit(call, "candidate.erased", subject=f"candidate:{candidate_id}", person_id=candidate_id)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/timeline",
    "GET",
    summary="The candidate's timeline, newest first",
    tag="candidates",
    permission="read",
    query=PageQuery,
    response=Activity,
    paginated=True,
    errors=(404,),
)
def candidate_timeline(call: Call, candidate_id: str) -> dict[str, Any]:
    items, next_cursor = CandidateService().timeline(
        candidate_id, limit=call.query.limit, cursor=call.query.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/notes",
    "POST",
    summary="Add a note",
    tag="candidates",
    permission="write",
    body=NoteCreate,
    response=Note,
    status=201,
    errors=(404,),
)
def add_note(call: Call, candidate_id: str) -> Note:
    return CandidateService().add_note(candidate_id, call.body, author=call.actor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/notes",
    "GET",
    summary="The candidate's notes, newest first",
    tag="candidates",
    permission="read",
    query=PageQuery,
    response=Note,
    paginated=True,
    errors=(404,),
)
def list_notes(call: Call, candidate_id: str) -> dict[str, Any]:
    items, next_cursor = CandidateService().notes(
        candidate_id, limit=call.query.limit, cursor=call.query.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/applications",
    "GET",
    summary="The candidate's applications (a hiring manager: those to the jobs that name them)",
    tag="candidates",
    permission="team",
    query=PageQuery,
    response=Application,
    paginated=True,
    errors=(404,),
)
def list_applications(call: Call, candidate_id: str) -> dict[str, Any]:
    scope = TeamScope(call.principal)
    if scope.limited:  # a handful at most: the jobs of one hiring team, on one page
        return page([shown_application(call, a) for a in scope.applications_of(candidate_id)], None)
    items, next_cursor = CandidateService().application_page(
        candidate_id, limit=call.query.limit, cursor=call.query.cursor
    )
    return page(items, next_cursor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/applications/{job_id}/resume",
    "GET",
    summary="A short-lived download link for the resume sent with an application",
    tag="candidates",
    permission="team",
    response=ResumeLink,
    errors=(404,),
)
def resume_link(call: Call, candidate_id: str, job_id: str) -> ResumeLink:
    TeamScope(call.principal).require_application(application_id(candidate_id, job_id))
    key = CandidateService().resume_key(candidate_id, job_id)
    return ResumeLink(url=ResumeStore().download_url(key), expires_in=300)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/resumes",
    "GET",
    summary="The candidate's resumes, newest first (the newest is current)",
    description="Every resume from any source: `signup` (talent network), `application` (with "
    "`job_id`), `recruiter` (an upload) or `portal`. An application's resume kept before this list "
    "existed is listed as of its application, with an id `app-<job_id>` and no size.",
    tag="candidates",
    permission="read",
    response=list[Resume],
    errors=(404,),
)
def list_resumes(call: Call, candidate_id: str) -> dict[str, Any]:
    return {"items": CandidateService().resumes(candidate_id)}


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/resumes",
    "POST",
    summary="Upload a resume for the candidate (multipart/form-data, the file in part resume)",
    description="The same checks as the career-site forms: a PDF, DOC or DOCX (by its bytes), at "
    "most 5 MB. It becomes the candidate's current resume.",
    tag="candidates",
    permission="write",
    response=Resume,
    status=201,
    errors=(404,),
    file_part="resume",
)
def upload_resume(call: Call, candidate_id: str) -> Resume:
    decoded = request_form(call.request, allowed=("multipart/form-data",))
    upload = decoded.files.get("resume")
    if upload is None:
        raise ValidationFailed(
            "Send the resume as a file.", errors=[{"field": "resume", "message": "a file is required"}]
        )
    return CandidateService().upload_resume(candidate_id, upload, actor=call.actor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/resumes/{resume_id}",
    "GET",
    summary="A short-lived download link for one of the candidate's resumes",
    tag="candidates",
    permission="read",
    response=ResumeLink,
    errors=(404,),
)
def resume_download(call: Call, candidate_id: str, resume_id: str) -> ResumeLink:
    url = CandidateService().resume_download_url(candidate_id, resume_id)
    return ResumeLink(url=url, expires_in=RESUME_LINK_SECONDS)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/interactions",
    "POST",
    summary="Log a call or meeting with the candidate",
    description="`happened_at` defaults to now and may not be in the future; it goes on the timeline.",
    tag="candidates",
    permission="write",
    body=InteractionCreate,
    response=Interaction,
    status=201,
    errors=(404,),
)
def log_interaction(call: Call, candidate_id: str) -> Interaction:
    return CandidateService().log_interaction(candidate_id, call.body, author=call.actor)


@endpoint(
    bp,
    "/v1/candidates/{candidate_id}/interactions",
    "GET",
    summary="The candidate's logged calls and meetings, the latest to happen first",
    tag="candidates",
    permission="read",
    query=PageQuery,
    response=Interaction,
    paginated=True,
    errors=(404,),
)
def list_interactions(call: Call, candidate_id: str) -> dict[str, Any]:
    items, next_cursor = CandidateService().interactions(
        candidate_id, limit=call.query.limit, cursor=call.query.cursor
    )
    return page(items, next_cursor)
