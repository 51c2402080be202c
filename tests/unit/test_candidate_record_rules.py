"""The pure rules of where a person came from (first and last touch), which of their resumes is
current (and how one kept before resumes were listed shows), and when a logged call happened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crm.candidates.models import Application, CandidateCreate, PublicSubmission, StoredResume
from crm.candidates.service import (
    interaction_time,
    listed_resumes,
    merge_plan,
    new_candidate,
    new_person,
    resume_file_name,
    touch_of,
)
from crm.platform.errors import ValidationFailed

NOW = "2026-12-02T09:00:00.000000Z"
LATER = "2026-12-03T09:00:00.000000Z"


def _form(**fields: Any) -> PublicSubmission:
    return PublicSubmission.model_validate(
        {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace", **fields}
    )


def test_the_first_form_is_both_the_first_and_the_last_touch() -> None:
    form = _form(utm_source="linkedin", utm_medium="social", utm_campaign="spring", referral_code="R1")
    person = new_person(form, candidate_id="c1", source="talent-network", now=NOW)
    assert person.first_touch == person.last_touch
    touch = person.first_touch
    assert touch is not None
    assert (touch.source, touch.form, touch.job_id, touch.at) == ("talent-network", "signup", None, NOW)
    assert (touch.utm_source, touch.utm_medium, touch.utm_campaign, touch.referral_code) == (
        "linkedin",
        "social",
        "spring",
        "R1",
    )


def test_a_later_form_is_only_the_last_touch() -> None:
    plan = merge_plan(_form(utm_source="newsletter"), source="job-application", now=LATER, job_id="j1")
    assert plan.touch is not None
    assert (plan.touch.form, plan.touch.job_id, plan.touch.utm_source, plan.touch.utm_campaign) == (
        "application",
        "j1",
        "newsletter",
        None,
    )
    assert plan.touch.at == LATER
    assert not hasattr(plan, "first_touch")  # a merge never names a first touch


def test_blank_campaign_fields_are_no_campaign() -> None:
    touch = touch_of(_form(utm_source="  ", referral_code=""), source="job-alerts", now=NOW)
    assert (touch.form, touch.utm_source, touch.referral_code) == ("alert", None, None)


@pytest.mark.parametrize(
    ("source", "form", "expected"), [("api", None, "api"), ("recruiter", "ui", "ui"), ("fair", None, "other")]
)
def test_a_creation_is_the_first_touch_of_its_channel(source: str, form: Any, expected: str) -> None:
    data = CandidateCreate.model_validate(
        {"email": "a@example.com", "first_name": "A", "last_name": "B", "source": source, "utm_source": "x"}
    )
    person = new_candidate(data, candidate_id="c1", now=NOW, form=form)
    assert person.first_touch is not None and person.first_touch == person.last_touch
    assert (person.first_touch.form, person.first_touch.source, person.first_touch.utm_source) == (
        expected,
        source,
        "x",
    )


def _stored(resume_id: str, at: str, **fields: Any) -> StoredResume:
    return StoredResume.model_validate(
        {
            "id": resume_id,
            "candidate_id": "c1",
            "resume_key": f"resumes/c1/{resume_id}.pdf",
            "file_name": f"{resume_id}.pdf",
            "content_type": "application/pdf",
            "size": 10,
            "source": "signup",
            "uploaded_at": at,
            **fields,
        }
    )


def test_the_newest_resume_is_current_and_old_application_resumes_are_listed_once() -> None:
    signup = _stored("r1", NOW)
    upload = _stored("r2", LATER, source="recruiter")
    listed_app = _stored("r3", "2026-12-02T10:00:00.000000Z", source="application", job_id="j1")
    old = Application(
        candidate_id="c1",
        job_id="j0",
        source="job-application",
        applied_at="2026-01-01T00:00:00.000000Z",
        resume_key="resumes/c1/old.docx",
    )
    known = Application(
        candidate_id="c1",
        job_id="j1",
        source="job-application",
        applied_at=listed_app.uploaded_at,
        resume_key=listed_app.resume_key,
    )
    listed = listed_resumes([signup, upload, listed_app], [old, known])
    assert [(r.id, r.current) for r in listed] == [
        ("r2", True),
        ("r3", False),
        ("r1", False),
        ("app-j0", False),
    ]
    legacy = listed[-1]
    assert (legacy.source, legacy.job_id, legacy.file_name, legacy.size) == (
        "application",
        "j0",
        "resume.docx",
        None,
    )
    assert "resume_key" not in listed[0].model_dump()
    assert listed_resumes([], []) == []


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("C:\\Users\\ada\\My CV.pdf", "My CV.pdf"),
        ("../../etc/passwd", "passwd"),
        ("cv\x00\n.pdf", "cv.pdf"),
        ("", "resume.pdf"),
        ("/", "resume.pdf"),
        ("a" * 300, "a" * 200),
    ],
)
def test_a_resume_is_listed_under_its_own_name_without_folders(given: str, expected: str) -> None:
    assert resume_file_name(given, "pdf") == expected


def test_a_call_happens_now_by_default_and_never_in_the_future() -> None:
    now = "2026-12-02T09:00:00.000000Z"
    assert interaction_time(None, now) == now
    earlier = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    assert interaction_time(earlier, now) == "2026-12-01T08:30:00.000000Z"
    assert interaction_time(datetime(2026, 12, 2, 9, 1, tzinfo=UTC), now)  # clocks differ a little
    with pytest.raises(ValidationFailed) as failed:
        interaction_time(datetime(2026, 12, 2, 9, 0, tzinfo=UTC) + timedelta(minutes=5), now)
    assert failed.value.errors == [{"field": "happened_at", "message": "must not be in the future"}]
