"""The data quality page: load runs, the load log, open quarantine rows, GX results."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from dashboard.data.warehouse import frame, resolve

_LOAD_LOG = """
SELECT loaded_at, source_file, entity, status, rows_read, rows_loaded,
       rows_quarantined, rows_duplicate, message
FROM load_log ORDER BY loaded_at DESC, source_file
"""

_RUNS = """
SELECT run_id, started_at, finished_at, status, files_loaded, files_rejected,
       files_skipped, rows_loaded, rows_quarantined, rows_retried, alerts, message
FROM meta_runs ORDER BY started_at DESC LIMIT $limit
"""


def load_log(db: Path | None = None) -> pd.DataFrame:
    return resolve(db).read(lambda con: frame(con, _LOAD_LOG))


def runs(db: Path | None = None, limit: int = 50) -> pd.DataFrame:
    return resolve(db).read(lambda con: frame(con, _RUNS, {"limit": limit}))


def quarantine(
    entity: str | None = None, reason: str | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Open quarantine rows, optionally of one entity and/or with a reason containing text."""
    sql = """
    SELECT entity, source_file, row_number, array_to_string(reasons, '; ') AS reasons,
           reference_only, CAST(record AS VARCHAR) AS record, first_seen_at
    FROM quarantine
    WHERE ($entity::VARCHAR IS NULL OR entity = $entity::VARCHAR)
      AND ($reason::VARCHAR IS NULL OR len(list_filter(
            reasons, r -> contains(lower(r), lower($reason::VARCHAR)))) > 0)
    ORDER BY first_seen_at DESC, source_file, row_number
    """
    params = {"entity": entity or None, "reason": (reason or "").strip() or None}
    return resolve(db).read(lambda con: frame(con, sql, params))


def gx_results(db: Path | None = None) -> pd.DataFrame:
    """Great Expectations validations per run, with the failed expectations spelled out."""
    sql = """
    SELECT g.run_id, r.started_at AS run_started_at, g.validated_at, g.suite, g.data_asset,
           g.source_file, g.success, g.expectations_evaluated, g.expectations_failed,
           g.unexpected_rows, CAST(g.details AS VARCHAR) AS details
    FROM meta_gx_results AS g
    LEFT JOIN meta_runs AS r USING (run_id)
    ORDER BY r.started_at DESC NULLS LAST, g.validated_at, g.suite
    """
    results = resolve(db).read(lambda con: frame(con, sql))
    results["failed"] = results.pop("details").map(_failed_expectations)
    return results


def _failed_expectations(details: str | None) -> str:
    try:
        items = json.loads(details) if details else []
    except ValueError:
        return ""
    failed = [item for item in items if isinstance(item, dict) and not item.get("success", True)]
    return "; ".join(
        f"{item.get('expectation')}({item.get('column') or ''}): "
        f"{item.get('unexpected_count')} rows"
        for item in failed
    )
