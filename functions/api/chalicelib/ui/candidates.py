"""The recruiter web UI (server-rendered, plain forms, no JavaScript) under ``/ui``.

Sign-in (``chalicelib.ui.session``) is the same Cognito login as ``POST /auth/login``; the ID
token becomes an HttpOnly, Secure, SameSite=Lax session cookie (``chalicelib.web.session``) and
every request verifies it as the API verifies a bearer token. Without a valid session a page
answers 303 to ``/ui/login?next=...``.
Every POST carries a CSRF token tied to the session (sign-in: a double-submit cookie); a missing
or wrong one is a 403 page and changes nothing. Routes are declared with ``endpoint`` (public, as
far as bearer credentials go) so the OpenAPI document lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Blueprint, Response
from pydantic import ValidationError

from chalicelib.ui import custom_fields as ui_custom_fields
from chalicelib.ui import interview_view, mail_history
from chalicelib.ui import pipeline as pipeline_view
from chalicelib.ui.merges import profile_panel as merge_panel  # merges
from chalicelib.web import session as web
from chalicelib.web import ui as web_ui
from chalicelib.web.audit import audit
from chalicelib.web.endpoint import Call
from chalicelib.web.ui import (
    Session,
    display_names,
    field_errors,
    page,
    paging,
    see_other,
    text,
)
from crm.analytics import service as dashboard
from crm.api_keys.service import ApiKeyService
from crm.candidates import timeline as story
from crm.candidates.models import (
    LIST_FILTERS,
    Activity,
    Candidate,
    CandidateCreate,
    CandidateFilter,
    CandidatePatch,
    InteractionCreate,
    NoteCreate,
    application_id,
)
from crm.candidates.resumes import ResumeStore
from crm.candidates.service import CandidateService
from crm.custom_fields.service import CustomFields
from crm.hiring.models import RECOMMENDATIONS
from crm.hiring.service import HiringService
from crm.hiring.team import TeamScope
from crm.inbound import service as inbound
from crm.jobs.service import JobService
from crm.outreach.models import EmailCreate
from crm.outreach.service import EmailService
from crm.platform import clock
from crm.platform.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
    VersionConflict,
    validation_errors_from_pydantic,
)
from crm.platform.forms import Upload
from crm.platform.ids import iso
from crm.pools import service as pipeline
from crm.pools.service import PoolService
from crm.referrals.service import ReferralService
from crm.reminders.models import ReminderCreate, ReminderPatch
from crm.reminders.service import ReminderService
from crm.sequences.service import SequenceService
from crm.users.service import UserService

bp = Blueprint(__name__)

PAGE_SIZE = 25
EDIT_FIELDS = (
    {"name": "first_name", "label": "First name", "type": "text"},
    {"name": "last_name", "label": "Last name", "type": "text"},
    {"name": "email", "label": "Email", "type": "email"},
    {"name": "phone", "label": "Phone", "type": "tel"},
    {"name": "location", "label": "Location", "type": "text"},
    {"name": "linkedin_url", "label": "LinkedIn URL", "type": "url"},
    {"name": "tags", "label": "Tags (comma-separated)", "type": "text"},
)
REQUIRED = ("first_name", "last_name", "email")
NOTICES = {
    "created": "The candidate is added.",
    "emailed": "The email is on its way; its state shows below.",
    "pooled": "The pool and stage are saved.",
    "saved": "The details are saved.",
    "note": "The note is added.",
    "resume": "The resume is uploaded; it is the current one now.",
    "interaction": "The call or meeting is logged.",
    "reminder": "The reminder is set.",
    "reminder-done": "The reminder is done.",
    "reminder-snoozed": "The reminder is snoozed.",
    "reminder-deleted": "The reminder is deleted.",
    "moved": "The application is moved.",
    "added": "The candidate is in the job's pipeline.",
    "feedback": "Your feedback is saved.",
    "interview-offered": "The interview slots are offered: the candidate is emailed a link to book one.",
    "interview-cancelled": "The interview is cancelled; whoever had the invitation is told.",
}
#: What a logged call or meeting may say, as the form offers it.
INTERACTION_KINDS = (("call", "Call"), ("meeting", "Meeting"))
INTERACTION_OUTCOMES = (
    ("reached", "Reached them"),
    ("left_voicemail", "Left a voicemail"),
    ("no_answer", "No answer"),
    ("held", "Held"),
    ("no_show", "They did not show"),
    ("rescheduled", "Rescheduled"),
)
INTERACTION_FIELDS = ("kind", "outcome", "happened_at", "duration_minutes", "notes")
#: How long "Snooze" puts a reminder off, from now.
SNOOZES = {"1h": timedelta(hours=1), "1d": timedelta(days=1), "1w": timedelta(weeks=1)}


def ui_route(
    path: str, method: str, summary: str, **options: Any
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """``chalicelib.web.ui.ui_route`` on this module's blueprint."""
    return web_ui.ui_route(path, method, summary, blueprint=bp, **options)


# ------------------------------------------------------------------------------- pages


def _filter_values(call: Call) -> dict[str, str]:
    query = call.request.query_params or {}
    return {k: (query.get(k) or "").strip() for k in LIST_FILTERS}


@ui_route(
    "/ui/candidates",
    "GET",
    "Recruiter UI: find candidates (?q, tag, tags, match, pool, stage, source, location, consent, "
    "created_from, created_to, active_from, active_to, sort, cursor)",
)
def ui_candidates(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    values = _filter_values(call)
    cf_given = _custom_filter_values(call)
    cursor = (call.request.query_params or {}).get("cursor") or None
    try:
        flt = CandidateFilter.model_validate(
            {**{k: v for k, v in values.items() if v}, **{f"cf.{k}": v for k, v in cf_given.items()}}
        )
    except ValidationError as exc:
        errors = {e["field"]: e["message"] for e in validation_errors_from_pydantic(exc)}
        return page(
            "ui_candidates.html",
            status=422,
            session=session,
            values=values,
            errors=errors,
            items=[],
            next_url=None,
            **_filter_choices(),
            cf_given=cf_given,
        )
    try:
        items, next_cursor = CandidateService().list_page(flt, limit=PAGE_SIZE, cursor=cursor)
    except ValidationFailed as failed:
        return page(
            "ui_candidates.html",
            status=422,
            session=session,
            values=values,
            errors={str(e.get("field")): str(e.get("message")) for e in failed.errors or []},
            items=[],
            next_url=None,
            **_filter_choices(),
            cf_given=cf_given,
        )
    given = {k: v for k, v in values.items() if v} | {f"cf.{k}": v for k, v in cf_given.items()}
    # "All N who match": an exact count where the lists can give one cheaply (not for text search).
    exact = (flt.tag or flt.pool or flt.source) and not (flt.q or flt.email)
    return page(
        "ui_candidates.html",
        session=session,
        matching=CandidateService().count_matching(flt) if exact and items else None,
        erased=(call.request.query_params or {}).get("done") == "erased",
        values=values,
        list_query=urlencode(given),
        errors={},
        items=items,
        **paging("/ui/candidates", cursor, next_cursor, given=given),
        **_filter_choices(),
        cf_given=cf_given,
    )


def _filter_choices() -> dict[str, Any]:
    """The pools to pick from by name (the first page of them) and the usual sources."""
    pools, more = PoolService().list_page(limit=100, cursor=None)
    sequences, _ = SequenceService().list_page(limit=100, cursor=None)
    return {
        "pools": pools,
        "more_pools": bool(more),
        "sources": dashboard.KNOWN_SOURCES,
        "sequences": sequences,
        "cf_fields": ui_custom_fields.filter_fields(),
    }


def _custom_filter_values(call: Call) -> dict[str, str]:
    """The list's ``cf.<key>`` filters (custom fields), by key."""
    query = call.request.query_params or {}
    return {k[3:]: v.strip() for k, v in query.items() if k.startswith("cf.") and v and v.strip()}


def _form_of(candidate: Candidate) -> dict[str, str]:
    form = {f["name"]: str(getattr(candidate, f["name"]) or "") for f in EDIT_FIELDS if f["name"] != "tags"}
    form["tags"] = ", ".join(candidate.tags)
    return form


def _profile(
    call: Call,
    session: Session,
    candidate_id: str,
    *,
    status: int = 200,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    version: str | None = None,
    note_error: str | None = None,
    note_text: str = "",
    reminder_error: str | None = None,
    reminder_values: dict[str, str] | None = None,
    email_errors: dict[str, str] | None = None,
    email_values: dict[str, str] | None = None,
    pool_error: str | None = None,
    erase_error: str | None = None,
    feedback_form: dict[str, Any] | None = None,
    resume_error: str | None = None,
    interaction_errors: dict[str, str] | None = None,
    interaction_values: dict[str, str] | None = None,
    custom_form: dict[str, Any] | None = None,
) -> Response:
    if session.team_only:
        return _team_profile(
            call, session, candidate_id, status=status, problem=problem, feedback_form=feedback_form
        )
    repository = CandidateService()
    candidate = repository.get(candidate_id)
    notes, _ = repository.notes(candidate_id, limit=50, cursor=None)
    applications = repository.applications(candidate_id)
    timeline, _ = repository.timeline(candidate_id, limit=50, cursor=None)
    story_names = _story_names(timeline, applications_jobs=[a.job_id for a in applications])
    notice = NOTICES.get((call.request.query_params or {}).get("done") or "")
    mail_cursor = ((call.request.query_params or {}).get("mail_cursor") or "").strip() or None
    sent, sent_next = mail_history.history(candidate_id, cursor=mail_cursor)
    referrals_service = ReferralService()
    referrals = referrals_service.of_candidate(candidate_id)
    return page(
        "ui_candidate.html",
        status=status,
        session=session,
        candidate=candidate,
        linkedin_href=web.http_url(candidate.linkedin_url),
        notes=notes,
        timeline=[_told(a, story_names) for a in timeline],
        applications=applications,
        application_rows=pipeline_view.profile_rows(
            applications, JobService().get, _feedback_reader(candidate_id, session)
        ),
        feedback_form=feedback_form or {},
        recommendations=RECOMMENDATIONS,
        interviews=interview_view.for_profile(candidate_id, applications, session),
        open_jobs=[
            j
            for j in JobService().list_page(status="open", limit=100, cursor=None)[0]
            if j.id not in {a.job_id for a in applications}
        ],
        rejection_reasons=HiringService().rejection_reasons(),
        job_titles=story_names.jobs,
        pool_names=display_names(PoolService().get, list(candidate.pools)),
        reminders=ReminderService().of_candidate(candidate_id, now=iso(clock.now())),
        referrals=referrals,
        referral_jobs=referrals_service.titles(referrals),
        fields=EDIT_FIELDS,
        form=form if form is not None else _form_of(candidate),
        errors=errors or {},
        problem=problem,
        notice=None if status != 200 else notice,
        version=version or str(candidate.version),
        note_error=note_error,
        note_text=note_text,
        reminder_error=reminder_error,
        reminder_values=reminder_values or {"due_at": "", "note": ""},
        threads=inbound.threads(
            EmailService().of_candidate(candidate_id), inbound.InboundService().replies(candidate_id)
        ),
        email_errors=email_errors or {},
        email_values=email_values
        or {
            "subject": "",
            "body": "",
            "conversation_id": (call.request.query_params or {}).get("answer") or "",
        },
        pool_choices=PoolService().list_page(limit=100, cursor=None)[0],
        stages=pipeline.STAGES,
        pool_error=pool_error,
        erase_error=erase_error,
        is_admin="admin" in session.principal.roles,
        resumes=repository.resumes(candidate_id),
        resume_error=resume_error,
        interactions=repository.interactions(candidate_id, limit=20, cursor=None)[0],
        interaction_kinds=INTERACTION_KINDS,
        interaction_outcomes=INTERACTION_OUTCOMES,
        outcome_labels=dict(INTERACTION_OUTCOMES),
        interaction_errors=interaction_errors or {},
        interaction_values=interaction_values or {name: "" for name in INTERACTION_FIELDS},
        sent_mail=sent,
        sent_mail_older=(
            f"/ui/candidates/{quote(candidate_id)}?{urlencode({'mail_cursor': sent_next})}#mail-history"
            if sent_next
            else None
        ),
        sent_mail_paged=bool(mail_cursor),
        app_defs=ui_custom_fields.visible_fields("application", private=True),
        app_forms={a.job_id: ui_custom_fields.form_values(a.custom_fields) for a in applications},
        custom_defs=ui_custom_fields.visible_fields("candidate", private=True),
        custom_form=custom_form
        if custom_form is not None
        else ui_custom_fields.form_values(candidate.custom_fields),
        merges=merge_panel(candidate_id, (call.request.query_params or {}).get("done") or ""),  # merges
    )


def _team_profile(
    call: Call,
    session: Session,
    candidate_id: str,
    *,
    status: int,
    problem: str | None,
    feedback_form: dict[str, Any] | None,
) -> Response:
    """A hiring manager's view of an applicant to their jobs (anyone else: the 404 page): no notes,
    emails, timeline, pools or contact history, only what giving feedback needs."""
    applications = TeamScope(session.principal).applications_of(candidate_id)
    candidate = CandidateService().get(candidate_id)
    jobs = JobService()
    notice = NOTICES.get((call.request.query_params or {}).get("done") or "")
    return page(
        "ui_candidate_team.html",
        status=status,
        session=session,
        candidate=candidate,
        linkedin_href=web.http_url(candidate.linkedin_url),
        application_rows=pipeline_view.profile_rows(
            applications, jobs.get, _feedback_reader(candidate_id, session)
        ),
        job_titles=display_names(jobs.get, [a.job_id for a in applications]),
        feedback_form=feedback_form or {},
        recommendations=RECOMMENDATIONS,
        interviews=interview_view.for_profile(candidate_id, applications, session),
        notice=None if status != 200 else notice,
        problem=problem,
        custom_defs=ui_custom_fields.visible_fields("candidate", private=False),
        custom_values=ui_custom_fields.form_values(candidate.custom_fields),
    )


#: The fields of "Add a candidate", in the order the form shows them.
NEW_FIELDS = EDIT_FIELDS
#: Where a person a recruiter adds comes from (``source``).
RECRUITER_SOURCE = "recruiter"


def _pool_target(values: dict[str, str]) -> tuple[Any, str] | None:
    """The pool (and stage) a new candidate goes into, from the form's ``pool`` and ``stage``:
    None without a pool; NotFound for a pool there is not; the stage defaults to the first."""
    if not values.get("pool"):
        return None
    pool = PoolService().open_pool(values["pool"])  # an archived pool takes no one new: a 409
    stage = values.get("stage") or pipeline.STAGES[0]
    return pool, stage


def _new_candidate_page(
    session: Session,
    values: dict[str, str],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    existing_id: str | None = None,
    custom_form: dict[str, Any] | None = None,
) -> Response:
    target = _pool_target(values)
    return page(
        "ui_candidate_new.html",
        status=status,
        session=session,
        fields=NEW_FIELDS,
        custom_defs=ui_custom_fields.visible_fields("candidate", private=True),
        custom_form=custom_form or {},
        values=values,
        errors=errors or {},
        existing_id=existing_id,
        pool=target[0] if target else None,
        stage=target[1] if target else "",
        stages=pipeline.STAGES,
    )


def _new_values(source: dict[str, Any]) -> dict[str, str]:
    names = [f["name"] for f in NEW_FIELDS] + ["pool", "stage", "marketing_consent"]
    return {name: text(source.get(name)) for name in names}


@ui_route(
    "/ui/candidates/new",
    "GET",
    "Recruiter UI: add a candidate (?pool, stage: straight into a pool's column; ?email to start with)",
    errors=(404, 409),
)
def ui_new_candidate(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    values = _new_values(dict(call.request.query_params or {}))
    if values["stage"] and values["stage"] not in pipeline.STAGES:
        values["stage"] = ""
    return _new_candidate_page(session, values)


@ui_route(
    "/ui/candidates",
    "POST",
    "Recruiter UI: add a candidate (form: csrf, first_name, last_name, email, phone, location, "
    "linkedin_url, tags, marketing_consent=on, pool, stage)",
    errors=(403, 404, 409, 422),
)
def ui_create_candidate(call: Call, session: Session, fields: dict[str, Any]) -> Response:
    values = _new_values(fields)
    target = _pool_target(values)  # an unknown pool is the 404 page, before anything is written
    errors: dict[str, str] = {}
    stage = values["stage"] or pipeline.STAGES[0]
    if target is not None:
        try:
            stage = pipeline.StageChoice.model_validate({"stage": stage}).stage
        except ValidationError as exc:
            errors["stage"] = next(iter(field_errors(exc).values()), "Choose a stage.")
    data = {k: v for k, v in values.items() if v and k in {f["name"] for f in NEW_FIELDS}}
    data["source"] = RECRUITER_SOURCE
    data["marketing_consent"] = True if values["marketing_consent"] == "on" else None
    posted = ui_custom_fields.posted_values(
        fields, ui_custom_fields.visible_fields("candidate", private=True)
    )
    try:
        checked = CustomFields().validate_values("candidate", posted, form=True)
        data["custom_fields"] = {k: v for k, v in checked.items() if v is not None}
    except ValidationFailed as failed:
        errors.update({str(e["field"]): str(e["message"]) for e in failed.errors or []})
    try:
        create = CandidateCreate.model_validate(data)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if errors:
        return _new_candidate_page(session, values, status=422, errors=errors, custom_form=posted)
    service = CandidateService()
    try:
        candidate = service.create(create, actor=session.principal.actor, form="ui")
    except ValidationFailed as failed:  # a required custom field left empty
        refused = {str(e["field"]): str(e["message"]) for e in failed.errors or []}
        return _new_candidate_page(session, values, status=422, errors=refused, custom_form=posted)
    except Conflict as exc:
        existing = exc.extra.get("existing_id")
        message = "Someone with this email is already a candidate; open their profile instead."
        return _new_candidate_page(
            session,
            values,
            status=409,
            errors={"email": message},
            existing_id=str(existing) if existing else None,
        )
    if target is not None:
        pool, _ = target
        service.set_pool_stage(candidate.id, pool.id, stage, actor=session.principal.actor)
        return see_other(
            f"/ui/pools/{quote(pool.id)}?{urlencode({'done': 'added', 'candidate': candidate.id})}#board"
        )
    return see_other(f"/ui/candidates/{quote(candidate.id)}?done=created")


def _feedback_reader(candidate_id: str, session: Session) -> Callable[[Any, Any], Any]:
    hiring = HiringService()
    principal = session.principal

    def read(job: Any, application: Any) -> Any:
        return hiring.feedback_on(job, application, actor=principal.actor, email=principal.email)

    return read


def _story_names(activities: list[Activity], *, applications_jobs: list[str]) -> story.Names:
    """The names a timeline mentions: jobs and pools by title, users by email, keys by name."""
    job_ids, pool_ids = story.referenced(activities)
    subs, key_ids = story.actor_refs(activities)
    users = UserService().emails_of(subs) if subs else {}
    return story.Names(
        jobs=display_names(JobService().get, [*applications_jobs, *job_ids]),
        pools=display_names(PoolService().get, pool_ids),
        users=users,
        keys=ApiKeyService().names_of(key_ids) if key_ids else {},
    )


def _told(activity: Activity, names: story.Names) -> dict[str, Any]:
    return {
        "at": activity.at,
        "kind": activity.kind,
        "text": story.describe(activity, names),
        "lines": story.change_lines(activity.detail) if activity.kind == "updated" else [],
        "by": story.actor_label(activity.actor, names),
    }


@ui_route("/ui/candidates/{candidate_id}", "GET", "Recruiter UI: one candidate", errors=(404,), team=True)
def ui_candidate(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    response = _profile(call, session, candidate_id)
    if response.status_code == 200:
        subject = f"candidate:{candidate_id}"
        audit(call, "candidate.read", subject=subject, person_id=candidate_id, actor=session.principal.actor)
    return response


@ui_route(
    "/ui/candidates/{candidate_id}",
    "POST",
    "Recruiter UI: edit a candidate (form: csrf, version and the details)",
    errors=(403, 404, 409, 422),
)
def ui_edit_candidate(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    typed = {f["name"]: text(fields.get(f["name"])) for f in EDIT_FIELDS}
    version = text(fields.get("version"))
    data: dict[str, Any] = {"version": version or None}
    for name, value in typed.items():
        if name == "tags":
            data["tags"] = [t.strip() for t in value.split(",") if t.strip()]
        else:
            data[name] = value if name in REQUIRED else (value or None)
    posted = ui_custom_fields.posted_values(
        fields, ui_custom_fields.visible_fields("candidate", private=True)
    )
    custom_errors: dict[str, str] = {}
    try:
        stored = CandidateService().get(candidate_id).custom_fields
        checked = CustomFields().validate_values("candidate", posted, form=True)
        # Clearing a value that is not there changes nothing (an old record without a new
        # required field can still be saved).
        data["custom_fields"] = {k: v for k, v in checked.items() if v is not None or k in stored}
    except ValidationFailed as failed:
        custom_errors = {str(e["field"]): str(e["message"]) for e in failed.errors or []}
    try:
        patch = CandidatePatch.model_validate(data)
        if custom_errors:
            raise ValidationFailed("Some custom fields are invalid.", errors=[])
    except (ValidationError, ValidationFailed) as exc:
        errors = {**(field_errors(exc) if isinstance(exc, ValidationError) else {}), **custom_errors}
        problem = "Some details are missing or invalid; see the marked fields."
        if set(errors) - set(typed) - set(custom_errors):
            problem = "This page is out of date; reload it and try again."
        return _profile(
            call,
            session,
            candidate_id,
            status=422,
            form=typed,
            errors=errors,
            problem=problem,
            version=version,
            custom_form=posted,
        )
    try:
        CandidateService().update(candidate_id, patch, actor=session.principal.actor)
    except ValidationFailed as failed:  # a required custom field cleared
        return _profile(
            call,
            session,
            candidate_id,
            status=422,
            form=typed,
            errors={str(e["field"]): str(e["message"]) for e in failed.errors or []},
            problem="Some details are missing or invalid; see the marked fields.",
            version=version,
            custom_form=posted,
        )
    except VersionConflict:
        return _profile(
            call,
            session,
            candidate_id,
            status=409,
            problem=(
                "Someone else changed this record after you opened it, so nothing was saved. The form "
                "now shows the current values: make your changes again and save."
            ),
        )
    except Conflict as error:
        return _profile(
            call,
            session,
            candidate_id,
            status=409,
            form=typed,
            errors={error.field: error.detail} if error.field else {},
            problem=error.detail,
            version=version,
        )
    return see_other(f"/ui/candidates/{candidate_id}?done=saved")


@ui_route(
    "/ui/candidates/{candidate_id}/applications/{job_id}/resume",
    "GET",
    "Recruiter UI: download a resume (303 to a presigned link that lasts five minutes)",
    errors=(404,),
    team=True,
)
def ui_resume(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, job_id: str
) -> Response:
    TeamScope(session.principal).require_application(application_id(candidate_id, job_id))
    # The link is minted at the click, not when the profile was rendered, so it never goes stale.
    return see_other(ResumeStore().download_url(CandidateService().resume_key(candidate_id, job_id)))


@ui_route(
    "/ui/candidates/{candidate_id}/resumes/{resume_id}",
    "GET",
    "Recruiter UI: download one of the candidate's resumes (303 to a presigned link that lasts five minutes)",
    errors=(404,),
)
def ui_resume_file(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, resume_id: str
) -> Response:
    return see_other(CandidateService().resume_download_url(candidate_id, resume_id))


@ui_route(
    "/ui/candidates/{candidate_id}/resumes",
    "POST",
    "Recruiter UI: upload a resume (multipart form: csrf, resume: a PDF, DOC or DOCX of at most 5 MB)",
    errors=(403, 404, 422),
    uploads=True,
)
def ui_upload_resume(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, uploads: dict[str, Upload]
) -> Response:
    upload = uploads.get("resume")
    if upload is None:
        return _profile(call, session, candidate_id, status=422, resume_error="Choose a file to upload.")
    try:
        CandidateService().upload_resume(candidate_id, upload, actor=session.principal.actor)
    except ValidationFailed as failed:
        message = next((str(e.get("message")) for e in failed.errors or []), failed.detail)
        return _profile(call, session, candidate_id, status=422, resume_error=f"The resume {message}.")
    return see_other(f"/ui/candidates/{quote(candidate_id)}?done=resume#resume")


@ui_route(
    "/ui/candidates/{candidate_id}/interactions",
    "POST",
    "Recruiter UI: log a call or meeting (form: csrf, kind, outcome, happened_at as datetime-local in "
    "UTC (empty: now), duration_minutes, notes)",
    errors=(403, 404, 422),
)
def ui_log_interaction(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    values = {name: text(fields.get(name)) for name in INTERACTION_FIELDS}
    data: dict[str, Any] = {k: v for k, v in values.items() if v}
    errors: dict[str, str] = {}
    if values["happened_at"]:
        try:
            happened = datetime.fromisoformat(values["happened_at"])
        except ValueError:
            errors["happened_at"] = "Choose the date and time it happened (or leave it empty for now)."
        else:
            data["happened_at"] = happened if happened.tzinfo else happened.replace(tzinfo=UTC)
    try:
        interaction = InteractionCreate.model_validate(data)
    except ValidationError as exc:
        errors = {**field_errors(exc), **errors}
    if not errors:
        try:
            CandidateService().log_interaction(candidate_id, interaction, author=session.principal.actor)
        except ValidationFailed as failed:
            errors = {str(e.get("field")): str(e.get("message")) for e in failed.errors or []}
    if errors:
        return _profile(
            call, session, candidate_id, status=422, interaction_errors=errors, interaction_values=values
        )
    return see_other(f"/ui/candidates/{quote(candidate_id)}?done=interaction#interactions")


@ui_route(
    "/ui/candidates/{candidate_id}/notes",
    "POST",
    "Recruiter UI: add a note (form: csrf, body)",
    errors=(403, 404, 422),
)
def ui_add_note(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    body = text(fields.get("body"))
    try:
        note = NoteCreate.model_validate({"body": body})
    except ValidationError:
        return _profile(
            call,
            session,
            candidate_id,
            status=422,
            note_error="Write the note (at most 10,000 characters).",
            note_text=body,
        )
    CandidateService().add_note(candidate_id, note, author=session.principal.actor)
    return see_other(f"/ui/candidates/{candidate_id}?done=note#notes")


@ui_route(
    "/ui/candidates/{candidate_id}/reminders",
    "POST",
    "Recruiter UI: set a reminder (form: csrf, due_at as datetime-local in UTC, note)",
    errors=(403, 404, 422),
)
def ui_add_reminder(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    values = {"due_at": text(fields.get("due_at")), "note": text(fields.get("note"))}
    error = None
    try:
        due = datetime.fromisoformat(values["due_at"])
    except ValueError:
        error = "Choose the date and time the reminder is due."
    else:
        if due.tzinfo is None:
            due = due.replace(tzinfo=UTC)
        try:
            data = ReminderCreate.model_validate(
                {"candidate_id": candidate_id, "due_at": due, "note": values["note"]}
            )
        except ValidationError:
            error = "Write what to be reminded of (at most 2,000 characters)."
    if error is not None:
        return _profile(call, session, candidate_id, status=422, reminder_error=error, reminder_values=values)
    if not session.principal.email:
        return _profile(
            call,
            session,
            candidate_id,
            status=422,
            reminder_error="Your account has no email address to remind you at.",
            reminder_values=values,
        )
    ReminderService().create(data, owner=session.principal.email)
    return see_other(f"/ui/candidates/{candidate_id}?done=reminder#reminders")


@ui_route(
    "/ui/candidates/{candidate_id}/reminders/{reminder_id}",
    "POST",
    "Recruiter UI: complete, snooze or delete your reminder (form: csrf, action=done|snooze|delete, "
    "snooze=1h|1d|1w, back=profile|reminders)",
    errors=(403, 404, 409, 422),
)
def ui_change_reminder(
    call: Call, session: Session, fields: dict[str, Any], candidate_id: str, reminder_id: str
) -> Response:
    action, back = text(fields.get("action")), text(fields.get("back"))
    now = clock.now()
    changes: dict[str, Any] | None = {
        "done": {"done": True},
        "snooze": {"due_at": now + SNOOZES[text(fields.get("snooze"))]}
        if text(fields.get("snooze")) in SNOOZES
        else None,
    }.get(action)
    if action not in ("done", "snooze", "delete") or (action != "delete" and changes is None):
        raise ValidationFailed(
            "Choose Done, Snooze (for an hour, a day or a week) or Delete; nothing was changed."
        )
    service = ReminderService()
    owner = session.principal.email or ""
    is_admin = "admin" in session.principal.roles
    try:
        if action == "delete":
            service.delete(candidate_id, reminder_id, actor=owner, is_admin=is_admin, now=iso(now))
        else:
            service.update(
                candidate_id,
                reminder_id,
                ReminderPatch.model_validate(changes),
                actor=owner,
                is_admin=is_admin,
                now=iso(now),
            )
    except NotFound:
        if action != "delete":
            raise
    notice = {"done": "reminder-done", "snooze": "reminder-snoozed", "delete": "reminder-deleted"}[action]
    if back == "reminders":
        return see_other(f"/ui/reminders?done={notice}")
    return see_other(f"/ui/candidates/{candidate_id}?done={notice}#reminders")


@ui_route(
    "/ui/candidates/{candidate_id}/emails",
    "POST",
    "Recruiter UI: email the candidate (form: csrf, subject, body, conversation_id to answer in a "
    "conversation); kept on the profile",
    errors=(403, 404, 422, 503),
)
def ui_email_candidate(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    values = {
        "subject": text(fields.get("subject")),
        "body": str(fields.get("body") or "").strip(),
        "conversation_id": text(fields.get("conversation_id")),
    }
    errors: dict[str, str] = {}
    try:
        data = EmailCreate.model_validate({**values, "conversation_id": values["conversation_id"] or None})
        EmailService().send(candidate_id, data, sender=session.principal.actor)
    except ValidationError as exc:
        errors = field_errors(exc)
    except ValidationFailed as exc:  # a conversation that is not this candidate's
        errors = {e["field"]: e["message"] for e in exc.errors}
    if errors:
        return _profile(call, session, candidate_id, status=422, email_errors=errors, email_values=values)
    return see_other(f"/ui/candidates/{quote(candidate_id)}?done=emailed#emails")


@ui_route(
    "/ui/candidates/{candidate_id}/pools",
    "POST",
    "Recruiter UI: add the candidate to a pool, or move them in it (form: csrf, pool, stage)",
    errors=(403, 404, 409, 422),
)
def ui_candidate_to_pool(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    CandidateService().get(candidate_id)  # an unknown person is the 404 page
    pool_id = text(fields.get("pool"))
    if not pool_id:
        return _profile(call, session, candidate_id, status=422, pool_error="Choose a pool.")
    pool = PoolService().get(pool_id)  # an unknown pool is the 404 page
    try:
        stage = pipeline.StageChoice.model_validate({"stage": text(fields.get("stage"))}).stage
    except ValidationError as exc:
        message = next(iter(field_errors(exc).values()), "Choose a stage.")
        return _profile(call, session, candidate_id, status=422, pool_error=f"Stage: {message}")
    try:
        PoolService().add_member(pool.id, candidate_id, stage, actor=session.principal.actor)
    except Conflict as exc:
        return _profile(call, session, candidate_id, status=409, pool_error=exc.detail)
    return see_other(f"/ui/candidates/{quote(candidate_id)}?done=pooled#add-to-pool")


@ui_route(
    "/ui/candidates/{candidate_id}/erase",
    "POST",
    "Admin UI: erase the candidate and everything that holds their data (form: csrf, confirm = their email)",
    errors=(403, 404, 422),
)
def ui_erase_candidate(call: Call, session: Session, fields: dict[str, Any], candidate_id: str) -> Response:
    if "admin" not in session.principal.roles:
        raise Forbidden("Only an admin may erase a candidate.")
    candidate = CandidateService().get(candidate_id)
    if text(fields.get("confirm")).lower() != candidate.email.lower():
        error = f"Type {candidate.email} to confirm; nothing was erased."
        return _profile(call, session, candidate_id, status=422, erase_error=error)
    CandidateService().erase(candidate_id, actor=session.principal.actor)
    subject = f"candidate:{candidate_id}"
    audit(call, "candidate.erased", subject=subject, person_id=candidate_id, actor=session.principal.actor)
    return see_other("/ui/candidates?done=erased")
