"""The benchmark's export, generated once and cached under data/benchmarks/.

The full load is delivery 1 of a clean (fault-free) mixed-format export, so that the
pipeline and the plain-DuckDB floor must agree row for row. The incremental load is
a day's delivery: the sessions of delivery 2's first days (about 500) and their
scores, written as CSV.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from benchmarks.floor import xlsx_as_arrow
from pipelines.generate import generate_export
from pipelines.settings import get_settings

DAY_SESSIONS = 500
"""Size of the incremental delivery: whole days of delivery 2 until about this many."""
CLIENTS_FOR_1M_SESSIONS = 62_000
"""About 1,000,000 sessions and 1,900,000 score rows in delivery 1 (docs/performance.md)."""


@dataclass(frozen=True)
class Dataset:
    root: Path
    full: Path  # delivery-1: the full load
    day: Path  # one day of delivery-2: the incremental load
    sessions: int
    scores: int
    generated_s: float | None  # None when it came from the cache


def _cache_dir(n_clients: int, seed: int) -> Path:
    return get_settings().path("data_dir") / "benchmarks" / f"export-{n_clients}-{seed}"


def ensure_dataset(n_clients: int, seed: int = 1) -> Dataset:
    root = _cache_dir(n_clients, seed)
    marker = root / "done.json"
    generated_s = None
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        started = time.perf_counter()
        summary = generate_export(root, n_clients=n_clients, seed=seed, fmt="mixed")
        generated_s = time.perf_counter() - started
        _write_one_day(root / "delivery-2", root / "day")
        marker.write_text(json.dumps({
            "sessions": summary.rows[("delivery-1", "sessions")],
            "scores": summary.rows[("delivery-1", "scores")],
        }))  # fmt: skip
    counts = json.loads(marker.read_text())
    return Dataset(root, root / "delivery-1", root / "day", counts["sessions"],
                   counts["scores"], generated_s)  # fmt: skip


def _write_one_day(delivery_2: Path, out: Path) -> None:
    """Sessions of delivery 2's first days and their scores, as a day's CSV delivery."""
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    sessions = sorted(delivery_2.glob("sessions*.parquet"))
    con.execute(
        """
        CREATE TABLE day AS
        WITH d2 AS (SELECT *, started_at[1:10] AS day FROM read_parquet(?)),
        per_day AS (SELECT day, count(*) AS n FROM d2 GROUP BY day),
        running AS (  -- the first days until they hold about DAY_SESSIONS sessions
            SELECT day, sum(n) OVER (ORDER BY day) - n AS before FROM per_day
        ),
        final AS (SELECT d2.* EXCLUDE (day) FROM d2 JOIN running USING (day) WHERE before < ?)
        SELECT * FROM final
        """,
        [[str(p) for p in sessions], DAY_SESSIONS],
    )
    con.execute(f"COPY day TO '{out / 'sessions_day.csv'}' (HEADER)")
    sheets = [xlsx_as_arrow(p) for p in sorted(delivery_2.glob("Scores*.xlsx"))]
    if sheets:
        con.register("day_scores", pa.concat_tables(sheets))
        con.execute(
            f"COPY (SELECT * FROM day_scores WHERE session_id IN (SELECT session_id FROM day)) "
            f"TO '{out / 'scores_day.csv'}' (HEADER)"
        )
    con.close()
