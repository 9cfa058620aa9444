"""Each bench script runs once on tiny inputs so it keeps working (no speed asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_engine_throughput_runs_on_tiny_input(capsys):
    result = _load("engine_throughput").main(["--users", "2"])
    assert result["messages"] == 22
    assert "messages_per_s=" in capsys.readouterr().out


def test_telegram_bench_runs_on_tiny_input(capsys):
    result = _load("telegram").main(["--tiny"])
    assert [row["updates"] for row in result["rows"]] == [20, 20, 20, 20]
    assert "civicbot / echo throughput" in capsys.readouterr().out
