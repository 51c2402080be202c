"""The deployable template: built by `crm package`, linted, translated offline and deployed to moto.

Everything runs offline: cfn-lint's SAM transform, aws-sam-translator with a fixed managed-policy
map instead of IAM, and moto's CloudFormation under ``mock_aws``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint_file
from chalice import Chalice
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map
from samtranslator.translator.transform import transform

from crm_tools import package

# moto warns about each resource type its CloudFormation skips; MOTO_UNSUPPORTED lists them.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

REGION = "us-east-1"
STACK = "crm-test"

# What SAM asks its managed-policy loader for; returned instead of calling IAM.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSLambdaDynamoDBExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaDynamoDBExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}

# Resource types moto 5.2's CloudFormation does not implement: it marks them CREATE_COMPLETE
# and creates nothing. Any other unsupported type in the template fails the test, so that
# nobody believes a resource is covered here when it is not.
MOTO_UNSUPPORTED = {
    "AWS::Scheduler::Schedule",  # the ScheduleV2 tick: the local runtime fires it (devstack_runtime)
    "AWS::Scheduler::ScheduleGroup",
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    # Created by the local stack's provisioner and by tests/support/stack.py instead.
    "AWS::SecretsManager::Secret",
    # SES feedback: moto sends mail without configuration sets (the local stack's mailbox
    # simulator publishes the events instead), and EventBridge -> SQS delivery in moto does
    # not consult queue policies; tests/integration/test_ses_feedback.py covers the route.
    "AWS::SES::ConfigurationSet",
    "AWS::SES::ConfigurationSetEventDestination",
    "AWS::SQS::QueuePolicy",
    # Inbound mail: moto has no SES receiving (the local stack's SMTP server writes the same raw
    # objects, tests/integration/test_inbound_mail.py) and no bucket policies in CloudFormation.
    "AWS::SES::ReceiptRuleSet",
    "AWS::SES::ReceiptRule",
    "AWS::S3::BucketPolicy",
}


class FixedPolicyLoader:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and a region (SAM derives the partition from it); never a real endpoint."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="module")
def chalice_app() -> Any:
    return package.load_chalice_app()


@pytest.fixture(scope="module", params=["events", "openapi"])
def packaged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """build/template.yaml as `crm package --no-code --api-mode <mode>` writes it."""
    out = tmp_path_factory.mktemp(f"build-{request.param}")
    return package.build_template(out, with_code=False, api_mode=request.param)


def lint_problems(path: Path) -> list[str]:
    """cfn-lint errors and warnings (after its own SAM transform); informational rules are off."""
    return [
        f"{m.rule.id} {m.message} ({m.filename}:{m.linenumber})"
        for m in lint_file(path)
        if m.rule.id[:1] in {"E", "W"}
    ]


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """SAM -> plain CloudFormation, offline. Function code is inlined: moto cannot fetch CodeUri
    folders (nor run the code), and a stub keeps the translated template self-contained."""
    sam = copy.deepcopy(template)
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            del resource["Properties"]["CodeUri"]
            resource["Properties"]["InlineCode"] = "def handler(event, context):\n    return None\n"
    return transform(sam, {}, FixedPolicyLoader())


def for_moto(cfn: dict[str, Any]) -> dict[str, Any]:
    """The edits moto needs, each a moto gap rather than a template problem:

    - no ApiGateway Deployment/Stage: moto ignores the RestApi's OpenAPI Body, so the API has
      no methods and moto refuses to deploy it (and it does not implement Stage). The RestApi
      keeps the Name the template gives it, which moto requires.
    - ``Ref`` to an AWS::Events::EventBus: moto resolves it to its Python object (which then
      breaks the Lambda API's JSON); real CloudFormation returns the bus name, so the name is
      put in its place.
    - ``Fn::GetAtt`` of an AWS::Cognito::UserPool: moto's CloudFormation skips Cognito (the pool is
      made by :func:`provision_cognito`), so its ``Arn`` (a policy's Resource) becomes the ARN
      CloudFormation would return, built with ``Fn::Sub`` from the pool's logical id.
    """
    cfn = copy.deepcopy(cfn)
    resources = cfn["Resources"]
    for logical_id, resource in list(resources.items()):
        if resource["Type"] in {"AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage"}:
            del resources[logical_id]
    bus_names = {
        logical_id: resource["Properties"]["Name"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Events::EventBus"
    }

    user_pools = {
        logical_id
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Cognito::UserPool"
    }

    def replace_bus_refs(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in bus_names:
                return copy.deepcopy(bus_names[value["Ref"]])
            get_att = value.get("Fn::GetAtt") if set(value) == {"Fn::GetAtt"} else None
            if isinstance(get_att, list) and get_att[0] in user_pools and get_att[1] == "Arn":
                return {
                    "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/"
                    + get_att[0]
                }
            return {k: replace_bus_refs(v) for k, v in value.items()}
        if isinstance(value, list):
            return [replace_bus_refs(v) for v in value]
        return value

    cfn["Resources"] = replace_bus_refs(resources)
    cfn["Outputs"] = replace_bus_refs(cfn.get("Outputs", {}))
    return cfn


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Just enough intrinsic resolution for the Cognito properties: Ref and a simple Fn::Sub."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return refs[arg]
        if key == "Fn::Sub" and isinstance(arg, str):
            for name, resolved in refs.items():
                arg = arg.replace("${" + name + "}", resolved)
            assert "${" not in arg, arg
            return arg
    if isinstance(value, dict):
        return {k: resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, refs) for v in value]
    return value


def provision_cognito(cfn: dict[str, Any]) -> None:
    """Create the template's user pool, client and groups through moto's Cognito API, from the
    template's own properties (moto's CloudFormation skips AWS::Cognito::*)."""
    idp = boto3.client("cognito-idp", region_name=REGION)
    refs = {"AWS::StackName": STACK}
    resources = cfn["Resources"]
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Cognito::UserPool":
            props = resolve(resource["Properties"], refs)
            props["PoolName"] = props.pop("UserPoolName")
            refs[logical_id] = idp.create_user_pool(**props)["UserPool"]["Id"]
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::Cognito::UserPoolClient":
            props = resolve(resource["Properties"], refs)
            refs[logical_id] = idp.create_user_pool_client(**props)["UserPoolClient"]["ClientId"]
        elif resource["Type"] == "AWS::Cognito::UserPoolGroup":
            idp.create_group(**resolve(resource["Properties"], refs))


# ----------------------------------------------------------------------------- tests


def test_packaged_template_is_cfn_lint_clean(packaged: Path) -> None:
    assert lint_problems(packaged) == []


def test_source_template_is_cfn_lint_clean() -> None:
    assert lint_problems(package.SOURCE_TEMPLATE) == []


def test_source_template_declares_no_api_routes() -> None:
    template = package.load_template()
    assert package.packaged_api_routes(template) == set()


def test_api_routes_equal_chalice_routes(packaged: Path, chalice_app: Any) -> None:
    template = package.load_template(packaged)
    deployed = package.packaged_api_routes(template)
    assert deployed, "the Chalice app has no routes"
    assert deployed == package.api_route_events(chalice_app)
    # Everything in app.routes is deployed except the local-stack-only /dev/ routes.
    local_only = {
        (path, method) for path, method in package.all_routes(chalice_app) if path.startswith("/dev/")
    }
    assert deployed == package.all_routes(chalice_app) - local_only


def test_local_only_routes_are_not_deployed(tmp_path: Path) -> None:
    app = Chalice(app_name="with-dev-routes")
    app.route("/health")(lambda: {})
    app.route("/dev/outbox")(lambda: {})
    app.route("/dev/clock", methods=["GET", "POST"])(lambda: {})
    path = package.build_template(tmp_path, with_code=False, app=app)
    assert package.packaged_api_routes(package.load_template(path)) == {("/health", "GET")}


def test_code_uris_point_at_bundles(packaged: Path) -> None:
    template = package.load_template(packaged)
    code_uris = {
        logical_id: resource["Properties"]["CodeUri"]
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert code_uris == {
        "ApiFunction": "functions/api",
        "StreamFunction": "functions/stream",
        "SesFeedbackFunction": "functions/ses_feedback",
        "DispatchFunction": "functions/dispatch",
        "MailFunction": "functions/mail",
        "DueWorkFunction": "functions/due_work",
        "InboundMailFunction": "functions/inbound_mail",
        "WebhookFunction": "functions/webhooks",  # webhooks
        "ExportFunction": "functions/exports",  # exports
        "ImportFunction": "functions/imports",  # imports slice
    }


def test_translated_template_deploys_to_moto(packaged: Path) -> None:
    translated = translate(package.load_template(packaged))
    assert translated["Resources"]["Api"]["Properties"]["Name"], "moto needs a Name on the RestApi"
    template = for_moto(translated)
    unsupported = {r["Type"] for r in template["Resources"].values() if r["Type"] not in get_model_map()}
    assert unsupported <= MOTO_UNSUPPORTED, f"not deployable in moto, cover it another way: {unsupported}"

    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION)
        cfn.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(template),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[
                # The optional parts on, so their conditions are exercised too.
                {"ParameterKey": "ApiAccessLogs", "ParameterValue": "true"},
                {"ParameterKey": "AlarmEmail", "ParameterValue": "ops@example.com"},
                {"ParameterKey": "InboundMailDomain", "ParameterValue": "inbound.example.com"},
            ],
        )
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
        if "AWS::Cognito::UserPool" in unsupported:
            provision_cognito(template)

        ddb = boto3.client("dynamodb", region_name=REGION)
        table = ddb.describe_table(TableName=f"{STACK}-crm")["Table"]
        assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
        assert sorted(i["IndexName"] for i in table["GlobalSecondaryIndexes"]) == ["gsi1", "gsi2"]
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

        queues = boto3.client("sqs", region_name=REGION).list_queues()["QueueUrls"]
        assert any(url.endswith(f"/{STACK}-stream-failures") for url in queues)

        buses = boto3.client("events", region_name=REGION).list_event_buses()["EventBuses"]
        assert f"{STACK}-events" in {bus["Name"] for bus in buses}

        idp = boto3.client("cognito-idp", region_name=REGION)
        pools = idp.list_user_pools(MaxResults=10)["UserPools"]
        assert [p["Name"] for p in pools] == [f"{STACK}-users"]
        pool_id = pools[0]["Id"]
        from crm.users.models import GROUPS

        assert {g["GroupName"] for g in idp.list_groups(UserPoolId=pool_id)["Groups"]} == set(GROUPS)
        assert set(GROUPS) == {"admin", "recruiter", "hiring_manager", "employee"}
        clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=10)["UserPoolClients"]
        assert [c["ClientName"] for c in clients] == [f"{STACK}-api"]

        awslambda = boto3.client("lambda", region_name=REGION)
        functions = {f["FunctionName"]: f for f in awslambda.list_functions()["Functions"]}
        api_function = next(f for name, f in functions.items() if "ApiFunction" in name)
        assert api_function["Runtime"] == "python3.12"
        assert api_function["Handler"] == "app.app"
        variables = api_function["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == f"{STACK}-crm"
        assert variables["EVENT_BUS_NAME"] == f"{STACK}-events"
        policy = json.loads(awslambda.get_policy(FunctionName=api_function["FunctionName"])["Policy"])
        assert {s["Principal"]["Service"] for s in policy["Statement"]} == {"apigateway.amazonaws.com"}

        mappings = awslambda.list_event_source_mappings()["EventSourceMappings"]
        queue_arn = f"arn:aws:sqs:{REGION}:123456789012:{STACK}-"
        assert sorted(m["EventSourceArn"] for m in mappings) == sorted(
            [
                table["LatestStreamArn"],
                *(queue_arn + q for q in ("ses-feedback", "dispatch", "mail", "inbound-mail", "webhooks")),
                queue_arn + "export",  # exports
                queue_arn + "import",  # imports slice
            ]
        )
        assert all(m["FunctionResponseTypes"] == ["ReportBatchItemFailures"] for m in mappings)
        dlqs = (
            "ses-feedback-dlq",
            "dispatch-dlq",
            "mail-dlq",
            "inbound-mail-dlq",
            "webhooks-dlq",
            "export-dlq",
            "import-dlq",
        )
        for dlq in dlqs:
            assert any(url.endswith(f"/{STACK}-{dlq}") for url in queues)

        apis = boto3.client("apigateway", region_name=REGION).get_rest_apis()["items"]
        assert [a["name"] for a in apis] == [f"{STACK}-api"]


def test_api_gateway_errors_are_problem_json(packaged: Path) -> None:
    api = package.load_template(packaged)["Resources"]["Api"]["Properties"]
    assert api["StageName"] == "api"
    assert api["BinaryMediaTypes"] == ["multipart~1form-data"]
    assert {"DEFAULT_4XX", "DEFAULT_5XX"} <= set(api["GatewayResponses"])
    for kind, response in api["GatewayResponses"].items():
        assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
        body = response["ResponseTemplates"]["application/json"].replace(
            "$context.error.messageString", '"message"'
        )
        problem = json.loads(body)
        assert set(problem) == {"type", "title", "status", "detail"}, kind
        assert str(problem["status"]) == response["StatusCode"], kind


def test_many_routes_become_one_openapi_definition(tmp_path: Path) -> None:
    """Past ~50 routes one permission per SAM event would outgrow the function's 20 KB policy."""
    big = Chalice(app_name="big")
    for i in range(60):

        def view(item_id: str) -> dict[str, str]:
            return {}

        view.__name__ = f"view_{i}"
        big.route(f"/v1/resource-{i}/{{item_id}}", methods=["GET", "PATCH"])(view)
    routes = package.api_route_events(big)
    assert package.choose_api_mode(routes) == "openapi"

    path = package.build_template(tmp_path, with_code=False, app=big)
    template = package.load_template(path)
    assert package.packaged_api_routes(template) == routes
    assert "Events" not in template["Resources"]["ApiFunction"]["Properties"] or not any(
        e["Type"] == "Api" for e in template["Resources"]["ApiFunction"]["Properties"]["Events"].values()
    )
    translated = translate(template)
    permissions = [r for r in translated["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    assert len(permissions) == 1
    assert lint_problems(path) == []


def test_event_names_are_unique_and_stable() -> None:
    routes = {("/", "GET"), ("/a-b", "GET"), ("/ab", "GET"), ("/v1/jobs/{job_id}", "PATCH")}
    names = package.route_event_names(routes)
    assert names == package.route_event_names(set(routes))
    assert len(set(names.values())) == len(routes)
    assert names[("/", "GET")] == "GetRoot"
    assert names[("/v1/jobs/{job_id}", "PATCH")] == "PatchV1JobsJobId"
    assert all(name.isalnum() for name in names.values())


def test_bundle_holds_function_code_and_crm_package(tmp_path: Path) -> None:
    bundle = tmp_path / "api"
    package.build_bundle(package.API_DIR, bundle, deps_dir=None)
    assert (bundle / "app.py").is_file()
    assert (bundle / "chalicelib" / "__init__.py").is_file()
    assert (bundle / "crm" / "__init__.py").is_file()
    assert not (bundle / ".chalice").exists()
    assert not list(bundle.rglob("__pycache__"))


def test_runtime_requirements_are_pinned() -> None:
    requirements = package.runtime_requirements()
    assert any(r.startswith("pydantic==") for r in requirements)
    assert all("==" in r for r in requirements if ";" not in r)
