"""A moto-backed stack for integration tests, built from infra/template.yaml's own resources,
so tests cannot drift from the infrastructure."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from crm_tools.cfn import Template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "infra" / "template.yaml"
STACK = "crm-test"
MAIL_FROM = "Example Talent <talent@example.com>"


@dataclass
class TestStack:
    table: str
    bucket: str
    bus: str
    user_pool_id: str
    client_id: str
    signing_secret_arn: str = ""
    queues: dict[str, str] = field(default_factory=dict)  # name -> URL
    schedule_group: str = ""

    def queue_arn(self, name: str) -> str:
        return f"arn:aws:sqs:us-east-1:123456789012:{STACK}-{name}"

    def env(self) -> dict[str, str]:
        return {
            "DISPATCH_QUEUE_URL": self.queues.get("dispatch", ""),
            "DISPATCH_QUEUE_ARN": self.queue_arn("dispatch"),
            "MAIL_QUEUE_URL": self.queues.get("mail", ""),
            "SCHEDULE_GROUP": self.schedule_group,
            "SCHEDULER_ROLE_ARN": f"arn:aws:iam::123456789012:role/{STACK}-scheduler",
            "MAIL_FROM": MAIL_FROM,
            "TABLE_NAME": self.table,
            "RESUME_BUCKET": self.bucket,
            "EVENT_BUS_NAME": self.bus,
            "USER_POOL_ID": self.user_pool_id,
            "USER_POOL_CLIENT_ID": self.client_id,
            "SIGNING_SECRET_ARN": self.signing_secret_arn,
            "PUBLIC_BASE_URL": "https://careers.example.com",
            # webhooks
            "WEBHOOK_QUEUE_URL": self.queues.get("webhooks", ""),
            "EXPORT_QUEUE_URL": self.queues.get("export", ""),  # exports
            # imports slice
            "IMPORT_QUEUE_URL": self.queues.get("import", ""),
        }


def _table_spec(template: Template) -> dict[str, Any]:
    props = template.properties("CrmTable")
    return {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "BillingMode": props["BillingMode"],
        "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]},
    }


def provision(region: str = "us-east-1") -> TestStack:
    """Create the stack's data resources in whatever moto back end boto3 currently talks to."""
    template = Template.load(TEMPLATE)
    table = f"{STACK}-crm"
    ddb = boto3.client("dynamodb", region_name=region)
    ddb.create_table(TableName=table, **_table_spec(template))
    ddb.update_time_to_live(
        TableName=table,
        TimeToLiveSpecification=template.properties("CrmTable")["TimeToLiveSpecification"]
        | {"Enabled": True},
    )
    bucket = f"{STACK}-resumes"
    s3 = boto3.client("s3", region_name=region)
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    bus = f"{STACK}-events"
    boto3.client("events", region_name=region).create_event_bus(Name=bus)
    idp = boto3.client("cognito-idp", region_name=region)
    pool_props = template.properties("UserPool")
    pool = idp.create_user_pool(
        PoolName=f"{STACK}-users",
        UsernameAttributes=pool_props["UsernameAttributes"],
        Policies=pool_props["Policies"],
    )["UserPool"]["Id"]
    client_props = template.properties("UserPoolClient")
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName=f"{STACK}-api", ExplicitAuthFlows=client_props["ExplicitAuthFlows"]
    )["UserPoolClient"]["ClientId"]
    for group in ("AdminGroup", "RecruiterGroup", "HiringManagerGroup", "EmployeeGroup"):
        idp.create_group(GroupName=template.properties(group)["GroupName"], UserPoolId=pool)
    secret = boto3.client("secretsmanager", region_name=region).create_secret(
        Name=f"{STACK}-signing", SecretString=secrets.token_urlsafe(48)
    )["ARN"]
    sqs = boto3.client("sqs", region_name=region)
    queues: dict[str, str] = {}
    queue_ids = ("DispatchDLQ", "DispatchQueue", "MailDLQ", "MailQueue", "WebhookDLQ", "WebhookQueue")
    queue_ids += ("ExportDLQ", "ExportQueue")  # exports
    queue_ids += ("ImportDLQ", "ImportQueue")  # imports slice
    for logical_id in queue_ids:
        props = template.properties(logical_id)
        name = (
            str(props["QueueName"]["Fn::Sub"]).replace("${AWS::StackName}", STACK).removeprefix(f"{STACK}-")
        )
        attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
        if "RedrivePolicy" in props:
            dlq = f"{name}-dlq"
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": f"arn:aws:sqs:{region}:123456789012:{STACK}-{dlq}",
                    "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"],
                }
            )
        queues[name] = sqs.create_queue(QueueName=f"{STACK}-{name}", Attributes=attributes)["QueueUrl"]
    schedule_group = f"{STACK}-campaigns"
    boto3.client("scheduler", region_name=region).create_schedule_group(Name=schedule_group)
    boto3.client("ses", region_name=region).verify_email_identity(EmailAddress="talent@example.com")
    return TestStack(
        table=table,
        bucket=bucket,
        bus=bus,
        user_pool_id=pool,
        client_id=client,
        signing_secret_arn=secret,
        queues=queues,
        schedule_group=schedule_group,
    )


def create_user(stack: TestStack, email: str, password: str, group: str | None) -> None:
    idp = boto3.client("cognito-idp", region_name=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    idp.admin_create_user(
        UserPoolId=stack.user_pool_id,
        Username=email,
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(
        UserPoolId=stack.user_pool_id, Username=email, Password=password, Permanent=True
    )
    if group:
        idp.admin_add_user_to_group(UserPoolId=stack.user_pool_id, Username=email, GroupName=group)
