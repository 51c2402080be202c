"""Which plan each kind of mail-queue message follows: the only place that knows every kind of
mail. The mail engine (``crm.mailing.sender``) is given ``plan_for`` and knows none of them; each
plan lives in the slice whose mail it is."""

from __future__ import annotations

from crm.alerts.mail import AlertConfirmationPlan, JobAlertPlan
from crm.campaigns.mail import CampaignPlan
from crm.events.mail import EventPlan
from crm.hiring.mail import StageUpdatePlan
from crm.inbound.mail import ReplyNoticePlan
from crm.mailing.messages import MailJob
from crm.mailing.plans import Plan
from crm.outreach.mail import OutreachPlan
from crm.portal.mail import PortalLinkPlan
from crm.reminders.mail import ReminderPlan
from crm.sequences.mail import SequencePlan


def plan_for(job: MailJob) -> Plan:
    if job.kind == "campaign":
        return CampaignPlan(job.ref)
    if job.kind == "sequence":
        return SequencePlan(job.ref, job.step or 0)
    if job.kind == "job_alert":
        return JobAlertPlan(job.ref)
    if job.kind == "alert_confirm":
        return AlertConfirmationPlan(job.ref)
    if job.kind == "portal_link":
        return PortalLinkPlan(job.ref)
    if job.kind == "outreach":
        return OutreachPlan(job.ref)
    if job.kind == "reply_notice":
        return ReplyNoticePlan(job.ref)
    if job.kind == "stage_update":
        return StageUpdatePlan(job.ref)
    if job.kind == "event":
        return EventPlan(job.ref)
    return ReminderPlan()
