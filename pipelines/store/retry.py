"""Retry rows quarantined only for an unknown reference (spec §3 "Late references")."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd

from pipelines.ingest.normalise import normalise
from pipelines.schema import ENTITY_ORDER, POSITION, ROW_NUMBER
from pipelines.store.loader import (
    drop_incoming,
    identical_to_current,
    insert_history,
    reference_reasons,
    register_typed,
)

# a retried row keeps its original place in history, so it never overwrites a newer version
_ORIGINAL_META = "_orig_load_seq, _orig_file_seq, _row_number, _orig_source, _orig_loaded_at"


def retry_late_references(
    con: duckdb.DuckDBPyConnection, *, load_seq: int, now: dt.datetime, clinic_timezone: str
) -> int:
    """Load every waiting row whose reference now exists, in one transaction.

    Entities go in contract order, so a client arriving late lets its sessions load,
    which in turn let their scores load, within the same retry.
    """
    retried = 0
    con.begin()
    try:
        for entity in ENTITY_ORDER:
            waiting = con.execute(
                """
                SELECT quarantine_id, record, row_number, load_seq, file_seq, source_file,
                       first_seen_at
                FROM meta_quarantine
                WHERE entity = ? AND reference_only AND resolved_at IS NULL
                ORDER BY load_seq, file_seq, row_number
                """,
                [entity],
            ).df()
            if waiting.empty:
                continue
            records = pd.DataFrame([json.loads(r) for r in waiting["record"]])
            records[ROW_NUMBER] = waiting["row_number"].to_numpy()
            typed = normalise(records, entity, clinic_timezone).typed
            typed[POSITION] = range(len(typed))
            typed["_orig_load_seq"] = waiting["load_seq"].to_numpy()
            typed["_orig_file_seq"] = waiting["file_seq"].to_numpy()
            typed["_orig_source"] = waiting["source_file"].to_numpy()
            typed["_orig_loaded_at"] = waiting["first_seen_at"].to_numpy()
            register_typed(con, entity, typed)
            still_unknown = reference_reasons(con, entity)
            ready = [p for p in range(len(typed)) if p not in still_unknown]
            drop_incoming(con, still_unknown.keys())
            same = identical_to_current(con, entity)
            drop_incoming(con, same)
            insert_history(con, entity, _ORIGINAL_META, {})
            for resolution, positions in (
                ("loaded", [p for p in ready if p not in same]),
                ("duplicate", sorted(same)),
            ):
                con.execute(
                    "UPDATE meta_quarantine SET resolved_at = $now, resolved_load_seq = $seq, "
                    "resolution = $resolution "
                    "WHERE quarantine_id IN (SELECT unnest($ids))",
                    {
                        "now": now,
                        "seq": load_seq,
                        "resolution": resolution,
                        "ids": waiting["quarantine_id"].iloc[positions].tolist(),
                    },
                )
            retried += len(ready)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return retried
