"""The recruiter UI: email templates (with live preview) and campaigns."""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
