"""Referrals' email, two plans:

* ``ReferralInvitePlan`` (kind ``referral_invite``, ref ``<candidate>/<referral>``): the one email a
  referred person gets, saying who referred them (the referrer's address; never the referrer's
  "why", which is for recruiters), with the signed link to confirm their interest. Transactional
  (``topic`` None: it needs no consent, which the person has not given), and the suppression list
  still applies; scope ``referral-invite#<referral>``, so it is sent once, and not at all once the
  referral is confirmed.
* ``ReferralStatusPlan`` (kind ``referral_status``, ref ``<candidate>/<referral>@<changed at>``): the
  referrer's email when their referral's status changes, in plain words. The scope names the
  change, so a replayed stream record sends nothing more; a change overtaken by a newer one before
  its email went out sends nothing (the newer one has its own).
"""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform.config import get_settings
from crm.referrals.models import STATUS_WORDS
from crm.referrals.service import ReferralService, split_status_ref

INVITE = {
    "subject": "{{ referrer_email }} recommended you{% if job_title %} for {{ job_title }}{% endif %}",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>{{ referrer_email }} recommended you to our recruiters"
        "{% if job_title %} for the job <strong>{{ job_title }}</strong>{% endif %}.</p>"
        "<p>If you are interested, confirm it and we will consider you"
        "{% if job_title %} for this job{% endif %}:</p>"
        '<p><a href="{{ confirm_url }}">Yes, I am interested</a></p>'
        "<p>If you are not, ignore this email: we will not contact you about this referral again. "
        "{{ referrer_email }} sees only that the referral was received.</p>"
        "<p>To see or erase the details we hold about you: "
        '<a href="{{ portal_url }}">{{ portal_url }}</a></p>'
    ),
    "text": (
        "Hello {{ first_name }},\n\n{{ referrer_email }} recommended you to our recruiters"
        "{% if job_title %} for the job {{ job_title }}{% endif %}.\n\n"
        "If you are interested, confirm it and we will consider you"
        "{% if job_title %} for this job{% endif %}:\n"
        "{{ confirm_url }}\n\n"
        "If you are not, ignore this email: we will not contact you about this referral again. "
        "{{ referrer_email }} sees only that the referral was received.\n\n"
        "To see or erase the details we hold about you: {{ portal_url }}\n"
    ),
}

STATUS = {
    "subject": "Your referral of {{ name }}: {{ status }}",
    "html": (
        "<p>Your referral of <strong>{{ name }}</strong>{% if job_title %} for {{ job_title }}{% endif %} "
        "is now: <strong>{{ status }}</strong>.</p>"
        '<p><a href="{{ mine_url }}">Your referrals</a></p>'
        "<p>Thank you for recommending people to us.</p>"
    ),
    "text": (
        "Your referral of {{ name }}{% if job_title %} for {{ job_title }}{% endif %} "
        "is now: {{ status }}.\n\n"
        "Your referrals: {{ mine_url }}\n\nThank you for recommending people to us.\n"
    ),
}


class ReferralInvitePlan(Plan):
    topic = None

    def __init__(
        self,
        ref: str,
        *,
        referrals: ReferralService | None = None,
        candidates: CandidateService | None = None,
    ) -> None:
        self.candidate_id, _, self.referral_id = ref.partition("/")
        self.scope = f"referral-invite#{self.referral_id}"
        self.referrals = referrals or ReferralService()
        self.candidates = candidates or CandidateService()

    def targets(self, recipients: list[str]) -> Verdicts:
        wanted = [r for r in recipients if r == self.candidate_id]
        verdicts = person_targets(wanted, self.candidates.get_many(wanted))
        referral = self.referrals.get(self.candidate_id, self.referral_id) if wanted else None
        out: Verdicts = {}
        for recipient in recipients:
            verdict = verdicts.get(recipient, Skip("removed"))
            if isinstance(verdict, Target):
                if referral is None:
                    verdict = Skip("removed")
                elif referral.confirmed_at is not None:
                    verdict = Skip("confirmed")
                else:
                    verdict.context.update(
                        referrer_email=referral.referrer_email,
                        job_title=self.referrals.titles([referral]).get(referral.job_id or ""),
                        confirm_url=self.referrals.confirm_url(referral.candidate_id, referral.id),
                    )
            out[recipient] = verdict
        return out

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(INVITE, target.context)


class ReferralStatusPlan(Plan):
    to_people = False  # the referrer, by address: no candidate's email history
    topic = None

    def __init__(self, ref: str, *, referrals: ReferralService | None = None) -> None:
        self.ref = ref
        self.scope = f"referral-status#{ref}"
        self.referrals = referrals or ReferralService()

    def targets(self, recipients: list[str]) -> Verdicts:
        parts = split_status_ref(self.ref)
        referral = self.referrals.get(parts[0], parts[1]) if parts else None
        verdicts: Verdicts = {}
        for recipient in recipients:
            if parts is None or referral is None:
                verdicts[recipient] = Skip("removed")
            elif referral.status_at != parts[2] or referral.confirmed_at is None:
                verdicts[recipient] = Skip("moved_on")
            elif recipient != referral.referrer_email:
                verdicts[recipient] = Skip("not_the_referrer")
            else:
                base = get_settings().public_base_url.rstrip("/")
                verdicts[recipient] = Target(
                    email=referral.referrer_email,
                    name="",
                    context={
                        "name": f"{referral.first_name} {referral.last_name}".strip(),
                        "job_title": self.referrals.titles([referral]).get(referral.job_id or ""),
                        "status": STATUS_WORDS[referral.status],
                        "mine_url": f"{base}/ui/referrals/mine",
                    },
                )
        return verdicts

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(STATUS, target.context)
