"""Referrals' rules without a table: the four status words, who may refer, one referral per
referrer, person and job, the report's figures, and what a referrer sees before confirmation."""

from __future__ import annotations

import pytest

from crm.access.service import Principal
from crm.referrals.models import STATUS_WORDS, Referral
from crm.referrals.service import (
    ReferralService,
    days_between,
    referral_id,
    report_of,
    split_status_ref,
    status_of,
    status_ref,
)

STAGES = ["applied", "screen", "interview", "offer", "hired"]


@pytest.mark.parametrize(
    ("stage", "stages", "word"),
    [
        (None, STAGES, "received"),
        ("applied", STAGES, "received"),
        ("screen", STAGES, "in_process"),
        ("interview", STAGES, "in_process"),
        ("offer", STAGES, "in_process"),
        ("hired", STAGES, "hired"),
        ("rejected", STAGES, "not_selected"),
        ("withdrawn", STAGES, "not_selected"),  # the referrer is not told who decided
        ("signed", ["new", "talk", "signed"], "hired"),  # a job's last stage is its hire
        ("new", ["new", "talk", "signed"], "received"),
        ("hired", ["new", "hired", "onboarding"], "hired"),
        ("gone", STAGES, "in_process"),  # a stage the job no longer has: still in process
    ],
)
def test_status_words(stage: str | None, stages: list[str], word: str) -> None:
    assert status_of(stage, stages) == word
    assert STATUS_WORDS[word] in ("Received", "In process", "Hired", "Not selected")


def principal(*roles: str, kind: str = "user", scope: str | None = None) -> Principal:
    return Principal(kind=kind, subject="s", roles=frozenset(roles), scope=scope)  # type: ignore[arg-type]


@pytest.mark.parametrize("roles", [("employee",), ("recruiter",), ("admin",), ("hiring_manager",)])
def test_every_group_may_refer(roles: tuple[str, ...]) -> None:
    assert principal(*roles).allows("refer")


def test_an_employee_may_do_nothing_else_and_a_key_may_not_refer() -> None:
    employee = principal("employee")
    assert employee.referrer_only and not employee.team_only
    for permission in ("read", "write", "admin", "team", "team_write"):
        assert not employee.allows(permission)  # type: ignore[arg-type]
    assert not principal("employee", "recruiter").referrer_only
    assert not principal("employee", "hiring_manager").referrer_only
    assert not principal().allows("refer")  # no group at all
    for scope in ("read", "read-write"):
        assert not principal(kind="api_key", scope=scope).allows("refer")


def test_one_referral_per_referrer_person_and_job() -> None:
    assert referral_id("a", "c1", "j1") == referral_id("a", "c1", "j1")
    ids = {referral_id("a", "c1", "j1"), referral_id("b", "c1", "j1"), referral_id("a", "c1", None)}
    assert len(ids) == 3


def test_a_status_ref_names_its_change() -> None:
    ref = status_ref("cand", "ref1", "2026-01-02T03:04:05.000000+00:00")
    assert split_status_ref(ref) == ("cand", "ref1", "2026-01-02T03:04:05.000000+00:00")
    assert split_status_ref("nonsense") is None


def referral(n: int, **fields: object) -> Referral:
    values: dict[str, object] = {
        "id": f"r{n}",
        "candidate_id": f"c{n}",
        "referrer": "u1",
        "referrer_email": "emma@example.com",
        "first_name": "P",
        "last_name": str(n),
        "email": f"p{n}@example.com",
        "channel": "form",
        "status_at": "2026-01-01T00:00:00+00:00",
        "referred_at": "2026-01-01T00:00:00+00:00",
        **fields,
    }
    return Referral.model_validate(values)


def test_the_report_counts_by_referrer_and_job_and_the_median_time_to_hire() -> None:
    hired = {"status": "hired", "confirmed_at": "2026-01-02T00:00:00+00:00", "job_id": "j1"}
    items = [
        referral(1, **hired, hired_at="2026-01-11T00:00:00+00:00"),  # 10 days
        referral(2, **hired, hired_at="2026-01-21T00:00:00+00:00"),  # 20 days
        referral(3, **hired, hired_at="2026-02-10T00:00:00+00:00"),  # 40 days
        referral(4, job_id="j2", referrer="u2", referrer_email="zed@example.com"),
        referral(5, status="not_selected", confirmed_at="2026-01-03T00:00:00+00:00", job_id="j2"),
        referral(6),
    ]
    report = report_of(items, {"j1": "Data engineer", "j2": "Analyst"}, capped=False)
    assert (report.referrals, report.confirmed, report.hires, report.median_days_to_hire) == (6, 4, 3, 20.0)
    assert report.by_status == {"received": 2, "in_process": 0, "hired": 3, "not_selected": 1}
    assert [(r.referrer_email, r.referrals, r.confirmed, r.hired) for r in report.by_referrer] == [
        ("emma@example.com", 5, 4, 3),
        ("zed@example.com", 1, 0, 0),
    ]
    assert [(j.job_title, j.referrals, j.hired) for j in report.by_job] == [
        ("Data engineer", 3, 3),
        ("Analyst", 2, 0),
        (None, 1, 0),
    ]
    empty = report_of([], {}, capped=False)
    assert (empty.referrals, empty.median_days_to_hire, empty.by_referrer) == (0, None, [])


def test_days_between() -> None:
    assert days_between("2026-01-01T00:00:00+00:00", "2026-01-01T12:00:00+00:00") == 0.5
    assert days_between("nonsense", "2026-01-01T00:00:00+00:00") is None


def test_a_referrer_sees_received_until_the_person_confirms() -> None:
    assert ReferralService.shown_status(referral(1, status="in_process")) == "received"
    assert ReferralService.shown_status(referral(1, status="in_process", confirmed_at="x")) == "in_process"
