"""The recruiter UI: nurture sequences: steps, enrolment, progress."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
