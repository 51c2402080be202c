"""The local stack's parts against a real moto server on loopback (no crm dev process):
provisioning from infra/template.yaml, the DynamoDB stream and SQS runtimes, persistence, and
the moto adjustments (serialised requests, per-item transaction rollback)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel, SqsModel

from crm_tools.cfn import FunctionSpec, Resolver, Template
from crm_tools.devstack.moto import (
    MOTO_SETTINGS,
    LocalMotoServer,
    install_fast_stream_reads,
    install_fast_transactions,
    table_change_marker,
    table_items,
    trim_stream,
)
from crm_tools.devstack.persist import StateStore
from crm_tools.devstack.provision import Provisioner, function_environment
from crm_tools.devstack.runtime import DynamoStreamSource, LocalFunction, SqsSource

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture(scope="module")
def moto_server() -> Iterator[LocalMotoServer]:
    install_fast_transactions()
    install_fast_stream_reads()
    server = LocalMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(moto_server: LocalMotoServer) -> Callable[[str], Any]:
    session = boto3.session.Session(region_name=REGION)
    made: dict[str, Any] = {}

    def client(name: str) -> Any:
        if name not in made:
            made[name] = session.client(name, endpoint_url=moto_server.endpoint_url)
        return made[name]

    return client


_counter = iter(range(1_000_000))


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_counter)}-{time.monotonic_ns() % 1_000_000}"


def make_table(clients: Callable[[str], Any]) -> tuple[str, str]:
    name = unique("t")
    ddb = clients("dynamodb")
    description = ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    return name, description["LatestStreamArn"]


def fake_function(handler: Callable[[dict[str, Any], Any], Any], name: str = "Worker") -> LocalFunction:
    spec = FunctionSpec(f"{name}Function", {"Handler": "x.handler", "Timeout": 10, "MemorySize": 128}, None)
    function = LocalFunction(
        spec, physical_name=f"crm-local-{name}", arn=f"arn:aws:lambda:{REGION}:1:function:x"
    )
    function._handler = handler
    return function


def wait_for(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# ---------------------------------------------------------------- provisioning


@pytest.fixture(scope="module")
def provisioned(clients: Callable[[str], Any]) -> tuple[Template, Resolver, Any]:
    """The real template, provisioned as `crm dev` does (same stack name, same moto id settings)."""
    template = Template.load(ROOT / "infra" / "template.yaml")
    resolver = Resolver(template, stack_name="crm-local", region=REGION)
    saved = {k: os.environ.get(k) for k in MOTO_SETTINGS}
    os.environ.update(MOTO_SETTINGS)
    try:
        result = Provisioner(template, resolver, clients).provision()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return template, resolver, result


def test_provisioning_creates_the_template_resources(provisioned: Any, clients: Callable[[str], Any]) -> None:
    template, resolver, result = provisioned
    table = clients("dynamodb").describe_table(TableName=result.tables["CrmTable"])["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"gsi1", "gsi2"}
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [k["AttributeName"] for k in table["KeySchema"]] == ["pk", "sk"]
    ttl = clients("dynamodb").describe_time_to_live(TableName=result.tables["CrmTable"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
    bucket = result.buckets["ResumeBucket"]
    assert clients("s3").get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    pool_id = result.user_pools["UserPool"]
    pool = clients("cognito-idp").describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert pool["UsernameAttributes"] == ["email"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] == 12
    groups = clients("cognito-idp").list_groups(UserPoolId=pool_id)["Groups"]
    assert {g["GroupName"] for g in groups} >= {"admin", "recruiter"}
    client_id = resolver.ref("UserPoolClient")
    described = clients("cognito-idp").describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
    assert "ALLOW_USER_PASSWORD_AUTH" in described["UserPoolClient"]["ExplicitAuthFlows"]
    assert clients("events").describe_event_bus(Name=resolver.ref("EventBus"))["Name"] == "crm-local-events"
    for logical_id in template.of_type("AWS::SQS::Queue"):
        assert result.queues[logical_id].endswith("/" + resolver.get_att(logical_id, "QueueName"))


def test_events_env_json_matches_what_the_local_stack_provisions(provisioned: Any) -> None:
    template, resolver, _ = provisioned
    env_json = json.loads((ROOT / "events" / "env.json").read_text())
    for spec in template.functions():
        env = function_environment(template, resolver, spec.logical_id)
        stale = {
            k: (env_json["Parameters"].get(k), v)
            for k, v in env.items()
            if env_json["Parameters"].get(k) != v
        }
        assert not stale, (
            f"events/env.json is out of date for {spec.logical_id}: {stale} (run `crm env-json`)"
        )
        assert env_json.get(spec.logical_id, env) == env


def test_demo_users_can_log_in(provisioned: Any, clients: Callable[[str], Any]) -> None:
    from crm_tools.seed import DEMO_USERS, create_demo_users

    _, resolver, result = provisioned
    pool_id = result.user_pools["UserPool"]
    cognito = clients("cognito-idp")
    create_demo_users(cognito, pool_id, "Another-Password-1")
    create_demo_users(cognito, pool_id, "Another-Password-1")  # every start: idempotent
    for username, group in DEMO_USERS:
        auth = cognito.initiate_auth(
            ClientId=resolver.ref("UserPoolClient"),
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": "Another-Password-1"},
        )
        assert auth["AuthenticationResult"]["IdToken"]
        groups = cognito.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
        assert [g["GroupName"] for g in groups] == [group]


# ---------------------------------------------------------------- DynamoDB stream runtime


def stream_source(
    clients: Callable[[str], Any],
    handler: Callable[[dict[str, Any], Any], Any],
    stream_arn: str,
    stop: threading.Event,
    **props: Any,
) -> DynamoStreamSource:
    properties = {"Stream": stream_arn, "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]}
    properties.update(props)
    queue_urls = {}
    destination = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if destination:
        queue_urls[destination] = props.pop("_queue_url")
        properties.pop("_queue_url", None)
    return DynamoStreamSource(
        fake_function(handler),
        properties,
        streams_client=clients("dynamodbstreams"),
        sqs_client=clients("sqs"),
        queue_urls=queue_urls,
        region=REGION,
        stop=stop,
        backoff=lambda attempt: 0.01,
    )


def put(clients: Callable[[str], Any], table: str, *keys: str) -> None:
    for key in keys:
        clients("dynamodb").put_item(TableName=table, Item={"pk": {"S": key}, "v": {"N": "1"}})


def keys_of(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]]


def test_stream_records_reach_the_handler_in_lambda_shape_and_old_items_are_not_replayed(
    clients: Callable[[str], Any],
) -> None:
    table, stream_arn = make_table(clients)
    put(clients, table, "restored-1", "restored-2")  # what a restore writes before the runtime starts
    batches: list[dict[str, Any]] = []
    stop = threading.Event()
    source = stream_source(clients, lambda event, ctx: batches.append(event), stream_arn, stop, BatchSize=3)
    source.prepare()
    source.start()
    try:
        put(clients, table, *[f"k{i}" for i in range(7)])
        clients("dynamodb").delete_item(TableName=table, Key={"pk": {"S": "k0"}})
        wait_for(lambda: sum(len(b["Records"]) for b in batches) >= 8)
        assert source.wait_idle(10)
    finally:
        stop.set()
        source.join(5)
    delivered = [k for b in batches for k in keys_of(b)]
    assert delivered == [f"k{i}" for i in range(7)] + ["k0"]
    assert all(len(b["Records"]) <= 3 for b in batches)
    for batch in batches:
        DynamoDBStreamModel.model_validate(batch)
        for record in batch["Records"]:
            assert record["eventSourceARN"] == stream_arn
            assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], float)
    assert batches[-1]["Records"][-1]["eventName"] == "REMOVE"
    assert "OldImage" in batches[-1]["Records"][-1]["dynamodb"]


def test_partial_batch_failures_are_retried_from_the_first_failed_record(
    clients: Callable[[str], Any],
) -> None:
    table, stream_arn = make_table(clients)
    calls: list[list[str]] = []
    seen: dict[str, int] = {}
    fail_times = {"b": 1, "d": 2}  # b fails once, d twice

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(keys_of(event))
        failures = []
        for record in event["Records"]:
            key = record["dynamodb"]["Keys"]["pk"]["S"]
            seen[key] = seen.get(key, 0) + 1
            if seen[key] <= fail_times.get(key, 0):
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
        return {"batchItemFailures": failures}

    stop = threading.Event()
    source = stream_source(
        clients, handler, stream_arn, stop, BatchSize=10, MaximumBatchingWindowInSeconds=0.5
    )
    source.prepare()
    put(clients, table, "a", "b", "c", "d", "e")
    source.start()
    try:
        wait_for(lambda: len(calls) >= 3)
        assert source.wait_idle(10)
    finally:
        stop.set()
        source.join(5)
    # b and d fail on the first call: Lambda retries from b (the lowest); d fails again: from d.
    assert calls == [["a", "b", "c", "d", "e"], ["b", "c", "d", "e"], ["d", "e"]]


def test_exhausted_retries_send_a_failure_record_and_the_shard_moves_on(
    clients: Callable[[str], Any],
) -> None:
    table, stream_arn = make_table(clients)
    queue_url = clients("sqs").create_queue(QueueName=unique("failures"))["QueueUrl"]
    queue_arn = clients("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> Any:
        calls.append(keys_of(event))
        if "poison" in keys_of(event):
            raise RuntimeError("cannot handle jane@example.com")  # the message must not be logged
        return None

    stop = threading.Event()
    source = stream_source(
        clients,
        handler,
        stream_arn,
        stop,
        BatchSize=1,
        MaximumRetryAttempts=2,
        BisectBatchOnFunctionError=True,
        DestinationConfig={"OnFailure": {"Destination": queue_arn}},
        _queue_url=queue_url,
    )
    source.prepare()
    source.start()
    try:
        put(clients, table, "poison", "after")
        wait_for(lambda: ["after"] in calls)
    finally:
        stop.set()
        source.join(5)
    assert calls.count(["poison"]) == 3  # the first try and two retries
    messages = clients("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert body["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["responseContext"]["functionError"] == "Unhandled"
    info = body["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1 and info["streamArn"] == stream_arn
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert "poison" not in messages[0]["Body"], "the failure record carries no record data"


def test_function_errors_bisect_the_batch(clients: Callable[[str], Any]) -> None:
    table, stream_arn = make_table(clients)
    calls: list[list[str]] = []

    def handler(event: dict[str, Any], context: Any) -> None:
        keys = keys_of(event)
        calls.append(keys)
        if "x" in keys and len(keys) > 1:
            raise ValueError("batch too big")

    stop = threading.Event()
    source = stream_source(
        clients,
        handler,
        stream_arn,
        stop,
        BatchSize=4,
        MaximumBatchingWindowInSeconds=0.5,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=5,
    )
    source.prepare()
    put(clients, table, "a", "x", "c", "d")
    source.start()
    try:
        wait_for(lambda: ["x"] in calls and ["c", "d"] in calls)
    finally:
        stop.set()
        source.join(5)
    assert calls[0] == ["a", "x", "c", "d"]
    assert calls[1:] == [["a", "x"], ["a"], ["x"], ["c", "d"]]


def test_handler_import_errors_do_not_kill_the_runtime(tmp_path: Path, clients: Callable[[str], Any]) -> None:
    table, stream_arn = make_table(clients)
    stop = threading.Event()
    spec = FunctionSpec("BrokenFunction", {"Handler": "missing_module.handler", "Timeout": 3}, tmp_path)
    function = LocalFunction(spec, physical_name="crm-local-BrokenFunction", arn="arn:aws:lambda:x")
    source = DynamoStreamSource(
        function,
        {"Stream": stream_arn, "BatchSize": 10, "MaximumRetryAttempts": 1},
        streams_client=clients("dynamodbstreams"),
        sqs_client=clients("sqs"),
        queue_urls={},
        region=REGION,
        stop=stop,
        backoff=lambda attempt: 0.01,
    )
    source.prepare()
    source.start()
    try:
        put(clients, table, "a")
        assert source.wait_idle(10)
        assert source.is_alive()
    finally:
        stop.set()
        source.join(5)


# ---------------------------------------------------------------- SQS runtime


def test_sqs_consumer_deletes_only_successes_and_moto_redrives_failures(
    clients: Callable[[str], Any],
) -> None:
    sqs = clients("sqs")
    dlq_url = sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    queue_url = sqs.create_queue(
        QueueName=unique("work"),
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}),
        },
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    handled: list[str] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        SqsModel.model_validate(event)
        failures = []
        for record in event["Records"]:
            handled.append(record["body"])
            if record["body"] == "bad":
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}

    stop = threading.Event()
    source = SqsSource(
        fake_function(handler),
        {"Queue": queue_arn, "BatchSize": 10, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
        sqs_client=sqs,
        queue_urls={queue_arn: queue_url},
        region=REGION,
        stop=stop,
    )
    for body in ("good", "bad", "also good"):
        sqs.send_message(QueueUrl=queue_url, MessageBody=body)
    source.start()
    try:

        def bad_in_dlq() -> bool:
            found = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30)
            return any(m["Body"] == "bad" for m in found.get("Messages", []))

        wait_for(bad_in_dlq)
        assert source.wait_idle(10)
    finally:
        stop.set()
        source.join(5)
    assert handled.count("good") == 1 and handled.count("also good") == 1
    assert handled.count("bad") == 2  # maxReceiveCount
    remaining = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    assert remaining["Attributes"]["ApproximateNumberOfMessages"] == "0"


# ---------------------------------------------------------------- persistence


def test_state_survives_a_dump_and_a_restore_into_a_new_server(
    tmp_path: Path, moto_server: LocalMotoServer, clients: Callable[[str], Any]
) -> None:
    table, _ = make_table(clients)
    bucket = unique("bucket")
    clients("s3").create_bucket(Bucket=bucket)
    item = {
        "pk": {"S": "CAND#1"},
        "name": {"S": "Zoë"},
        "bin": {"B": b"\x00\xff"},
        "tags": {"SS": ["a", "b"]},
    }
    clients("dynamodb").put_item(TableName=table, Item=item)
    clients("s3").put_object(
        Bucket=bucket,
        Key="resumes/cv 1.pdf",
        Body=b"%PDF-1.7",
        ContentType="application/pdf",
        Metadata={"candidate": "1"},
    )

    def reader(name: str) -> Any:
        return table_items(name, region=REGION, lock=moto_server.lock)

    def marker(name: str) -> Any:
        return table_change_marker(name, region=REGION, lock=moto_server.lock)

    scheduler = clients("scheduler")
    scheduler.create_schedule_group(Name="campaigns-a")
    one_time = {
        "Name": "campaign-1",
        "GroupName": "campaigns-a",
        "ScheduleExpression": "at(2030-01-01T09:00:00)",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "ActionAfterCompletion": "DELETE",
        "Target": {
            "Arn": "arn:aws:sqs:us-east-1:123456789012:dispatch",
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": '{"kind": "campaign", "id": "1"}',
        },
    }
    scheduler.create_schedule(**one_time)
    store = StateStore(
        tmp_path,
        dynamodb=clients("dynamodb"),
        s3=clients("s3"),
        tables={"CrmTable": table},
        buckets={"ResumeBucket": bucket},
        item_reader=reader,
        change_marker=marker,
        scheduler=scheduler,
        schedule_groups={"CampaignScheduleGroup": "campaigns-a"},
    )
    assert store.dump() is True
    assert store.dump() is False  # nothing changed
    saved = json.loads((tmp_path / "state" / "dynamodb" / "CrmTable.json").read_text())
    assert saved["items"][0]["bin"] == {"B": "AP8="}

    other = LocalMotoServer()
    other.start()
    try:
        session = boto3.session.Session(region_name=REGION)
        ddb = session.client("dynamodb", endpoint_url=other.endpoint_url)
        s3 = session.client("s3", endpoint_url=other.endpoint_url)
        ddb.create_table(
            TableName="restored",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        s3.create_bucket(Bucket="restored-bucket")
        other_scheduler = session.client("scheduler", endpoint_url=other.endpoint_url)
        other_scheduler.create_schedule_group(Name="campaigns-b")
        restored = StateStore(
            tmp_path,
            dynamodb=ddb,
            s3=s3,
            tables={"CrmTable": "restored"},
            buckets={"ResumeBucket": "restored-bucket"},
            scheduler=other_scheduler,
            schedule_groups={"CampaignScheduleGroup": "campaigns-b"},
        )
        assert restored.restore() == {"CrmTable": 1, "ResumeBucket": 1, "CampaignScheduleGroup": 1}
        schedule = other_scheduler.get_schedule(Name="campaign-1", GroupName="campaigns-b")
        assert schedule["ScheduleExpression"] == one_time["ScheduleExpression"]
        assert schedule["Target"]["Input"] == one_time["Target"]["Input"]
        assert schedule["ActionAfterCompletion"] == "DELETE"
        assert ddb.get_item(TableName="restored", Key={"pk": {"S": "CAND#1"}})["Item"] == item
        obj = s3.get_object(Bucket="restored-bucket", Key="resumes/cv 1.pdf")
        assert obj["Body"].read() == b"%PDF-1.7"
        assert obj["ContentType"] == "application/pdf" and obj["Metadata"] == {"candidate": "1"}
        assert restored.dump() is False  # what was restored is what is saved
    finally:
        other.stop()


# ---------------------------------------------------------------- moto adjustments


def test_failed_transactions_leave_no_writes_and_no_stream_records(clients: Callable[[str], Any]) -> None:
    table, stream_arn = make_table(clients)
    ddb = clients("dynamodb")
    put(clients, table, "taken")
    ddb.put_item(TableName=table, Item={"pk": {"S": "cand"}, "v": {"S": "before"}})
    streams = clients("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "cand"}},
                        "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "after"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": {"pk": {"S": "taken"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "cand"}})["Item"]["v"] == {"S": "before"}
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "new"}})
    response = streams.get_records(ShardIterator=iterator)
    assert response["Records"] == []
    put(clients, table, "later")
    assert [
        r["eventName"] for r in streams.get_records(ShardIterator=response["NextShardIterator"])["Records"]
    ] == ["INSERT"]


def test_concurrent_unique_claims_have_exactly_one_winner(clients: Callable[[str], Any]) -> None:
    table, _ = make_table(clients)
    ddb = clients("dynamodb")
    put(clients, table, *[f"filler{i}" for i in range(50)])
    wins: list[int] = []

    def claim(n: int) -> None:
        try:
            ddb.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": table, "Item": {"pk": {"S": f"cand{n}"}}}},
                    {
                        "Put": {
                            "TableName": table,
                            "Item": {"pk": {"S": "EMAIL#same"}, "owner": {"N": str(n)}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
            wins.append(n)
        except ddb.exceptions.TransactionCanceledException:
            pass

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
    owner = ddb.get_item(TableName=table, Key={"pk": {"S": "EMAIL#same"}})["Item"]["owner"]["N"]
    assert owner == str(wins[0])
    losers = [n for n in range(20) if n not in wins]
    assert all("Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": f"cand{n}"}}) for n in losers)


def test_consumed_stream_records_can_be_trimmed(
    moto_server: LocalMotoServer, clients: Callable[[str], Any]
) -> None:
    table, stream_arn = make_table(clients)
    put(clients, table, "a", "b", "c")
    streams = clients("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    start = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    before = table_change_marker(table, region=REGION, lock=moto_server.lock)
    assert trim_stream(table, start + 2, region=REGION, lock=moto_server.lock) == 2
    assert table_change_marker(table, region=REGION, lock=moto_server.lock) == before
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert [
        r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=iterator)["Records"]
    ] == ["c"]
