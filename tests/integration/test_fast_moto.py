"""The local stack's speed-ups of moto's DynamoDB (``crm_tools.devstack.moto.install_fast_dynamodb``)
change how long moto takes, never what it answers: the same queries (keys, ranges, filters,
indexes sparse and numeric, counts, pages, errors, the item size limit) answer byte for byte the
same with and without them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).parent / "children" / "moto_answers.py"


def answers(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(CHILD), *args], capture_output=True, text=True, timeout=120, check=True
    )
    return result.stdout


def test_the_fast_paths_answer_exactly_as_moto_does() -> None:
    plain, fast = answers(), answers("fast")
    assert len(plain) > 10_000  # the queries found items
    assert fast == plain
