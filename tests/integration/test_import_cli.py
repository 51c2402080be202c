"""``crm import candidates FILE.csv`` against a moto server on loopback, as ``crm dev`` runs it: the
file goes up through the presigned POST, the mapping is guessed (``--map`` overrides), the import
runs with a progress bar and prints its report; failed rows are written next to the file."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from moto.server import ThreadedMotoServer

from crm.candidates.service import CandidateService
from crm.platform import aws
from crm.platform.config import reset_settings
from crm_tools.cli import main
from tests.support.stack import provision


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    requests.post(f"{endpoint}/moto-api/reset", timeout=5)  # moto's back ends are per process
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    for name in list(os.environ):
        if name in ("TABLE_NAME", "RESUME_BUCKET", "IMPORT_QUEUE_URL"):
            monkeypatch.delenv(name)
    stack = provision()
    for name in stack.env():
        monkeypatch.setenv(name, "")  # restored after the test; the CLI sets them from stack.json
    description = {
        "endpoint_url": endpoint,
        "region": "us-east-1",
        "functions": {"ApiFunction": {"environment": stack.env()}},
    }
    (tmp_path / "stack.json").write_text(json.dumps(description), encoding="utf-8")
    try:
        yield tmp_path
    finally:
        server.stop()
        reset_settings()
        aws.reset_clients()


def test_import_candidates_into_the_local_stack(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "Work email,Name,Mobile,Skills\n"
        "ada@example.com,Ada Lovelace,+44 20 7946 0000,math\n"
        "broken,Bad Row,,\n"
        "grace@example.com,Grace Hopper,,cobol\n",
        encoding="utf-8",
    )
    argv = ["import", "candidates", str(path), "--data-dir", str(data_dir), "--tags", "cli,batch-1"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr()
    assert "dry run" in out.out and "2 created" in out.out and "1 failed" in out.out
    assert "Work email -> email" in out.err and "Name -> full_name" in out.err
    assert CandidateService().find_id_by_email("ada@example.com") is None

    assert main([*argv, "--map", "Skills=ignore", "--source", "job-fair"]) == 0
    out = capsys.readouterr()
    assert "3 row(s), 2 created, 0 merged, 0 skipped, 1 failed" in out.out
    assert "importing" in out.err  # the progress bar
    people = CandidateService()
    ada = people.get(str(people.find_id_by_email("ada@example.com")))
    assert (ada.first_name, ada.last_name, ada.source) == ("Ada", "Lovelace", "job-fair")
    assert sorted(ada.tags) == ["batch-1", "cli"]
    failed = (tmp_path / "people.csv.failed.csv").read_text(encoding="utf-8").splitlines()
    assert failed[0] == "Work email,Name,Mobile,Skills,reason" and failed[1].startswith("broken,")


def test_bad_arguments_exit_2(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "people.csv"
    path.write_text("email,first_name,last_name\nada@example.com,Ada,L\n", encoding="utf-8")
    base = ["import", "candidates", str(path), "--data-dir", str(data_dir)]
    assert main([*base, "--map", "email=salary"]) == 2
    assert "unknown field" in capsys.readouterr().err
    assert main([*base, "--map", "nope=email"]) == 2
    assert "no column nope" in capsys.readouterr().err
    assert main(["import", "candidates", str(tmp_path / "missing.csv"), "--data-dir", str(data_dir)]) == 2
    assert main(["import", "candidates", str(path), "--data-dir", str(tmp_path / "none")]) == 2
