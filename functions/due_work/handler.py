"""Due work, once a minute (EventBridge Scheduler): queues the sequence steps and reminders
whose time has come (``crm.workflows.due_work``). A failed run is simply repeated by the next tick."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from crm.platform.config import get_settings
from crm.workflows.due_work import run_due_work

logger = Logger(service="crm")
get_settings()  # a missing variable fails here, at cold start, naming it


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = run_due_work(remaining_ms=context.get_remaining_time_in_millis if context is not None else None)
    logger.info(
        "due work queued", extra={"sequence_steps": result.sequence_steps, "reminders": result.reminders}
    )
    return {"sequence_steps": result.sequence_steps, "reminders": result.reminders}
