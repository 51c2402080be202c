"""``crm dev``: the whole product in one process, on loopback, with no cloud account.

Start-up, in order:

1. fake AWS credentials in the environment; an embedded moto server
   (``ThreadedMotoServer``) on 127.0.0.1 and a free port is "AWS";
   ``AWS_ENDPOINT_URL`` points every client at it;
2. the resources of ``infra/template.yaml`` are created in moto (stack name
   ``crm-local``) and each function's environment is computed from the template;
3. saved items, objects and schedules are restored from the data directory (the last snapshot,
   then the journal of every write accepted after it: ``devstack_persist``), journaling is
   switched on, and every candidate's list projections are brought up to date with its profile
   (stream records pending when the stack was killed are never delivered);
4. the demo users are created (unless ``--no-seed``);
5. the Chalice app is served by Chalice's local server on a thread, and the local
   runtime starts feeding the DynamoDB stream and SQS queues to their functions and
   firing due schedules (the template's ``Schedule``/``ScheduleV2`` events and the
   schedules in Scheduler groups) by the local clock (``crm.platform.clock``);
6. when the table is empty, demo data is loaded through the HTTP API;
7. ``CRM is ready on http://H:P`` is printed once ``GET /health`` answers.

It runs until SIGINT or SIGTERM, then stops taking HTTP requests, lets the stream runtime deliver
what is pending (at most :data:`DRAIN_SECONDS`), stops the workers, takes a last snapshot and
exits 0. A ``kill -9`` loses nothing that was answered: every write moto accepted is in the
journal before its answer leaves. It listens on loopback only, unless told
``insecure_host`` (``--i-understand-this-is-insecure``): moto signs the user pool's tokens with
a key that ships inside moto, so anyone who reaches the stack can mint an admin's token.
``<data-dir>/stack.json`` tells ``crm invoke`` where the running stack is.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from crm_tools import seed as seeding
from crm_tools.cfn import Resolver, Template
from crm_tools.devstack.journal import Journal, MotoRecorder
from crm_tools.devstack.mail import MailboxSimulator
from crm_tools.devstack.persist import Autosaver, StateStore, atomic_write
from crm_tools.devstack.provision import Provisioned, Provisioner, function_environment
from crm_tools.devstack.runtime import (
    DynamoStreamSource,
    EventSource,
    LocalFunction,
    Poller,
    ScheduledFunctionSource,
    SchedulerPoller,
    SqsSource,
)

log = logging.getLogger("devstack")

STACK_NAME = "crm-local"
REGION = "us-east-1"
READY_PREFIX = "CRM is ready on"
#: How long a stop waits for the stream runtime to deliver what is pending.
DRAIN_SECONDS = 15.0
#: Set in the local stack only: app.py then registers the /dev routes (outbox, clock).
LOCAL_STACK_ENV = "CRM_LOCAL_STACK"
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 (also IPv4-mapped) and ``localhost``; anything else reaches beyond this machine."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


INSECURE_HOST_WARNING = (
    "anyone who can reach {host} can mint tokens for any user of this stack, admins included "
    "(moto signs its user pool's tokens with a key that ships inside moto), and read all of its data"
)


#: The inbound mail domain of the local stack (reply addresses; its SMTP server takes only it).
LOCAL_INBOUND_DOMAIN = "inbound.crm.localhost"


class StartupError(RuntimeError):
    """The stack could not start; the message says why."""


class StopRequested(BaseException):
    """SIGINT/SIGTERM arrived while starting (a BaseException, like KeyboardInterrupt, so that
    no library's ``except Exception`` swallows it)."""


def project_root() -> Path:
    """The checkout holding ``infra/template.yaml``: the working directory or this package's."""
    env = os.environ.get("CRM_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    for candidate in (Path.cwd(), *Path.cwd().parents):
        if (candidate / "infra" / "template.yaml").is_file():
            return candidate
    return Path(__file__).resolve().parents[3]


def use_fake_aws_environment() -> None:
    """Credentials and region that can never reach a real account."""
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        os.environ.pop(key, None)
    os.environ.update(FAKE_CREDENTIALS)


def quiet_request_logs() -> None:
    for name in ("werkzeug", "moto", "botocore", "boto3", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


@dataclass
class DevOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path(".crm")
    fresh: bool = False
    seed: bool = True
    demo_password: str = seeding.DEFAULT_DEMO_PASSWORD
    template: Path | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    autosave_seconds: float = 3.0
    progress: bool = True
    #: Listen on a non-loopback host although that exposes the stack (see the module docstring).
    insecure_host: bool = False


class DevStack:
    def __init__(self, options: DevOptions, stop_event: threading.Event | None = None) -> None:
        self.options = options
        self.root = project_root()
        self.template_path = (options.template or self.root / "infra" / "template.yaml").resolve()
        self.data_dir = options.data_dir.resolve()
        self.stop_event = stop_event or threading.Event()
        #: Stops the workers: set after the stream has been drained, not when the stop is asked for.
        self.workers_stop = threading.Event()
        self._starting = True
        self._persist = False
        self._lock_file: Any = None
        self.moto: Any = None
        self.endpoint_url = ""
        self.template: Template | None = None
        self.resolver: Resolver | None = None
        self.provisioned = Provisioned()
        self.environments: dict[str, dict[str, str]] = {}
        self.functions: dict[str, LocalFunction] = {}
        self.sources: list[Poller] = []
        self.mail_simulator: MailboxSimulator | None = None
        self.smtp: Any = None
        self.store: StateStore | None = None
        self.journal: Journal | None = None
        self.recorder: MotoRecorder | None = None
        self.autosaver: Autosaver | None = None
        self.api: Any = None
        self._connections = OpenConnections()
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: Any = None

    # ------------------------------------------------------------ entry point

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        code = 0
        try:
            self._check_stop()
            self.start()
            self._starting = False
            self.announce()
            while not self.stop_event.wait(0.5):
                pass
        except StopRequested:
            pass
        except StartupError as exc:
            print(f"crm dev: {exc}", file=sys.stderr, flush=True)
            code = 1
        except seeding.SeedError as exc:
            print(
                f"crm dev: loading the demo data failed: {exc}\n"
                "crm dev: fix the API, or start with --no-seed to skip the demo data",
                file=sys.stderr,
                flush=True,
            )
            code = 1
        except Exception:
            log.exception("crm dev failed")
            code = 1
        finally:
            self._starting = False
            self.stop_event.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            try:
                self.shutdown()
            finally:
                signal.signal(signal.SIGINT, previous[signal.SIGINT])
                signal.signal(signal.SIGTERM, previous[signal.SIGTERM])
        return code

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stop_event.set()
        if self._starting:
            raise StopRequested

    @property
    def url(self) -> str:
        return f"http://{self.options.host}:{self.options.port}"

    @property
    def loopback_url(self) -> str:
        host = self.options.host
        host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host  # noqa: S104 - a comparison
        return f"http://{host}:{self.options.port}"

    def announce(self) -> None:
        print(f"{READY_PREFIX} {self.url}", flush=True)
        if self.smtp is not None:
            print(f"Inbound mail (SMTP) on {self.smtp.address}", flush=True)
        if self.options.seed:
            users = ", ".join(f"{user} ({group})" for user, group in seeding.DEMO_USERS)
            print(f"Demo users: {users}; password: {self.options.demo_password}", flush=True)

    # ------------------------------------------------------------ start

    def start(self) -> None:
        if not is_loopback(self.options.host):
            if not self.options.insecure_host:
                raise StartupError(
                    f"refusing to listen on {self.options.host}: "
                    + INSECURE_HOST_WARNING.format(host=self.options.host)
                )
            log.warning("listening on %s: %s", self.options.host, INSECURE_HOST_WARNING.format(host="it"))
        self._take_lock()
        if self.options.fresh:
            StateStore(self.data_dir, dynamodb=None, s3=None, tables={}, buckets={}).clear()
        (self.data_dir / "stack.json").unlink(missing_ok=True)
        use_fake_aws_environment()
        from crm_tools.devstack.moto import MOTO_SETTINGS

        os.environ.update(MOTO_SETTINGS)
        quiet_request_logs()
        self._start_moto()
        self._provision()
        self._configure_environment()
        self._verify_sender()
        self._write_stack_file()
        self.journal = Journal(self.data_dir / "state" / "journal")
        self.store = StateStore(
            self.data_dir,
            dynamodb=self.client("dynamodb"),
            s3=self.client("s3"),
            tables=self.provisioned.tables,
            buckets=self.provisioned.buckets,
            item_reader=self._read_table_items,
            item_writer=self._write_table_items,
            change_marker=self._table_change_marker,
            scheduler=self.client("scheduler"),
            schedule_groups=self.provisioned.schedule_groups,
            journal=self.journal,
        )
        self.recorder = MotoRecorder(
            self.journal,
            region=REGION,
            tables=self.provisioned.tables,
            buckets=self.provisioned.buckets,
            schedule_groups=self.provisioned.schedule_groups,
            blob_dir=self.store.blob_dir,
            lock=self.moto.lock,
        )
        self.moto.recorder = self.recorder
        restored = self.store.restore()
        if any(restored.values()):
            log.info("restored %s", ", ".join(f"{k}: {v}" for k, v in restored.items() if v))
        self.journal.open(next_seq=self.store.last_seq + 1)
        self.recorder.enable()  # every write from here on is journaled before it is answered
        self._bring_projections_up_to_date()
        self._forget_restore_stream_records()
        self._make_functions()
        if self.options.seed:
            from crm_tools.devstack.moto import deterministic_ids

            with deterministic_ids(seeding.SEED):  # the same user ``sub`` on every start
                for pool_id in self.provisioned.user_pools.values():
                    seeding.create_demo_users(self.client("cognito-idp"), pool_id, self.options.demo_password)
        self._check_stop()
        self._start_api()
        for source in self.sources:
            source.start()
        self._start_mail_simulator()
        self._start_smtp()
        self._write_stack_file()  # again, with the inbound SMTP server's address
        self._wait_healthy(timeout=30)
        self._check_stop()
        if self.options.seed and self._tables_empty():
            http_log = logging.getLogger("devstack.http")
            level = http_log.level
            http_log.setLevel(logging.WARNING)  # the progress bar says it better than 120 request lines
            try:
                summary = seeding.load_demo_data(
                    self.loopback_url,
                    username=seeding.DEMO_USERS[0][0],
                    password=self.options.demo_password,
                    progress=self.options.progress,
                )
            finally:
                http_log.setLevel(level)
            log.info("demo data: %s", summary)
            self._check_stop()
            if not self.wait_idle(timeout=60):
                log.warning("the local runtime has not caught up with the demo data yet")
        self._persist = True
        self.autosaver = Autosaver(
            self.store, self.options.autosave_seconds, self.workers_stop, now=self.store.replayed > 0
        )
        self.autosaver.start()

    def _check_stop(self) -> None:
        if self.stop_event.is_set():
            raise StopRequested

    def _take_lock(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.data_dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            self._lock_file.close()
            self._lock_file = None
            raise StartupError(f"another crm dev is using {self.data_dir}") from exc

    def client(self, service: str) -> Any:
        """boto3 clients of the local stack itself (one session: models load once)."""
        with self._clients_lock:
            found = self._clients.get(service)
            if found is None:
                if self._session is None:
                    import boto3

                    self._session = boto3.session.Session(region_name=REGION)
                found = self._session.client(service, endpoint_url=self.endpoint_url)
                self._clients[service] = found
            return found

    def _start_moto(self) -> None:
        from crm_tools.devstack.moto import (
            LocalMotoServer,
            install_fast_dynamodb,
            install_fast_stream_reads,
            install_fast_transactions,
        )

        install_fast_transactions()
        install_fast_stream_reads()
        install_fast_dynamodb()
        self.moto = LocalMotoServer(ip_address="127.0.0.1", port=0)
        self.moto.start()
        self.endpoint_url = self.moto.endpoint_url
        os.environ["AWS_ENDPOINT_URL"] = self.endpoint_url
        log.info("embedded AWS (moto) on %s", self.endpoint_url)

    def _provision(self) -> None:
        try:
            self.template = Template.load(self.template_path)
        except (OSError, ValueError) as exc:
            raise StartupError(f"cannot read {self.template_path}: {exc}") from exc
        self.resolver = Resolver(
            self.template,
            stack_name=STACK_NAME,
            region=REGION,
            parameter_overrides=dict(self.options.parameters),
        )
        self.provisioned = Provisioner(self.template, self.resolver, self.client).provision()
        for spec in self.template.functions():
            self.environments[spec.logical_id] = function_environment(
                self.template, self.resolver, spec.logical_id
            )

    def _configure_environment(self) -> None:
        """Every function runs in this process: their variables are merged into os.environ."""
        merged: dict[str, str] = {}
        for logical_id, env in self.environments.items():
            for key, value in env.items():
                if key in merged and merged[key] != value:
                    log.warning(
                        "%s sets %s differently from another function; one value wins", logical_id, key
                    )
                merged[key] = value
        os.environ.update(merged)
        # The local stack's own switches (not in the template: never set in AWS).
        from crm.platform.clock import CLOCK_FILE_ENV

        os.environ[LOCAL_STACK_ENV] = "1"
        # webhooks: http to a receiver on loopback (crm webhook-receiver) is allowed locally only
        os.environ["WEBHOOK_ALLOW_LOOPBACK_HTTP"] = "1"
        clock_file = self.data_dir / "clock.json"
        if self.options.fresh:
            clock_file.unlink(missing_ok=True)
        os.environ[CLOCK_FILE_ENV] = str(clock_file)
        from crm.platform.aws import reset_clients
        from crm.platform.config import reset_settings

        reset_settings()
        reset_clients()
        self._check_env_json(merged)
        if not merged.get("INBOUND_MAIL_DOMAIN"):
            # Reply addresses point at this stack's SMTP server unless the parameter says otherwise.
            os.environ["INBOUND_MAIL_DOMAIN"] = LOCAL_INBOUND_DOMAIN
            reset_settings()
        if not merged.get("PUBLIC_BASE_URL"):
            # Links in emails point at this stack unless the template's parameter says otherwise.
            os.environ["PUBLIC_BASE_URL"] = self.url
            reset_settings()

    def _check_env_json(self, merged: dict[str, str]) -> None:
        path = self.root / "events" / "env.json"
        try:
            parameters = json.loads(path.read_text(encoding="utf-8")).get("Parameters", {})
        except (OSError, ValueError):
            return
        stale = sorted(k for k, v in merged.items() if k in parameters and parameters[k] != v)
        missing = sorted(k for k in merged if k not in parameters)
        if stale or missing:
            log.warning(
                "events/env.json differs from the local stack (stale: %s; missing: %s); run `crm env-json`",
                ", ".join(stale) or "-",
                ", ".join(missing) or "-",
            )

    def _verify_sender(self) -> None:
        """SES (and moto) refuse unverified senders: verify MAIL_FROM's address."""
        from crm.mailing.compose import bare_address
        from crm.platform.config import get_settings

        address = bare_address(get_settings().mail_from)
        self.client("ses").verify_email_identity(EmailAddress=address)
        log.info("verified the sender %s in SES", address)

    def _start_mail_simulator(self) -> None:
        from crm_tools.devstack.moto import ACCOUNT_ID

        self.mail_simulator = MailboxSimulator(
            events_client=self.client("events"),
            account=ACCOUNT_ID,
            region=REGION,
            lock=self.moto.lock,
            stop=self.workers_stop,
        )
        self.mail_simulator.prepare()
        self.mail_simulator.start()

    def _start_smtp(self) -> None:
        """The inbound mail server (SES receiving's part); its address is in CRM_LOCAL_SMTP for the
        outbox's "Reply as the candidate" form."""
        from crm.platform.config import get_settings, reset_settings
        from crm_tools.devstack.smtp import InboundSmtpServer

        bucket = self.provisioned.buckets.get("InboundMailBucket")
        domain = get_settings().inbound_mail_domain
        if not bucket or not domain:
            log.info("no inbound mail: the template has no InboundMailBucket or no domain")
            return
        self.smtp = InboundSmtpServer(domain=domain, bucket=bucket, s3_client=self.client("s3"))
        self.smtp.start()
        os.environ["CRM_LOCAL_SMTP"] = self.smtp.address
        reset_settings()

    def _stop_smtp(self) -> None:
        if self.smtp is not None:
            with _logged("stopping the SMTP server"):
                self.smtp.stop()
            self.smtp = None

    def stack_description(self) -> dict[str, Any]:
        assert self.template is not None
        functions = {}
        for spec in self.template.functions():
            functions[spec.logical_id] = {
                "name": self.provisioned.functions.get(spec.logical_id),
                "handler": spec.handler,
                "code_dir": str(spec.code_dir) if spec.code_dir else None,
                "timeout": spec.timeout,
                "memory_size": spec.memory_size,
                "environment": self.environments.get(spec.logical_id, {}),
            }
        return {
            "stack_name": STACK_NAME,
            "region": REGION,
            "endpoint_url": self.endpoint_url,
            "api_url": self.url,
            "template": str(self.template_path),
            "pid": os.getpid(),
            "functions": functions,
            "tables": self.provisioned.tables,
            "buckets": self.provisioned.buckets,
            "queues": self.provisioned.queues,
            "user_pools": self.provisioned.user_pools,
            "inbound_smtp": self.smtp.address if self.smtp is not None else None,
        }

    def _write_stack_file(self) -> None:
        body = json.dumps(self.stack_description(), indent=2, sort_keys=True)
        atomic_write(self.data_dir / "stack.json", body.encode("utf-8"))

    def _make_functions(self) -> None:
        assert self.template is not None and self.resolver is not None
        for spec in self.template.functions():
            name = self.provisioned.functions[spec.logical_id]
            arn = self.resolver.get_att(spec.logical_id, "Arn")
            function = LocalFunction(spec, physical_name=name, arn=arn)
            self.functions[spec.logical_id] = function
            for event_name, event in spec.events.items():
                self._make_source(function, event_name, event)
        self._make_scheduler()

    def _make_scheduler(self) -> None:
        """Schedules the product creates in Scheduler groups (moto never fires them)."""
        from crm_tools.devstack.moto import ACCOUNT_ID

        poller = SchedulerPoller(
            scheduler_client=self.client("scheduler"),
            sqs_client=self.client("sqs"),
            queue_urls=self.provisioned.queue_urls_by_arn,
            functions={f.arn: f for f in self.functions.values()},
            account=ACCOUNT_ID,
            region=REGION,
            stop=self.workers_stop,
        )
        poller.prepare()
        self.sources.append(poller)

    def _make_source(self, function: LocalFunction, event_name: str, event: dict[str, Any]) -> None:
        assert self.resolver is not None
        kind = event.get("Type")
        props = self.resolver.resolve(event.get("Properties") or {})
        if props.get("Enabled", True) in (False, "false") or props.get("State") == "DISABLED":
            return
        source: EventSource
        if kind == "DynamoDB":
            source = DynamoStreamSource(
                function,
                props,
                streams_client=self.client("dynamodbstreams"),
                sqs_client=self.client("sqs"),
                queue_urls=self.provisioned.queue_urls_by_arn,
                region=REGION,
                stop=self.workers_stop,
                housekeeping=self._stream_housekeeping(str(props["Stream"])),
            )
        elif kind == "SQS":
            source = SqsSource(
                function,
                props,
                sqs_client=self.client("sqs"),
                queue_urls=self.provisioned.queue_urls_by_arn,
                region=REGION,
                stop=self.workers_stop,
            )
        elif kind in ("Schedule", "ScheduleV2"):
            from crm_tools.devstack.moto import ACCOUNT_ID

            # The schedule (ScheduleV2) or rule (Schedule) SAM would create, as the event names it.
            name = str(props.get("Name") or f"{STACK_NAME}-{function.logical_id}{event_name}")
            resource_arn = (
                f"arn:aws:scheduler:{REGION}:{ACCOUNT_ID}:schedule/default/{name}"
                if kind == "ScheduleV2"
                else f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{name}"
            )
            source = ScheduledFunctionSource(
                function,
                event_name,
                str(kind),
                props,
                resource_arn=resource_arn,
                account=ACCOUNT_ID,
                region=REGION,
                stop=self.workers_stop,
            )
        else:
            log.info("%s: %s event %s is not run by the local stack", function.logical_id, kind, event_name)
            return
        source.prepare()
        self.sources.append(source)

    def _bring_projections_up_to_date(self) -> None:
        """Every candidate's list projections as its profile wants them: stream records pending
        when the stack was stopped or killed are never delivered after a restart. Read from
        moto's memory, so when nothing is wrong this costs milliseconds; only differences are
        written, conditioned on the profile's version as the stream function writes them."""
        from botocore.exceptions import BotoCoreError, ClientError

        from crm.candidates.repository.projections import delete_orphans, plan_rebuild, write_diff
        from crm.platform.config import get_settings

        name = get_settings().table_name
        if name not in self.provisioned.tables.values():
            return
        started = time.monotonic()
        items = self._read_table_items(name)
        if items is None:
            log.warning("projections: the table could not be read; lists may miss recent changes")
            return
        plan = plan_rebuild(items)
        fixed = orphaned = failed = 0
        for profile, diff in plan.fixes:
            try:
                fixed += write_diff(profile, diff)
            except (BotoCoreError, ClientError) as exc:
                failed += 1
                log.error(
                    "projections: candidate %s not brought up to date: %s", profile["id"], type(exc).__name__
                )
        for pk, sks in plan.orphans.items():
            try:
                orphaned += delete_orphans(pk, sks)
            except (BotoCoreError, ClientError) as exc:
                failed += 1
                log.error("projections: left-overs of %s not removed: %s", pk, type(exc).__name__)
        log.info(
            "projections: %d candidate(s) checked, %d brought up to date, %d erased candidate(s)' "
            "list items removed, %d failed (%.2f s)",
            plan.candidates,
            fixed,
            orphaned,
            failed,
            time.monotonic() - started,
        )
        self._bring_word_index_up_to_date(items)

    def _bring_word_index_up_to_date(self, items: list[dict[str, Any]]) -> None:
        """The free-text index as every person's profile, notes and resume texts want it (the
        same reason as the list projections: pending stream records are lost on a restart)."""
        from botocore.exceptions import BotoCoreError, ClientError

        from crm.candidates.repository.words import stale_word_index
        from crm.candidates.search import FreeTextIndex

        started = time.monotonic()
        stale, orphans = stale_word_index(items)
        index = FreeTextIndex()
        failed = 0
        for candidate_id in stale:
            try:
                index.refresh(candidate_id)
            except (BotoCoreError, ClientError) as exc:
                failed += 1
                log.error(
                    "search index: candidate %s not brought up to date: %s", candidate_id, type(exc).__name__
                )
        for candidate_id in orphans:
            try:
                index.remove_orphans(candidate_id)
            except (BotoCoreError, ClientError) as exc:
                failed += 1
                log.error("search index: left-overs of %s not removed: %s", candidate_id, type(exc).__name__)
        log.info(
            "search index: %d candidate(s) brought up to date, %d erased candidate(s)' entries removed, "
            "%d failed (%.2f s)",
            len(stale),
            len(orphans),
            failed,
            time.monotonic() - started,
        )

    def _forget_restore_stream_records(self) -> None:
        """Restoring wrote every item again; none of those stream records is ever delivered (the
        stream is read from its end), so they need not stay in memory."""
        from crm_tools.devstack.moto import trim_stream

        for name in self.provisioned.tables.values():
            marker = self._table_change_marker(name)
            if marker is not None:
                trim_stream(name, marker, region=REGION, lock=self.moto.lock)

    def _read_table_items(self, table_name: str) -> list[dict[str, Any]] | None:
        from crm_tools.devstack.moto import table_items

        return table_items(table_name, region=REGION, lock=self.moto.lock)

    def _write_table_items(self, table_name: str, items: list[dict[str, Any]]) -> bool:
        from crm_tools.devstack.moto import put_table_items

        return put_table_items(table_name, items, region=REGION, lock=self.moto.lock)

    def _table_change_marker(self, table_name: str) -> int | None:
        from crm_tools.devstack.moto import table_change_marker

        return table_change_marker(table_name, region=REGION, lock=self.moto.lock)

    def _stream_housekeeping(self, stream_arn: str) -> Any:
        """Drop consumed stream records and spent shard iterators from moto's memory."""
        from crm_tools.devstack.moto import prune_shard_iterators, trim_stream

        table_name = stream_arn.split(":table/", 1)[-1].split("/", 1)[0]
        lock = self.moto.lock

        def housekeeping(delivered_upto: int | None, keep: set[str]) -> None:
            if delivered_upto is not None:
                trim_stream(table_name, delivered_upto, region=REGION, lock=lock)
            prune_shard_iterators(keep, lock=lock)

        return housekeeping

    def _start_api(self) -> None:
        from chalice.app import Chalice

        from crm_tools.devstack.http import ApiServer, gateway_responses

        assert self.template is not None and self.resolver is not None
        api_function = None
        for function in self.functions.values():
            try:
                handler = function.load()
            except Exception as exc:
                if function.spec.handler.endswith(".app"):
                    raise StartupError(f"{function.logical_id} does not import: {exc!r}") from exc
                log.error("%s does not import yet: %s", function.logical_id, type(exc).__name__)
                continue
            if isinstance(handler, Chalice):
                api_function = function
        if api_function is None:
            raise StartupError("no function of the template is a Chalice app")
        assert api_function.spec.code_dir is not None
        try:
            self.api = ApiServer(
                api_function.load(),
                host=self.options.host,
                port=self.options.port,
                project_dir=api_function.spec.code_dir,
                function_name=api_function.physical_name,
                timeout=api_function.spec.timeout,
                memory_size=api_function.spec.memory_size,
                gateway=gateway_responses(self.template, self.resolver),
            )
        except OSError as exc:
            raise StartupError(f"cannot listen on {self.options.host}:{self.options.port}: {exc}") from exc
        server = self.api.server.server
        server.RequestHandlerClass = self._connections.track(server.RequestHandlerClass)
        self.api.start()

    def _wait_healthy(self, timeout: float) -> None:
        import requests

        session = requests.Session()
        session.trust_env = False
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                response = session.get(self.loopback_url + "/health", timeout=5)
                if response.status_code == 200:
                    return
                last = f"answered {response.status_code}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        raise StartupError(f"GET /health did not answer 200 ({last})")

    def _tables_empty(self) -> bool:
        ddb = self.client("dynamodb")
        return all(
            not ddb.scan(TableName=name, Limit=1).get("Items") for name in self.provisioned.tables.values()
        )

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every event source has caught up (lists are projected asynchronously)."""
        deadline = time.monotonic() + timeout
        idle = all(s.wait_idle(max(0.0, deadline - time.monotonic())) for s in self.sources)
        if self.mail_simulator is not None:
            idle = self.mail_simulator.wait_idle(max(0.0, deadline - time.monotonic())) and idle
        return idle

    # ------------------------------------------------------------ stop

    def _drain(self) -> None:
        """Let the stream runtime deliver what is pending (the API no longer takes requests)."""
        streams = [s for s in self.sources if isinstance(s, DynamoStreamSource) and s.is_alive()]
        if not streams:
            return
        started = time.monotonic()
        deadline = started + DRAIN_SECONDS
        drained = all(s.wait_idle(max(0.0, deadline - time.monotonic())) for s in streams)
        if drained:
            log.info("stream delivered before stopping (%.1f s)", time.monotonic() - started)
        else:
            log.warning(
                "the stream was not delivered within %.0f s: the lists are brought up to date on the "
                "next start, but other reactions to the pending changes (emails, events) are lost",
                DRAIN_SECONDS,
            )

    def shutdown(self) -> None:
        self.stop_event.set()
        log.debug("stopping")
        if self.api is not None:
            with _logged("stopping the API"):
                self.api.stop()
                # Clients keep connections open (HTTP/1.1) and would go on being served on them.
                if not self._connections.close(timeout=10):
                    log.warning("some API requests were still running 10 s after the stop")
        if self._persist:
            with _logged("delivering the stream"):
                self._drain()
        self.workers_stop.set()
        for source in self.sources:
            if source.is_alive():
                source.join(timeout=10)  # daemon threads: a stuck handler cannot hold the exit
        self._stop_smtp()
        if self.mail_simulator is not None and self.mail_simulator.is_alive():
            self.mail_simulator.join(timeout=10)
        if self.autosaver is not None and self.autosaver.is_alive():
            self.autosaver.join(timeout=30)
        log.debug("workers stopped")
        if self._persist and self.store is not None:
            with _logged("saving the local data"):
                self.store.dump()
            log.debug("data saved")
        if self.moto is not None:
            with _logged("stopping moto"):
                self.moto.stop()
        if self.journal is not None:
            with _logged("closing the journal"):
                self.journal.close()
        if self._lock_file is not None:  # only the owner of the data dir touches it
            (self.data_dir / "stack.json").unlink(missing_ok=True)
            self._lock_file.close()
            self._lock_file = None
        log.debug("stopped")


class OpenConnections:
    """The API's open connections: a stop ends them (a keep-alive connection would otherwise go on
    being served after the listening socket closed) and waits for the requests in flight."""

    def __init__(self) -> None:
        self._open: set[socket.socket] = set()
        self._changed = threading.Condition()

    def track(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap a socketserver handler class (a handler serves one connection in its constructor)."""

        def serve(request: socket.socket, client_address: Any, server: Any) -> Any:
            with self._changed:
                self._open.add(request)
            try:
                return handler(request, client_address, server)
            finally:
                with self._changed:
                    self._open.discard(request)
                    self._changed.notify_all()

        return serve

    def close(self, timeout: float) -> bool:
        """Stop reading from every connection (a request being answered still gets its answer,
        an idle one ends at once) and wait until each has ended; False on timeout."""
        with self._changed:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RD)
            return self._changed.wait_for(lambda: not self._open, timeout)


@contextlib.contextmanager
def _logged(what: str) -> Any:
    try:
        yield
    except Exception as exc:
        log.error("%s failed: %s", what, exc)


def local_environments(template_path: Path | None = None) -> dict[str, dict[str, str]]:
    """Each function's environment as ``crm dev`` would provision it (a throw-away moto)."""
    from crm_tools.devstack.moto import MOTO_SETTINGS, LocalMotoServer

    use_fake_aws_environment()
    os.environ.update(MOTO_SETTINGS)
    quiet_request_logs()
    stack = DevStack(DevOptions(template=template_path, seed=False))
    stack.moto = LocalMotoServer()
    stack.moto.start()
    try:
        stack.endpoint_url = stack.moto.endpoint_url
        stack._provision()
        return stack.environments
    finally:
        stack.moto.stop()


def env_json(environments: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """SAM's ``--env-vars`` format: every variable under Parameters, then each function's own."""
    parameters: dict[str, str] = {}
    for env in environments.values():
        parameters.update(env)
    document = {"Parameters": dict(sorted(parameters.items()))}
    for logical_id, env in environments.items():
        document[logical_id] = dict(sorted(env.items()))
    return document


def run_dev(options: DevOptions, stop_event: threading.Event | None = None) -> int:
    return DevStack(options, stop_event).run()
