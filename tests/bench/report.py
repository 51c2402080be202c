"""Rows of the benchmark table: a figure, the baseline it is compared with, the ratio, the goal."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    figure: int
    name: str
    measured: float
    unit: str
    baseline: float
    baseline_label: str
    goal: str
    #: None: a figure reported without a goal of its own (shown as "-", counted neither way)
    passed: bool | None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        return self.measured / self.baseline if self.baseline else None

    @property
    def result(self) -> str:
        return "-" if self.passed is None else "PASS" if self.passed else "MISS"

    def cells(self) -> list[str]:
        return [
            str(self.figure),
            self.name,
            _fmt(self.measured, self.unit),
            self.baseline_label,
            "-" if self.ratio is None else f"{self.ratio:.2f}x",
            self.goal,
            self.result,
        ]

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ratio": self.ratio, "result": self.result}


HEADER = ["#", "Figure", "Measured", "Baseline (same run)", "Ratio", "Goal", "Result"]


def _fmt(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 100 else f"{value:.2f} ms"
    if unit == "KB":
        return f"{value:.1f} KB"
    return f"{value:g}{(' ' + unit) if unit else ''}"


def table(rows: list[Row]) -> str:
    grid = [HEADER, *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in grid) for i in range(len(HEADER))]
    rule = "+".join("-" * (w + 2) for w in widths)
    out = []
    for n, line in enumerate(grid):
        out.append("|".join(f" {cell:<{widths[i]}} " for i, cell in enumerate(line)).rstrip())
        if n == 0:
            out.append(rule)
    return "\n".join(out)


def write_json(path: Path, rows: list[Row], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"rows": [r.to_json() for r in rows], **extra}
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
