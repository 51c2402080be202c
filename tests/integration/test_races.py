"""Racing submissions against a real HTTP moto server (threads, real sockets on loopback)."""

import os
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from crm.candidates.service import CandidateService
from crm.platform import aws
from crm.platform.config import reset_settings
from crm_tools.devstack.moto import LocalMotoServer
from tests.support.stack import provision


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def moto_server():
    # The local stack's moto server: it handles one request at a time, as DynamoDB applies
    # each request atomically (see docs/decisions.md); the application's reads and writes
    # still interleave freely across the 30 threads.
    server = LocalMotoServer(ip_address="127.0.0.1", port=free_port())
    server.start()
    os.environ["AWS_ENDPOINT_URL"] = server.endpoint_url
    try:
        stack = provision()
        os.environ.update(stack.env())
        reset_settings()
        aws.reset_clients()
        yield stack
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        reset_settings()
        aws.reset_clients()
        server.stop()


def test_thirty_racing_submissions_of_one_email_leave_one_candidate(moto_server):
    spellings = ["race@example.com", "RACE@example.com", " Race@Example.COM ", "race@EXAMPLE.com"]
    barrier = threading.Barrier(30)

    def submit_one(i: int) -> None:
        barrier.wait()
        CandidateService().submit(
            {"email": spellings[i % 4], "first_name": f"R{i}", "last_name": "Acer", "tags": [f"t{i % 3}"]}
        )

    with ThreadPoolExecutor(max_workers=30) as pool:
        list(pool.map(submit_one, range(30)))

    items = boto3.client("dynamodb").scan(TableName=moto_server.table)["Items"]
    profiles = [i for i in items if i["sk"]["S"] == "PROFILE"]
    guards = [i for i in items if i["pk"]["S"].startswith("EMAIL#")]
    assert len(profiles) == 1
    assert [g["pk"]["S"] for g in guards] == ["EMAIL#race@example.com"]
    profile = profiles[0]
    assert profile["email"]["S"] == "race@example.com"
    # every submission left its mark: one creation, 29 merges, and the union of tags
    activities = [i for i in items if i["sk"]["S"].startswith("ACT#")]
    kinds = sorted(a["kind"]["S"] for a in activities)
    assert kinds.count("created") == 1 and kinds.count("merged") == 29
    assert sorted(profile["tags"]["SS"]) == ["t0", "t1", "t2"]
    assert profile["version"]["N"] == "30"
