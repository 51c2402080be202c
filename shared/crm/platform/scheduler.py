"""EventBridge Scheduler: a one-time schedule that puts a message on an SQS queue at a time (and
deletes itself once it fired)."""

from __future__ import annotations

import re
from datetime import datetime

from crm.platform import aws
from crm.platform.config import get_settings


def schedule_once(name: str, at: datetime, *, queue_arn: str, body: str) -> None:
    """Put ``body`` on the queue ``queue_arn`` at ``at`` (UTC), through the stack's schedule group
    and role; retried by Scheduler for a day."""
    settings = get_settings()
    aws.client("scheduler").create_schedule(
        Name=re.sub(r"[^0-9A-Za-z_.-]", "-", name)[:64],
        GroupName=settings.schedule_group,
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": queue_arn,
            "RoleArn": settings.scheduler_role_arn,
            "Input": body,
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        },
    )
