"""The portal's email: the one-hour link to one's own data, sent only to the address on file.
Transactional (no consent needed; the suppression list still applies). The message of an address
nobody has names ``NOBODY``: no email, and the same work as for a known one."""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.mailing.links import signed_portal_url
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.portal.service import NOBODY
from crm.templates import builtin as builtin_templates


class PortalLinkPlan(Plan):
    topic = None

    def __init__(self, request_id: str, *, candidates: CandidateService | None = None) -> None:
        self.scope = f"portal#{request_id}"
        self.candidates = candidates or CandidateService()

    def targets(self, recipients: list[str]) -> Verdicts:
        known = [r for r in recipients if r != NOBODY]
        verdicts = person_targets(known, self.candidates.get_many(known)) if known else {}
        for candidate_id, verdict in verdicts.items():
            if isinstance(verdict, Target):
                verdict.context["portal_url"] = signed_portal_url(candidate_id)
        return {r: verdicts.get(r, Skip("unknown")) for r in recipients}

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.PORTAL_LINK, target.context)
