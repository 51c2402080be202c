"""A reply's notice: the recruiter who wrote the conversation's latest email hears that the
candidate answered. The message's ``ref`` is ``<candidate id>/<reply id>`` and its recipient the
candidate's id (the delivery ledger's one email per reply); the email goes to the recruiter's
sign-in address. A reply, person or recruiter that is gone (or an email an integration wrote:
no recruiter) sends nothing."""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.inbound.repository import ReplyRepository
from crm.inbound.service import notice_scope
from crm.mailing.plans import Plan, Skip, Target, Verdicts
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.outreach.service import EmailService
from crm.platform.config import get_settings
from crm.users.service import UserService

EXCERPT = 2_000

REPLY_NOTICE = {
    "subject": "{{ candidate_name }} replied: {{ subject }}",
    "html": (
        '<p><a href="{{ candidate_url }}">{{ candidate_name }}</a> replied to your email '
        "“{{ subject }}”:</p><blockquote>{{ excerpt }}</blockquote>"
        "{% if attachments %}<p>With {{ attachments }} attachment"
        "{{ '' if attachments == 1 else 's' }}.</p>{% endif %}"
        '<p><a href="{{ candidate_url }}#emails">Read and answer on the profile</a></p>'
    ),
    "text": (
        "{{ candidate_name }} replied to your email “{{ subject }}”:\n\n{{ excerpt }}\n\n"
        "{% if attachments %}With {{ attachments }} attachment"
        "{{ '' if attachments == 1 else 's' }}.\n\n{% endif %}"
        "Read and answer on the profile: {{ candidate_url }}#emails\n"
    ),
}


class ReplyNoticePlan(Plan):
    to_people = False  # recruiters, by address: no candidate's history
    topic = None

    def __init__(
        self,
        ref: str,
        *,
        replies: ReplyRepository | None = None,
        candidates: CandidateService | None = None,
        emails: EmailService | None = None,
        users: UserService | None = None,
    ) -> None:
        self.candidate_id, _, self.reply_id = ref.partition("/")
        self.scope = notice_scope(self.reply_id)
        self.replies = replies or ReplyRepository()
        self.candidates = candidates or CandidateService()
        self.emails = emails or EmailService(candidates=self.candidates)
        self.users = users or UserService()

    def _recruiter(self, conversation_id: str) -> str | None:
        """The sign-in address of whoever wrote the conversation's latest email (a user)."""
        written = [
            e
            for e in self.emails.of_candidate(self.candidate_id)
            if (e.conversation_id or e.id) == conversation_id
        ]
        for email in written:  # newest first
            kind, _, sub = email.sender.partition(":")
            if kind == "user":
                return self.users.emails_of([sub]).get(sub)
        return None

    def targets(self, recipients: list[str]) -> Verdicts:
        verdicts: Verdicts = {r: Skip("removed") for r in recipients}
        if self.candidate_id not in recipients:
            return verdicts
        reply = self.replies.get(self.candidate_id, self.reply_id)
        person = self.candidates.get_many([self.candidate_id]).get(self.candidate_id)
        if reply is None or person is None:
            return verdicts
        recruiter = self._recruiter(reply.conversation_id)
        if recruiter is None:
            verdicts[self.candidate_id] = Skip("no_recruiter")
            return verdicts
        base = get_settings().public_base_url.rstrip("/")
        text = reply.text if len(reply.text) <= EXCERPT else reply.text[:EXCERPT] + "…"
        verdicts[self.candidate_id] = Target(
            email=recruiter,
            name="",
            context={
                "candidate_name": f"{person.first_name or ''} {person.last_name or ''}".strip()
                or "A candidate",
                "candidate_url": f"{base}/ui/candidates/{self.candidate_id}",
                "subject": reply.subject,
                "excerpt": text,
                "attachments": len(reply.attachments),
            },
        )
        return verdicts

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(REPLY_NOTICE, target.context)
