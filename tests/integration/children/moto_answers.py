"""Answers of moto's DynamoDB to a fixed set of queries, scans and writes, printed as JSON.

Run twice by ``tests/integration/test_fast_moto.py``: as moto answers them, and with the local
stack's speed-ups (``install_fast_dynamodb``) installed; the two outputs must be identical.
"""

import json
import os
import random
import sys

os.environ.update(
    AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
)
if sys.argv[1:] == ["fast"]:
    from crm_tools.devstack.moto import install_fast_dynamodb

    assert install_fast_dynamodb()
import boto3
from moto import mock_aws

out: list[object] = []
with mock_aws():
    c = boto3.client("dynamodb", region_name="us-east-1")
    c.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
            {"AttributeName": "gs", "AttributeType": "S"},
            {"AttributeName": "n", "AttributeType": "N"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gi1",
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "gs", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": "gin",
                "KeySchema": [{"AttributeName": "n", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    c.create_table(
        TableName="h",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
        BillingMode="PAY_PER_REQUEST",
    )
    rnd = random.Random(1)
    for i in range(300):
        item = {
            "pk": {"S": f"P{i % 17}"},
            "sk": {"S": f"S{rnd.randint(0, 999):04d}"},
            "v": {"N": str(i)},
            "b": {"B": bytes([i % 256])},
        }
        if i % 3:
            item["g"] = {"S": f"G{i % 5}"}
        if i % 4:
            item["gs"] = {"S": f"X{rnd.randint(0, 50):03d}"}
        if i % 7 == 0:
            item["n"] = {"N": ["1", "1.0", "2", "10"][i % 4]}
        c.put_item(TableName="t", Item=item)
    for i in range(20):
        c.put_item(TableName="h", Item={"id": {"N": str(i)}, "x": {"S": "y"}})

    def q(**kw):
        pages = []
        start = None
        for _ in range(50):
            if start:
                kw["ExclusiveStartKey"] = start
            try:
                r = c.query(**kw)
            except Exception as e:
                pages.append(repr(e))
                break
            r.pop("ResponseMetadata")
            pages.append(r)
            start = r.get("LastEvaluatedKey")
            if not start:
                break
        out.append(pages)

    for p in ["P0", "P3", "P16", "nope"]:
        q(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": p}},
            Limit=7,
        )
        q(
            TableName="t",
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": p}, ":s": {"S": "S0"}},
            ScanIndexForward=False,
        )
        q(
            TableName="t",
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            FilterExpression="v > :z",
            ExpressionAttributeValues={
                ":p": {"S": p},
                ":a": {"S": "S0200"},
                ":b": {"S": "S0600"},
                ":z": {"N": "100"},
            },
            Limit=3,
        )
        q(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": p}},
            Select="COUNT",
        )
    for g in ["G0", "G1", "G4", "zz"]:
        q(
            TableName="t",
            IndexName="gi1",
            KeyConditionExpression="g = :g",
            ExpressionAttributeValues={":g": {"S": g}},
            Limit=5,
        )
        q(
            TableName="t",
            IndexName="gi1",
            KeyConditionExpression="g = :g AND gs > :x",
            ExpressionAttributeValues={":g": {"S": g}, ":x": {"S": "X020"}},
            ScanIndexForward=False,
            Limit=4,
        )
        q(
            TableName="t",
            IndexName="gi1",
            KeyConditionExpression="g = :g",
            FilterExpression="contains(pk, :c)",
            ExpressionAttributeValues={":g": {"S": g}, ":c": {"S": "1"}},
            ProjectionExpression="pk, sk, v",
        )
    for n in ["1", "1.0", "2", "10", "3"]:
        q(
            TableName="t",
            IndexName="gin",
            KeyConditionExpression="n = :n",
            ExpressionAttributeValues={":n": {"N": n}},
        )
    for n in ["1", "19", "25"]:
        q(TableName="h", KeyConditionExpression="id = :i", ExpressionAttributeValues={":i": {"N": n}})
    q(
        TableName="t",
        IndexName="nope",
        KeyConditionExpression="g = :g",
        ExpressionAttributeValues={":g": {"S": "G0"}},
    )
    q(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"N": "1"}})
    r = c.scan(TableName="t", Limit=50)
    r.pop("ResponseMetadata")
    out.append(r)
    try:
        c.put_item(
            TableName="t",
            Item={"pk": {"S": "big"}, "sk": {"S": "1"}, **{f"a{i}": {"S": "x" * 1000} for i in range(420)}},
        )
        out.append("big accepted")
    except Exception as e:
        out.append(repr(e))
    c.put_item(
        TableName="t",
        Item={"pk": {"S": "ok"}, "sk": {"S": "1"}, **{f"a{i}": {"S": "x" * 1000} for i in range(390)}},
    )
    out.append(c.get_item(TableName="t", Key={"pk": {"S": "ok"}, "sk": {"S": "1"}})["Item"]["a5"])
print(json.dumps(out, default=repr, sort_keys=True))
