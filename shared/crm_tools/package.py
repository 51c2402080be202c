"""`crm package`: build the deployable SAM template and the Lambda code bundles.

``infra/template.yaml`` is the single source of truth for the stack, but it carries no
API routes: Chalice dispatches on API Gateway's ``resourcePath``, so every Chalice route
needs its own API Gateway resource and method. This module imports the Chalice app and
adds one ``Type: Api`` event per entry of ``app.routes`` to ``ApiFunction``, points each
function's ``CodeUri`` at a bundle under the output directory, builds those bundles
(function code + the ``crm`` package + Linux wheels of the runtime dependencies) and
writes ``<output>/template.yaml``, ready for ``sam deploy`` (see docs/deploy.md).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from crm_tools.cfn import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SOURCE_TEMPLATE = ROOT / "infra" / "template.yaml"
API_DIR = ROOT / "functions" / "api"
SHARED_PACKAGE = ROOT / "shared" / "crm"
PYPROJECT = ROOT / "pyproject.toml"

API_FUNCTION = "ApiFunction"
LOCAL_ONLY_PREFIXES = ("/dev/",)
API_RESOURCE = "Api"

# The Lambda runtime the template declares (Globals.Function.Runtime: python3.12, x86_64).
# Amazon Linux 2023 has glibc 2.34, so wheels up to manylinux_2_34 run there.
LAMBDA_PYTHON_VERSION = "3.12"
LAMBDA_PLATFORMS = ("manylinux2014_x86_64", "manylinux_2_28_x86_64", "manylinux_2_34_x86_64")

# A function's resource-based policy is limited to 20 KB, and SAM writes one
# AWS::Lambda::Permission per API event (aws/serverless-application-model#337).
LAMBDA_POLICY_LIMIT = 20_480

# Installed without their own dependencies: at run time Chalice is only ``chalice.app`` (standard
# library only); its CLI's dependencies (pip, setuptools, click, inquirer...) are ~30 MB of dead weight.
RUNTIME_ONLY = {"chalice"}
API_MODES = ("auto", "events", "openapi")

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".chalice", ".pytest_cache", "tests")
# Bytecode compiled for the Lambda runtime is added after copying (see compile_bundle).


class PackageError(RuntimeError):
    """The template or the bundles could not be built."""


# --------------------------------------------------------------------------- YAML


class CfnDumper(yaml.SafeDumper):
    """Block-style YAML with no anchors/aliases (CloudFormation rejects them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def load_template(path: Path = SOURCE_TEMPLATE) -> dict[str, Any]:
    template = load_yaml(path.read_text(encoding="utf-8"))
    if not isinstance(template, dict) or "Resources" not in template:
        raise PackageError(f"{path} is not a CloudFormation template")
    return template


def dump_template(template: dict[str, Any]) -> str:
    return yaml.dump(
        template, Dumper=CfnDumper, sort_keys=False, default_flow_style=False, width=120, allow_unicode=True
    )


# --------------------------------------------------------------------------- routes


def load_chalice_app(api_dir: Path = API_DIR) -> Any:
    """Import ``functions/api/app.py`` (module ``app``) and return its Chalice ``app`` object."""
    app_file = (api_dir / "app.py").resolve()
    module = sys.modules.get("app")
    if module is None or Path(getattr(module, "__file__", "") or "").resolve() != app_file:
        if str(api_dir) not in sys.path:
            sys.path.insert(0, str(api_dir))  # chalicelib is imported relative to app.py
        spec = importlib.util.spec_from_file_location("app", app_file)
        if spec is None or spec.loader is None:
            raise PackageError(f"cannot import {app_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules["app"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop("app", None)
            raise
    return module.app


def all_routes(app: Any) -> set[tuple[str, str]]:
    """Every (path, METHOD) in the Chalice app's ``app.routes``."""
    return {(path, method.upper()) for path, methods in app.routes.items() for method in methods}


def is_local_only(path: str) -> bool:
    """``/dev/...`` (outbox, clock) exists in the local stack only and is never deployed."""
    return any(path == prefix.rstrip("/") or path.startswith(prefix) for prefix in LOCAL_ONLY_PREFIXES)


def api_route_events(app: Any) -> set[tuple[str, str]]:
    """The (path, METHOD) pairs to deploy: all of ``app.routes`` but the local-only ones.

    The packaged template routes exactly these to ApiFunction; API Gateway answers 404 for
    anything else, so a local-only route cannot be reached in AWS even if the app has it.
    """
    return {(path, method) for path, method in all_routes(app) if not is_local_only(path)}


def _event_name(path: str, method: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", path)
    return method.capitalize() + ("".join(w[:1].upper() + w[1:] for w in words) or "Root")


def route_event_names(routes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Deterministic, unique, alphanumeric event names: ``GET /v1/jobs/{job_id}`` -> ``GetV1JobsJobId``."""
    names: dict[tuple[str, str], str] = {}
    taken: set[str] = set()
    for path, method in sorted(routes):
        name = _event_name(path, method)
        if name in taken:  # e.g. /a-b and /ab: disambiguate with a stable hash of the route
            name += hashlib.sha256(f"{method} {path}".encode()).hexdigest()[:8]
        taken.add(name)
        names[(path, method)] = name
    return names


def add_api_events(template: dict[str, Any], routes: Iterable[tuple[str, str]]) -> None:
    """One ``Type: Api`` event per route on ApiFunction (SAM builds the API definition from them)."""
    function = template["Resources"][API_FUNCTION]
    events = function["Properties"].setdefault("Events", {})
    if any(e.get("Type") == "Api" for e in events.values()):
        raise PackageError(f"{API_FUNCTION} in infra/template.yaml must not declare Api events itself")
    for (path, method), name in route_event_names(routes).items():
        events[name] = {
            "Type": "Api",
            "Properties": {"Path": path, "Method": method.lower(), "RestApiId": {"Ref": API_RESOURCE}},
        }


def add_api_definition(template: dict[str, Any], routes: Iterable[tuple[str, str]]) -> None:
    """The routes as an OpenAPI ``DefinitionBody`` on the Api plus one invoke permission for the API.

    Same API Gateway resources and methods as the events, but one AWS::Lambda::Permission
    instead of one per route, so any number of routes fits the function's policy.
    """
    api = template["Resources"][API_RESOURCE]["Properties"]
    if "DefinitionBody" in api or "DefinitionUri" in api:
        raise PackageError(f"{API_RESOURCE} in infra/template.yaml must not carry its own definition")
    integration = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"${{{API_FUNCTION}.Arn}}/invocations"
        },
    }
    paths: dict[str, dict[str, Any]] = {}
    for path, method in sorted(routes):
        paths.setdefault(path, {})[method.lower()] = {
            "x-amazon-apigateway-integration": copy.deepcopy(integration),
            "responses": {},
        }
    api["DefinitionBody"] = {
        "openapi": "3.0.1",
        "info": {"title": {"Fn::Sub": "${AWS::StackName}-api"}, "version": "1.0"},
        "paths": paths,
    }
    template["Resources"][f"{API_FUNCTION}InvokePermission"] = {
        "Type": "AWS::Lambda::Permission",
        "Properties": {
            "Action": "lambda:InvokeFunction",
            "FunctionName": {"Ref": API_FUNCTION},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{API_RESOURCE}}}/*"
            },
        },
    }


def packaged_api_routes(template: dict[str, Any]) -> set[tuple[str, str]]:
    """The (path, METHOD) pairs a packaged template sends to ApiFunction, whichever the API mode."""
    resources = template["Resources"]
    events = resources[API_FUNCTION]["Properties"].get("Events") or {}
    routes = {
        (e["Properties"]["Path"], e["Properties"]["Method"].upper())
        for e in events.values()
        if e.get("Type") == "Api"
    }
    body = resources[API_RESOURCE]["Properties"].get("DefinitionBody") or {}
    for path, methods in (body.get("paths") or {}).items():
        for method, operation in methods.items():
            uri = json.dumps(operation.get("x-amazon-apigateway-integration", {}).get("uri"))
            if f"${{{API_FUNCTION}.Arn}}" in uri:
                routes.add((path, method.upper()))
    return routes


def estimated_permission_policy_bytes(routes: Iterable[tuple[str, str]]) -> int:
    """Rough size of ApiFunction's resource policy once SAM has added one permission per route.

    Each statement has the shape Lambda stores for a SAM Api event permission; the stack name,
    generated ids and region are taken generously long, so this errs on the large side.
    """
    size = 60
    for path, method in routes:
        statement = {
            "Sid": "crm-production-ApiFunction" + _event_name(path, method) + "PermissionApi-ABCDEFGHIJKL",
            "Effect": "Allow",
            "Principal": {"Service": "apigateway.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Resource": "arn:aws:lambda:ap-southeast-2:123456789012:function:"
            "crm-production-ApiFunction-ABCDEFGHIJKL",
            "Condition": {
                "ArnLike": {
                    "AWS:SourceArn": "arn:aws:execute-api:ap-southeast-2:123456789012:abcdefghij/*/"
                    + method
                    + re.sub(r"\{[^}]+\}", "*", path)
                }
            },
        }
        size += len(json.dumps(statement, separators=(",", ":"))) + 1
    return size


# --------------------------------------------------------------------------- code bundles


def runtime_requirements(pyproject: Path = PYPROJECT) -> list[str]:
    """``[project].dependencies`` pinned to the versions tested in this environment where installed."""
    with pyproject.open("rb") as fh:
        dependencies: list[str] = tomllib.load(fh)["project"]["dependencies"]
    pinned = []
    for spec in dependencies:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?", spec)
        if match is None or ";" in spec:  # environment markers: leave the requirement as written
            pinned.append(spec)
            continue
        name, extras = match.group(1), (match.group(2) or "").replace(" ", "")
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pinned.append(spec)
            continue
        pinned.append(f"{name}{extras}=={version}")
    return pinned


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _environment_constraints() -> list[str]:
    """``name==version`` of everything installed here, so transitive dependencies match too."""
    seen: dict[str, str] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and _canonical(name) not in {"crm", "pip", "setuptools", "wheel"}:
            seen.setdefault(_canonical(name), f"{name}=={dist.version}")
    return sorted(seen.values())


def _pip_install(target: Path, requirements: list[str], constraints_file: Path, *, no_deps: bool) -> None:
    platforms = [arg for platform in LAMBDA_PLATFORMS for arg in ("--platform", platform)]
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--upgrade",
        "--target",
        str(target),
        *platforms,
        "--implementation",
        "cp",
        "--python-version",
        LAMBDA_PYTHON_VERSION,
        "--only-binary=:all:",
        "--constraint",
        str(constraints_file),
        *(["--no-deps"] if no_deps else []),
        *requirements,
    ]
    result = subprocess.run(command, check=False)  # noqa: S603 - our own argv, no shell
    if result.returncode != 0:
        raise PackageError(f"pip could not install the Lambda dependencies (exit {result.returncode})")


def _install_dependencies(cache_root: Path, requirements: list[str]) -> Path:
    """pip-install Linux wheels of ``requirements`` once per distinct set; return the directory."""
    constraints = _environment_constraints()
    key = hashlib.sha256(
        json.dumps(
            [requirements, constraints, sorted(RUNTIME_ONLY), LAMBDA_PLATFORMS, LAMBDA_PYTHON_VERSION]
        ).encode()
    ).hexdigest()[:16]
    target = cache_root / f"deps-{key}"
    if (target / ".complete").exists():
        _prune_cache(cache_root, keep=key)
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    constraints_file = cache_root / f"constraints-{key}.txt"
    constraints_file.write_text("\n".join(constraints) + "\n", encoding="utf-8")

    def runtime_only(requirement: str) -> bool:
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        return match is not None and _canonical(match.group(1)) in RUNTIME_ONLY

    try:
        _pip_install(
            target, [r for r in requirements if not runtime_only(r)], constraints_file, no_deps=False
        )
        bare = [r for r in requirements if runtime_only(r)]
        if bare:
            _pip_install(target, bare, constraints_file, no_deps=True)
    except PackageError:
        shutil.rmtree(target, ignore_errors=True)
        raise
    # Scripts in bin/ are useless in Lambda and hold absolute paths of this machine.
    shutil.rmtree(target / "bin", ignore_errors=True)
    (target / ".complete").touch()
    _prune_cache(cache_root, keep=key)
    return target


def _prune_cache(cache_root: Path, keep: str) -> None:
    """Drop dependency sets of earlier builds (other requirements or versions)."""
    for stale in [*cache_root.glob("deps-*"), *cache_root.glob("constraints-*")]:
        if keep in stale.name:
            continue
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink()


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build_bundle(source_dir: Path, bundle_dir: Path, deps_dir: Path | None) -> None:
    """Function code + the ``crm`` package (+ dependencies) in one directory, as Lambda sees it."""
    shutil.rmtree(bundle_dir, ignore_errors=True)
    if deps_dir is not None:
        shutil.copytree(
            deps_dir, bundle_dir, copy_function=_link_or_copy, ignore=shutil.ignore_patterns(".complete")
        )
    shutil.copytree(SHARED_PACKAGE, bundle_dir / "crm", ignore=_IGNORED, dirs_exist_ok=True)
    shutil.copytree(source_dir, bundle_dir, ignore=_IGNORED, dirs_exist_ok=True)
    compile_bundle(bundle_dir)


def compile_bundle(bundle_dir: Path) -> bool:
    """Ship bytecode: Lambda's code directory is read-only, so without it every cold start
    compiles every module (about 1.8 s here, docs/benchmarks.md). Needs the Lambda runtime's
    Python (python3.12) on PATH; without it the bundle ships source only, and says so."""
    interpreter = shutil.which(f"python{LAMBDA_PYTHON_VERSION}")
    probe = [interpreter, "-c", "pass"] if interpreter else None
    if probe and subprocess.run(probe, capture_output=True, check=False).returncode:  # noqa: S603
        interpreter = None  # a shim (pyenv) with no such version behind it
    if interpreter is None:
        print(f"note: python{LAMBDA_PYTHON_VERSION} not found; {bundle_dir.name} ships without bytecode")
        return False
    command = [
        interpreter,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        str(bundle_dir),
    ]
    subprocess.run(command, check=True)  # noqa: S603 - our own argv, no shell
    return True


def _functions(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") == "AWS::Serverless::Function":
            yield logical_id, resource


# --------------------------------------------------------------------------- the build


def choose_api_mode(routes: Iterable[tuple[str, str]], api_mode: str = "auto") -> str:
    """``events`` while one permission per route fits the function's policy, else ``openapi``."""
    if api_mode not in API_MODES:
        raise PackageError(f"unknown API mode {api_mode!r} (one of {', '.join(API_MODES)})")
    if api_mode != "auto":
        return api_mode
    fits = estimated_permission_policy_bytes(routes) <= LAMBDA_POLICY_LIMIT * 0.9
    return "events" if fits else "openapi"


def build_template(
    output_dir: Path, *, with_code: bool = True, app: Any = None, api_mode: str = "auto"
) -> Path:
    """Write ``<output_dir>/template.yaml`` (and, ``with_code``, the bundles); return its path.

    ``app`` is the Chalice app whose routes are deployed (default: functions/api/app.py).
    ``api_mode``: ``events`` (one SAM Api event per route on ApiFunction), ``openapi`` (an
    OpenAPI DefinitionBody on Api and a single invoke permission) or ``auto`` (events while
    their permissions fit ApiFunction's 20 KB resource policy, openapi beyond that).
    """
    output_dir = Path(output_dir).resolve()
    template = copy.deepcopy(load_template())
    routes = api_route_events(app if app is not None else load_chalice_app())
    if not routes:
        raise PackageError("the Chalice app has no routes")
    if API_RESOURCE not in template["Resources"] or API_FUNCTION not in template["Resources"]:
        raise PackageError(f"infra/template.yaml needs both {API_RESOURCE} and {API_FUNCTION}")
    if choose_api_mode(routes, api_mode) == "events":
        add_api_events(template, routes)
    else:
        if api_mode == "auto":
            print(
                f"note: {len(routes)} routes would outgrow {API_FUNCTION}'s {LAMBDA_POLICY_LIMIT}-byte "
                "policy as one permission each; writing them as an OpenAPI definition instead",
                file=sys.stderr,
            )
        add_api_definition(template, routes)

    output_dir.mkdir(parents=True, exist_ok=True)
    deps_dir = None
    if with_code:
        deps_dir = _install_dependencies(output_dir / ".cache", runtime_requirements())
    for logical_id, resource in _functions(template):
        code_uri = resource["Properties"].get("CodeUri")
        if not isinstance(code_uri, str):
            raise PackageError(f"{logical_id}: CodeUri must be a local folder, got {code_uri!r}")
        source_dir = (SOURCE_TEMPLATE.parent / code_uri).resolve()
        relative = Path("functions") / source_dir.name
        resource["Properties"]["CodeUri"] = relative.as_posix()
        if with_code:
            if not source_dir.is_dir():
                raise PackageError(f"{logical_id}: {source_dir} does not exist")
            build_bundle(source_dir, output_dir / relative, deps_dir)

    target = output_dir / "template.yaml"
    target.write_text(dump_template(template), encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="crm package", description="Build the deployable SAM template and Lambda bundles."
    )
    parser.add_argument(
        "--output", type=Path, default=Path("build"), help="output directory (default: build)"
    )
    parser.add_argument(
        "--no-code", action="store_true", help="write only the template, do not build the code bundles"
    )
    parser.add_argument(
        "--api-mode",
        choices=API_MODES,
        default="auto",
        help="how routes reach ApiFunction: one SAM Api event per route, an OpenAPI definition with "
        "one invoke permission, or auto (events while their permissions fit the 20 KB policy limit)",
    )
    args = parser.parse_args(argv)
    try:
        target = build_template(args.output, with_code=not args.no_code, api_mode=args.api_mode)
    except PackageError as exc:
        print(f"crm package: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
