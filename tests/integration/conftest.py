"""Integration fixtures: moto stands in for AWS; handlers are called in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client
from moto import mock_aws

from crm.access.service import jwks_cache
from crm.platform import aws
from crm.platform.clock import CLOCK_FILE_ENV
from crm.platform.config import reset_settings
from crm.platform.signing import forget_signing_key
from tests.support.engagement import QueueDriver
from tests.support.stack import TestStack, create_user, provision
from tests.support.streams import StreamPump

PASSWORD = "Correct-Horse-42"


@dataclass
class Env:
    stack: TestStack
    client: Client
    pump: StreamPump
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture
def aws_stack() -> Iterator[TestStack]:
    with mock_aws():
        stack = provision()
        os.environ.update(stack.env())
        reset_settings()
        aws.reset_clients()
        jwks_cache.clear()
        forget_signing_key()
        yield stack
        aws.reset_clients()
        reset_settings()


@pytest.fixture
def env(aws_stack: TestStack) -> Iterator[Env]:
    import app as api

    create_user(aws_stack, "admin@example.com", PASSWORD, "admin")
    create_user(aws_stack, "recruiter@example.com", PASSWORD, "recruiter")
    with Client(api.app) as client:
        tokens = {}
        for who in ("admin", "recruiter"):
            response = client.http.post(
                "/auth/login",
                body=f'{{"username": "{who}@example.com", "password": "{PASSWORD}"}}',
                headers={"Content-Type": "application/json"},
            )
            assert response.status_code == 200, response.body
            tokens[who] = response.json_body["id_token"]
        yield Env(stack=aws_stack, client=client, pump=StreamPump(aws_stack.table), tokens=tokens)


def json_post(env: Env, path: str, body: Any, headers: dict[str, str] | None = None) -> Any:
    import json

    return env.client.http.post(
        path, body=json.dumps(body), headers={"Content-Type": "application/json", **(headers or {})}
    )


@pytest.fixture
def local_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A clock of this test's own, which ``crm.platform.clock.advance`` moves (as ``POST /dev/clock``
    does)."""
    monkeypatch.setenv(CLOCK_FILE_ENV, str(tmp_path / "clock.json"))
    yield


@pytest.fixture
def driver(env: Env, local_clock: None) -> Iterator[QueueDriver]:
    """The engagement queues' consumers, run in-process (``tests/support/engagement.py``)."""
    queues = QueueDriver(env.stack.queues)
    yield queues
    queues.close()
