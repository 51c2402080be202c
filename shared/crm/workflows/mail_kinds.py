"""Which plan each kind of mail-queue message follows: the only place that knows every kind of
mail. The mail engine (``crm.mailing.sender``) is given ``plan_for`` and knows none of them; each
plan lives in the slice whose mail it is."""

from __future__ import annotations

from collections.abc import Callable

from crm.alerts.mail import AlertConfirmationPlan, JobAlertPlan
from crm.campaigns.mail import CampaignPlan
from crm.events.mail import EventPlan
from crm.hiring.mail import StageUpdatePlan
from crm.inbound.mail import ReplyNoticePlan
from crm.interviews.mail import InterviewPlan
from crm.mailing.messages import MailJob
from crm.mailing.plans import Plan
from crm.outreach.mail import OutreachPlan
from crm.portal.mail import PortalLinkPlan
from crm.referrals.mail import ReferralInvitePlan, ReferralStatusPlan
from crm.reminders.mail import ReminderPlan
from crm.sequences.mail import SequencePlan
from crm.webhooks.mail import WebhookDisabledPlan

#: Each kind of mail and the plan it follows (a reminder is the kind left over: ``reminder``).
PLANS: dict[str, Callable[[MailJob], Plan]] = {
    "campaign": lambda job: CampaignPlan(job.ref),
    "sequence": lambda job: SequencePlan(job.ref, job.step or 0),
    "job_alert": lambda job: JobAlertPlan(job.ref),
    "alert_confirm": lambda job: AlertConfirmationPlan(job.ref),
    "portal_link": lambda job: PortalLinkPlan(job.ref),
    "outreach": lambda job: OutreachPlan(job.ref),
    "reply_notice": lambda job: ReplyNoticePlan(job.ref),
    "stage_update": lambda job: StageUpdatePlan(job.ref),
    "referral_invite": lambda job: ReferralInvitePlan(job.ref),
    "referral_status": lambda job: ReferralStatusPlan(job.ref),
    "interview": lambda job: InterviewPlan(job.ref, team=False),
    "interview_team": lambda job: InterviewPlan(job.ref, team=True),
    "event": lambda job: EventPlan(job.ref),
    # webhooks: an endpoint disabled (410, or failing for five days) mails its owner
    "webhook_disabled": lambda job: WebhookDisabledPlan(job.ref),
}


def plan_for(job: MailJob) -> Plan:
    make = PLANS.get(job.kind)
    return make(job) if make is not None else ReminderPlan()
