"""The recruiter UI: pools and their pipeline boards."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
