"""Read a CloudFormation / SAM template and resolve the intrinsic functions the local stack needs.

Pure: no AWS calls, no sockets. The local stack (``crm_tools.devstack.stack``) creates the
resources and tells a :class:`Resolver` what each one is called (its ``Ref`` value and
attributes); the resolver then turns any property, environment variable or event
source of the template into plain values.

Supported: the short tags (``!Ref``, ``!Sub``, ``!GetAtt``, ``!If``, ``!Join``,
``!Select``, ``!Split``, ``!FindInMap``, ``!Base64``, ``!GetAZs``, ``!Equals``, ``!Not``,
``!And``, ``!Or``, ``!Condition``, ...); ``Ref`` to parameters, resources and pseudo
parameters (``AWS::NoValue`` removes the key or list element); ``Fn::Sub`` (both
forms, ``${!Literal}`` escapes); ``Fn::GetAtt``; ``Fn::If`` with the template's
``Conditions``; ``Fn::Join``; ``Fn::Select``; ``Fn::Split``; ``Fn::FindInMap``;
``Fn::Base64``; ``Fn::GetAZs``. Also what SAM adds that matters locally: ``Globals``
merged into each ``AWS::Serverless::Function``.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_ACCOUNT_ID = "123456789012"
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


class TemplateError(Exception):
    """The template is malformed or uses something this resolver cannot evaluate."""


class UnresolvedReference(TemplateError):
    """A Ref/GetAtt names a resource whose physical value is not known (yet)."""


class _NoValue:
    """``AWS::NoValue``: the enclosing key or list element disappears."""

    _instance: _NoValue | None = None

    def __new__(cls) -> _NoValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()


# ---------------------------------------------------------------- YAML with short tags


class _Loader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's ``!Tag`` shorthand.

    Timestamps stay strings (CloudFormation does not parse them).
    """


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_tag(loader: _Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported node for !{tag_suffix}")
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        return {"Fn::GetAtt": [resource, attribute]}
    return {f"Fn::{tag_suffix}": value}


_Loader.add_multi_constructor("!", _construct_tag)


def load_yaml(text: str) -> dict[str, Any]:
    """Parse template text (YAML with short tags, or JSON)."""
    body = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(body, dict):
        raise TemplateError("a template must be a mapping")
    return body


# ---------------------------------------------------------------- template


@dataclass(frozen=True)
class FunctionSpec:
    """A Lambda function as the local stack runs it (SAM Globals already merged)."""

    logical_id: str
    properties: dict[str, Any]
    code_dir: Path | None

    @property
    def handler(self) -> str:
        return str(self.properties.get("Handler", ""))

    @property
    def timeout(self) -> int:
        return int(self.properties.get("Timeout", 3))

    @property
    def memory_size(self) -> int:
        return int(self.properties.get("MemorySize", 128))

    @property
    def environment(self) -> dict[str, Any]:
        """Environment variables, still unresolved (intrinsics inside)."""
        env = self.properties.get("Environment") or {}
        return dict(env.get("Variables") or {})

    @property
    def events(self) -> dict[str, dict[str, Any]]:
        """SAM ``Events`` (unresolved): name -> {"Type", "Properties"}."""
        return dict(self.properties.get("Events") or {})

    @property
    def short_name(self) -> str:
        """``ApiFunction`` -> ``api``, ``CampaignWorkerFunction`` -> ``campaign-worker``."""
        return short_name(self.logical_id)


def short_name(logical_id: str) -> str:
    base = logical_id[: -len("Function")] if logical_id.endswith("Function") else logical_id
    return re.sub(r"(?<!^)(?=[A-Z])", "-", base).lower()


@dataclass
class Template:
    body: dict[str, Any]
    path: Path | None = None

    @classmethod
    def load(cls, path: str | Path) -> Template:
        path = Path(path)
        return cls(load_yaml(path.read_text(encoding="utf-8")), path)

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Resources") or {})

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.body.get("Parameters") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.body.get("Conditions") or {})

    @property
    def mappings(self) -> dict[str, Any]:
        return dict(self.body.get("Mappings") or {})

    def resource_type(self, logical_id: str) -> str:
        return str(self.resources[logical_id].get("Type", ""))

    def properties(self, logical_id: str) -> dict[str, Any]:
        return dict(self.resources[logical_id].get("Properties") or {})

    def of_type(self, *types: str) -> list[str]:
        return [lid for lid, res in self.resources.items() if res.get("Type") in types]

    def functions(self) -> list[FunctionSpec]:
        """Every Lambda function, with SAM ``Globals.Function`` merged in."""
        globals_fn = dict((self.body.get("Globals") or {}).get("Function") or {})
        specs = []
        for lid in self.of_type(*FUNCTION_TYPES):
            props = self.properties(lid)
            if self.resource_type(lid) == "AWS::Serverless::Function":
                props = merge_globals(globals_fn, props)
            code_dir = None
            code_uri = props.get("CodeUri")
            if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
                base = self.path.parent if self.path else Path.cwd()
                code_dir = (base / code_uri).resolve()
            specs.append(FunctionSpec(lid, props, code_dir))
        return specs

    def function(self, logical_id: str) -> FunctionSpec:
        for spec in self.functions():
            if spec.logical_id == logical_id:
                return spec
        raise KeyError(logical_id)

    def dependencies(self, logical_id: str) -> set[str]:
        """Resources this one refers to (Ref, GetAtt, Sub, DependsOn)."""
        res = self.resources[logical_id]
        props = res.get("Properties") or {}
        if res.get("Type") == "AWS::Serverless::Function":
            props = merge_globals((self.body.get("Globals") or {}).get("Function") or {}, props)
        found = set(referenced_names(props))
        depends = res.get("DependsOn") or []
        found.update([depends] if isinstance(depends, str) else depends)
        return {name for name in found if name in self.resources and name != logical_id}

    def creation_order(self) -> list[str]:
        """Resources in an order where each comes after what it refers to (template order otherwise)."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(lid: str, trail: tuple[str, ...]) -> None:
            if state.get(lid) == 2:
                return
            if state.get(lid) == 1:
                raise TemplateError("circular dependency: " + " -> ".join((*trail, lid)))
            state[lid] = 1
            for dep in sorted(self.dependencies(lid), key=list(self.resources).index):
                visit(dep, (*trail, lid))
            state[lid] = 2
            order.append(lid)

        for lid in self.resources:
            visit(lid, ())
        return order


def merge_globals(globals_fn: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (function wins), lists append, scalars are replaced."""
    merged: dict[str, Any] = dict(globals_fn)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict) and not _is_intrinsic(value):
            merged[key] = merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _is_intrinsic(value: Any) -> bool:
    if not (isinstance(value, dict) and len(value) == 1):
        return False
    key = next(iter(value))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


def referenced_names(value: Any) -> Iterable[str]:
    """Logical names a value refers to through Ref, Fn::GetAtt and Fn::Sub."""
    if isinstance(value, list):
        for item in value:
            yield from referenced_names(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            key, arg = next(iter(value.items()))
            if key == "Ref" and isinstance(arg, str):
                yield arg
                return
            if key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                if isinstance(target, str):
                    yield target
                return
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                for name in _SUB_VAR.findall(text):
                    if not name.startswith("!") and name.split(".", 1)[0] not in variables:
                        yield name.split(".", 1)[0]
                yield from referenced_names(variables)
                return
        for item in value.values():
            yield from referenced_names(item)


# ---------------------------------------------------------------- resolution


@dataclass
class Resolver:
    """Evaluates intrinsic functions against known physical resources.

    ``refs`` maps a logical id to what ``Ref`` returns; ``attributes`` maps
    ``(logical id, attribute)`` to what ``Fn::GetAtt`` returns. Both fill up as the
    local stack creates resources; ``attribute_fallback`` may compute an attribute
    on demand (e.g. an ARN from a name).
    """

    template: Template
    stack_name: str = "crm-local"
    region: str = "us-east-1"
    account_id: str = DEFAULT_ACCOUNT_ID
    parameter_overrides: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Any] = field(default_factory=dict)
    attributes: dict[tuple[str, str], Any] = field(default_factory=dict)
    attribute_fallback: Callable[[str, str], Any] | None = None
    _conditions: dict[str, bool] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------ values

    def pseudo_parameters(self) -> dict[str, Any]:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local"
            ),
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }

    def parameter(self, name: str) -> Any:
        declared = self.template.parameters.get(name)
        if declared is None:
            raise UnresolvedReference(f"unknown parameter {name}")
        if name in self.parameter_overrides:
            value = self.parameter_overrides[name]
        elif "Default" in declared:
            value = declared["Default"]
        else:
            raise TemplateError(f"parameter {name} has no default and no value was given")
        allowed = declared.get("AllowedValues")
        if allowed is not None and value not in allowed:
            raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
        kind = str(declared.get("Type", "String"))
        if kind in ("CommaDelimitedList", "List<Number>") or kind.startswith("List<"):
            if isinstance(value, list):
                return [str(v) for v in value]
            return [v.strip() for v in str(value).split(",")] if str(value) else []
        return value if isinstance(value, str) else _to_str(value)

    def ref(self, name: str) -> Any:
        pseudo = self.pseudo_parameters()
        if name in pseudo:
            return pseudo[name]
        if name in self.template.parameters:
            return self.parameter(name)
        if name in self.refs:
            return self.refs[name]
        if name in self.template.resources:
            raise UnresolvedReference(f"Ref {name}: the resource has no physical value yet")
        raise UnresolvedReference(f"Ref {name}: no such parameter or resource")

    def get_att(self, name: str, attribute: str) -> Any:
        if (name, attribute) in self.attributes:
            return self.attributes[(name, attribute)]
        if name not in self.template.resources:
            raise UnresolvedReference(f"Fn::GetAtt {name}.{attribute}: no such resource")
        if self.attribute_fallback is not None:
            value = self.attribute_fallback(name, attribute)
            if value is not None:
                return value
        raise UnresolvedReference(f"Fn::GetAtt {name}.{attribute}: unknown attribute")

    # ------------------------------------------------------------ conditions

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.template.conditions:
                raise TemplateError(f"unknown condition {name}")
            self._conditions[name] = self._evaluate_condition(self.template.conditions[name])
        return self._conditions[name]

    def _evaluate_condition(self, expr: Any) -> bool:
        if isinstance(expr, bool):
            return expr
        if not (isinstance(expr, dict) and len(expr) == 1):
            raise TemplateError(f"not a condition: {expr!r}")
        key, arg = next(iter(expr.items()))
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(a) for a in arg)
            return _to_str(left) == _to_str(right)
        if key == "Fn::Not":
            return not self._evaluate_condition(arg[0])
        if key == "Fn::And":
            return all(self._evaluate_condition(a) for a in arg)
        if key == "Fn::Or":
            return any(self._evaluate_condition(a) for a in arg)
        raise TemplateError(f"unsupported condition function {key}")

    def is_active(self, logical_id: str) -> bool:
        """False when the resource's ``Condition`` is false."""
        name = self.template.resources[logical_id].get("Condition")
        return True if name is None else self.condition(name)

    # ------------------------------------------------------------ resolve

    def resolve(self, value: Any) -> Any:
        """Return ``value`` with every intrinsic function evaluated."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if isinstance(value, dict):
            if len(value) == 1:
                key, arg = next(iter(value.items()))
                fn = self._functions().get(key)
                if fn is not None:
                    return fn(arg)
            resolved = {k: self.resolve(v) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not NO_VALUE}
        return value

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda arg: self.ref(self.resolve(arg)),
            "Fn::GetAtt": self._fn_get_att,
            "Fn::Sub": self._fn_sub,
            "Fn::If": self._fn_if,
            "Fn::Join": self._fn_join,
            "Fn::Select": self._fn_select,
            "Fn::Split": self._fn_split,
            "Fn::FindInMap": self._fn_find_in_map,
            "Fn::Base64": lambda arg: base64.b64encode(_to_str(self.resolve(arg)).encode()).decode(),
            "Fn::GetAZs": self._fn_get_azs,
            "Fn::Equals": lambda arg: self._evaluate_condition({"Fn::Equals": arg}),
            "Fn::Not": lambda arg: self._evaluate_condition({"Fn::Not": arg}),
            "Fn::And": lambda arg: self._evaluate_condition({"Fn::And": arg}),
            "Fn::Or": lambda arg: self._evaluate_condition({"Fn::Or": arg}),
            "Fn::ImportValue": self._unsupported("Fn::ImportValue"),
            "Fn::Transform": self._unsupported("Fn::Transform"),
            "Fn::Cidr": self._unsupported("Fn::Cidr"),
        }

    @staticmethod
    def _unsupported(name: str) -> Callable[[Any], Any]:
        def fail(arg: Any) -> Any:
            raise TemplateError(f"{name} is not supported by the local stack")

        return fail

    def _fn_get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            name, _, attribute = arg.partition(".")
        else:
            name, attribute = arg[0], self.resolve(arg[1])
        return self.get_att(name, attribute)

    def _fn_sub(self, arg: Any) -> str:
        if isinstance(arg, str):
            text, variables = arg, {}
        else:
            text, raw = arg[0], arg[1] if len(arg) > 1 else {}
            variables = {k: self.resolve(v) for k, v in raw.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _to_str(variables[name])
            if "." in name and name.split(".", 1)[0] not in self.pseudo_parameters():
                resource, attribute = name.split(".", 1)
                return _to_str(self.get_att(resource, attribute))
            return _to_str(self.ref(name))

        return _SUB_VAR.sub(replace, text)

    def _fn_if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)

    def _fn_join(self, arg: Any) -> str:
        delimiter, items = arg
        resolved = self.resolve(items)
        return str(delimiter).join(_to_str(v) for v in resolved)

    def _fn_select(self, arg: Any) -> Any:
        index, items = arg
        resolved = self.resolve(items)
        return resolved[int(self.resolve(index))]

    def _fn_split(self, arg: Any) -> list[str]:
        delimiter, text = arg
        return _to_str(self.resolve(text)).split(str(delimiter))

    def _fn_find_in_map(self, arg: Any) -> Any:
        name, top, second = (self.resolve(a) for a in arg[:3])
        try:
            return self.template.mappings[name][top][second]
        except KeyError as exc:
            raise TemplateError(f"Fn::FindInMap {name}/{top}/{second}: not found") from exc

    def _fn_get_azs(self, arg: Any) -> list[str]:
        region = self.resolve(arg) or self.region
        return [f"{region}{zone}" for zone in "abc"]


def _to_str(value: Any) -> str:
    """How CloudFormation stringifies scalars (booleans are lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_to_str(v) for v in value)
    return str(value)


def to_env_value(value: Any) -> str:
    """An environment variable value as Lambda sees it."""
    return _to_str(value)
