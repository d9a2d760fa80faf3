"""The staging views (pipelines/store/models/stg_<entity>.sql) hold the current version of
each key, as spec §3 says: the latest load wins, within a load the later file, within a file
the later row. Checked against a plain-Python reading of that rule on generated histories."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.schema import ENTITIES
from pipelines.store.ddl import HISTORY_META, ensure_schema, history_table

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
META = [m.split()[0] for m in HISTORY_META.split(", ")]
_VALUES = {
    "text": st.none() | st.sampled_from(["", "a", "O'Brien", "completed", "no_show", "K1"]),
    "date": st.none() | st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)),
    "timestamp": st.none()
    | st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 1, 1), timezones=st.just(dt.UTC)),
    "number": st.none() | st.floats(-1e6, 1e6, allow_nan=False),
    "boolean": st.none() | st.booleans(),
    "list": st.none() | st.lists(st.sampled_from(["rubbing", "pregnancy", "x;y"]), max_size=3),
}
KEY_VALUES = {"timing": ["pre", "post"]}
"""Values of key columns: few, so that keys get several versions."""
DEFAULTS = {("sessions", "status"): "completed", ("clients", "contraindications"): []}
"""What staging puts in place of a blank (spec §2: blank status means completed)."""


@pytest.fixture(scope="module")
def con():
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    ensure_schema(connection)
    yield connection
    connection.close()


def history(entity: str) -> st.SearchStrategy[list[dict]]:
    """Rows of raw_<entity>: a few keys, each in several versions, at distinct positions
    (load, file in the load, row in the file) as the loader writes them."""
    spec = ENTITIES[entity]
    row = st.fixed_dictionaries(
        {
            c.name: st.sampled_from(KEY_VALUES.get(c.name, ["K1", "K2", "K3"]))
            if c.name in spec.key
            else _VALUES[c.type]
            for c in spec.columns
        }
    )
    position = st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(2, 6))
    return st.lists(st.tuples(position, row), max_size=12, unique_by=lambda r: r[0]).map(
        lambda rows: [{**r, **dict(zip(META[:3], p, strict=True))} for p, r in rows]
    )


def current_versions(entity: str, rows: list[dict]) -> dict[tuple, tuple]:
    """Spec §3 read plainly: per key, the row of the latest (load, file, row)."""
    spec = ENTITIES[entity]
    latest: dict[tuple, dict] = {}
    for r in rows:
        key = tuple(r[k] for k in spec.key)
        if key not in latest or _position(r) > _position(latest[key]):
            latest[key] = r
    return {
        key: tuple(
            r[c] if r[c] is not None else DEFAULTS.get((entity, c)) for c in spec.column_names
        )
        for key, r in latest.items()
    }


def by_key(entity: str, rows: list[tuple]) -> dict[tuple, tuple]:
    positions = [ENTITIES[entity].column_names.index(k) for k in ENTITIES[entity].key]
    return {tuple(r[p] for p in positions): r for r in rows}


def _position(row: dict) -> tuple[int, int, int]:
    return row["_load_seq"], row["_file_seq"], row["_row_number"]


def _load(con, entity: str, rows: list[dict]) -> None:
    table = history_table(entity)
    con.execute(f"DELETE FROM {table}")
    if not rows:
        return
    columns = [*ENTITIES[entity].column_names, *META]
    values = [
        [*(r[c] for c in columns[: -len(META)]), *_position(r), "f.csv", dt.datetime.now(dt.UTC)]
        for r in rows
    ]
    placeholders = ", ".join("?" for _ in columns)
    con.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", values)


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_staging_view_columns_are_the_entity_s_in_order(con, entity):
    got = [r[0] for r in con.execute(f"DESCRIBE stg_{entity}").fetchall()]
    assert got == list(ENTITIES[entity].column_names)


@pytest.mark.parametrize("entity", list(ENTITIES))
def test_staging_view_holds_the_latest_version_of_each_key(con, entity):
    @SETTINGS
    @given(rows=history(entity))
    def check(rows):
        _load(con, entity, rows)
        got = con.execute(f"SELECT * FROM stg_{entity}").fetchall()
        assert by_key(entity, got) == current_versions(entity, rows)

    check()
