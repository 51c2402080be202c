"""A reminder's email goes to the recruiter who set it. Recipients are
``<candidate id>/<reminder id>/<due at>``: one delivery per time it falls due, so a snoozed
reminder emails again at its new time (older jobs without the time still read). Once sent, the
reminder is marked notified; a job for a time the reminder no longer has (snoozed meanwhile)
or for a done one sends nothing."""

from __future__ import annotations

from crm.candidates.service import CandidateService
from crm.mailing.plans import Plan, Skip, Target, Verdicts
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform import clock
from crm.platform.config import get_settings
from crm.platform.ids import iso
from crm.reminders.service import ReminderService
from crm.templates import builtin as builtin_templates


class ReminderPlan(Plan):
    to_people = False  # recruiters, by address: no candidate's history
    topic = None
    scope = "reminder"

    def __init__(
        self, *, reminders: ReminderService | None = None, candidates: CandidateService | None = None
    ) -> None:
        self.reminders = reminders or ReminderService()
        self.candidates = candidates or CandidateService()

    def targets(self, recipients: list[str]) -> Verdicts:
        base = get_settings().public_base_url.rstrip("/")
        now = iso(clock.now())
        pairs = {r: tuple(r.split("/", 2)) for r in recipients}
        wanted = [(p[0], p[1]) for p in pairs.values() if len(p) in (2, 3)]
        people = self.candidates.get_many(sorted({candidate_id for candidate_id, _ in wanted}))
        reminders = self.reminders.get_many(wanted, now=now)
        verdicts: Verdicts = {}
        for recipient, pair in pairs.items():
            if len(pair) not in (2, 3):
                verdicts[recipient] = Skip("malformed")
                continue
            candidate_id, reminder_id = pair[0], pair[1]
            queued_for = pair[2] if len(pair) == 3 else None
            reminder = reminders.get((candidate_id, reminder_id))
            person = people.get(candidate_id)
            if reminder is None or person is None:
                verdicts[recipient] = Skip("removed")
                continue
            if reminder.state == "done":  # completed after its email was queued
                verdicts[recipient] = Skip("done")
                continue
            if (queued_for or reminder.due_at) != reminder.due_at or reminder.due_at > now:
                # snoozed after this email was queued: its new time queues its own
                verdicts[recipient] = Skip("snoozed")
                continue
            verdicts[recipient] = Target(
                email=reminder.owner,
                name="",
                context={
                    "candidate_name": f"{person.first_name or ''} {person.last_name or ''}".strip(),
                    "candidate_url": f"{base}/ui/candidates/{candidate_id}",
                    "note": reminder.note,
                    "due_at": reminder.due_at,
                },
            )
        return verdicts

    def render(self, target: Target) -> RenderedEmail:
        return render_builtin(builtin_templates.REMINDER, target.context)

    def finished(self, recipients: list[str], states: dict[str, str]) -> None:
        now = iso(clock.now())
        for recipient, state in states.items():
            if state == "sent":
                candidate_id, reminder_id = recipient.split("/")[:2]
                self.reminders.mark_notified(candidate_id, reminder_id, now=now)
