"""``crm import candidates FILE.csv``: import a CSV of candidates into the local or a deployed stack.

The file goes up exactly as the UI sends it (the import's presigned POST), is previewed (the
guessed column mapping is printed; ``--map column=field`` overrides a guess) and started; this
process then runs the import worker's own code (``ImportService.run``) against the stack with a
progress bar, rather than waiting on the queue, so a terminal shows each chunk as it commits. The
report (created, merged, skipped, failed) is printed and the failed rows, with their reasons, are
written next to the file (``FILE.failed.csv``).

Where: ``--data-dir`` (the running ``crm dev``: its ``stack.json``) or ``--stack-name`` (a deployed
CloudFormation stack with the default credentials: the API function's environment is used).
Exit status: 0 done, 1 the import failed (the reason is printed), 2 nothing to import it with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from crm_tools.devstack.invoke import InvokeError, check_reachable, read_stack
from crm_tools.devstack.stack import FAKE_CREDENTIALS

CLI_ACTOR = "cli"


class ImportCliError(RuntimeError):
    """Something the user can fix (exit status 2)."""


def _point_at_local(data_dir: Path) -> None:
    stack = read_stack(data_dir)
    endpoint = str(stack["endpoint_url"])
    check_reachable(endpoint)
    api = ((stack.get("functions") or {}).get("ApiFunction") or {}).get("environment") or {}
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.update({k: str(v) for k, v in api.items()})
    os.environ["AWS_ENDPOINT_URL"] = endpoint


def _point_at_deployed(stack_name: str, region: str | None) -> None:
    session = boto3.session.Session(region_name=region)
    cloudformation: Any = session.client("cloudformation")
    function = cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId="ApiFunction")
    name = function["StackResourceDetail"]["PhysicalResourceId"]
    config = session.client("lambda").get_function_configuration(FunctionName=name)
    os.environ.update(config.get("Environment", {}).get("Variables", {}))
    os.environ["AWS_REGION"] = str(session.region_name)
    os.environ.setdefault("AWS_DEFAULT_REGION", str(session.region_name))


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        column, sep, target = pair.rpartition("=")
        if not sep or not column:
            raise ImportCliError(f"--map {pair!r}: expected COLUMN=FIELD")
        mapping[column] = target.strip()
    return mapping


def _post(form: Any, path: Path) -> None:
    with path.open("rb") as handle:
        response = requests.post(form.url, data=form.fields, files={"file": (path.name, handle)}, timeout=600)
    if response.status_code >= 300:
        raise ImportCliError(
            f"the upload of {path} was refused ({response.status_code}): {response.text[:300]}"
        )


def run_import(args: Any) -> int:  # noqa: C901 - one linear command
    from tqdm import tqdm

    from crm.audit.service import AuditLog
    from crm.imports.models import FIELDS, ImportCreate, ImportRun, ImportStart
    from crm.imports.service import ImportService
    from crm.platform.aws import reset_clients
    from crm.platform.config import reset_settings
    from crm.platform.errors import DomainError

    path: Path = args.file
    if not path.is_file():
        raise ImportCliError(f"{path}: no such file")
    if args.resumes is not None and not args.resumes.is_file():
        raise ImportCliError(f"{args.resumes}: no such file")
    overrides = _parse_map(args.map or [])
    unknown = sorted({f for f in overrides.values() if f not in FIELDS})
    if unknown:
        raise ImportCliError(f"--map: unknown field(s) {', '.join(unknown)}; fields are {', '.join(FIELDS)}")
    if args.stack_name:
        _point_at_deployed(args.stack_name, args.region)
    else:
        _point_at_local(args.data_dir)
    reset_settings()
    reset_clients()

    service = ImportService(enqueue=lambda _id: None)  # this process is the worker
    try:
        created = service.create(
            ImportCreate(file_name=path.name[:255], with_resumes=args.resumes is not None), actor=CLI_ACTOR
        )
        AuditLog().record("import.created", actor="system", subject=f"import:{created.id}")
        _post(created.upload, path)
        if args.resumes is not None and created.resumes_upload is not None:
            _post(created.resumes_upload, args.resumes)
        preview = service.preview(created.id)
        for problem in preview.problems:
            print(f"crm import: {problem}", file=sys.stderr)
        missing = sorted(set(overrides) - set(preview.columns))
        if missing:
            raise ImportCliError(f"--map: the file has no column {', '.join(missing)}")
        mapping = {**preview.mapping, **overrides}
        if args.resumes is None:
            mapping = {
                c: ("ignore" if f == "resume" and c not in overrides else f) for c, f in mapping.items()
            }
        print("columns: " + ", ".join(f"{c} -> {f}" for c, f in mapping.items()), file=sys.stderr)
        tags = [t for t in (args.tags or "").split(",") if t.strip()]
        start = ImportStart.model_validate(
            {
                "mapping": mapping,
                "tags": tags,
                "pool_id": args.pool,
                "source": args.source,
                "dry_run": args.dry_run,
            }
        )
        started = service.start(created.id, start, actor=CLI_ACTOR)
        AuditLog().record("import.started", actor="system", subject=f"import:{created.id}")
        with tqdm(
            total=started.bytes_total, unit="B", unit_scale=True, desc="importing", file=sys.stderr
        ) as bar:

            def progress(run: ImportRun) -> None:
                bar.update(run.bytes_done - bar.n)
                bar.set_postfix(rows=run.counts.rows, failed=run.counts.failed, refresh=False)

            final = service.run(created.id, on_progress=progress)
    except ValidationError as exc:
        raise ImportCliError(str(exc)) from exc
    except DomainError as exc:
        detail = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.errors) or exc.detail
        raise ImportCliError(f"{exc.detail} ({detail})" if exc.errors else exc.detail) from exc
    if final is None:
        raise ImportCliError("the import disappeared")
    counts = final.counts
    label = "dry run: " if final.dry_run else ""
    print(
        f"{label}import {final.id} {final.status}: {counts.rows} row(s), {counts.created} created, "
        f"{counts.merged} merged, {counts.skipped} skipped, {counts.failed} failed, "
        f"{counts.resumes} resume(s)"
    )
    failed_lines = list(service.failed_rows_csv(final.id))
    if len(failed_lines) > 1:
        out = path.with_name(path.name + ".failed.csv")
        out.write_text("".join(failed_lines), encoding="utf-8")
        print(f"rows not imported (with the reason): {out}")
    if final.status != "done":
        print(f"crm import: {final.reason or final.status}", file=sys.stderr)
        return 1
    return 0


def main(args: Any) -> int:
    try:
        return run_import(args)
    except (ImportCliError, InvokeError, BotoCoreError, ClientError) as exc:
        print(f"crm import: {exc}", file=sys.stderr)
        return 2
