"""The floor: plain DuckDB in one process, reading the delivery's files and computing
`courses`, `course_progress` and `cohort_outcomes` — no validation, no history, no
orchestration. What the pipeline costs is measured against this.

The script reads each file with DuckDB's own readers (CSV with its sniffer, JSON,
Parquet); DuckDB has no XLSX reader here (only core_functions, icu, json and parquet
are built in), so XLSX sheets are read with openpyxl and handed to DuckDB as Arrow.
Types follow the staging contract (docs/architecture.md), then the pipeline's own mart
SQL runs on them: the same outputs by construction, compared row by row after timing.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()  # the floor's clock starts before its imports, as a CLI's does

from pathlib import Path  # noqa: E402

import duckdb  # noqa: E402
import pyarrow as pa  # noqa: E402

from pipelines.ingest.discover import classify  # noqa: E402
from pipelines.schema import ENTITIES, ENTITY_ORDER, FALSE_WORDS, TRUE_WORDS  # noqa: E402
from pipelines.settings import Settings  # noqa: E402
from pipelines.warehouse import compare  # noqa: E402
from pipelines.warehouse.derive import rebuild_derived  # noqa: E402

FLOOR_MARTS = ("mart_clients", "mart_sessions", "mart_course_sessions", "mart_courses",
               "int_course_progress", "mart_baseline_spread", "mart_course_progress",
               "mart_cohort_outcomes")  # fmt: skip
COMPARED = {"mart_courses": "courses", "mart_course_progress": "course_progress",
            "mart_cohort_outcomes": "cohort_outcomes"}  # fmt: skip


def _words(words: frozenset[str]) -> str:
    return ", ".join(f"'{w}'" for w in sorted(words))


def _typed(column: str, kind: str) -> str:
    v = f"nullif(trim({column}), '')"
    return {
        "text": v,
        "number": f"CAST(replace({v}, ',', '.') AS DOUBLE)",
        "date": f"CAST({v} AS DATE)",
        "timestamp": f"CAST({v} AS TIMESTAMPTZ)",
        "boolean": f"CASE WHEN lower({v}) IN ({_words(TRUE_WORDS)}) THEN true "
        f"WHEN lower({v}) IN ({_words(FALSE_WORDS)}) THEN false END",
        "list": f"string_split({v}, ';')",
    }[kind]


def xlsx_as_arrow(path: Path) -> pa.Table:
    """The first sheet as text columns (read-only mode drops trailing empty cells)."""
    from openpyxl import load_workbook

    rows = load_workbook(path, read_only=True).worksheets[0].values
    header = [str(h).strip().lower() for h in next(rows)]
    columns: list[list[str | None]] = [[] for _ in header]
    for row in rows:
        row = (*row, *([None] * (len(header) - len(row))))
        for values, value in zip(columns, row, strict=False):
            values.append(None if value is None else str(value).lower()
                          if isinstance(value, bool) else str(value))  # fmt: skip
    return pa.table(dict(zip(header, columns, strict=True)))


def _file_relation(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, name: str) -> str:
    """A view of one file with lower-case column names, every value as text."""
    if fmt == "xlsx":
        con.register(f"{name}_arrow", xlsx_as_arrow(path))
        source = f"{name}_arrow"
    elif fmt == "csv":
        source = f"read_csv('{path}', all_varchar = true, header = true)"
    elif fmt == "jsonl":
        source = f"read_json('{path}', format = 'newline_delimited')"
    else:
        source = f"read_parquet('{path}')"
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    columns = ", ".join(f'CAST("{c[0]}" AS VARCHAR) AS {c[0].strip().lower()}' for c in described)
    con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {source}")
    return name


def build_floor(delivery: Path, settings: Settings) -> duckdb.DuckDBPyConnection:
    """Read every file of `delivery` and build the compared marts in a new in-memory DB."""
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{settings.clinic_timezone}'")  # naive times: clinic zone
    files = [classify(p) for p in sorted(delivery.iterdir()) if p.is_file()]
    for entity in ENTITY_ORDER:
        parts = [
            _file_relation(con, f.path, f.format, f"file_{entity}_{i}")
            for i, f in enumerate(x for x in files if x.entity == entity)
        ]
        spec = ENTITIES[entity]
        select = ", ".join(f"{_typed(c.name, c.type)} AS {c.name}" for c in spec.columns)
        union = " UNION ALL BY NAME ".join(f"SELECT * FROM {p}" for p in parts)
        con.execute(f"CREATE TABLE stg_{entity} AS SELECT {select} FROM ({union})")
    con.execute("UPDATE stg_sessions SET status = coalesce(status, 'completed')")
    con.execute("UPDATE stg_clients SET contraindications = coalesce(contraindications, [])")
    rebuild_derived(con, settings, FLOOR_MARTS)
    return con


def differences(floor_db: Path, warehouse: Path) -> dict[str, int]:
    """Rows that differ between the floor's marts and the pipeline's, per view
    (pipelines.warehouse.compare: matched on the mart's key, doubles within a tolerance)."""
    found = compare.differences(floor_db, warehouse, tuple(COMPARED))
    return {COMPARED[mart]: n for mart, n in found.items()}


def main(argv: list[str]) -> None:
    """python -m benchmarks.floor DELIVERY OUT.duckdb RESULT.json: build, time, save."""
    import json
    import resource
    import time

    from pipelines.settings import get_settings

    delivery, out, result = (Path(a) for a in argv)
    con = build_floor(delivery, get_settings())
    seconds = time.perf_counter() - _STARTED
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.unlink(missing_ok=True)  # saved after the clock stopped, for the comparison
    con.execute(f"ATTACH '{out}' AS saved")
    for mart in COMPARED:
        con.execute(f"CREATE TABLE saved.{mart} AS SELECT * FROM {mart}")
    con.close()
    result.write_text(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb}))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
