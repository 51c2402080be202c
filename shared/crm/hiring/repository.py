"""Hiring's items. ``HIRING#SETTINGS/REJECTION_REASONS``: the admin's list of rejection reasons
and how long a rejection's email waits (HiringSettingsRepository).
``CAND#<id>/FEEDBACK#<job>#<interview digest>#<author>``: one interviewer's feedback on one
interview (by name, or a scheduled interview by id), in the person's partition, so it is erased
with them (FeedbackRepository)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from crm.hiring.models import Feedback
from crm.platform import table
from crm.platform.errors import NotFound, ValidationFailed
from crm.platform.keys import person_partition

SETTINGS_PK = "HIRING#SETTINGS"
REASONS_SK = "REJECTION_REASONS"


class HiringSettingsRepository:
    def rejection_reasons(self) -> list[str] | None:
        item = table.get_item(SETTINGS_PK, REASONS_SK)
        return list(table.from_item(item)["reasons"]) if item else None

    def rejection_email_delay_hours(self) -> int | None:
        item = table.get_item(SETTINGS_PK, REASONS_SK)
        delay = table.from_item(item).get("email_delay_hours") if item else None
        return int(delay) if delay is not None else None

    def save_rejection_reasons(
        self, reasons: list[str], *, email_delay_hours: int | None, at: str, by: str
    ) -> None:
        item: dict[str, Any] = {
            "pk": SETTINGS_PK,
            "sk": REASONS_SK,
            "type": "rejection_reasons",
            "reasons": reasons,
            "updated_at": at,
            "updated_by": by,
        }
        if email_delay_hours is None:
            email_delay_hours = self.rejection_email_delay_hours()
        if email_delay_hours is not None:
            item["email_delay_hours"] = email_delay_hours
        table.put(table.to_item(item))


def _interview_key(interview: str) -> str:
    return hashlib.sha256(interview.casefold().encode()).hexdigest()[:16]


def _feedback_key(feedback: Feedback) -> str:
    """What one person gives feedback on once: a scheduled interview (by id), else the interview
    of the job's list (by name)."""
    if feedback.interview_id:
        return _interview_key(f"scheduled:{feedback.interview_id}")
    return _interview_key(feedback.interview)


class FeedbackRepository:
    def add(self, feedback: Feedback, *, author_subject: str, more: Sequence[dict[str, Any]]) -> Feedback:
        """Store ``feedback`` with ``more`` writes of the candidates slice (the application's counts,
        the timeline entry) in one transaction. The same author's feedback on the same interview
        again is a 422 naming ``interview``; an application gone meanwhile a ``NotFound``."""
        item = feedback.model_dump()
        item.update(
            pk=person_partition(feedback.candidate_id),
            sk=f"FEEDBACK#{feedback.job_id}#{_feedback_key(feedback)}#{author_subject}",
            type="feedback",
        )
        operations = [
            {"Put": {"Item": table.to_item(item), "ConditionExpression": "attribute_not_exists(sk)"}},
            *more,
        ]
        try:
            table.transact(operations)
        except table.TransactionCancelled as exc:
            if exc.failed(0):
                message = "you gave feedback on this interview already"
                raise ValidationFailed(
                    "You gave feedback on this interview already.",
                    errors=[{"field": "interview", "message": message}],
                ) from exc
            raise NotFound("The application is gone.") from exc
        return feedback

    def of_application(self, candidate_id: str, job_id: str) -> list[Feedback]:
        items = table.query_all(
            key_condition="pk = :pk AND begins_with(sk, :prefix)",
            values={":pk": {"S": person_partition(candidate_id)}, ":prefix": {"S": f"FEEDBACK#{job_id}#"}},
        )
        found = [Feedback.model_validate(table.from_item(i)) for i in items]
        return sorted(found, key=lambda f: f.submitted_at)
