"""A one-to-one email's plan: the text the recruiter wrote, to the person it was written to.
Transactional (``topic`` None): no consent needed; the suppression list still applies. The
message's ``ref`` is ``<candidate id>/<email id>``; one whose email or person is gone sends nothing.
With an inbound domain configured, it carries its conversation's reply address as Reply-To."""

from __future__ import annotations

from html import escape

from crm.candidates.service import CandidateService
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail
from crm.outreach.replies import reply_address
from crm.outreach.repository import EmailRepository
from crm.outreach.service import scope_of


def html_of(text: str) -> str:
    """Plain text as HTML: escaped, paragraphs at blank lines, line breaks kept."""
    paragraphs = [p.strip("\n") for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)


class OutreachPlan(Plan):
    topic = None

    def __init__(
        self, ref: str, *, candidates: CandidateService | None = None, emails: EmailRepository | None = None
    ) -> None:
        self.candidate_id, _, self.email_id = ref.partition("/")
        self.scope = scope_of(self.email_id)
        self.candidates = candidates or CandidateService()
        self.emails = emails or EmailRepository()

    def targets(self, recipients: list[str]) -> Verdicts:
        email = self.emails.get(self.candidate_id, self.email_id)
        wanted = [r for r in recipients if r == self.candidate_id]
        verdicts = person_targets(wanted, self.candidates.get_many(wanted)) if email and wanted else {}
        for verdict in verdicts.values():
            if isinstance(verdict, Target) and email is not None:
                verdict.context.update(
                    subject=email.subject,
                    body=email.body,
                    reply_to=reply_address(self.candidate_id, email.conversation_id or email.id),
                )
        return {r: verdicts.get(r, Skip("removed")) for r in recipients}

    def render(self, target: Target) -> RenderedEmail:
        body = str(target.context["body"])
        reply_to = target.context.get("reply_to")
        return RenderedEmail(
            subject=" ".join(str(target.context["subject"]).split()),
            html=html_of(body),
            text=body,
            reply_to=str(reply_to) if reply_to else None,
        )
