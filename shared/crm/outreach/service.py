"""One-to-one email: a recruiter writes to one candidate from their profile (or an integration
through the API). The email is kept under the person (erased with them) with a timeline entry,
in one transaction, then queued for the mail engine, which sends it once (the delivery ledger)
as transactional mail: no marketing consent is needed, the suppression list still applies
(an address that bounced or complained is not mailed). Its state on the profile is the ledger's:
queued until the engine has it, then sent (or not sent, and why), then what SES reported.

Emails form conversations: the first email's id names one, an answer in the thread carries it
(``conversation_id``), and every email of it carries the same reply address (``replies.py``), so
the candidate's replies come back to the conversation (``crm.inbound``)."""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.mailing.deliveries import Deliveries
from crm.mailing.messages import MailJob
from crm.outreach.models import Email, EmailCreate
from crm.outreach.repository import EmailRepository
from crm.platform.config import get_settings
from crm.platform.errors import ServiceUnavailable, ValidationFailed
from crm.platform.ids import new_id, utcnow
from crm.platform.queues import send_message

#: The delivery ledger's scope of one email.
SCOPE_PREFIX = "outreach#"
#: The SES events that say most about an email, strongest first.
EVENT_ORDER = ("complained", "bounced", "clicked", "opened", "delivered")


def scope_of(email_id: str) -> str:
    return f"{SCOPE_PREFIX}{email_id}"


class EmailService:
    def __init__(
        self,
        repository: EmailRepository | None = None,
        *,
        candidates: CandidateService | None = None,
        deliveries: Deliveries | None = None,
    ) -> None:
        self.repository = repository or EmailRepository()
        self.candidates = candidates or CandidateService()
        self.deliveries = deliveries or Deliveries()

    def send(self, candidate_id: str, data: EmailCreate, *, sender: str) -> Email:
        """Keep the email with a timeline entry, then queue it; ``NotFound`` for nobody. When the
        queue cannot take it, the email is taken back (nothing half-done) and it is a 503. An
        answer in a conversation (``conversation_id``) needs that conversation (422 otherwise)."""
        conversation_id = None
        if data.conversation_id is not None:
            first = self.repository.get(candidate_id, data.conversation_id)
            if first is None:
                raise ValidationFailed(
                    "There is no such conversation with this candidate.",
                    errors=[{"field": "conversation_id", "message": "no such conversation"}],
                )
            conversation_id = first.conversation_id or first.id
        email = Email(
            id=new_id(),
            conversation_id=conversation_id,
            candidate_id=candidate_id,
            subject=data.subject,
            body=data.body,
            sender=sender,
            created_at=utcnow(),
        )
        self.candidates.record_activity(
            candidate_id,
            "emailed",
            actor=sender,
            at=email.created_at,
            detail={"email_id": email.id, "subject": email.subject}
            | ({"conversation_id": conversation_id} if conversation_id else {}),
            along_with=[self.repository.put_operation(email)],
        )
        job = MailJob(kind="outreach", ref=f"{candidate_id}/{email.id}", recipients=[candidate_id])
        try:
            send_message(get_settings().mail_queue_url, job.model_dump_json(exclude_none=True))
        except Exception as exc:
            self.repository.delete(candidate_id, email.id)
            raise ServiceUnavailable("The email could not be queued; nothing was sent. Try again.") from exc
        return email

    def get(self, candidate_id: str, email_id: str) -> Email | None:
        return self.repository.get(candidate_id, email_id)

    def conversation_by_prefix(self, candidate_id: str, prefix: str) -> Email | None:
        """The first email of the candidate's conversation whose id starts with ``prefix`` (a reply
        address carries only the start of it); None when there is none or the prefix is ambiguous."""
        if len(prefix) < 8:
            return None
        found = [
            e
            for e in self.repository.with_prefix(candidate_id, prefix)
            if (e.conversation_id or e.id) == e.id
        ]
        return found[0] if len(found) == 1 else None

    def of_candidate(self, candidate_id: str) -> list[Email]:
        """Every email written to the person, newest first, each with its state."""
        emails = self.repository.of_candidate(candidate_id)
        out = []
        for email in emails:
            found = self.deliveries.read(scope_of(email.id), [candidate_id]).get(candidate_id)
            if found is None:
                out.append(email)
                continue
            if found.state != "sent":
                out.append(email.model_copy(update={"state": "not_sent", "reason": found.reason}))
                continue
            state = next((e for e in EVENT_ORDER if e in found.events), "sent")
            out.append(email.model_copy(update={"state": state}))
        return out
