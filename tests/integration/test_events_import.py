"""Lambda code contract: every handler imports in a fresh interpreter with only events/env.json's
``Parameters`` set and no network; every sample event in events/ is valid and shaped for its function.

Handlers are found from infra/template.yaml (``CodeUri`` + ``Handler``), so a new function is
covered as soon as it is declared. Event files are named ``<function short name>-<what>.json``
(``api-health.json`` -> ApiFunction, ``stream-candidate-insert.json`` -> StreamFunction).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser import models

from crm_tools.cfn import FunctionSpec, Template

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
TEMPLATE = Template.load(ROOT / "infra" / "template.yaml")
FUNCTIONS = {spec.logical_id: spec for spec in TEMPLATE.functions()}
EVENT_FILES = sorted(p for p in EVENTS.glob("*.json") if p.name != "env.json")

# Runs in the fresh interpreter: no network at all, then the import SAM's runtime would do.
IMPORT_PROBE = r"""
import socket, sys

def refuse(*args, **kwargs):
    raise OSError("network access during import")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

code_dir, module_name, attribute = sys.argv[1:4]
sys.path.insert(0, code_dir)
import importlib
module = importlib.import_module(module_name)
handler = getattr(module, attribute)
assert callable(handler), f"{module_name}.{attribute} is not callable"
print("imported", module_name, attribute)
"""


def env_json() -> dict[str, Any]:
    return dict(json.loads((EVENTS / "env.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_imports_with_only_env_json_parameters(logical_id: str) -> None:
    spec = FUNCTIONS[logical_id]
    assert spec.code_dir is not None and spec.code_dir.is_dir(), f"{logical_id}: CodeUri not found"
    module_name, _, attribute = spec.handler.rpartition(".")
    env = {k: str(v) for k, v in env_json()["Parameters"].items()}
    env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE, str(spec.code_dir), module_name, attribute],
        env=env,
        cwd=spec.code_dir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{logical_id} ({spec.handler}) failed to import:\n{result.stderr}"


def test_env_json_declares_every_variable_of_every_function() -> None:
    data = env_json()
    parameters = data["Parameters"]
    assert all(isinstance(v, str) for v in parameters.values())
    for logical_id, spec in FUNCTIONS.items():
        missing = set(spec.environment) - set(parameters)
        assert not missing, (
            f"events/env.json Parameters lacks {sorted(missing)} ({logical_id}): run `crm env-json`"
        )
    for section, values in data.items():
        if section == "Parameters":
            continue
        assert section in FUNCTIONS, f"events/env.json section {section} is not a function of the template"
        assert set(values) <= set(FUNCTIONS[section].environment), section
        assert all(isinstance(v, str) for v in values.values())


def function_for(event_file: Path) -> FunctionSpec:
    """The function whose short name is the longest prefix of the file name."""
    matches = [spec for spec in FUNCTIONS.values() if event_file.stem.startswith(spec.short_name + "-")]
    assert matches, (
        f"{event_file.name}: no function named by its prefix ({[s.short_name for s in FUNCTIONS.values()]})"
    )
    return max(matches, key=lambda spec: len(spec.short_name))


def models_for(spec: FunctionSpec) -> list[type]:
    """Powertools' models of the events the function receives (from its template event sources)."""
    kinds = {str(event.get("Type")) for event in spec.events.values()}
    found: list[type] = []
    if "DynamoDB" in kinds:
        found.append(models.DynamoDBStreamModel)
    if "SQS" in kinds:
        found.append(models.SqsModel)
    if kinds & {"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"}:
        found.append(models.EventBridgeModel)
    if "SNS" in kinds:
        found.append(models.SnsModel)
    if kinds & {"Api"} or spec.handler.endswith(".app"):  # the Chalice app behind API Gateway
        found.append(models.APIGatewayProxyEventModel)
    return found


def test_every_function_has_a_sample_event() -> None:
    covered = {function_for(path).logical_id for path in EVENT_FILES}
    assert covered == set(FUNCTIONS), f"no sample event for {sorted(set(FUNCTIONS) - covered)}"


@pytest.mark.parametrize("event_file", EVENT_FILES, ids=lambda p: p.name)
def test_sample_event_has_the_shape_of_its_function(event_file: Path) -> None:
    event = json.loads(event_file.read_text(encoding="utf-8"))
    spec = function_for(event_file)
    candidates = models_for(spec)
    assert candidates, f"{spec.logical_id}: no known event source type"
    errors = []
    for model in candidates:
        try:
            model.model_validate(event)
            break
        except Exception as exc:  # pydantic.ValidationError
            errors.append(f"{model.__name__}: {exc}")
    else:
        pytest.fail(
            f"{event_file.name} fits none of {[m.__name__ for m in candidates]}:\n" + "\n".join(errors)
        )
    if models.APIGatewayProxyEventModel in candidates and "resource" in event:
        # Chalice routes on resourcePath; it must be a route template matching the path.
        context = event["requestContext"]
        assert context["resourcePath"] == event["resource"]
        assert context["httpMethod"] == event["httpMethod"]
        if event.get("body") and "application/json" in event["headers"].get("Content-Type", ""):
            json.loads(event["body"])
    if models.DynamoDBStreamModel in candidates and "Records" in event:
        for record in event["Records"]:
            assert record["eventSource"] == "aws:dynamodb"
            assert record["eventName"] in ("INSERT", "MODIFY", "REMOVE")
            change = record["dynamodb"]
            assert set(change["Keys"]) == {"pk", "sk"}
            images = {"INSERT": ["NewImage"], "MODIFY": ["NewImage", "OldImage"], "REMOVE": ["OldImage"]}
            for image in images[record["eventName"]]:
                assert change[image]["pk"] == change["Keys"]["pk"], image
