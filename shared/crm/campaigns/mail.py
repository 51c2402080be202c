"""A campaign's email: its template to each recipient who consented to marketing mail; each mail
message's final states go to the campaign's tally (``CampaignService.record_message``)."""

from __future__ import annotations

from crm.campaigns.service import CampaignService, scope
from crm.candidates.service import CandidateService
from crm.mailing.plans import Plan, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render
from crm.templates.service import TemplateService


class CampaignPlan(Plan):
    topic = "marketing"

    def __init__(
        self,
        campaign_id: str,
        *,
        campaigns: CampaignService | None = None,
        templates: TemplateService | None = None,
        candidates: CandidateService | None = None,
    ) -> None:
        self.campaign_id = campaign_id
        self.scope = scope(campaign_id)
        self.campaigns = campaigns or CampaignService()
        self.candidates = candidates or CandidateService()
        template = (templates or TemplateService()).get(self.campaigns.template_id(campaign_id))
        self.parts = {"subject": template.subject, "html": template.html, "text": template.text}

    def targets(self, recipients: list[str]) -> Verdicts:
        return person_targets(recipients, self.candidates.get_many(recipients))

    def render(self, target: Target) -> RenderedEmail:
        return render(self.parts, target.context)

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:
        self.campaigns.record_message(self.campaign_id, recipients, states)
