"""The local runtime's schedules (fired by the local clock) and the SES simulator's delivery events."""

from __future__ import annotations

import datetime as dt
import json
import threading
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from crm.mailing.compose import compose
from crm_tools.devstack.mail import simulator_events
from crm_tools.devstack.runtime import (
    Invocation,
    RateTimer,
    ScheduledFunctionSource,
    SchedulerPoller,
    parse_at,
    parse_rate,
    schedule_action,
    scheduler_event,
)

ROOT = Path(__file__).resolve().parents[2]
UTC = dt.UTC
T0 = dt.datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_at_expressions_are_read_in_their_time_zone() -> None:
    assert parse_at("at(2026-11-27T09:00:00)") == T0
    assert parse_at("at(2026-11-27T09:00:00)", "UTC") == T0
    assert parse_at("at(2026-11-27T10:00:00)", "Europe/Paris") == T0  # CET = UTC+1 in November
    assert parse_at("rate(1 minute)") is None
    assert parse_at("cron(0 9 * * ? *)") is None
    with pytest.raises(ValueError):
        parse_at("at(2026-11-27T09:00:00)", "Mars/Olympus")
    with pytest.raises(ValueError):
        parse_at("at(2026-13-27T09:00:00)")


def test_rate_expressions() -> None:
    assert parse_rate("rate(1 minute)") == dt.timedelta(minutes=1)
    assert parse_rate("rate(5 minutes)") == dt.timedelta(minutes=5)
    assert parse_rate("rate(2 hours)") == dt.timedelta(hours=2)
    assert parse_rate("rate(1 day)") == dt.timedelta(days=1)
    assert parse_rate("rate(0 minutes)") is None
    assert parse_rate("rate(1 week)") is None
    assert parse_rate("at(2026-11-27T09:00:00)") is None


def test_a_rate_fires_at_start_then_when_due_and_once_after_a_jump() -> None:
    timer = RateTimer(dt.timedelta(minutes=1))
    assert timer.due(T0)  # at start-up
    assert not timer.due(T0 + dt.timedelta(seconds=59))
    assert timer.due(T0 + dt.timedelta(seconds=60))
    jumped = T0 + dt.timedelta(days=2)
    assert timer.due(jumped)  # once, not once per missed minute
    assert not timer.due(jumped + dt.timedelta(seconds=30))
    assert timer.due(jumped + dt.timedelta(seconds=60))


def test_schedule_actions() -> None:
    timers: dict[str, RateTimer] = {}
    at = {"Arn": "a", "ScheduleExpression": "at(2026-11-27T09:00:00)", "ScheduleExpressionTimezone": "UTC"}
    assert schedule_action(at, T0 - dt.timedelta(seconds=1), timers) == "wait"
    assert schedule_action(at, T0, timers) == "fire"
    rate = {"Arn": "r", "ScheduleExpression": "rate(1 hour)"}
    assert schedule_action(rate, T0, timers) == "fire"
    assert schedule_action(rate, T0 + dt.timedelta(minutes=30), timers) == "wait"
    assert schedule_action(rate, T0 + dt.timedelta(hours=1), timers) == "fire"
    ended = {**rate, "Arn": "e", "EndDate": T0 - dt.timedelta(days=1)}
    assert schedule_action(ended, T0, timers) == "wait"
    assert schedule_action({"Arn": "c", "ScheduleExpression": "cron(0 9 * * ? *)"}, T0, timers) == "cron"
    assert schedule_action({"Arn": "x", "ScheduleExpression": "soon"}, T0, timers) == "invalid"


def test_the_default_payload_is_schedulers() -> None:
    sample = json.loads((ROOT / "events" / "due-work-tick.json").read_text(encoding="utf-8"))
    event = scheduler_event(sample["resources"][0], account="123456789012", region="us-east-1", now=T0)
    assert event.keys() == sample.keys()
    assert {k: event[k] for k in ("detail-type", "source", "detail", "resources")} == {
        k: sample[k] for k in ("detail-type", "source", "detail", "resources")
    }
    assert event["time"] == "2026-11-27T09:00:00Z"


class FakeFunction:
    def __init__(self, logical_id: str = "DueWorkFunction", arn: str = "") -> None:
        self.logical_id = logical_id
        self.arn = arn
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Invocation:
        self.events.append(event)
        return Invocation(ok=True)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_template_schedule_fires_by_the_local_clock() -> None:
    function, clock = FakeFunction(), Clock()
    source = ScheduledFunctionSource(
        function,  # type: ignore[arg-type]
        "EveryMinute",
        "ScheduleV2",
        {"ScheduleExpression": "rate(1 minute)"},
        resource_arn="arn:aws:scheduler:us-east-1:123456789012:schedule/default/x",
        account="123456789012",
        region="us-east-1",
        stop=threading.Event(),
        now=clock,
    )
    assert source.poll_once() and not source.poll_once()
    clock.now += dt.timedelta(hours=5)
    assert source.poll_once() and not source.poll_once()
    assert len(function.events) == 2
    assert function.events[1]["source"] == "aws.scheduler"
    assert function.events[1]["time"] == "2026-11-27T14:00:00Z"


@mock_aws
def test_the_poller_delivers_due_one_time_schedules_and_deletes_them() -> None:
    scheduler = boto3.client("scheduler", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="dispatch")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:work"
    function = FakeFunction("Work", function_arn)
    scheduler.create_schedule_group(Name="campaigns")

    def schedule(name: str, when: dt.datetime, arn: str, body: str, after: str = "DELETE") -> None:
        scheduler.create_schedule(
            Name=name,
            GroupName="campaigns",
            ScheduleExpression=f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion=after,
            Target={"Arn": arn, "RoleArn": "arn:aws:iam::123456789012:role/r", "Input": body},
        )

    schedule("soon", T0 + dt.timedelta(hours=1), queue_arn, '{"kind": "campaign", "id": "c1"}')
    schedule("later", T0 + dt.timedelta(days=1), queue_arn, '{"kind": "campaign", "id": "c2"}')
    schedule("call", T0 + dt.timedelta(minutes=5), function_arn, '{"hello": 1}', after="NONE")
    clock = Clock()
    poller = SchedulerPoller(
        scheduler_client=scheduler,
        sqs_client=sqs,
        queue_urls={queue_arn: url},
        functions={function_arn: function},  # type: ignore[dict-item]
        account="123456789012",
        region="us-east-1",
        stop=threading.Event(),
        now=clock,
    )
    assert not poller.poll_once()
    clock.now = T0 + dt.timedelta(hours=2)
    assert poller.poll_once()
    assert not poller.poll_once()  # each fires once
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"kind": "campaign", "id": "c1"}]
    assert function.events == [{"hello": 1}]
    left = {s["Name"]: s["State"] for s in scheduler.list_schedules(GroupName="campaigns")["Schedules"]}
    assert left == {"later": "ENABLED", "call": "DISABLED"}


def test_the_simulator_delivers_mail_to_every_other_address() -> None:
    message = compose(
        ["ada@example.com", "bounce@simulator.amazonses.com"],
        "CRM <no-reply@example.com>",
        "Hello",
        "<p>Hello</p>",
        "Hello",
    )
    entries = simulator_events(
        message_id="m-1",
        source="no-reply@example.com",
        destinations=["ada@example.com", "bounce@simulator.amazonses.com"],
        raw=message.as_string(),
        account="123456789012",
        region="us-east-1",
        now=T0,
    )
    assert [e["DetailType"] for e in entries] == ["Email Bounced", "Email Delivered"]
    delivered = entries[1]
    assert delivered["Source"] == "aws.ses" and delivered["EventBusName"] == "default"
    detail = json.loads(delivered["Detail"])
    assert detail["eventType"] == "Delivery"
    assert detail["mail"]["messageId"] == "m-1"
    assert detail["delivery"]["recipients"] == ["ada@example.com"]
    only_simulator = simulator_events(
        message_id="m-2",
        source="no-reply@example.com",
        destinations=["complaint@simulator.amazonses.com"],
        raw=message.as_string(),
        account="123456789012",
        region="us-east-1",
        now=T0,
    )
    assert [e["DetailType"] for e in only_simulator] == ["Email Complaint Received"]
