"""Smoke test of benchmarks/dashboard_queries.py at tiny size (no timing assertions)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench():
    # benchmarks/ is not an installed package: load the script by path
    spec = importlib.util.spec_from_file_location(
        "dashboard_queries", ROOT / "benchmarks" / "dashboard_queries.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, module_cli, prefect_api, examples_dir) -> Path:
    db = tmp_path_factory.mktemp("bench") / "warehouse.duckdb"
    module_cli("ingest", str(examples_dir), "--db", str(db), api_url=prefect_api)
    return db


def test_measure_covers_every_page(bench, warehouse):
    rows = bench.measure(warehouse, runs=2)
    assert rows[0]["name"].startswith("baseline")
    pages = {r["page"] for r in rows}
    assert {"overview", "cohorts", "client", "therapists", "quality", "sql"} <= pages
    assert any(r["name"] == "full callback (render)" for r in rows)
    for r in rows:
        assert r["runs"] == 2 and 0 < r["p50_ms"] <= r["p95_ms"] + 1e-9
        assert r["x_baseline"] > 0
    table = bench.format_table(rows)
    assert "p95 ms" in table and "client_detail" in table


def test_cli_prints_table(bench, warehouse, capsys):
    bench.main(["--db", str(warehouse), "--runs", "1"])
    out = capsys.readouterr().out
    assert "baseline" in out and "therapists_table" in out
