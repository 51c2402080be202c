"""crm_tools.cfn: loading templates with short tags and resolving the intrinsics the local stack needs."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from crm_tools.cfn import (
    NO_VALUE,
    Resolver,
    Template,
    TemplateError,
    UnresolvedReference,
    load_yaml,
    merge_globals,
    short_name,
)

ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
    AllowedValues: [dev, prod]
  AlarmEmail:
    Type: String
    Default: ""
  Origins:
    Type: CommaDelimitedList
    Default: "https://a.example,https://b.example"
  Retention:
    Type: Number
    Default: 14
Mappings:
  Sizes:
    dev: {Memory: 256}
    prod: {Memory: 1024}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  HasEmail: !Not [!Equals [!Ref AlarmEmail, ""]]
  ProdWithEmail: !And [!Condition IsProd, !Condition HasEmail]
  ProdOrEmail: !Or [!Condition IsProd, !Condition HasEmail]
Globals:
  Function:
    Runtime: python3.12
    Timeout: 15
    Layers: [arn:aws:lambda:us-east-1:123456789012:layer:base:1]
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        STAGE: !Ref Stage
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "${AWS::StackName}-crm"
  Dlq:
    Type: AWS::SQS::Queue
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: Table
    Properties:
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dlq.Arn
        maxReceiveCount: 3
  Topic:
    Type: AWS::SNS::Topic
    Condition: HasEmail
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ../functions/worker
      Handler: handler.handler
      Timeout: 60
      MemorySize: !FindInMap [Sizes, !Ref Stage, Memory]
      Layers: [arn:aws:lambda:us-east-1:123456789012:layer:extra:1]
      Environment:
        Variables:
          QUEUE_URL: !Ref Queue
          STAGE: override
          STREAM: !GetAtt Table.StreamArn
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
            BatchSize: 5
            FunctionResponseTypes: [ReportBatchItemFailures]
"""


@pytest.fixture
def template(tmp_path: Path) -> Template:
    path = tmp_path / "infra" / "template.yaml"
    path.parent.mkdir()
    path.write_text(TEMPLATE)
    return Template.load(path)


@pytest.fixture
def resolver(template: Template) -> Resolver:
    r = Resolver(template, stack_name="crm-local", region="us-east-1", account_id="123456789012")
    r.refs.update(
        {
            "Table": "crm-local-crm",
            "Queue": "http://127.0.0.1:5000/123456789012/crm-local-Queue",
            "Dlq": "http://127.0.0.1:5000/123456789012/crm-local-Dlq",
        }
    )
    r.attributes.update(
        {
            ("Table", "Arn"): "arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm",
            ("Table", "StreamArn"): "arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm/stream/x",
            ("Queue", "Arn"): "arn:aws:sqs:us-east-1:123456789012:crm-local-Queue",
            ("Dlq", "Arn"): "arn:aws:sqs:us-east-1:123456789012:crm-local-Dlq",
            ("Queue", "QueueName"): "crm-local-Queue",
        }
    )
    return r


# ---------------------------------------------------------------- loading


def test_short_tags_become_long_form() -> None:
    body = load_yaml(
        """
        A: !Ref Thing
        B: !GetAtt Table.StreamArn
        C: !GetAtt [Table, Arn]
        D: !Sub "${AWS::Region}-x"
        E: !Sub ["${A}-${B}", {A: !Ref X, B: b}]
        F: !If [Cond, chosen, !Ref AWS::NoValue]
        G: !Join [",", [a, b]]
        H: !Condition IsProd
        I: !Not [!Equals [a, b]]
        J: !Select [1, !Split [",", "a,b,c"]]
        K: !Base64 text
        L: !FindInMap [M, k, v]
        """
    )
    assert body["A"] == {"Ref": "Thing"}
    assert body["B"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert body["C"] == {"Fn::GetAtt": ["Table", "Arn"]}
    assert body["D"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert body["E"] == {"Fn::Sub": ["${A}-${B}", {"A": {"Ref": "X"}, "B": "b"}]}
    assert body["F"] == {"Fn::If": ["Cond", "chosen", {"Ref": "AWS::NoValue"}]}
    assert body["G"] == {"Fn::Join": [",", ["a", "b"]]}
    assert body["H"] == {"Condition": "IsProd"}
    assert body["I"] == {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]}
    assert body["J"] == {"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}
    assert body["K"] == {"Fn::Base64": "text"}
    assert body["L"] == {"Fn::FindInMap": ["M", "k", "v"]}


def test_dates_stay_strings() -> None:
    assert load_yaml("AWSTemplateFormatVersion: 2010-09-09")["AWSTemplateFormatVersion"] == "2010-09-09"


def test_json_templates_load_too() -> None:
    assert load_yaml('{"Resources": {"A": {"Type": "AWS::SQS::Queue"}}}')["Resources"]["A"]["Type"]


def test_a_template_must_be_a_mapping() -> None:
    with pytest.raises(TemplateError):
        load_yaml("- a\n- b\n")


# ---------------------------------------------------------------- Ref, Sub, GetAtt


def test_ref_to_parameters_uses_defaults_and_overrides(template: Template) -> None:
    assert Resolver(template).resolve({"Ref": "Stage"}) == "dev"
    assert Resolver(template, parameter_overrides={"Stage": "prod"}).resolve({"Ref": "Stage"}) == "prod"
    assert Resolver(template).resolve({"Ref": "Retention"}) == "14"
    assert Resolver(template).resolve({"Ref": "Origins"}) == ["https://a.example", "https://b.example"]


def test_parameter_values_are_checked_against_allowed_values(template: Template) -> None:
    with pytest.raises(TemplateError):
        Resolver(template, parameter_overrides={"Stage": "qa"}).resolve({"Ref": "Stage"})


def test_ref_to_pseudo_parameters(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "AWS::StackName"}) == "crm-local"
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "AWS::AccountId"}) == "123456789012"
    assert resolver.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert resolver.resolve({"Ref": "AWS::URLSuffix"}) == "amazonaws.com"
    assert resolver.resolve({"Ref": "AWS::StackId"}).startswith("arn:aws:cloudformation:us-east-1:")


def test_ref_to_resources(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Table"}) == "crm-local-crm"


def test_ref_to_a_resource_not_created_yet_is_an_error(resolver: Resolver) -> None:
    with pytest.raises(UnresolvedReference):
        resolver.resolve({"Ref": "Worker"})
    with pytest.raises(UnresolvedReference):
        resolver.resolve({"Ref": "Nothing"})


def test_get_att_both_forms(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}).endswith(":crm-local-Queue")
    assert resolver.resolve({"Fn::GetAtt": "Queue.QueueName"}) == "crm-local-Queue"
    assert resolver.resolve({"Fn::GetAtt": ["Table", "StreamArn"]}).endswith("/stream/x")


def test_get_att_unknown_attribute_uses_the_fallback_or_fails(resolver: Resolver) -> None:
    with pytest.raises(UnresolvedReference):
        resolver.resolve({"Fn::GetAtt": ["Dlq", "QueueUrl"]})
    resolver.attribute_fallback = lambda lid, attr: f"{lid}.{attr}" if attr == "QueueUrl" else None
    assert resolver.resolve({"Fn::GetAtt": ["Dlq", "QueueUrl"]}) == "Dlq.QueueUrl"


def test_sub_string_form(resolver: Resolver) -> None:
    value = resolver.resolve({"Fn::Sub": "${AWS::StackName}-${Table}/${Table.Arn}/index/*"})
    assert (
        value == "crm-local-crm-local-crm/arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm/index/*"
    )


def test_sub_list_form_with_variables_and_escapes(resolver: Resolver) -> None:
    value = resolver.resolve({"Fn::Sub": ["${Name}:${!Literal}:${AWS::Region}", {"Name": {"Ref": "Table"}}]})
    assert value == "crm-local-crm:${Literal}:us-east-1"


def test_join_select_split_base64_find_in_map_get_azs(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, "b"]]}) == "a-dev-b"
    assert resolver.resolve({"Fn::Join": [",", {"Ref": "Origins"}]}) == "https://a.example,https://b.example"
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolver.resolve({"Fn::Select": ["0", ["first"]]}) == "first"
    assert base64.b64decode(resolver.resolve({"Fn::Base64": {"Ref": "Stage"}})) == b"dev"
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}) == 256
    assert resolver.resolve({"Fn::GetAZs": ""}) == ["us-east-1a", "us-east-1b", "us-east-1c"]
    with pytest.raises(TemplateError):
        resolver.resolve({"Fn::FindInMap": ["Sizes", "qa", "Memory"]})


def test_unsupported_functions_say_so(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="ImportValue"):
        resolver.resolve({"Fn::ImportValue": "shared-vpc"})


def test_plain_values_pass_through(resolver: Resolver) -> None:
    value = {"A": [1, "two", {"B": True}], "C": None}
    assert resolver.resolve(value) == value


# ---------------------------------------------------------------- conditions and Fn::If


def test_conditions(template: Template) -> None:
    dev = Resolver(template)
    assert dev.condition("IsProd") is False
    assert dev.condition("HasEmail") is False
    assert dev.condition("ProdOrEmail") is False
    prod = Resolver(template, parameter_overrides={"Stage": "prod", "AlarmEmail": "ops@example.com"})
    assert prod.condition("IsProd") is True
    assert prod.condition("ProdWithEmail") is True
    with pytest.raises(TemplateError):
        dev.condition("Missing")


def test_fn_if_and_no_value_removes_keys_and_list_items(template: Template) -> None:
    dev = Resolver(template)
    value = dev.resolve(
        {
            "Keep": "x",
            "Subscription": {"Fn::If": ["HasEmail", [{"Endpoint": "a"}], {"Ref": "AWS::NoValue"}]},
            "List": ["a", {"Fn::If": ["IsProd", "b", {"Ref": "AWS::NoValue"}]}, "c"],
            "Size": {"Fn::If": ["IsProd", 1024, 256]},
        }
    )
    assert value == {"Keep": "x", "List": ["a", "c"], "Size": 256}
    prod = Resolver(template, parameter_overrides={"Stage": "prod", "AlarmEmail": "ops@example.com"})
    assert prod.resolve({"Fn::If": ["HasEmail", {"Ref": "AlarmEmail"}, "none"]}) == "ops@example.com"
    assert dev.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_resources_with_a_false_condition_are_inactive(template: Template) -> None:
    assert Resolver(template).is_active("Topic") is False
    assert Resolver(template).is_active("Table") is True
    assert Resolver(template, parameter_overrides={"AlarmEmail": "ops@example.com"}).is_active("Topic")


def test_equals_compares_as_strings(template: Template) -> None:
    assert Resolver(template).resolve({"Fn::Equals": [{"Ref": "Retention"}, 14]}) is True
    assert Resolver(template).resolve({"Fn::Equals": [True, "true"]}) is True


# ---------------------------------------------------------------- order and functions


def test_creation_order_puts_dependencies_first(template: Template) -> None:
    order = template.creation_order()
    assert order.index("Dlq") < order.index("Queue")  # GetAtt
    assert order.index("Table") < order.index("Queue")  # DependsOn
    assert order.index("Queue") < order.index("Worker")
    assert order.index("Table") < order.index("Worker")
    assert set(order) == set(template.resources)


def test_globals_count_as_dependencies_of_serverless_functions(template: Template) -> None:
    assert {"Table", "Queue"} <= template.dependencies("Worker")


def test_circular_dependencies_are_reported() -> None:
    body = load_yaml(
        """
        Resources:
          A: {Type: AWS::SQS::Queue, Properties: {X: !GetAtt B.Arn}}
          B: {Type: AWS::SQS::Queue, Properties: {X: !Ref A}}
        """
    )
    with pytest.raises(TemplateError, match="circular"):
        Template(body).creation_order()


def test_functions_merge_sam_globals(template: Template, resolver: Resolver) -> None:
    (worker,) = template.functions()
    assert worker.logical_id == "Worker"
    assert worker.handler == "handler.handler"
    assert worker.timeout == 60  # the function wins
    assert worker.properties["Runtime"] == "python3.12"  # from Globals
    assert worker.properties["Layers"] == [
        "arn:aws:lambda:us-east-1:123456789012:layer:base:1",
        "arn:aws:lambda:us-east-1:123456789012:layer:extra:1",
    ]
    assert worker.code_dir == (template.path.parent / "../functions/worker").resolve()
    env = {k: resolver.resolve(v) for k, v in worker.environment.items()}
    assert env == {
        "TABLE_NAME": "crm-local-crm",
        "STAGE": "override",
        "QUEUE_URL": "http://127.0.0.1:5000/123456789012/crm-local-Queue",
        "STREAM": "arn:aws:dynamodb:us-east-1:123456789012:table/crm-local-crm/stream/x",
    }
    assert resolver.resolve(worker.properties["MemorySize"]) == 256
    events = resolver.resolve(worker.events)
    assert events["Jobs"]["Properties"]["Queue"] == "arn:aws:sqs:us-east-1:123456789012:crm-local-Queue"


def test_merge_globals_rules() -> None:
    merged = merge_globals(
        {"A": 1, "M": {"x": 1, "y": 1}, "L": [1], "R": {"Ref": "P"}},
        {"A": 2, "M": {"y": 2}, "L": [2], "R": {"Ref": "Q"}},
    )
    assert merged == {"A": 2, "M": {"x": 1, "y": 2}, "L": [1, 2], "R": {"Ref": "Q"}}


def test_short_names() -> None:
    assert short_name("ApiFunction") == "api"
    assert short_name("StreamFunction") == "stream"
    assert short_name("CampaignWorkerFunction") == "campaign-worker"


# ---------------------------------------------------------------- the project's own template


def test_the_project_template_resolves_every_function_environment() -> None:
    template = Template.load(ROOT / "infra" / "template.yaml")
    resolver = Resolver(template, stack_name="crm-local")
    resolver.attribute_fallback = lambda lid, attr: f"{lid}.{attr}"
    for lid in template.resources:
        resolver.refs.setdefault(lid, f"physical-{lid}")
    functions = {spec.logical_id: spec for spec in template.functions()}
    assert {"ApiFunction", "StreamFunction"} <= set(functions)
    for spec in functions.values():
        assert spec.code_dir is not None and spec.code_dir.is_dir(), spec.logical_id
        env = {k: resolver.resolve(v) for k, v in spec.environment.items()}
        assert env["TABLE_NAME"] == "physical-CrmTable"
        assert all(isinstance(v, str) for v in env.values()), env
    order = template.creation_order()
    assert order.index("UserPool") < order.index("UserPoolClient") < order.index("ApiFunction")
