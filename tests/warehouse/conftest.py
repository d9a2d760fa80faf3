"""Fixtures of the derived-layer tests: a real DuckDB file with stg_* tables of the contract.

The staging contract (docs/architecture.md) is reproduced here as plain tables, so the
marts are tested against exactly the columns and types the loading layer promises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from pipelines.settings import Settings
from pipelines.warehouse.derive import rebuild_derived
from pipelines.warehouse.views import create_analyst_views

STAGING: dict[str, str] = {
    "stg_clients": """client_id VARCHAR, name VARCHAR, birth_date DATE, sex VARCHAR,
        height_cm DOUBLE, weight_kg DOUBLE, athlete BOOLEAN, contraindications VARCHAR[],
        intake_date DATE""",
    "stg_therapists": """therapist_id VARCHAR, name VARCHAR, qualification VARCHAR,
        qualified_until DATE, body_weight_kg DOUBLE""",
    "stg_sessions": """session_id VARCHAR, client_id VARCHAR, therapist_id VARCHAR,
        course_id VARCHAR, started_at TIMESTAMPTZ, status VARCHAR, duration_min DOUBLE,
        warmup_min DOUBLE, feet VARCHAR, direction VARCHAR, techniques VARCHAR[],
        spine_pressure BOOLEAN, discomfort_reported BOOLEAN, notes VARCHAR""",
    "stg_scores": """session_id VARCHAR, client_id VARCHAR, timing VARCHAR, pain DOUBLE,
        muscle_tone DOUBLE, mobility DOUBLE, recorded_at TIMESTAMPTZ""",
}

DAY = dt.timedelta(days=1)
START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


class Warehouse:
    """A warehouse file with empty stg_* tables and small helpers to fill and rebuild it."""

    def __init__(self, path: Path):
        self._con = duckdb.connect(str(path))
        self._pending = False  # inserts share one transaction: a commit per row is slow
        for table, columns in STAGING.items():
            self._con.execute(f"CREATE TABLE {table} ({columns})")

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, with the pending inserts committed."""
        if self._pending:
            self._con.commit()
            self._pending = False
        return self._con

    # --- inserting ------------------------------------------------------------------
    def insert(self, table: str, **row: Any) -> None:
        if not self._pending:
            self._con.begin()
            self._pending = True
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        self._con.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})", list(row.values()))

    def client(self, client_id: str = "C1", **row: Any) -> None:
        row = {"birth_date": dt.date(1990, 6, 15), "contraindications": [], **row}
        self.insert("stg_clients", client_id=client_id, **row)

    def therapist(self, therapist_id: str = "T1", **row: Any) -> None:
        self.insert("stg_therapists", therapist_id=therapist_id, **{"qualification": "Q1", **row})

    def session(self, session_id: str, started_at: dt.datetime, **row: Any) -> None:
        defaults = {
            "client_id": "C1",
            "therapist_id": "T1",
            "status": "completed",
            "duration_min": 60.0,
            "warmup_min": 7.0,
            "techniques": ["rubbing", "kneading"],
            "spine_pressure": False,
            "discomfort_reported": False,
        }
        self.insert("stg_sessions", session_id=session_id, started_at=started_at, **defaults | row)

    def sessions(
        self,
        n: int,
        prefix: str = "S",
        start: dt.datetime = START,
        every: dt.timedelta = DAY,
        **row: Any,
    ) -> list[str]:
        """n sessions `every` apart from `start`, ids <prefix>01, <prefix>02…"""
        ids = [f"{prefix}{i + 1:02d}" for i in range(n)]
        for i, sid in enumerate(ids):
            self.session(sid, start + i * every, **row)
        return ids

    def score(self, session_id: str, timing: str = "pre", **values: Any) -> None:
        self.insert("stg_scores", session_id=session_id, timing=timing, **values)

    # --- building and reading ---------------------------------------------------------
    def rebuild(self, **overrides: Any) -> Settings:
        """Rebuild marts and views in one transaction, as the flow does."""
        settings = dataclasses.replace(Settings(), **overrides)
        self.con.begin()
        rebuild_derived(self.con, settings)
        create_analyst_views(self.con)
        self.con.commit()
        return settings

    def rows(self, sql: str, params: list | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params: list | None = None) -> Any:
        [row] = self.rows(sql, params)
        return row[0] if len(row) == 1 else row

    def progress(self, course_id: str, metric: str) -> dict[str, Any]:
        cur = self.con.execute(
            "SELECT * FROM mart_course_progress WHERE course_id = ? AND metric = ?",
            [course_id, metric],
        )
        names = [d[0] for d in cur.description]
        [row] = cur.fetchall()
        return dict(zip(names, row, strict=True))


@pytest.fixture
def wh(tmp_path: Path):
    w = Warehouse(tmp_path / "warehouse.duckdb")
    yield w
    w.con.close()
