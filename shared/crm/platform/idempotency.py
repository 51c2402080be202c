"""Powertools idempotency records in the stack's table: a retried request with the same key (and
the same payload) gets the first answer, not a second effect."""

from __future__ import annotations

from typing import Any

from crm.platform import aws
from crm.platform.config import get_settings


def persistence_layer() -> Any:
    """Powertools' DynamoDB persistence layer on the stack's table (``pk``/``sk`` keys, ``ttl``)."""
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=get_settings().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr="ttl",
        boto3_client=aws.client("dynamodb"),
    )
