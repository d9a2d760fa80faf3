"""Write one prepared file into the warehouse, wholly or not at all (spec §3)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines.crash_points import crash_point
from pipelines.ingest.prepare import REFERENCE_REASON, FilePlan
from pipelines.schema import ENTITIES, POSITION, ROW_NUMBER
from pipelines.store.bookkeeping import FileResult, log_file
from pipelines.store.ddl import history_table, latest_version


def _cast(entity: str) -> str:
    """SELECT list turning the registered frame's columns into warehouse types."""
    parts = []
    for c in ENTITIES[entity].columns:
        if c.type == "date":
            parts.append(f"CAST({c.name} AS DATE) AS {c.name}")
        elif c.type == "timestamp":
            parts.append(f"CAST({c.name} AS TIMESTAMPTZ) AS {c.name}")
        elif c.type == "list":
            parts.append(f"string_split(CAST({c.name} AS VARCHAR), ';') AS {c.name}")
        elif c.type == "number":
            parts.append(f"CAST({c.name} AS DOUBLE) AS {c.name}")
        elif c.type == "boolean":
            parts.append(f"CAST({c.name} AS BOOLEAN) AS {c.name}")
        else:
            parts.append(f"CAST({c.name} AS VARCHAR) AS {c.name}")
    return ", ".join(parts)


def register_typed(con: duckdb.DuckDBPyConnection, entity: str, frame: pd.DataFrame) -> str:
    """Copy `frame` into the temp table ``incoming`` with warehouse types; returns its name.

    One conversion from pandas; every later step (reference checks, dropping failing
    rows, the insert) runs inside DuckDB.
    """
    own = ", ".join(ENTITIES[entity].column_names)
    con.register("incoming_frame", _as_arrow(frame))
    try:  # bookkeeping columns (_pos, _row_number, …) pass through untouched
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE incoming AS "
            f"SELECT {_cast(entity)}, * EXCLUDE ({own}) FROM incoming_frame"
        )
    finally:
        con.unregister("incoming_frame")
    return "incoming"


def _as_arrow(frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """The frame as an Arrow table: DuckDB reads Arrow strings without touching Python
    objects (docs/performance.md has the figures). The frame itself if Arrow refuses
    a column (values of mixed types), which DuckDB then reads as before."""
    try:
        return pa.Table.from_pandas(frame, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return frame


def drop_incoming(con: duckdb.DuckDBPyConnection, positions: set[int] | list[int]) -> None:
    """Remove the rows at `positions` from ``incoming``."""
    if not positions:
        return
    con.register("drop_frame", pd.DataFrame({POSITION: sorted(positions)}))
    con.execute(f"DELETE FROM incoming WHERE {POSITION} IN (SELECT {POSITION} FROM drop_frame)")
    con.unregister("drop_frame")


def reference_reasons(con: duckdb.DuckDBPyConnection, entity: str) -> dict[int, list[str]]:
    """Unknown references and client mismatches of the rows in ``incoming``.

    A key is loaded when any version of it is in history (stg_* is the latest version of
    each key there), so existence is checked on the history table, and a score's session
    client on the current version of the sessions this file scores only: stg_* would rank
    every version of every key for each check."""
    checks: list[str] = []
    for col in ENTITIES[entity].columns:
        if col.reference:
            target = ENTITIES[col.reference].key[0]
            checks.append(
                f"SELECT {POSITION}, 'unknown {col.name} ' || '''' || i.{col.name} || '''' "
                f"|| ' (no such {col.reference[:-1]} loaded)' AS reason FROM incoming i "
                f"WHERE i.{col.name} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                f"{history_table(col.reference)} r WHERE r.{target} = i.{col.name})"
            )
    ctes = ""
    if entity == "scores":
        ctes = f"WITH current_session AS ({_current_versions_touched('sessions', 'session_id')}) "
        checks.append(
            f"SELECT {POSITION}, 'client_id ''' || i.client_id || ''' does not match the "
            f"session''s client ''' || s.client_id || '''' AS reason FROM incoming i "
            f"JOIN current_session s USING (session_id) "
            f"WHERE i.client_id IS NOT NULL AND i.client_id <> s.client_id"
        )
    if not checks:
        return {}
    rows = con.execute(ctes + " UNION ALL ".join(checks)).fetchall()
    out: dict[int, list[str]] = {}
    for pos, reason in rows:
        out.setdefault(int(pos), []).append(reason)
    return out


def _current_versions_touched(entity: str, keys: str) -> str:
    """SELECT of the current version of each `entity` key that ``incoming`` mentions (only
    the history of those keys is ranked, not every version of every key)."""
    return (
        f"SELECT h.* FROM {history_table(entity)} h SEMI JOIN incoming i USING ({keys}) "
        + latest_version(keys)
    )


def identical_to_current(con: duckdb.DuckDBPyConnection, entity: str) -> set[int]:
    """Positions of ``incoming`` rows equal to the current version of their key."""
    spec = ENTITIES[entity]
    same = " AND ".join(f"i.{c} IS NOT DISTINCT FROM cur.{c}" for c in spec.column_names)
    keys = ", ".join(spec.key)
    rows = con.execute(
        f"""
        WITH current_version AS ({_current_versions_touched(entity, keys)}),
        final AS (
            SELECT i.{POSITION} FROM incoming i JOIN current_version cur USING ({keys})
            WHERE {same}
        )
        SELECT * FROM final
        """
    ).fetchall()
    return {int(r[0]) for r in rows}


def insert_history(
    con: duckdb.DuckDBPyConnection, entity: str, meta_sql: str, params: dict[str, object]
) -> None:
    """Append every ``incoming`` row to the entity's history; `meta_sql` gives the
    5 history columns. Their keys are noted in meta_changed_keys for the mart refresh."""
    cols = ", ".join(ENTITIES[entity].column_names)
    con.execute(
        f"INSERT INTO {history_table(entity)} SELECT {cols}, {meta_sql} FROM incoming", params
    )
    # the keys are what an incremental mart refresh recomputes; before the marts' first
    # build (a first, full load) the refresh rebuilds everything and noting 2 M keys is waste
    if con.execute("SELECT count(*) FROM meta_derived").fetchone()[0]:
        key = ENTITIES[entity].key[0]  # scores: the session; the others: their own id
        con.execute(
            f"INSERT INTO meta_changed_keys SELECT DISTINCT ?, {key} FROM incoming", [entity]
        )


def is_reference_only(reasons: list[str]) -> bool:
    return bool(reasons) and all(REFERENCE_REASON.match(r) for r in reasons)


def load_plan(
    con: duckdb.DuckDBPyConnection,
    plan: FilePlan,
    *,
    run_id: str,
    load_seq: int,
    file_seq: int,
    source_file: str,
    content_hash: str,
    loaded_at: dt.datetime,
    message: str,
) -> FileResult:
    """Load one file in ONE transaction: history rows, quarantine, load_log together."""
    entity = plan.entity
    con.begin()
    try:
        register_typed(con, entity, plan.typed)
        reasons = {p: list(r) for p, r in plan.reasons.items()}
        for pos, extra in reference_reasons(con, entity).items():
            reasons.setdefault(pos, []).extend(extra)
        drop_incoming(con, set(reasons))  # now ``incoming`` holds the rows passing every rule
        valid = len(plan.typed) - len(reasons)
        same = identical_to_current(con, entity)
        drop_incoming(con, same)
        meta = (
            f"{int(load_seq)}, {int(file_seq)}, {ROW_NUMBER}, $source, "
            f"CAST($loaded_at AS TIMESTAMPTZ)"
        )
        insert_history(con, entity, meta, {"source": source_file, "loaded_at": loaded_at})
        crash_point("mid_transaction")
        _quarantine(con, plan, reasons, source_file, loaded_at, load_seq, file_seq)
        result = FileResult(
            rows_read=plan.rows_read,
            rows_loaded=valid - len(same),
            rows_quarantined=len(reasons),
            rows_duplicate=plan.duplicates_in_file + len(same),
        )
        log_file(
            con,
            run_id=run_id,
            load_seq=load_seq,
            file_seq=file_seq,
            source_file=source_file,
            content_hash=content_hash,
            entity=entity,
            loaded_at=loaded_at,
            result=result,
            status="loaded",
            message=message,
        )
        crash_point("writing_load_log")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return result


def _quarantine(con, plan, reasons, source_file, loaded_at, load_seq, file_seq) -> None:
    if not reasons:
        return
    positions = sorted(reasons)
    records = plan.records(positions)
    rows = pd.DataFrame(
        {
            "quarantine_id": [f"{load_seq}-{file_seq}-{n}" for n in records[ROW_NUMBER].tolist()],
            "entity": plan.entity,
            "source_file": source_file,
            "row_number": records[ROW_NUMBER].astype("int64").tolist(),
            "record": [
                json.dumps({k: v for k, v in rec.items() if k != ROW_NUMBER}, ensure_ascii=False)
                for rec in records.to_dict("records")
            ],
            "reasons": [reasons[p] for p in positions],
            "reference_only": [is_reference_only(reasons[p]) for p in positions],
        }
    )
    con.register("quarantine_frame", rows)
    con.execute(
        """
        INSERT INTO meta_quarantine
        SELECT quarantine_id, entity, source_file, row_number, CAST(record AS JSON), reasons,
               reference_only, CAST($at AS TIMESTAMPTZ), $load_seq, $file_seq, NULL, NULL, NULL
        FROM quarantine_frame
        """,
        {"at": loaded_at, "load_seq": load_seq, "file_seq": file_seq},
    )
    con.unregister("quarantine_frame")
