"""Interview self-scheduling: a recruiter offers slots on an application; the candidate books one
through a signed link (``crm.interviews.links``), moves it or cancels it; feedback is given on it.

A slot is never booked twice. Slots belong to the calendars of the people who interview (the
offer's interviewers, or the recruiter who offered when it names none), so the same times may be
offered to several candidates of a job and the first to book takes them. A booking reads those
calendars, checks that no other booking overlaps the slot, and writes the interview and every
calendar in one transaction, each calendar on condition that it is still the version read. Two
bookings racing for one slot (two candidates, or two tabs of one) cannot both be written: the
loser reads again and is told the slot is taken, with the others still free (``SlotTaken``).

Every change leaves an entry on the candidate's timeline in the same transaction
(``interview_offered``, ``interview_booked``, ``interview_rescheduled``, ``interview_cancelled``);
the emails follow from the table's stream (``crm.interviews.events``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from crm.candidates.service import CandidateService
from crm.hiring.models import Feedback, FeedbackCreate
from crm.hiring.service import HiringService, field_error
from crm.interviews.links import interview_of
from crm.interviews.models import (
    CancelledBy,
    Interview,
    InterviewFeedback,
    InterviewOffer,
    InterviewSlot,
    interview_id,
)
from crm.interviews.repository import Calendar, InterviewRepository
from crm.interviews.slots import Busy, clashes, free, kept, moment, offered_slots, spoken
from crm.jobs.models import CLOSED_STAGES, Job
from crm.platform import clock
from crm.platform.errors import Conflict, NotFound, ServiceUnavailable, ValidationFailed
from crm.platform.ids import iso, new_id
from crm.platform.signing import InvalidLink

#: How often a change is tried again when another change of the same interview or calendar was
#: written between its read and its write (each try reads afresh and decides again).
MAX_TRIES = 6
CANDIDATE = "candidate"
#: How many of a job's newest interviews its board reads (one Query).
BOARD_INTERVIEWS = 500


class SlotTaken(Conflict):
    """The slot is no longer free (booked by someone else meanwhile, or past); ``free_slots`` are
    the slots still free."""


class InterviewClosed(Conflict):
    """The interview is cancelled or over: nothing can be booked, moved or cancelled any more."""


class InterviewChanged(Conflict):
    """The interview was booked or moved since the page was shown (in another tab)."""


def _slots_json(slots: list[InterviewSlot]) -> list[dict[str, str]]:
    return [s.model_dump() for s in slots]


class InterviewService:
    def __init__(
        self,
        repository: InterviewRepository | None = None,
        candidates: CandidateService | None = None,
        hiring: HiringService | None = None,
        *,
        now: Callable[[], datetime] = clock.now,
    ) -> None:
        self.repository = repository if repository is not None else InterviewRepository()
        self.candidates = candidates if candidates is not None else CandidateService()
        self.hiring = hiring if hiring is not None else HiringService(self.candidates)
        self.now = now

    # ------------------------------------------------------------------ reading

    def get(self, interview_id: str) -> Interview:
        found = self.repository.get(interview_id)
        if found is None:
            raise NotFound(f"No interview with id {interview_id}.")
        return found

    def of_application(self, application_id: str) -> list[Interview]:
        """An application's interviews, newest first (``NotFound`` for an unknown application)."""
        application, _ = self.hiring.application(application_id)
        return self.repository.of_candidate(application.candidate_id, application.job_id)

    def of_candidate(self, candidate_id: str) -> list[Interview]:
        return self.repository.of_candidate(candidate_id)

    def latest_by_application(self, job_id: str) -> dict[str, Interview]:
        """The newest interview of each application of a job (among its latest 500), for a board."""
        latest: dict[str, Interview] = {}
        for interview in self.repository.of_job(job_id, limit=BOARD_INTERVIEWS):
            latest.setdefault(interview.application_id, interview)
        return latest

    def job(self, interview: Interview) -> Job | None:
        try:
            return self.hiring.jobs.get(interview.job_id)
        except NotFound:
            return None

    def open_link(self, token: str | None) -> Interview:
        """The interview a candidate's link names; an ``InvalidLink`` for a bad, expired or
        foreign token, or one whose interview is gone (the person erased)."""
        try:
            return self.get(interview_of(token))
        except NotFound as exc:
            raise InvalidLink("This link no longer works: the interview it was for is gone.") from exc

    def busy_for(self, interview: Interview) -> list[Busy]:
        """The bookings in the interviewers' calendars, stale ones (interviews gone) included."""
        calendars = self.repository.calendars(interview.calendars())
        return [b for c in calendars.values() for b in c.busy.values()]

    def free_slots(self, interview: Interview) -> list[InterviewSlot]:
        """The slots the candidate may still choose: to come, and overlapping no other booking of
        the interviewers (the interview's own booking aside)."""
        if interview.state == "cancelled":
            return []
        busy = self._live(self.busy_for(interview), interview)
        return free(interview.slots, busy, own=interview.id, now=self.now())

    def _live(self, busy: list[Busy], interview: Interview) -> list[Busy]:
        """``busy`` without the bookings of interviews gone or moved (erased people's, say)."""
        return [b for b in busy if b.interview_id == interview.id or self._holds(b)]

    def _holds(self, busy: Busy) -> bool:
        other = self.repository.get(busy.interview_id)
        return other is not None and other.state == "booked" and other.start == busy.start

    # ------------------------------------------------------------------ offering

    def offer(self, application_id: str, data: InterviewOffer, *, actor: str, email: str | None) -> Interview:
        """Offer slots on an application. The times are checked (future, a year ahead at most, no
        two overlapping), the title is one of the job's interviews, and the people who interview
        are free at each time (a 422 names the slot)."""
        application, job = self.hiring.application(application_id)
        if application.stage in CLOSED_STAGES:
            raise Conflict(
                "The application is closed (rejected or withdrawn): reopen it to offer an interview.",
                field="application_id",
            )
        title = self._title(job, data.title)
        now = self.now()
        slots = offered_slots(data, now)
        organizer = (email or "").lower() or None
        if not data.interviewers and organizer is None:
            raise field_error("interviewers", "name who interviews (an API key has no calendar of its own)")
        at = iso(now)
        interview = Interview(
            id=interview_id(application.candidate_id, job.id, new_id()[:12]),
            application_id=application.id,
            candidate_id=application.candidate_id,
            job_id=job.id,
            title=title,
            duration_minutes=data.duration_minutes,
            timezone=data.timezone,
            slots=slots,
            interviewers=list(data.interviewers),
            organizer_email=organizer,
            offered_by=actor,
            location=data.location,
            message=data.message,
            state="offered",
            created_at=at,
            updated_at=at,
        )
        self._check_free_at_offer(interview, data)
        self.candidates.record_activity(
            interview.candidate_id,
            "interview_offered",
            actor=actor,
            at=at,
            detail={
                "job_id": job.id,
                "interview_id": interview.id,
                "title": title,
                "slots": len(slots),
                "first": spoken(slots[0], interview.timezone),
            },
            along_with=[self.repository.interview_operation(interview, seen_version=None)],
        )
        return interview

    @staticmethod
    def _title(job: Job, wanted: str | None) -> str:
        if not job.interviews:
            return wanted or "Interview"
        if wanted is None:
            return job.interviews[0]
        found = next((i for i in job.interviews if i.casefold() == wanted.casefold()), None)
        if found is None:
            raise field_error("title", "use one of this job's interviews: " + "; ".join(job.interviews))
        return found

    def _check_free_at_offer(self, interview: Interview, data: InterviewOffer) -> None:
        busy = self._live(self.busy_for(interview), interview)
        ordered = sorted(range(len(data.slots)), key=lambda n: data.slots[n].start)
        errors = [
            {"field": f"slots.{n}.start", "message": "the interviewers are booked at this time already"}
            for n, slot in zip(ordered, interview.slots, strict=True)
            if clashes(slot, busy, own=interview.id)
        ]
        if errors:
            errors.sort(key=lambda e: int(e["field"].split(".")[1]))
            raise ValidationFailed("Some of the slots are taken already.", errors=errors)

    # ------------------------------------------------------------------ booking

    def book(
        self,
        interview_id: str,
        start: str,
        *,
        timezone: str | None = None,
        seen_start: str | None = None,
    ) -> Interview:
        """The candidate books ``start`` (one of the offered slots' starts), or moves their booking
        there. The same slot again changes nothing. A slot taken meanwhile is a ``SlotTaken``
        naming the slots still free; a cancelled or past interview an ``InterviewClosed``.
        ``seen_start`` is the booked start the candidate's page showed (``""``: not booked); when
        given, a booking made or moved since (another tab) is an ``InterviewChanged``."""
        for _ in range(MAX_TRIES):
            interview = self.get(interview_id)
            now = self.now()
            self._still_open(interview, now)
            if interview.state == "booked" and interview.start == start:
                return interview
            if seen_start is not None and seen_start != (interview.start or ""):
                raise InterviewChanged(
                    "Your interview was booked or moved meanwhile (in another tab or window): "
                    "here is how it stands now."
                )
            slot = interview.slot(start)
            if slot is None:
                raise field_error("slot", "choose one of the offered times")
            calendars = self.repository.calendars(interview.calendars())
            busy = self._live([b for c in calendars.values() for b in c.busy.values()], interview)
            past = moment(slot.start) <= now
            if past or clashes(slot, busy, own=interview.id):
                others = free(interview.slots, busy, own=interview.id, now=now)
                raise SlotTaken(
                    "This time has passed. Please choose another."
                    if past
                    else "This time has just been taken. Please choose another.",
                    free_slots=_slots_json([s for s in others if s.start != interview.start]),
                )
            moved = interview.state == "booked"
            updated = interview.model_copy(
                update={
                    "state": "booked",
                    "start": slot.start,
                    "end": slot.end,
                    "sequence": interview.sequence + 1 if moved else interview.sequence,
                    "candidate_timezone": timezone or interview.candidate_timezone,
                    "booked_at": iso(now),
                    "updated_at": iso(now),
                    "version": interview.version + 1,
                }
            )
            entry = Busy(interview.id, interview.candidate_id, slot.start, slot.end)
            detail: dict[str, Any] = {
                "job_id": interview.job_id,
                "interview_id": interview.id,
                "title": interview.title,
                "start": slot.start,
                "when": spoken(slot, interview.timezone),
            }
            if moved and interview.start and interview.end:
                old = InterviewSlot(start=interview.start, end=interview.end)
                detail["from"] = spoken(old, interview.timezone)
            if self._write(
                interview,
                updated,
                calendars,
                entry,
                kind="interview_rescheduled" if moved else "interview_booked",
                actor=CANDIDATE,
                detail=detail,
                now=now,
            ):
                return updated
        raise ServiceUnavailable("Many changes are being made at once; please try again.")

    def cancel(self, interview_id: str, *, by: CancelledBy, actor: str) -> Interview:
        """Cancel an interview (offered or booked): its time is freed in every calendar, and, once
        booked, both sides get the invitation's cancellation. Cancelling again changes nothing."""
        for _ in range(MAX_TRIES):
            interview = self.get(interview_id)
            if interview.state == "cancelled":
                return interview
            now = self.now()
            self._still_open(interview, now)
            booked = interview.state == "booked"
            updated = interview.model_copy(
                update={
                    "state": "cancelled",
                    "sequence": interview.sequence + 1 if booked else interview.sequence,
                    "cancelled_at": iso(now),
                    "cancelled_by": by,
                    "updated_at": iso(now),
                    "version": interview.version + 1,
                }
            )
            calendars = self.repository.calendars(interview.calendars()) if booked else {}
            detail: dict[str, Any] = {
                "job_id": interview.job_id,
                "interview_id": interview.id,
                "title": interview.title,
                "by": by,
            }
            if booked and interview.start and interview.end:
                detail["when"] = spoken(
                    InterviewSlot(start=interview.start, end=interview.end), interview.timezone
                )
            if self._write(
                interview,
                updated,
                calendars,
                None,
                kind="interview_cancelled",
                actor=actor,
                detail=detail,
                now=now,
            ):
                return updated
        raise ServiceUnavailable("Many changes are being made at once; please try again.")

    @staticmethod
    def _still_open(interview: Interview, now: datetime) -> None:
        if interview.state == "cancelled":
            raise InterviewClosed("This interview was cancelled. Ask the recruiter if you need a new time.")
        if interview.state == "booked" and interview.start and moment(interview.start) <= now:
            raise InterviewClosed("This interview has started or taken place already: it cannot change.")

    def _write(
        self,
        seen: Interview,
        updated: Interview,
        calendars: dict[str, Calendar],
        entry: Busy | None,
        *,
        kind: str,
        actor: str,
        detail: dict[str, Any],
        now: datetime,
    ) -> bool:
        """The interview and each calendar whose bookings change, with the timeline entry, in one
        transaction; False when something was written meanwhile (the caller reads again)."""
        at = iso(now)
        operations = [self.repository.interview_operation(updated, seen_version=seen.version)]
        for calendar in calendars.values():
            busy = {k: b for k, b in kept(calendar.busy, now).items() if k != seen.id}
            if entry is not None:
                busy[entry.interview_id] = entry
            if busy != calendar.busy:
                operations.append(self.repository.calendar_operation(calendar, busy, at=at))
        try:
            self.candidates.record_activity(
                seen.candidate_id, kind, actor=actor, at=at, detail=detail, along_with=operations
            )
        except NotFound:
            return False  # the interview, a calendar or the person changed: read again
        return True

    # ------------------------------------------------------------------ feedback

    def give_feedback(
        self, interview_id: str, data: InterviewFeedback, *, actor: str, subject: str, email: str | None
    ) -> Feedback:
        """Feedback on a booked interview, through the hiring slice's rules (the job's scorecard,
        once per person and interview), linked to the interview by its id."""
        interview = self.get(interview_id)
        if interview.state != "booked":
            raise Conflict("Feedback is given on a booked interview; this one is " + interview.state + ".")
        create = FeedbackCreate(
            interview=interview.title,
            ratings=data.ratings,
            recommendation=data.recommendation,
            notes=data.notes,
        )
        return self.hiring.give_feedback(
            interview.application_id,
            create,
            actor=actor,
            subject=subject,
            email=email,
            interview_id=interview.id,
        )
