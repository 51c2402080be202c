"""The emails of interview scheduling: one plan for the candidate (``interview``) and one for the
people on the company's side (``interview_team``: the interviewers and the recruiter who offered).

A message's ``ref`` is ``<interview id>@<event>``: ``offered`` (the candidate's link to choose a
time), ``booked-<sequence>`` (booked at sequence 0, moved at every later one) and
``cancelled-<sequence>``. A booking's and a move's emails carry the ``.ics`` invitation
(``crm.mailing.calendar``, method REQUEST), the same ``uid`` for the interview's whole life and
its ``sequence``, so a calendar moves the entry it holds; a cancellation carries METHOD:CANCEL.
At send time the interview must still be at that event (a booking moved again before its email
went sends only the later one). Transactional: no consent needed; suppression still applies.
"""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from crm.candidates.service import CandidateService
from crm.interviews.links import booking_url, profile_url
from crm.interviews.models import Interview, InterviewSlot
from crm.interviews.repository import InterviewRepository
from crm.interviews.slots import DASH, moment, spoken
from crm.jobs.service import JobService
from crm.mailing.calendar import Meeting, invitation
from crm.mailing.plans import Plan, Skip, Target, Verdicts, person_targets
from crm.mailing.templating import RenderedEmail, render_builtin
from crm.platform.config import get_settings
from crm.platform.errors import NotFound

SCOPE_PREFIX = "interview#"

OFFERED = {
    "subject": "Choose a time for your interview: {{ job_title }}",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>We would like to invite you to an interview for <strong>{{ job_title }}</strong>: {{ title }}"
        " ({{ minutes }} minutes{% if location %}, {{ location }}{% endif %}).</p>"
        "{% if message %}<blockquote>{{ message }}</blockquote>{% endif %}"
        '<p><a href="{{ link }}">Choose a time that suits you</a></p>'
        "<p>The page shows the times in your own time zone. The same link lets you move or cancel "
        "the interview later.</p>"
    ),
    "text": (
        "Hello {{ first_name }},\n\nWe would like to invite you to an interview for {{ job_title }}: "
        "{{ title }} ({{ minutes }} minutes{% if location %}, {{ location }}{% endif %}).\n\n"
        "{% if message %}{{ message }}\n\n{% endif %}"
        "Choose a time that suits you: {{ link }}\n\n"
        "The page shows the times in your own time zone. The same link lets you move or cancel the "
        "interview later.\n"
    ),
}
BOOKED = {
    "subject": (
        "{% if moved %}Your interview has moved{% else %}Your interview is booked{% endif %}: {{ when }}"
    ),
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "<p>Your interview for <strong>{{ job_title }}</strong> ({{ title }}) is "
        "{% if moved %}now{% else %}booked{% endif %} on <strong>{{ when }}</strong>"
        "{% if location %} ({{ location }}){% endif %}.</p>"
        "<p>The invitation is attached: open it to add the interview to your calendar.</p>"
        '<p>Need another time? <a href="{{ link }}">Move or cancel the interview</a></p>'
    ),
    "text": (
        "Hello {{ first_name }},\n\nYour interview for {{ job_title }} ({{ title }}) is "
        "{% if moved %}now{% else %}booked{% endif %} on {{ when }}"
        "{% if location %} ({{ location }}){% endif %}.\n\n"
        "The invitation is attached: open it to add the interview to your calendar.\n\n"
        "Need another time? Move or cancel the interview: {{ link }}\n"
    ),
}
CANCELLED = {
    "subject": "{% if when %}Your interview on {{ when }} is cancelled{% else %}"
    "Your interview invitation for {{ job_title }} is withdrawn{% endif %}",
    "html": (
        "<p>Hello {{ first_name }},</p>"
        "{% if when %}<p>Your interview for <strong>{{ job_title }}</strong> ({{ title }}) on {{ when }} is "
        "cancelled{% if by_candidate %}, as you asked{% endif %}.</p>"
        "<p>The attached cancellation removes it from your calendar.</p>"
        "{% else %}<p>The invitation to interview for <strong>{{ job_title }}</strong> ({{ title }}) is "
        "{% if by_candidate %}declined, as you asked{% else %}withdrawn{% endif %}.</p>{% endif %}"
        "<p>If you have questions, reply to the recruiter who contacted you.</p>"
    ),
    "text": (
        "Hello {{ first_name }},\n\n"
        "{% if when %}Your interview for {{ job_title }} ({{ title }}) on {{ when }} is cancelled"
        "{% if by_candidate %}, as you asked{% endif %}.\n\n"
        "The attached cancellation removes it from your calendar.\n\n"
        "{% else %}The invitation to interview for {{ job_title }} ({{ title }}) is "
        "{% if by_candidate %}declined, as you asked{% else %}withdrawn{% endif %}.\n\n{% endif %}"
        "If you have questions, reply to the recruiter who contacted you.\n"
    ),
}
TEAM_BOOKED = {
    "subject": "Interview {% if moved %}moved{% else %}booked{% endif %}: {{ candidate_name }}, {{ when }}",
    "html": (
        '<p><a href="{{ profile }}">{{ candidate_name }}</a> '
        "{% if moved %}moved their interview for {{ job_title }} ({{ title }}) to{% else %}"
        "booked their interview for {{ job_title }} ({{ title }}) on{% endif %} <strong>{{ when }}</strong>"
        "{% if location %} ({{ location }}){% endif %}.</p>"
        "<p>The invitation is attached.</p>"
    ),
    "text": (
        "{{ candidate_name }} {% if moved %}moved their interview for {{ job_title }} ({{ title }}) to"
        "{% else %}booked their interview for {{ job_title }} ({{ title }}) on{% endif %} {{ when }}"
        "{% if location %} ({{ location }}){% endif %}.\n\nThe invitation is attached.\n\n{{ profile }}\n"
    ),
}
TEAM_CANCELLED = {
    "subject": "Interview cancelled: {{ candidate_name }}, {{ when }}",
    "html": (
        '<p>The interview of <a href="{{ profile }}">{{ candidate_name }}</a> for {{ job_title }} '
        "({{ title }}) on {{ when }} is cancelled "
        "{% if by_candidate %}by the candidate{% else %}by a recruiter{% endif %}.</p>"
        "<p>The attached cancellation removes it from your calendar.</p>"
    ),
    "text": (
        "The interview of {{ candidate_name }} for {{ job_title }} ({{ title }}) on {{ when }} is cancelled "
        "{% if by_candidate %}by the candidate{% else %}by a recruiter{% endif %}.\n\n"
        "The attached cancellation removes it from your calendar.\n\n{{ profile }}\n"
    ),
}


def mail_ref(interview: Interview, event: str) -> str:
    return f"{interview.id}@{event}"


def event_of(interview: Interview) -> str:
    """The event the interview is at now (what a message for it must name to be sent)."""
    if interview.state == "offered":
        return "offered"
    return f"{interview.state}-{interview.sequence}"


def uid_of(interview: Interview) -> str:
    """The invitation's uid: one per interview, for its whole life."""
    return f"interview-{interview.id}@crm"


class InterviewPlan(Plan):
    topic = None

    def __init__(
        self,
        ref: str,
        *,
        team: bool = False,
        interviews: InterviewRepository | None = None,
        candidates: CandidateService | None = None,
        jobs: JobService | None = None,
    ) -> None:
        self.ref = ref
        self.interview_id, _, self.event = ref.partition("@")
        self.scope = SCOPE_PREFIX + ref
        self.team = team
        self.to_people = not team  # the team are staff, by address: no candidate's history
        self.interviews = interviews or InterviewRepository()
        self.candidates = candidates or CandidateService()
        self.jobs = jobs or JobService()
        self.interview: Interview | None = None

    def targets(self, recipients: list[str]) -> Verdicts:
        interview = self.interviews.get(self.interview_id)
        if interview is None:
            return {r: Skip("removed") for r in recipients}
        if event_of(interview) != self.event:
            return {r: Skip("superseded") for r in recipients}
        self.interview = interview
        people = self.candidates.get_many([interview.candidate_id])
        person = people.get(interview.candidate_id)
        try:
            job_title = self.jobs.get(interview.job_id).title
        except NotFound:
            job_title = "the job"
        values = self._values(interview, job_title)
        if not self.team:
            wanted = [r for r in recipients if r == interview.candidate_id]
            zone = interview.candidate_timezone or interview.timezone
            verdicts = person_targets(wanted, people, {**values, "when": self._when(interview, zone)})
            for verdict in verdicts.values():
                if isinstance(verdict, Target):
                    verdict.context["link"] = booking_url(interview.id)
            return {r: verdicts.get(r, Skip("removed")) for r in recipients}
        if person is None:
            return {r: Skip("erased") for r in recipients}
        name = f"{person.first_name or ''} {person.last_name or ''}".strip() or "The candidate"
        team = interview.team()
        context = {
            **values,
            "when": self._when(interview, interview.timezone),
            "candidate_name": name,
            "profile": profile_url(interview.candidate_id),
        }
        return {
            r: Target(email=r, name="", context=dict(context)) if r.lower() in team else Skip("not_on_team")
            for r in recipients
        }

    @staticmethod
    def _values(interview: Interview, job_title: str) -> dict[str, Any]:
        return {
            "title": interview.title,
            "job_title": job_title,
            "minutes": interview.duration_minutes,
            "location": interview.location,
            "message": interview.message,
            "moved": interview.state == "booked" and interview.sequence > 0,
            "by_candidate": interview.cancelled_by == "candidate",
        }

    @staticmethod
    def _when(interview: Interview, zone: str) -> str:
        if not interview.start or not interview.end:
            return ""
        return spoken(InterviewSlot(start=interview.start, end=interview.end), zone)

    def render(self, target: Target) -> RenderedEmail:
        interview = self.interview
        assert interview is not None  # targets() found it
        if self.team:
            parts = TEAM_CANCELLED if interview.state == "cancelled" else TEAM_BOOKED
        else:
            parts = {"offered": OFFERED, "booked": BOOKED, "cancelled": CANCELLED}[interview.state]
        rendered = render_builtin(parts, target.context)
        if not interview.start or not interview.end:
            return rendered
        method = "CANCEL" if interview.state == "cancelled" else "REQUEST"
        attachment = invitation(
            self._meeting(interview, target), target.email, attendee_name=target.name, method=method
        )
        return RenderedEmail(
            subject=rendered.subject, html=rendered.html, text=rendered.text, attachments=(attachment,)
        )

    def _meeting(self, interview: Interview, target: Target) -> Meeting:
        context = target.context
        organizer_name, organizer = parseaddr(get_settings().mail_from)
        if interview.organizer_email:
            organizer_name, organizer = "", interview.organizer_email
        if self.team:
            summary = f"{interview.title}: {context['candidate_name']} {DASH} {context['job_title']}"
            description = f"The candidate's profile: {context['profile']}"
            url = str(context["profile"])
        else:
            summary = f"{interview.title} {DASH} {context['job_title']}"
            description = f"Move or cancel the interview: {context['link']}"
            if interview.message:
                description = f"{interview.message}\n\n{description}"
            url = str(context["link"])
        assert interview.start and interview.end
        return Meeting(
            uid=uid_of(interview),
            start=moment(interview.start),
            end=moment(interview.end),
            summary=summary,
            description=description,
            location=interview.location,
            url=url,
            organizer_email=organizer,
            organizer_name=organizer_name,
            sequence=interview.sequence,
        )
