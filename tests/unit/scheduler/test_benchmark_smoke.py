"""Keeps benchmarks/scheduler_core.py runnable (tiny sizes; timings are not asserted)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[3] / "benchmarks" / "scheduler_core.py"


def test_scheduler_core_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCHMARK))
    module["main"](["--nodes", "150", "--pods", "20", "--warmup", "5"])
    output = capsys.readouterr().out
    assert "0 (adaptive)" in output and "score NodeResourcesFit" in output
