"""The candidate's link to their interview: signed (purpose ``interview``, naming only the
interview's id), working for :data:`LINK_DAYS` days, so that the same link books, reschedules
and cancels until the interview is over. A token made for any other purpose is refused."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from crm.platform.config import get_settings
from crm.platform.signing import InvalidLink, sign, verify

LINK_DAYS = 90
BOOKING_PATH = "/careers/interviews"


def _base() -> str:
    return get_settings().public_base_url.rstrip("/")


def booking_token(interview_id: str) -> str:
    return sign("interview", {"i": interview_id})


def booking_url(interview_id: str) -> str:
    """The candidate's page: the free slots in their zone, and the forms to book, move or cancel."""
    return f"{_base()}{BOOKING_PATH}?{urlencode({'token': booking_token(interview_id)})}"


def interview_of(token: str | None) -> str:
    """The interview a token names; an ``InvalidLink`` for a missing, tampered, expired or
    foreign one (made for another purpose)."""
    payload = verify("interview", token, max_age_seconds=LINK_DAYS * 86400)
    interview_id = payload.get("i")
    if not isinstance(interview_id, str) or not interview_id:
        raise InvalidLink("This link is not valid.")
    return interview_id


def profile_url(candidate_id: str) -> str:
    """Where the team reads about the candidate (the recruiter UI's profile, its interviews)."""
    return f"{_base()}/ui/candidates/{quote(candidate_id)}#interviews"
