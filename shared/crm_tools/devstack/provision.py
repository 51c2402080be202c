"""Create the template's resources in the embedded moto, so local and deployed cannot drift.

Each supported resource type has a small function that turns the (resolved)
CloudFormation properties into the API calls CloudFormation would make, and
records what ``Ref`` and ``Fn::GetAtt`` return for it. Types that have no local
meaning (alarms, log groups, IAM, the REST API in front of the Chalice app, ...) get
a placeholder physical id so that references to them still resolve.

Resources without an explicit name get a deterministic one, ``<stack>-<LogicalId>``
(lower-case for buckets), where CloudFormation would add a random suffix.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from crm_tools.cfn import FUNCTION_TYPES, Resolver, Template, UnresolvedReference, to_env_value

log = logging.getLogger("devstack")


@dataclass
class Provisioned:
    """What the local stack created."""

    tables: dict[str, str] = field(default_factory=dict)  # logical id -> table name
    buckets: dict[str, str] = field(default_factory=dict)  # logical id -> bucket name
    queues: dict[str, str] = field(default_factory=dict)  # logical id -> queue URL
    schedule_groups: dict[str, str] = field(default_factory=dict)  # logical id -> group name
    queue_urls_by_arn: dict[str, str] = field(default_factory=dict)
    user_pools: dict[str, str] = field(default_factory=dict)  # logical id -> pool id
    functions: dict[str, str] = field(default_factory=dict)  # logical id -> function name
    skipped: dict[str, str] = field(default_factory=dict)  # logical id -> type


class Provisioner:
    def __init__(self, template: Template, resolver: Resolver, clients: Callable[[str], Any]) -> None:
        self.template = template
        self.resolver = resolver
        self.client = clients
        self.result = Provisioned()
        resolver.attribute_fallback = self._attribute_fallback

    # ------------------------------------------------------------ naming

    @property
    def stack(self) -> str:
        return self.resolver.stack_name

    @property
    def region(self) -> str:
        return self.resolver.region

    @property
    def account(self) -> str:
        return self.resolver.account_id

    def default_name(self, logical_id: str, *, lower: bool = False, limit: int = 64) -> str:
        name = f"{self.stack}-{logical_id}"
        return (name.lower() if lower else name)[:limit]

    def _attribute_fallback(self, logical_id: str, attribute: str) -> Any:
        """ARNs of resources that have no local counterpart, so references still resolve."""
        if attribute == "Arn":
            kind = self.template.resource_type(logical_id).split("::")[1].lower()
            return f"arn:aws:{kind}:{self.region}:{self.account}:{self.default_name(logical_id)}"
        return None

    # ------------------------------------------------------------ driver

    def provision(self) -> Provisioned:
        handlers: dict[str, Callable[[str, dict[str, Any]], None]] = {
            "AWS::DynamoDB::Table": self.table,
            "AWS::S3::Bucket": self.bucket,
            "AWS::Cognito::UserPool": self.user_pool,
            "AWS::Cognito::UserPoolClient": self.user_pool_client,
            "AWS::Cognito::UserPoolGroup": self.user_pool_group,
            "AWS::Events::EventBus": self.event_bus,
            "AWS::Events::Rule": self.event_rule,
            "AWS::SQS::Queue": self.queue,
            "AWS::SNS::Topic": self.topic,
            "AWS::SecretsManager::Secret": self.secret,
            "AWS::SES::EmailIdentity": self.email_identity,
            "AWS::Scheduler::ScheduleGroup": self.schedule_group,
        }
        for logical_id in self.template.creation_order():
            if not self.resolver.is_active(logical_id):
                continue
            kind = self.template.resource_type(logical_id)
            handler = handlers.get(kind)
            if kind in FUNCTION_TYPES:
                self.function(logical_id)
            elif handler is None:
                self.placeholder(logical_id, kind)
            else:
                props = self.resolver.resolve(self.template.properties(logical_id))
                handler(logical_id, props)
        return self.result

    def placeholder(self, logical_id: str, kind: str) -> None:
        self.result.skipped[logical_id] = kind
        self.resolver.refs[logical_id] = self.default_name(logical_id)
        log.debug("%s (%s) has no local counterpart", logical_id, kind)

    # ------------------------------------------------------------ data

    def table(self, logical_id: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        name = props.get("TableName") or self.default_name(logical_id, limit=255)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
        }
        mode = props.get("BillingMode", "PROVISIONED")
        kwargs["BillingMode"] = mode
        throughput = props.get("ProvisionedThroughput") or {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
        if mode == "PROVISIONED":
            kwargs["ProvisionedThroughput"] = throughput
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            indexes = []
            for index in props.get(key) or []:
                index = {k: v for k, v in index.items() if k != "ContributorInsightsSpecification"}
                if key == "GlobalSecondaryIndexes" and mode == "PROVISIONED":
                    index.setdefault("ProvisionedThroughput", throughput)
                indexes.append(index)
            if indexes:
                kwargs[key] = indexes
        stream = props.get("StreamSpecification")
        if stream:
            kwargs["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        if props.get("Tags"):
            kwargs["Tags"] = props["Tags"]
        description = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled"):
            ddb.update_time_to_live(
                TableName=name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
            )
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = description["TableArn"]
        if description.get("LatestStreamArn"):
            self.resolver.attributes[(logical_id, "StreamArn")] = description["LatestStreamArn"]
        self.result.tables[logical_id] = name

    def bucket(self, logical_id: str, props: dict[str, Any]) -> None:
        s3 = self.client("s3")
        name = props.get("BucketName") or self.default_name(logical_id, lower=True, limit=63)
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region})
        versioning = (props.get("VersioningConfiguration") or {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": versioning})
        cors = (props.get("CorsConfiguration") or {}).get("CorsRules")
        if cors:
            rename = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
            rules = [{rename.get(k, k): v for k, v in rule.items()} for rule in cors]
            s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
        queues = (props.get("NotificationConfiguration") or {}).get("QueueConfigurations") or []
        if queues:
            # moto delivers S3 event notifications to SQS as S3 does (the inbound mail path).
            configurations = []
            for queue in queues:
                configuration: dict[str, Any] = {"QueueArn": queue["Queue"], "Events": [queue["Event"]]}
                key_filter = ((queue.get("Filter") or {}).get("S3Key") or {}).get("Rules")
                if key_filter:
                    configuration["Filter"] = {"Key": {"FilterRules": key_filter}}
                configurations.append(configuration)
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": configurations}
            )
        self.resolver.refs[logical_id] = name
        for attribute, value in {
            "Arn": f"arn:aws:s3:::{name}",
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{self.region}.amazonaws.com",
        }.items():
            self.resolver.attributes[(logical_id, attribute)] = value
        self.result.buckets[logical_id] = name

    # ------------------------------------------------------------ identity

    _POOL_KEYS = (
        "Policies",
        "AutoVerifiedAttributes",
        "AliasAttributes",
        "UsernameAttributes",
        "MfaConfiguration",
        "AdminCreateUserConfig",
        "Schema",
        "UsernameConfiguration",
        "AccountRecoverySetting",
        "VerificationMessageTemplate",
        "UserAttributeUpdateSettings",
        "DeletionProtection",
        "UserPoolTags",
    )

    def user_pool(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        kwargs = {k: props[k] for k in self._POOL_KEYS if k in props}
        admin = kwargs.get("AdminCreateUserConfig")
        if admin:
            kwargs["AdminCreateUserConfig"] = {
                k: v for k, v in admin.items() if k != "UnusedAccountValidityDays"
            }
        name = props.get("UserPoolName") or self.default_name(logical_id, limit=128)
        pool = cognito.create_user_pool(PoolName=name, **kwargs)["UserPool"]
        pool_id = pool["Id"]
        self.resolver.refs[logical_id] = pool_id
        provider = f"cognito-idp.{self.region}.amazonaws.com/{pool_id}"
        for attribute, value in {
            "Arn": pool["Arn"],
            "UserPoolId": pool_id,
            "ProviderName": provider,
            "ProviderURL": f"https://{provider}",
        }.items():
            self.resolver.attributes[(logical_id, attribute)] = value
        self.result.user_pools[logical_id] = pool_id

    _CLIENT_KEYS = (
        "GenerateSecret",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "AuthSessionValidity",
    )

    def user_pool_client(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        kwargs = {k: props[k] for k in self._CLIENT_KEYS if k in props}
        name = props.get("ClientName") or self.default_name(logical_id, limit=128)
        created = cognito.create_user_pool_client(UserPoolId=props["UserPoolId"], ClientName=name, **kwargs)
        client = created["UserPoolClient"]
        self.resolver.refs[logical_id] = client["ClientId"]
        self.resolver.attributes[(logical_id, "ClientId")] = client["ClientId"]
        self.resolver.attributes[(logical_id, "Name")] = name
        if client.get("ClientSecret"):
            self.resolver.attributes[(logical_id, "ClientSecret")] = client["ClientSecret"]

    def user_pool_group(self, logical_id: str, props: dict[str, Any]) -> None:
        cognito = self.client("cognito-idp")
        name = props.get("GroupName") or self.default_name(logical_id, limit=128)
        kwargs = {k: props[k] for k in ("Description", "Precedence") if k in props}
        cognito.create_group(GroupName=name, UserPoolId=props["UserPoolId"], **kwargs)
        self.resolver.refs[logical_id] = name

    # ------------------------------------------------------------ events and queues

    def event_bus(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("Name") or self.default_name(logical_id)
        arn = self.client("events").create_event_bus(Name=name)["EventBusArn"]
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = arn
        self.resolver.attributes[(logical_id, "Name")] = name

    def event_rule(self, logical_id: str, props: dict[str, Any]) -> None:
        """A rule on a bus; only targets moto can deliver to (SQS, SNS) are attached."""
        events = self.client("events")
        name = props.get("Name") or self.default_name(logical_id)
        bus = str(props.get("EventBusName") or "default")
        bus = bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        kwargs: dict[str, Any] = {"Name": name, "EventBusName": bus, "State": props.get("State", "ENABLED")}
        if "EventPattern" in props:
            pattern = props["EventPattern"]
            kwargs["EventPattern"] = pattern if isinstance(pattern, str) else json.dumps(pattern)
        if "ScheduleExpression" in props:
            kwargs["ScheduleExpression"] = props["ScheduleExpression"]
        if "Description" in props:
            kwargs["Description"] = props["Description"]
        arn = events.put_rule(**kwargs)["RuleArn"]
        targets = []
        for target in props.get("Targets") or []:
            if str(target.get("Arn", "")).startswith(("arn:aws:sqs:", "arn:aws:sns:")):
                keys = ("Id", "Arn", "Input", "InputPath", "InputTransformer", "SqsParameters", "RetryPolicy")
                targets.append({k: target[k] for k in keys if k in target})
            else:
                log.info("%s: target %s is not delivered locally", logical_id, target.get("Id"))
        if targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        self.resolver.refs[logical_id] = name if bus == "default" else f"{bus}|{name}"
        self.resolver.attributes[(logical_id, "Arn")] = arn

    _QUEUE_ATTRIBUTES = (
        "DelaySeconds",
        "MaximumMessageSize",
        "MessageRetentionPeriod",
        "ReceiveMessageWaitTimeSeconds",
        "VisibilityTimeout",
        "FifoQueue",
        "ContentBasedDeduplication",
        "DeduplicationScope",
        "FifoThroughputLimit",
        "SqsManagedSseEnabled",
        "RedrivePolicy",
        "RedriveAllowPolicy",
    )

    def queue(self, logical_id: str, props: dict[str, Any]) -> None:
        sqs = self.client("sqs")
        fifo = to_env_value(props.get("FifoQueue", False)) == "true"
        name = props.get("QueueName") or self.default_name(logical_id, limit=75 if fifo else 80)
        if fifo and not name.endswith(".fifo"):
            name += ".fifo"
        attributes = {}
        for key in self._QUEUE_ATTRIBUTES:
            if key in props:
                value = props[key]
                attributes[key] = json.dumps(value) if isinstance(value, dict) else to_env_value(value)
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        # Functions get the URL CloudFormation would give (moto finds a queue by the URL's path,
        # whatever its host), so the environment does not change with the local port.
        canonical = f"https://sqs.{self.region}.amazonaws.com/{self.account}/{name}"
        self.resolver.refs[logical_id] = canonical
        for attribute, value in {"Arn": arn, "QueueName": name, "QueueUrl": canonical}.items():
            self.resolver.attributes[(logical_id, attribute)] = value
        self.result.queues[logical_id] = url
        self.result.queue_urls_by_arn[arn] = url

    def secret(self, logical_id: str, props: dict[str, Any]) -> None:
        """A secret; a generated one gets a fresh random value, as Secrets Manager would."""
        name = props.get("Name") or self.default_name(logical_id, limit=512)
        generate = props.get("GenerateSecretString") or {}
        value = props.get("SecretString") or secrets.token_urlsafe(int(generate.get("PasswordLength", 32)))
        self.client("secretsmanager").create_secret(Name=name, SecretString=value)
        # In AWS a Ref gives the ARN; the name serves every call just as well and, unlike
        # moto's ARN (random suffix), is the same on every start, so events/env.json holds.
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Id")] = name

    def topic(self, logical_id: str, props: dict[str, Any]) -> None:
        name = props.get("TopicName") or self.default_name(logical_id, limit=256)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.resolver.refs[logical_id] = arn
        self.resolver.attributes[(logical_id, "TopicArn")] = arn
        self.resolver.attributes[(logical_id, "TopicName")] = name

    def schedule_group(self, logical_id: str, props: dict[str, Any]) -> None:
        """EventBridge Scheduler group (moto keeps schedules; the local runtime fires them)."""
        name = str(props.get("Name") or self.default_name(logical_id))
        client = self.client("scheduler")
        with contextlib.suppress(client.exceptions.ConflictException):
            client.create_schedule_group(Name=name)
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = (
            f"arn:aws:scheduler:{self.region}:{self.account}:schedule-group/{name}"
        )
        self.result.schedule_groups[logical_id] = name

    def email_identity(self, logical_id: str, props: dict[str, Any]) -> None:
        """Verified at once (moto's SES rejects unverified senders)."""
        identity = str(props["EmailIdentity"])
        ses = self.client("ses")
        if "@" in identity:
            ses.verify_email_identity(EmailAddress=identity)
        else:
            ses.verify_domain_identity(Domain=identity)
        self.resolver.refs[logical_id] = identity

    # ------------------------------------------------------------ functions

    def function(self, logical_id: str) -> None:
        props = self.template.properties(logical_id)
        name = props.get("FunctionName")
        name = self.resolver.resolve(name) if name is not None else self.default_name(logical_id)
        self.resolver.refs[logical_id] = name
        self.resolver.attributes[(logical_id, "Arn")] = (
            f"arn:aws:lambda:{self.region}:{self.account}:function:{name}"
        )
        self.result.functions[logical_id] = name


def function_environment(template: Template, resolver: Resolver, logical_id: str) -> dict[str, str]:
    """A function's environment variables (Globals merged), resolved to strings."""
    spec = template.function(logical_id)
    env: dict[str, str] = {}
    for key, raw in spec.environment.items():
        try:
            value = resolver.resolve(raw)
        except UnresolvedReference as exc:
            raise UnresolvedReference(f"{logical_id} environment {key}: {exc}") from exc
        env[key] = to_env_value(value)
    return env
