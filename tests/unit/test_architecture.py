"""The layout's rules (docs/architecture.md), read from the code with ``ast``: a change that breaks
one fails here, naming the file and line.

1. Only ``crm.platform`` names AWS: it alone imports boto3/botocore and calls ``aws.client()`` or
   ``table.ddb()``; only a slice's repository calls the table, and only it builds its keys.
2. Slices depend downward only (``LAYERS``), never on another slice's repository; no import cycle;
   no import of ``crm`` hidden inside a function.
3. Nothing under ``shared/crm`` or in a deployed function imports ``crm_tools``.
4. Domain errors carry no HTTP; no module compares the table's error codes.
5. Only ``crm.platform.config`` reads the environment, and it has no local-stack defaults.
6. No module-global setters: no ``global`` statement.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CRM = ROOT / "shared" / "crm"
FUNCTIONS = ROOT / "functions"

#: The slices of ``shared/crm`` from the bottom up: a slice may import its own modules and those of
#: the layers below it, never a layer above or beside it.
LAYERS: list[set[str]] = [
    {"platform"},
    {"mailing", "audit"},
    {"jobs", "templates", "api_keys", "users", "custom_fields"},
    {"candidates"},
    {"access", "pools", "events"},
    {"alerts", "reminders", "campaigns", "sequences", "outreach", "hiring"},
    {"bulk", "inbound", "referrals", "interviews", "imports"},
    {"dispatch", "portal", "analytics", "webhooks", "exports", "merges"},
    {"workflows"},
]
LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}

#: Key prefixes and the slices whose repositories alone write them. A person's partition
#: (``CAND#``) is also built by ``crm.platform.keys``: every item holding a person's data lives there.
KEY_OWNERS: dict[str, set[str]] = {
    "CAND#": {"candidates"},
    "EMAIL#": {"candidates"},
    "ACT#": {"candidates"},
    "NOTE#": {"candidates"},
    "APP#": {"candidates"},
    "JOBAPPS#": {"candidates"},
    "JOBSTAGE#": {"candidates"},
    "ERASURE#": {"candidates"},
    "CANDEMAIL#": {"candidates"},
    "CANDPOOL#": {"candidates"},
    "CANDSOURCE#": {"candidates"},
    "CANDTAG#": {"candidates"},
    "CANDWORD#": {"candidates"},
    "WORD#": {"candidates"},
    "RESUMETEXT#": {"candidates"},
    "RESUME#": {"candidates"},
    "INTERACTION#": {"candidates"},
    "JOB#": {"jobs"},
    "HIRING#": {"hiring"},
    "FEEDBACK#": {"hiring"},  # interview feedback, in the person's partition
    "JOBSTATUS#": {"jobs"},
    "TEAM#": {"jobs"},  # a job's hiring team, one item per person, in gsi1 by their address
    "POOL#": {"pools", "candidates"},
    "TEMPLATE#": {"templates"},
    "CAMPAIGN#": {"campaigns"},
    "TALLY#": {"campaigns"},
    "SEQ#": {"sequences"},
    "SEQENROLL#": {"sequences"},
    "ENROLL#": {"sequences"},
    "REMINDER#": {"reminders"},
    "OUTREACH#": {"outreach"},
    "INREPLY#": {"inbound"},
    "INBOUND#": {"inbound"},
    "REMINDERS#": {"reminders"},
    "ALERTS#": {"jobs"},  # a job's alert runs, beside the job
    "SUPPRESS#": {"mailing"},
    "DELIVERY#": {"mailing"},
    "MAILTO#": {"mailing"},  # a person's emails, in gsi1 on their delivery records
    "MAILLOCK#": {"mailing"},
    "SESMSG#": {"mailing"},
    "APIKEY#": {"api_keys"},
    "DISPATCH#": {"dispatch"},
    "BULK#": {"bulk"},
    "BULKS": {"bulk"},
    "REFERRAL#": {"referrals"},  # a referral, in the referred person's partition
    "REFERRER#": {"referrals"},  # a referrer's referrals, in gsi1
    "REFERRALS": {"referrals"},  # every referral, in gsi2
    "REFCODE#": {"referrals"},  # a personal referral code and whose it is
    "INTERVIEW#": {"interviews"},  # a scheduled interview, in the person's partition
    "CALENDAR#": {"interviews"},  # an interviewer's bookings (ids only), the slots' guard
    "JOBINTERVIEWS#": {"interviews"},  # a job's interviews, in gsi1 (the board)
    "EVENT#": {"events"},  # an event, its counters and what is due for it
    "EVENTS": {"events"},  # every event by start (gsi1), and by status (EVENTSTATUS#, gsi2)
    "EVREMIND#": {"events"},  # an event's reminders and end, in the due-work index
    "EVRELEASE#": {"events"},  # an erased person's place given back (ids only)
    "EVENTREG#": {"events"},  # a person's registration, in their partition
    "EVENTREGS#": {"events"},  # an event's registrations by state (gsi1)
    "AUDIT#": {"audit"},  # the audit log by month; never updated or deleted (TTL only)
    "AUDITACTOR#": {"audit"},  # the audit log by who did it (gsi1)
    "AUDITPERSON#": {"audit"},  # the audit log by the person it was about (gsi2)
    # webhooks
    "WEBHOOK#": {"webhooks"},  # an endpoint (its secret encrypted)
    "WEBHOOKS": {"webhooks"},  # every endpoint, newest first (gsi1)
    "WHMSG#": {"webhooks"},  # an endpoint's messages (payload, state, attempts)
    "WHFAILED#": {"webhooks"},  # an endpoint's failed messages not yet delivered (gsi1)
    "WHLOG#": {"webhooks"},  # an endpoint's delivery attempts (the log)
    # exports
    "EXPORT#": {"exports"},  # an export: its request, status, counts and object key
    "EXPORTS": {"exports"},  # every export, newest first (gsi1)
    "EXPORTSBY#": {"exports"},  # one person's exports (gsi2)
    # custom_fields slice
    "CUSTOMFIELD#": {"custom_fields"},  # the definitions of custom fields (one partition)
    "CANDCF#": {"candidates"},  # a custom-field value's list projection (gsi1), like CANDTAG#
    # merges
    "MERGE#": {"merges"},  # a merge and everything needed to undo it (its snapshot in S3)
    "MERGED#": {"merges"},  # a merged person's redirect to the survivor
    "MERGESOF#": {"merges"},  # a survivor's merges, newest first (gsi1)
    "CANDPHONE#": {"candidates"},  # possible duplicates: same phone (gsi1 of LIST#DUP#phone)
    "CANDLINKEDIN#": {"candidates"},  # same LinkedIn URL
    "CANDNAMEPLACE#": {"candidates"},  # same name and location
    # imports slice
    "IMPORT#": {"imports"},  # an import's run (checkpoint, counts) and its failed rows
    "IMPORTS": {"imports"},  # every import by creation time (gsi1)
}
TABLE_CALLS = {
    "put",
    "update",
    "delete",
    "query",
    "transact",
    "get_item",
    "batch_get",
    "batch_put",
    "batch_delete",
    "query_page",
    "query_all",
    "write_if",
}


@dataclass(frozen=True)
class Module:
    path: Path
    name: str  # dotted, e.g. crm.candidates.repository
    tree: ast.Module

    @property
    def slice(self) -> str | None:
        parts = self.name.split(".")
        return parts[1] if parts[0] == "crm" and len(parts) > 1 else None

    @property
    def is_repository(self) -> bool:
        parts = self.name.split(".")
        return self.slice is not None and (parts[2:3] == ["repository"] or self.slice == "platform")

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"


def _module_name(path: Path) -> str:
    if path.is_relative_to(CRM):
        parts = ["crm", *path.relative_to(CRM).with_suffix("").parts]
    else:
        parts = ["functions", *path.relative_to(FUNCTIONS).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def modules() -> tuple[Module, ...]:
    found = []
    for base in (CRM, FUNCTIONS):
        for path in sorted(base.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            found.append(Module(path, _module_name(path), ast.parse(path.read_text(), str(path))))
    return tuple(found)


def crm_modules() -> Iterator[Module]:
    return (m for m in modules() if m.slice is not None)


def imports(module: Module) -> Iterator[tuple[ast.AST, str]]:
    """Every module a file imports (``from a import b`` gives ``a`` and ``a.b``)."""
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node, node.module
            for alias in node.names:
                yield node, f"{node.module}.{alias.name}"


def report(problems: list[str]) -> None:
    assert not problems, f"{len(problems)} place(s):\n" + "\n".join(sorted(set(problems)))


# ---------------------------------------------------------------------------------- rule 1


def test_only_the_platform_imports_boto3_or_botocore() -> None:
    report(
        [
            f"{m.where(node)} imports {name}"
            for m in modules()
            if m.slice != "platform"
            for node, name in imports(m)
            if name.split(".")[0] in ("boto3", "botocore")
        ]
    )


def test_only_the_platform_calls_aws_clients_or_the_raw_table() -> None:
    problems = []
    for m in modules():
        if m.slice == "platform":
            continue
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                if node.func.attr == "ddb" or (isinstance(owner, ast.Name) and owner.id == "aws"):
                    problems.append(f"{m.where(node)} calls {ast.unparse(node.func)}()")
    report(problems)


def test_only_a_slices_repository_calls_the_table() -> None:
    problems = []
    for m in modules():
        if m.is_repository:
            continue
        for node in ast.walk(m.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "table"
                and node.func.attr in TABLE_CALLS
            ):
                problems.append(f"{m.where(node)} calls table.{node.func.attr}()")
    report(problems)


def _key_literals(tree: ast.AST) -> Iterator[tuple[ast.AST, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node, node.value
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            yield node, str(node.values[0].value)


def _reads(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """A key prefix that is only compared with (``sk.startswith("APP#")``, ``sk == "X#"``)."""
    parent = parents.get(node)
    if isinstance(parent, ast.Compare):
        return True
    return (
        isinstance(parent, ast.Call)
        and isinstance(parent.func, ast.Attribute)
        and parent.func.attr in ("startswith", "endswith", "removeprefix")
    )


def test_only_a_slices_repository_builds_its_keys() -> None:
    """A key prefix is built only in its owner's repository, and read (compared) only in its
    owner's slice: no other slice knows another's key layout."""
    problems = []
    for m in modules():
        parents = {child: node for node in ast.walk(m.tree) for child in ast.iter_child_nodes(node)}
        for node, text in _key_literals(m.tree):
            for prefix, owners in KEY_OWNERS.items():
                if not text.startswith(prefix):
                    continue
                if prefix == "CAND#" and m.name == "crm.platform.keys":
                    continue
                if m.slice in owners and (m.is_repository or _reads(node, parents)):
                    continue
                what = "reads" if _reads(node, parents) else "builds"
                problems.append(
                    f"{m.where(node)} {what} a {prefix} key (owned by {', '.join(sorted(owners))})"
                )
    report(problems)


# ---------------------------------------------------------------------------------- rule 2


def test_slices_depend_downward_only_and_never_on_another_slices_repository() -> None:
    problems = []
    for m in crm_modules():
        assert m.slice in LAYER_OF, f"{m.path}: slice {m.slice} has no layer in LAYERS"
        for node, name in imports(m):
            parts = name.split(".")
            if parts[0] != "crm" or len(parts) < 2 or parts[1] == m.slice or parts[1] not in LAYER_OF:
                continue
            target = parts[1]
            if LAYER_OF[target] >= LAYER_OF[m.slice]:
                problems.append(f"{m.where(node)}: {m.slice} imports {name} (layer {LAYER_OF[target]})")
            elif parts[2:3] == ["repository"]:
                problems.append(f"{m.where(node)}: {m.slice} imports another slice's repository {name}")
    report(problems)


def test_no_import_cycles() -> None:
    names = {m.name for m in crm_modules()}
    graph: dict[str, set[str]] = defaultdict(set)
    for m in crm_modules():
        for _, name in imports(m):
            if name in names and name != m.name:
                graph[m.name].add(name)
    cycles = _cycles(graph)
    report([" -> ".join([*cycle, cycle[0]]) for cycle in cycles])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_of_crm_hides_inside_a_function() -> None:
    problems = []
    for m in crm_modules():
        for fn in ast.walk(m.tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "crm":
                        problems.append(f"{m.where(node)} imports {node.module} inside {fn.name}()")
    report(problems)


# ---------------------------------------------------------------------------------- rule 3


def test_nothing_deployed_imports_the_developer_tools() -> None:
    report(
        [
            f"{m.where(node)} imports {name}"
            for m in modules()
            for node, name in imports(m)
            if name.split(".")[0] == "crm_tools"
        ]
    )


# ---------------------------------------------------------------------------------- rule 4


def test_domain_errors_carry_no_http() -> None:
    problems = []
    for m in crm_modules():
        for node in ast.walk(m.tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id.endswith(("Error", "Failed", "Conflict", "Found", "Link"))
                for b in node.bases
            ):
                for stmt in node.body:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else []
                    for t in targets:
                        names = [e.id for e in t.elts] if isinstance(t, ast.Tuple) else [getattr(t, "id", "")]
                        if {"status", "status_code"} & set(names):
                            problems.append(f"{m.where(stmt)}: {node.name} says its HTTP status")
    report(problems)


def test_no_module_compares_the_tables_error_codes() -> None:
    codes = re.compile(r"ConditionalCheckFailed|TransactionCanceled|ClientError")
    report(
        [
            f"{m.where(node)} names {text}"
            for m in modules()
            if m.name != "crm.platform.table" and m.slice != "platform"
            for node, text in _key_literals(m.tree)
            if codes.search(text)
        ]
    )


# ---------------------------------------------------------------------------------- rule 5


def test_only_the_config_reads_the_environment() -> None:
    problems = []
    for m in modules():
        if m.name == "crm.platform.config":
            continue
        for node in ast.walk(m.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "os"
                and node.attr in ("environ", "getenv", "putenv")
            ):
                problems.append(f"{m.where(node)} reads os.{node.attr}")
    report(problems)


def test_the_settings_have_no_local_stack_defaults() -> None:
    source = (CRM / "platform" / "config.py").read_text()
    assert "crm-local" not in source
    assert "127.0.0.1" not in source


# ---------------------------------------------------------------------------------- rule 6


def test_no_module_global_setters() -> None:
    report(
        [
            f"{m.where(node)}: global {', '.join(node.names)}"
            for m in modules()
            for node in ast.walk(m.tree)
            if isinstance(node, ast.Global)
        ]
    )


@pytest.mark.parametrize("layer", range(len(LAYERS)))
def test_every_slice_of_the_layout_exists(layer: int) -> None:
    for name in LAYERS[layer]:
        assert (CRM / name / "__init__.py").is_file(), name
