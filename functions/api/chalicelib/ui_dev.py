"""The recruiter UI's local-stack pages (the outbox and the clock).

``app.py`` registers this blueprint only when ``CRM_LOCAL_STACK=1`` (set by ``crm dev``), as it does
``dev.py``: these pages never exist in AWS.
"""

from __future__ import annotations

from chalice import Blueprint

bp = Blueprint(__name__)
