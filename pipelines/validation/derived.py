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


def validate_derived(con: duckdb.DuckDBPyConnection) -> dict[str, ValidationOutcome]:
    out = {}
    for table in derived_expectations():
        frame = con.execute(_FRAMES.get(table, f"SELECT * FROM {table}")).df()
        out[table] = validate_frame(table, frame)
    return out
