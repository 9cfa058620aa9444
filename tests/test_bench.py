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


def test_disclosure_search_runs_on_tiny_input(capsys):
    result = _load("disclosure_search").main(["--count", "40", "--queries", "5"])
    assert (result["disclosures"], result["queries"]) == (40, 5)
    assert "p95_ms=" in capsys.readouterr().out


def test_export_log_runs_on_tiny_input(capsys):
    result = _load("export_log").main(["--rows", "300", "--xlsx"])
    assert result["rows"] == 300 and result["csv_s"] > 0 and result["xlsx_s"] > 0
    assert "csv_s=" in capsys.readouterr().out
def test_telegram_bench_runs_on_tiny_input(capsys):
    result = _load("telegram").main(["--tiny"])
    assert [row["updates"] for row in result["rows"]] == [20, 20, 20, 20]
    assert "civicbot / echo throughput" in capsys.readouterr().out


def test_broadcast_delivery_runs_on_tiny_input(capsys):
    result = _load("broadcast_delivery").main(["--tiny"])
    assert result["deliveries"] == 50 and result["dispatcher_per_s"] > 0
    assert "share_of_rate=" in capsys.readouterr().out


def test_public_page_bench_runs_on_tiny_input(capsys):
    result = _load("public_page").main(["--tiny"])
    assert result["requests"] == 50 and result["errors"] == 0 and result["chat_messages"] > 0
    assert "p99_ms=" in capsys.readouterr().out


def test_flood_bench_runs_on_tiny_input(capsys):
    result = _load("flood").main(["--tiny"])
    assert [row["run"] for row in result["rows"]] == [
        "no flooder", "flooder, control off", "flooder, control on"]
    assert "others' p99 vs no flooder" in capsys.readouterr().out


def test_desk_log_bench_runs_on_tiny_input(capsys):
    result = _load("desk_log").main(["--rows", "2000", "--repeat", "2"])
    assert result["rows"] == 2000 and set(result["filters"]) >= {"none", "kind", "actor"}
    assert "worst_p95_ms=" in capsys.readouterr().out


def test_reply_during_broadcast_runs_on_tiny_input(capsys):
    result = _load("reply_during_broadcast").main(["--tiny"])
    assert result["rows"][0]["recipients"] == 30 and result["rows"][0]["replies"] > 0
    assert "p99_ms=" in capsys.readouterr().out
