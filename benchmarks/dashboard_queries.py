"""Latency of the dashboard's data functions against a warehouse.

    .venv/bin/python -m benchmarks.dashboard_queries --db data/warehouse.duckdb --runs 30

For every page's data functions: p50/p95 over N runs, and the ratio to a baseline
measured in the same run (`SELECT 1` on a fresh read-only connection: the fixed cost of
opening the file, which a short-lived connection pays at every read). The functions read
the warehouse as the running app does: a shared `Warehouse`, kept open while the file
stays the same (dashboard/data/warehouse.py). The client page is also timed as a whole
(`client_view.render`, what its callback runs).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from dashboard import client_view, data
from dashboard.data.warehouse import close_kept
from dashboard.sql_console import run_query


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _time(fn: Callable[[], Any], runs: int) -> list[float]:
    fn()  # warm-up: imports, first file open
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _baseline(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SELECT 1").fetchall()
    finally:
        con.close()


def _client_off_track(db: Path) -> str:
    """A client whose course in progress is off track: the client page's fullest case (the
    expected course on every chart, the badge); "none" when there is none."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT min(client_id) FROM alerts WHERE alert_type = 'off_track'"
        ).fetchone()
    finally:
        con.close()
    return row[0] if row and row[0] else "none"


def cases(db: Path) -> list[tuple[str, str, Callable[[], Any]]]:
    """(page, name, call) for every data function a page uses."""
    path, db = db, data.Warehouse(db, shared=True)  # as the app reads it
    some_client = data.search_clients("", limit=1, db=db)
    client_id = some_client["client_id"].iloc[0] if len(some_client) else "none"
    off_track = _client_off_track(path)
    every = data.CourseFilter()  # every course: no filter
    return [
        ("overview", "overview", lambda: data.overview(db)),
        ("cohorts", "filter_options", lambda: data.filter_options(db)),
        ("cohorts", "cohort_page (pain)", lambda: data.cohort_page("pain", every, db)),
        ("cohorts", "cohort_trajectories", lambda: data.cohort_trajectories("pain", every, db)),
        ("client", "search_clients", lambda: data.search_clients(client_id[:2], db=db)),
        ("client", "client_detail", lambda: data.client_detail(client_id, db)),
        ("client", "full callback (render)", lambda: client_view.render(client_id, db)),
        ("client", "client_detail (off track)", lambda: data.client_detail(off_track, db)),
        ("client", "full callback (off track)", lambda: client_view.render(off_track, db)),
        ("cohorts", "cohort_fairness (pain)", lambda: data.cohort_fairness("pain", db)),
        ("therapists", "therapists_table", lambda: data.therapists_table("pain", db)),
        ("therapists", "therapist_funnel (pain)", lambda: data.therapist_funnel("pain", db)),
        ("quality", "runs", lambda: data.runs(db)),
        ("quality", "load_log", lambda: data.load_log(db)),
        ("quality", "quarantine", lambda: data.quarantine(db=db)),
        ("quality", "gx_results", lambda: data.gx_results(db)),
        ("sql", "view_columns", lambda: data.view_columns(db)),
        ("sql", "run_query (cohort_outcomes)",
         lambda: run_query(path, "SELECT * FROM cohort_outcomes")),
    ]  # fmt: skip


def measure(db_path: Path, runs: int = 20) -> list[dict[str, Any]]:
    """One row per case: page, name, runs, p50_ms, p95_ms, x_baseline (p50 / baseline p50)."""
    db_path = Path(db_path)
    base = _time(lambda: _baseline(db_path), runs)
    base_p50 = statistics.median(base)
    rows = [
        {"page": "-", "name": "baseline: SELECT 1 on a fresh connection", "runs": runs,
         "p50_ms": 1000 * base_p50, "p95_ms": 1000 * _percentile(base, 0.95), "x_baseline": 1.0}
    ]  # fmt: skip
    try:
        timed = [(page, name, _time(fn, runs)) for page, name, fn in cases(db_path)]
    finally:
        close_kept(db_path)  # the shared database cases() opened, as the app keeps it
    for page, name, times in timed:
        p50 = statistics.median(times)
        rows.append(
            {
                "page": page,
                "name": name,
                "runs": runs,
                "p50_ms": 1000 * p50,
                "p95_ms": 1000 * _percentile(times, 0.95),
                "x_baseline": p50 / base_p50 if base_p50 else float("nan"),
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]]) -> str:
    head = f"{'page':<11} {'function':<42} {'runs':>5} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r['page']:<11} {r['name'][:42]:<42} {r['runs']:>5} {r['p50_ms']:>8.1f} "
            f"{r['p95_ms']:>8.1f} {r['x_baseline']:>7.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"warehouse: {args.db} ({args.db.stat().st_size / 1e6:.1f} MB), runs: {args.runs}")
    print(format_table(measure(args.db, args.runs)))


if __name__ == "__main__":
    main()
