"""Smoke test of benchmarks/dashboard_queries.py at tiny size (no timing assertions)."""

from __future__ import annotations

import importlib.util

import pytest

from pipelines.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is not an installed package: load the script by path
    spec = importlib.util.spec_from_file_location(
        "dashboard_queries", PROJECT_ROOT / "benchmarks" / "dashboard_queries.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measure_covers_every_page(bench, examples_warehouse):
    rows = bench.measure(examples_warehouse, runs=2)
    assert rows[0]["name"].startswith("baseline")
    pages = {r["page"] for r in rows}
    assert {"overview", "cohorts", "client", "therapists", "quality", "sql"} <= pages
    assert any(r["name"] == "full callback (render)" for r in rows)
    for r in rows:
        assert r["runs"] == 2 and 0 < r["p50_ms"] <= r["p95_ms"] + 1e-9
        assert r["x_baseline"] > 0
    table = bench.format_table(rows)
    assert "p95 ms" in table and "client_detail" in table


def test_cli_prints_table(bench, examples_warehouse, capsys):
    bench.main(["--db", str(examples_warehouse), "--runs", "1"])
    out = capsys.readouterr().out
    assert "baseline" in out and "therapists_table" in out
