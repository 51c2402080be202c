"""End-to-end fixtures: `crm dev` in a subprocess on a free loopback port, talked to over HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
READY = "CRM is ready on "
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0
DEMO_PASSWORD = "E2e-Demo-Password-7"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class CrmDev:
    """One `crm dev` process (and its restarts) on one data directory."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.data_dir = data_dir
        self.extra = list(extra)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.http = requests.Session()
        self.http.trust_env = False  # loopback only, never through a proxy

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stdout_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-{self.starts}.out"

    @property
    def stderr_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}-{self.starts}.err"

    def logs(self) -> str:
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return f"--- stdout\n{out[-4000:]}\n--- stderr\n{err[-6000:]}"

    def start(self, *args: str, expect_ready: bool = True) -> None:
        assert self.process is None, "already running"
        self.starts += 1
        command = [
            sys.executable,
            "-m",
            "crm_tools.cli",
            "dev",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.extra,
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err, env=env)
        if expect_ready:
            self.wait_ready()

    def wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.stdout_path.read_text(errors="replace")
            if READY in text:
                lines = [line for line in text.splitlines() if line.startswith(READY)]
                assert lines == [f"{READY}{self.base_url}"], text
                return
            if self.process.poll() is not None:
                pytest.fail(
                    f"crm dev exited with {self.process.returncode} before it was ready\n{self.logs()}"
                )
            time.sleep(0.2)
        self.process.kill()
        self.process.wait()
        self.process = None
        pytest.fail(f"crm dev was not ready within {START_TIMEOUT} s\n{self.logs()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            code = -999
        finally:
            self.process = None
        return code

    def stop_cleanly(self, sig: int = signal.SIGTERM) -> None:
        code = self.stop(sig)
        assert code == 0, f"crm dev exited with {code} after {signal.Signals(sig).name}\n{self.logs()}"

    def stack_file(self) -> dict[str, Any]:
        return dict(json.loads((self.data_dir / "stack.json").read_text()))

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base_url + path, timeout=30, **kwargs)

    def login(self, username: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
        response = self.post("/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def auth(self, username: str = "recruiter@example.com") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.login(username)['id_token']}"}


@pytest.fixture(scope="module")
def seeded_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmDev]:
    """The demo stack, as `make dev` gives it: seeded, with the demo users."""
    stack = CrmDev(tmp_path_factory.mktemp("e2e") / "data", "--demo-password", DEMO_PASSWORD)
    stack.start("--fresh")
    try:
        yield stack
    finally:
        if stack.process is not None:
            stack.stop_cleanly(signal.SIGTERM)
