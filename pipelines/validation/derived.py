"""GX validation of the derived tables after each rebuild."""

from __future__ import annotations

import duckdb

from pipelines.validation.rows import ValidationOutcome, validate_frame
from pipelines.validation.suites import derived_expectations

# what each derived suite sees: the mart itself, or the mart with a checking column
_FRAMES = {
    "mart_courses": """
        WITH numbers AS (
            SELECT course_id, max(session_number) AS max_session_number
            FROM mart_sessions WHERE course_id IS NOT NULL GROUP BY course_id
        ),
        final AS (
            SELECT c.course_id, c.status, c.sessions_completed, n.max_session_number
            FROM mart_courses c LEFT JOIN numbers n USING (course_id)
        )
        SELECT * FROM final
    """,
}


def _checked_columns(expectation: dict) -> list[str]:
    """The columns an expectation reads (one, a pair, or a list of them)."""
    named = [expectation[k] for k in ("column", "column_A", "column_B") if k in expectation]
    return named + list(expectation.get("column_list", []))


def validate_derived(con: duckdb.DuckDBPyConnection) -> dict[str, ValidationOutcome]:
    out = {}
    for table, expectations in derived_expectations().items():
        # only the columns the suite checks: the marts are wide and long
        columns = sorted({c for e in expectations for c in _checked_columns(e)})
        source = _FRAMES.get(table, table)
        if table in _FRAMES:
            source = f"({source})"
        frame = con.execute(f"SELECT {', '.join(columns)} FROM {source}").df()
        out[table] = validate_frame(table, frame)
    return out
