"""Referrals: what a referrer sends, a referral as recruiters see it, what a referrer sees of their
own, and the report. Every input is validated by one of these before it reaches a repository;
every record the API returns is one of these.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from crm.platform.fields import Email, Id, Name, visible_text
from crm.platform.models import Input, Model

#: A referral's status in plain words, as its referrer sees it.
ReferralStatus = Literal["received", "in_process", "hired", "not_selected"]
STATUS_WORDS: dict[str, str] = {
    "received": "Received",
    "in_process": "In process",
    "hired": "Hired",
    "not_selected": "Not selected",
}
#: How a referral came in: the referral form, or an application through a personal referral link.
Channel = Literal["form", "link"]
MAX_WHY = 2000


class ReferralCreate(Input):
    """Refer someone: their name and email, the job (optional), why, and a resume (multipart only,
    in the part ``resume``: PDF, DOC or DOCX, at most 5 MB)."""

    email: Email
    first_name: Name
    last_name: Name
    job_id: Id | None = Field(default=None, description="an open job (GET /v1/jobs); none: any fitting job")
    why: visible_text(MAX_WHY) = Field(  # type: ignore[valid-type]
        description="why you recommend them (recruiters read it; it is never sent to them)"
    )


class Referral(Model):
    """A referral as recruiters see it."""

    id: str
    candidate_id: str
    job_id: str | None = Field(default=None, description="the job whose application it follows")
    referrer: str = Field(description="the referrer's user id (Cognito sub)")
    referrer_email: str
    first_name: str
    last_name: str
    email: str
    why: str = ""
    channel: Channel
    known: bool = Field(default=False, description="the email named someone already on file")
    status: ReferralStatus = "received"
    status_at: str
    referred_at: str
    confirmed_at: str | None = Field(
        default=None, description="when the referred person confirmed their interest (a link: at once)"
    )
    hired_at: str | None = None


class MyReferral(Model):
    """A referral as its referrer sees it: who, for which job, and its status in plain words
    (nothing from feedback or notes)."""

    id: str
    first_name: str
    last_name: str
    job_id: str | None = None
    job_title: str | None = None
    channel: Channel
    status: ReferralStatus
    status_label: str
    referred_at: str
    status_at: str


class MyReferrals(Model):
    """A referrer's page: their personal referral link and their referrals, newest first."""

    code: str
    link: str
    items: list[MyReferral]
    next_cursor: str | None = None


class ReferralFilter(Model):
    """The filters of ``GET /v1/referrals`` (each combines with the others)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    limit: int = Field(default=25, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=2048)
    referrer: Email | None = Field(default=None, description="the referrer's sign-in address")
    job_id: Id | None = None
    status: ReferralStatus | None = None
    channel: Channel | None = None


class ReferrerRow(Model):
    referrer_email: str
    referrals: int
    confirmed: int
    hired: int


class JobRow(Model):
    job_id: str | None = Field(description="None: referrals to no job in particular")
    job_title: str | None = None
    referrals: int
    hired: int


class ReferralReport(Model):
    """Recruiters' report: totals, by referrer and by job (most referrals first), and the median
    time from referral to hire over the hires."""

    referrals: int
    confirmed: int
    by_status: dict[str, int]
    hires: int
    median_days_to_hire: float | None = Field(description="None: no hire yet")
    by_referrer: list[ReferrerRow]
    by_job: list[JobRow]
    capped: bool = Field(default=False, description="only the newest referrals were counted")
