"""The AWS the benchmark's child processes talk to: an embedded moto server on loopback,
provisioned once from infra/template.yaml, with a signed-in recruiter and the data each figure needs.

The server runs on a thread of the benchmark process, so this process can also write straight
into moto's back end (see ``seed``); the measured code always runs in child processes.
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "bench"
#: On a child's PYTHONPATH ahead of the installed project: in a git worktree the editable install
#: points at the main checkout's shared/, not this one's.
SHARED_DIR = ROOT / "shared"
API_DIR = ROOT / "functions" / "api"
STREAM_DIR = ROOT / "functions" / "stream"
REGION = "us-east-1"
PASSWORD = "Correct-Horse-42"  # a test user's password in moto
RECRUITER = "bench-recruiter@example.com"

# Never a real account: fake credentials and no shared config files, here and in every child.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
}
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "crm",
    "POWERTOOLS_METRICS_NAMESPACE": "CRM",
    "POWERTOOLS_LOG_LEVEL": "INFO",  # the template's default
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class BenchStack:
    endpoint: str
    server: Any
    env: dict[str, str]  # TABLE_NAME ... as the template sets them
    token: str
    candidate_id: str
    candidate_email: str
    job_id: str
    warm_table: str
    warm_candidate_id: str
    joins_table: str
    lists_table: str

    def child_env(
        self,
        *,
        table: str | None = None,
        pythonpath: list[Path] | None = None,
        extra: dict[str, str] | None = None,
    ) -> dict[str, str]:
        """A Lambda-like environment: the function's variables, fake credentials, this endpoint.
        Nothing AWS_* or PYTHON* leaks in from the caller's environment."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "POWERTOOLS_"))}
        base.update(FAKE_AWS)
        base.update(LAMBDA_ENV)
        base.update(self.env)
        missing = str(BUILD / "no-aws-config")
        base.update(
            AWS_ENDPOINT_URL=self.endpoint,
            AWS_CONFIG_FILE=missing,
            AWS_SHARED_CREDENTIALS_FILE=missing,
        )
        if table:
            base["TABLE_NAME"] = table
        if pythonpath:
            base["PYTHONPATH"] = os.pathsep.join(str(p) for p in pythonpath)
        base.update(extra or {})
        return base

    def stop(self) -> None:
        self.server.stop()


def start(*, list_candidates: int = 30) -> BenchStack:
    """Start moto on a free loopback port, provision the stack, sign a recruiter in, and seed.

    Four tables of the template's design, each small where requests are timed, because moto's
    time per request grows with the table (a Query sorts every item of the table):

    - the stack's table (cold starts): one candidate created through ``CandidateService.intake``
      (as the public form does) and one open job;
    - ``-warm`` (warm reads, request counts): ``list_candidates`` list-ready candidates, all tagged
      ``python`` so that a page of 25 is full;
    - ``-joins`` (warm public joins, which add three items each): empty;
    - ``-lists`` (list scaling): empty, loaded by that figure.
    """
    import shutil

    shutil.rmtree(BUILD / "runs", ignore_errors=True)
    BUILD.mkdir(parents=True, exist_ok=True)
    for key in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[key]
    os.environ.update(FAKE_AWS)
    os.environ.update(LAMBDA_ENV)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    import logging

    from moto.server import ThreadedMotoServer

    from tests.bench import moto_speed

    moto_speed.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint

    sys.path[:0] = [str(ROOT)]
    import boto3

    from crm.candidates.models import PublicSubmission
    from crm.candidates.service import CandidateService
    from crm.jobs.models import JobCreate
    from crm.jobs.service import JobService
    from crm.platform import aws
    from crm.platform.config import reset_settings
    from tests.bench import seed
    from tests.support.stack import create_user, provision

    stack = provision(REGION)
    create_user(stack, RECRUITER, PASSWORD, "recruiter")
    auth = boto3.client("cognito-idp", region_name=REGION).initiate_auth(
        ClientId=stack.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": RECRUITER, "PASSWORD": PASSWORD},
    )
    token = auth["AuthenticationResult"]["IdToken"]

    os.environ.update(stack.env())
    reset_settings()
    aws.reset_clients()
    email = "cold.start@example.com"
    candidate_id, _ = CandidateService().intake(
        PublicSubmission(
            email=email, first_name="Cold", last_name="Start", tags=["python", "aws"], location="Berlin"
        ),
        source="talent-network",
    )
    job = JobService().create(
        JobCreate(
            title="Backend engineer",
            department="Engineering",
            location="Berlin",
            tags=["python"],
            description="Build the CRM.",
        )
    )
    warm_table = create_table(f"{stack.table}-warm")
    warm = seed.DirectLoader(warm_table)
    first = next(seed.candidates(10_000_000, 1, extra_tag="python"))
    seed.load(warm, 10_000_000, list_candidates, extra_tag="python")
    joins_table = create_table(f"{stack.table}-joins")
    lists_table = create_table(f"{stack.table}-lists")
    return BenchStack(
        endpoint=endpoint,
        server=server,
        env=stack.env(),
        token=token,
        candidate_id=candidate_id,
        candidate_email=email,
        job_id=job.id,
        warm_table=warm_table,
        warm_candidate_id=first["id"],
        joins_table=joins_table,
        lists_table=lists_table,
    )


def create_table(name: str) -> str:
    """A table of the same design as CrmTable (keys, indexes) from the template, without a stream:
    its data is loaded directly, and moto would copy stream records with the table on every
    transaction."""
    import boto3

    from crm_tools.cfn import Template
    from tests.support.stack import TEMPLATE

    props = Template.load(TEMPLATE).properties("CrmTable")
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode=props["BillingMode"],
    )
    return name
