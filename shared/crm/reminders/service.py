"""Reminders: set, list, and what falls due."""

from __future__ import annotations

from crm.reminders.models import Reminder, ReminderCreate
from crm.reminders.repository import ReminderRepository


class ReminderService:
    """What other slices (and the web layer) use of this slice; the repository stays private to it."""

    def __init__(self, repository: ReminderRepository | None = None) -> None:
        self.repository = repository or ReminderRepository()

    def create(self, data: ReminderCreate, *, owner: str) -> Reminder:
        return self.repository.create(data, owner=owner)

    def dequeue(self, candidate_id: str, reminder_id: str) -> None:
        return self.repository.dequeue(candidate_id, reminder_id)

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
