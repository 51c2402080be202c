"""EventBridge Scheduler: a one-time schedule that puts a message on an SQS queue at a time (and
deletes itself once it fired), and its removal before then."""

from __future__ import annotations

import re
from datetime import datetime

from botocore.exceptions import ClientError

from crm.platform import aws
from crm.platform.config import get_settings


class ScheduleExists(Exception):
    """A schedule of that name is there already (the same request made twice)."""


def _name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_.-]", "-", name)[:64]


def schedule_once(name: str, at: datetime, *, queue_arn: str, body: str) -> None:
    """Put ``body`` on the queue ``queue_arn`` at ``at`` (UTC), through the stack's schedule group
    and role; retried by Scheduler for a day."""
    settings = get_settings()
    try:
        _create(
            name,
            at,
            queue_arn=queue_arn,
            body=body,
            group=settings.schedule_group,
            role=settings.scheduler_role_arn,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConflictException":
            raise ScheduleExists(name) from exc
        raise


def _create(name: str, at: datetime, *, queue_arn: str, body: str, group: str, role: str) -> None:
    aws.client("scheduler").create_schedule(
        Name=_name(name),
        GroupName=group,
        ScheduleExpression=f"at({at.strftime('%Y-%m-%dT%H:%M:%S')})",
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": queue_arn,
            "RoleArn": role,
            "Input": body,
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
        },
    )


def unschedule(name: str) -> bool:
    """Delete the schedule ``name`` (as :func:`schedule_once` named it); False when there is none
    (it fired and deleted itself, or was never made)."""
    try:
        aws.client("scheduler").delete_schedule(Name=_name(name), GroupName=get_settings().schedule_group)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True
