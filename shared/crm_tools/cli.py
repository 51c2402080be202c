"""The ``crm`` command line.

Each subcommand is one ``add_<name>`` function that registers its parser and sets
``func`` to what runs it; add a new subcommand by writing such a function and
listing it in :data:`COMMANDS` (nested groups such as ``crm dlq list`` are a
subparser with its own subparsers, in the same way).
"""

from __future__ import annotations

import argparse
import gc
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from crm_tools.webhook_receiver import add_webhook_receiver

if TYPE_CHECKING:
    from crm_tools.dlq import Target

DEFAULT_DATA_DIR = Path(".crm")


def _configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )


# ---------------------------------------------------------------- crm dev


def _parameter(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE")
    return name, value


def add_dev(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from crm_tools.seed import DEFAULT_DEMO_PASSWORD

    parser = sub.add_parser(
        "dev",
        help="run the local stack (API, embedded AWS, workers) in the foreground",
        description=(
            "Run the whole product locally until SIGINT/SIGTERM: an embedded moto server is AWS, "
            "resources come from infra/template.yaml, the Chalice app serves the API, and a local "
            "runtime feeds the DynamoDB stream and SQS queues to their functions. Data is kept under "
            "the data directory across restarts."
        ),
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1); only loopback unless --i-understand-this-is-insecure",
    )
    parser.add_argument(
        "--i-understand-this-is-insecure",
        dest="insecure_host",
        action="store_true",
        help="listen on a non-loopback --host although anyone who reaches it can mint admin tokens",
    )
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="where data is kept (default .crm)"
    )
    parser.add_argument("--fresh", action="store_true", help="delete the saved data first")
    parser.add_argument("--no-seed", action="store_true", help="no demo users and no demo data")
    parser.add_argument(
        "--demo-password",
        default=DEFAULT_DEMO_PASSWORD,
        help=f"password of the demo users (default {DEFAULT_DEMO_PASSWORD})",
    )
    parser.add_argument("--template", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.set_defaults(func=_run_dev, parser=parser)


def _check_dev_host(args: argparse.Namespace) -> None:
    """A non-loopback ``--host`` is a usage error (status 2) unless the insecure flag is given."""
    from crm_tools.devstack.stack import INSECURE_HOST_WARNING, is_loopback

    if not is_loopback(args.host) and not args.insecure_host:
        args.parser.error(
            f"refusing to listen on {args.host}: "
            + INSECURE_HOST_WARNING.format(host=args.host)
            + ". Use a loopback address (127.0.0.1, ::1, localhost), or add "
            "--i-understand-this-is-insecure if the network is yours alone"
        )


def _run_dev(args: argparse.Namespace) -> int:
    _check_dev_host(args)
    # A stop asked for while the heavy modules import still ends cleanly.
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: stop.set())

    from crm_tools.devstack.stack import DevOptions, run_dev

    _configure_logging(args.verbose)
    options = DevOptions(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir,
        fresh=args.fresh,
        seed=not args.no_seed,
        demo_password=args.demo_password,
        template=args.template,
        parameters=dict(args.parameter),
        insecure_host=args.insecure_host,
    )
    code = run_dev(options, stop_event=stop)
    # The heap (moto, botocore models) is about to be freed: skip the collector's full
    # passes at interpreter exit, which otherwise take seconds.
    gc.freeze()
    return code


# ---------------------------------------------------------------- crm invoke


def add_invoke(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "invoke",
        help="run one function's handler with an event, against the running local stack",
        description=(
            "Invoke FUNCTION (a logical id such as StreamFunction, or a short name such as stream) "
            "in this process with the event in a file, using the environment of the running "
            "`crm dev`, and print the handler's result as JSON."
        ),
    )
    parser.add_argument("function", metavar="FUNCTION")
    parser.add_argument("--event", "-e", required=True, help="event file (e.g. events/api-health.json), or -")
    parser.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="data dir of the running stack"
    )
    parser.set_defaults(func=_run_invoke)


def _run_invoke(args: argparse.Namespace) -> int:
    from crm_tools.devstack.invoke import main as invoke_main

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return invoke_main(args.function, args.event, args.data_dir)


# ---------------------------------------------------------------- crm env-json


def add_env_json(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "env-json",
        help="write events/env.json from what the local stack provisions",
        description=(
            "Provision infra/template.yaml in a throw-away embedded moto, as `crm dev` does, and "
            "write every function's environment in SAM's --env-vars format."
        ),
    )
    parser.add_argument(
        "--output", default="events/env.json", help="file to write, or - (default events/env.json)"
    )
    parser.add_argument("--template", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(func=_run_env_json)


def _run_env_json(args: argparse.Namespace) -> int:
    import json

    from crm_tools.devstack.stack import env_json, local_environments, project_root

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    text = json.dumps(env_json(local_environments(args.template)), indent=2) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        output = Path(args.output)
        if not output.is_absolute():
            output = project_root() / output
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- crm dlq


def add_dlq(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "dlq",
        help="show and re-drive dead-letter queues",
        description=(
            "Show the dead-letter queues of the running local stack (or, with --stack-name, of a "
            "deployed stack) and move their messages back to the queue they came from."
        ),
    )
    target = argparse.ArgumentParser(add_help=False)
    target.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="data dir of the running stack (default .crm)"
    )
    target.add_argument("--endpoint-url", default=None, help="the AWS endpoint (default: the local stack's)")
    target.add_argument("--region", default=None, help="the region (default: the stack's)")
    target.add_argument(
        "--stack-name", default=None, help="a deployed CloudFormation stack, with the default credentials"
    )
    dlq_sub = parser.add_subparsers(dest="dlq_command", metavar="COMMAND")
    dlq_sub.required = True

    listing = dlq_sub.add_parser(
        "list", parents=[target], help="dead-letter queues, their message counts and source queues"
    )
    listing.add_argument("--json", action="store_true", help="print JSON instead of a table")
    listing.set_defaults(func=_run_dlq_list)

    redrive = dlq_sub.add_parser(
        "redrive", parents=[target], help="move a dead-letter queue's messages back to its source queue"
    )
    redrive.add_argument("queue", metavar="QUEUE", help="logical id, queue name or queue URL")
    redrive.add_argument("--to", default=None, metavar="NAME", help="the source queue, if there are several")
    redrive.add_argument("--max", type=int, default=None, metavar="N", help="move at most N messages")
    redrive.add_argument("--dry-run", action="store_true", help="only count what would be moved")
    redrive.set_defaults(func=_run_dlq_redrive)


def _run_dlq(args: argparse.Namespace, command: Callable[[Target], int]) -> int:
    from crm_tools import dlq

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return dlq.main(command, args.data_dir, args.endpoint_url, args.region, args.stack_name)


def _run_dlq_list(args: argparse.Namespace) -> int:
    from crm_tools import dlq

    return _run_dlq(args, lambda target: dlq.list_command(target, args.json))


def _run_dlq_redrive(args: argparse.Namespace) -> int:
    from crm_tools import dlq

    return _run_dlq(
        args, lambda target: dlq.redrive_command(target, args.queue, args.to, args.max, args.dry_run)
    )


# ---------------------------------------------------------------- crm projections


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_projections(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "projections",
        help="repair the candidate list projections (lists, filters, name search)",
        description=(
            "Bring every candidate's list projections up to date with its profile, e.g. after stream "
            "records landed in the stream's failure queue. Safe while traffic flows."
        ),
    )
    projections_sub = parser.add_subparsers(dest="projections_command", metavar="COMMAND")
    projections_sub.required = True
    rebuild = projections_sub.add_parser(
        "rebuild",
        help="page through the table and fix every candidate whose projections differ from its profile",
        description=(
            "Scan the table for candidate profiles, page by page, and write the projections each one "
            "wants where they differ (conditioned on the profile's version, as the stream function "
            "writes them). The position is saved after each page: --resume carries on after an "
            "interruption. Exit status: 0 done, 1 some candidates failed (run it again), 2 nothing to "
            "do it with, 130 interrupted."
        ),
    )
    rebuild.add_argument(
        "--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="data dir of the running stack (default .crm)"
    )
    rebuild.add_argument("--endpoint-url", default=None, help="the AWS endpoint (default: the local stack's)")
    rebuild.add_argument("--region", default=None, help="the region (default: the stack's)")
    rebuild.add_argument(
        "--stack-name", default=None, help="a deployed CloudFormation stack, with the default credentials"
    )
    rebuild.add_argument("--table", default=None, help="the table (default: the stack's CrmTable)")
    rebuild.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="where the position is saved (default <data-dir>/projections-rebuild-<table>.json)",
    )
    rebuild.add_argument("--resume", action="store_true", help="carry on from the checkpoint")
    rebuild.add_argument(
        "--limit-per-page",
        type=_positive,
        default=500,
        metavar="N",
        help="items the Scan reads per page (default 500)",
    )
    rebuild.set_defaults(func=_run_projections_rebuild)


def _run_projections_rebuild(args: argparse.Namespace) -> int:
    from crm_tools import projections_rebuild

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return projections_rebuild.main(
        args.data_dir,
        args.endpoint_url,
        args.region,
        args.stack_name,
        args.table,
        args.checkpoint,
        args.resume,
        args.limit_per_page,
    )


# ---------------------------------------------------------------- crm package


def add_package(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "package",
        help="build the deployable template and code bundles (see `crm package --help`)",
        add_help=False,
    )
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    parser.set_defaults(func=lambda args: run_package(args.rest))


def run_package(argv: Sequence[str]) -> int:
    from crm_tools import package

    return int(package.main(list(argv)) or 0)


# ---------------------------------------------------------------- crm import (imports slice)


def add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "import", help="import candidates from a CSV file (see `crm import candidates --help`)"
    )
    import_sub = parser.add_subparsers(dest="import_command", metavar="WHAT")
    import_sub.required = True
    candidates = import_sub.add_parser(
        "candidates",
        help="import a CSV of candidates: one person per email, nothing a recruiter entered is overwritten",
        description=(
            "Upload FILE.csv to the stack, guess each column's field (override with --map), and import it "
            "in checkpointed chunks through the same intake as the career site, with a progress bar. "
            "Failed rows are written to FILE.csv.failed.csv with the reason. Exit status: 0 done, 1 the "
            "import failed, 2 nothing to import it with."
        ),
    )
    candidates.add_argument("file", type=Path, metavar="FILE.csv")
    candidates.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        help="data dir of the running local stack (default .crm)",
    )
    candidates.add_argument(
        "--stack-name", default=None, help="a deployed CloudFormation stack, with the default credentials"
    )
    candidates.add_argument("--region", default=None, help="the deployed stack's region")
    candidates.add_argument(
        "--dry-run", action="store_true", help="read and check every row; write no candidate"
    )
    candidates.add_argument(
        "--map",
        action="append",
        metavar="COLUMN=FIELD",
        help="the field a column holds (repeatable; FIELD: email, first_name, last_name, full_name, phone, "
        "location, linkedin_url, tags, marketing_consent, consent_date, resume, ignore)",
    )
    candidates.add_argument("--tags", default="", help="tags for every row, comma-separated")
    candidates.add_argument("--pool", default=None, metavar="POOL_ID", help="add every row to this pool")
    candidates.add_argument(
        "--source", default="import", help="the source of new candidates (default import)"
    )
    candidates.add_argument(
        "--resumes",
        type=Path,
        default=None,
        metavar="FILE.zip",
        help="a ZIP of the resumes the resume column names",
    )
    candidates.set_defaults(func=_run_import)


def _run_import(args: argparse.Namespace) -> int:
    from crm_tools import importer

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    return importer.main(args)


# ---------------------------------------------------------------- main

COMMANDS: list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]] = [
    add_dev,
    add_invoke,
    add_env_json,
    add_dlq,
    add_projections,
    add_package,
    add_webhook_receiver,
    add_import,  # imports slice
]

#: Subcommands whose arguments are passed through untouched to another parser.
PASSTHROUGH = {"package": run_package}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crm", description="Candidate Relationship Management tools.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] in PASSTHROUGH:
        return PASSTHROUGH[args_list[0]](args_list[1:])
    args = build_parser().parse_args(args_list)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
