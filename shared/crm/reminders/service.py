"""Reminders: set, list, snooze, complete, delete, and what falls due.

A reminder is its owner's: they (or an admin) may change or delete it; anyone else is refused.
"""

from __future__ import annotations

from crm.platform.errors import Forbidden, NotFound
from crm.reminders.models import Reminder, ReminderCreate, ReminderPatch
from crm.reminders.repository import ReminderRepository


class ReminderService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: ReminderRepository | None = None) -> None:
        self.repository = repository or ReminderRepository()

    def create(self, data: ReminderCreate, *, owner: str) -> Reminder:
        return self.repository.create(data, owner=owner)

    def dequeue(self, candidate_id: str, reminder_id: str, *, due_at: str | None = None) -> None:
        return self.repository.dequeue(candidate_id, reminder_id, due_at=due_at)

    def get(self, candidate_id: str, reminder_id: str, *, now: str) -> Reminder | None:
        return self.repository.get(candidate_id, reminder_id, now=now)

    def get_many(self, pairs: list[tuple[str, str]], *, now: str) -> dict[tuple[str, str], Reminder]:
        return self.repository.get_many(pairs, now=now)

    def list_page(
        self, *, owner: str, due_only: bool, now: str, limit: int, cursor: str | None
    ) -> tuple[list[Reminder], str | None]:
        return self.repository.list_page(owner=owner, due_only=due_only, now=now, limit=limit, cursor=cursor)

    def mark_notified(self, candidate_id: str, reminder_id: str, *, now: str) -> None:
        return self.repository.mark_notified(candidate_id, reminder_id, now=now)

    def of_candidate(self, candidate_id: str, *, now: str) -> list[Reminder]:
        return self.repository.of_candidate(candidate_id, now=now)

    def upcoming_page(
        self, *, owner: str, now: str, limit: int, cursor: str | None
    ) -> tuple[list[Reminder], str | None]:
        return self.repository.upcoming_page(owner=owner, now=now, limit=limit, cursor=cursor)

    def _own(self, candidate_id: str, reminder_id: str, *, actor: str, is_admin: bool, now: str) -> Reminder:
        reminder = self.repository.get(candidate_id, reminder_id, now=now)
        if reminder is None:
            raise NotFound("No such reminder on this candidate.")
        if reminder.owner != actor and not is_admin:
            raise Forbidden("This reminder is someone else's; only they (or an admin) may change it.")
        return reminder

    def update(
        self,
        candidate_id: str,
        reminder_id: str,
        patch: ReminderPatch,
        *,
        actor: str,
        is_admin: bool,
        now: str,
    ) -> Reminder:
        """Snooze, reword or complete one reminder (``actor``: the signed-in user's email)."""
        current = self._own(candidate_id, reminder_id, actor=actor, is_admin=is_admin, now=now)
        return self.repository.update(current, patch, now=now)

    def delete(self, candidate_id: str, reminder_id: str, *, actor: str, is_admin: bool, now: str) -> None:
        self._own(candidate_id, reminder_id, actor=actor, is_admin=is_admin, now=now)
        self.repository.delete(candidate_id, reminder_id)
