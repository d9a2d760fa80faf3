"""The pseudonymised schema `analyst.*`: the §6 views without names, birth dates or notes.

Refreshed at every load (call `create_analyst_schema(con, pseudonym_secret(settings))` in
the flow's rebuild step, after `create_analyst_views`). Each `analyst.<view>` is a view over
`main.<view>` that swaps every id for its pseudonym from a lookup table in schema
`pseudonym` (one per kind of id). The keyed hash needs the secret, which never enters the
warehouse, so pseudonyms are computed at load time — but only for ids the lookup does not
have yet: a day's delivery hashes a few hundred ids instead of copying 2.6 M rows. The
lookup is rebuilt when the key or the pseudonym length changes (a key check is stored:
an HMAC of a fixed text, which reveals nothing about the key) and keeps exactly the ids
present in the warehouse (ids that disappear are dropped).

What changes against the §6 views (docs/security.md):
- client_id, course_id (it embeds the client id: "C001-1"), session_id and
  declared_course_id are replaced by HMAC-SHA256(secret, "<kind>:<id>") truncated to
  `pseudonym_hex_chars` hex characters; the same id always maps to the same pseudonym, so
  joins keep working, but without the secret nobody can compute or reverse it;
- clients.birth_date becomes birth_year; names (clients, therapists) and sessions.notes
  are removed; alerts.alert_id (it embeds a session id) is removed;
- quarantine loses `record` and `reasons` (they quote the rejected rows: names, dates).

Columns are allow-listed per view: a column added to a view later is NOT exposed until it
is listed here, so a new personal field cannot leak by default. The lookup tables hold
real ids: the SQL console never lets an analyst name them (only `analyst.<view>` passes
its parse-level check).
"""

from __future__ import annotations

import hashlib
import hmac
import re

import duckdb

from pipelines.warehouse.views import sql_literal

ANALYST_SCHEMA = "analyst"
PSEUDONYM_SCHEMA = "pseudonym"
"""Lookup tables `pseudonym.<kind>` (value, pseudonym) and `pseudonym.key_check`."""
_FN = "_outcomes_pseudonym"

# view -> [(output column, expression over the view's columns or None = same column)]
_P = "{fn}('{kind}', {col})"


_PSEUDO_CALL = re.compile(r"_outcomes_pseudonym\('(\w+)', (\w+)\)")
"""A pseudonym placeholder in COLUMNS: its kind and column."""


def _pseudo(kind: str, col: str) -> str:
    return _P.format(fn=_FN, kind=kind, col=col)


_PLAIN = None
COLUMNS: dict[str, list[tuple[str, str | None]]] = {
    "clients": [
        ("client_id", _pseudo("client", "client_id")),
        ("birth_year", "year(birth_date)::INTEGER"),
        ("sex", _PLAIN), ("height_cm", _PLAIN), ("weight_kg", _PLAIN), ("bmi", _PLAIN),
        ("athlete", _PLAIN), ("cohort", _PLAIN), ("contraindications", _PLAIN),
        ("intake_date", _PLAIN),
    ],
    "therapists": [
        ("therapist_id", _PLAIN), ("qualification", _PLAIN), ("qualified_until", _PLAIN),
        ("body_weight_kg", _PLAIN),
    ],
    "sessions": [
        ("session_id", _pseudo("session", "session_id")),
        ("client_id", _pseudo("client", "client_id")),
        ("therapist_id", _PLAIN),
        ("course_id", _pseudo("course", "course_id")),
        ("session_number", _PLAIN), ("started_at", _PLAIN), ("status", _PLAIN),
        ("duration_min", _PLAIN), ("warmup_min", _PLAIN), ("feet", _PLAIN),
        ("direction", _PLAIN), ("techniques", _PLAIN), ("spine_pressure", _PLAIN),
        ("discomfort_reported", _PLAIN), ("session_date", _PLAIN),
        ("declared_course_id", _pseudo("declared_course", "declared_course_id")),
    ],
    "scores": [
        ("session_id", _pseudo("session", "session_id")),
        ("client_id", _pseudo("client", "client_id")),
        ("timing", _PLAIN), ("pain", _PLAIN), ("muscle_tone", _PLAIN), ("mobility", _PLAIN),
        ("recorded_at", _PLAIN),
        ("course_id", _pseudo("course", "course_id")),
        ("session_number", _PLAIN), ("session_status", _PLAIN),
    ],
    "courses": [
        ("course_id", _pseudo("course", "course_id")),
        ("client_id", _pseudo("client", "client_id")),
        ("cohort", _PLAIN), ("sessions_completed", _PLAIN), ("first_session_at", _PLAIN),
        ("last_session_at", _PLAIN), ("status", _PLAIN), ("contraindicated", _PLAIN),
        ("first_session_date", _PLAIN), ("last_session_date", _PLAIN), ("as_of", _PLAIN),
        ("age_at_start", _PLAIN), ("elderly", _PLAIN), ("contraindications", _PLAIN),
        ("last_therapist_id", _PLAIN), ("client_count", _PLAIN),
    ],
    "course_progress": [
        ("course_id", _pseudo("course", "course_id")),
        ("client_id", _pseudo("client", "client_id")),
        ("cohort", _PLAIN), ("metric", _PLAIN), ("status", _PLAIN),
        ("sessions_completed", _PLAIN), ("baseline", _PLAIN), ("latest", _PLAIN),
        ("improvement", _PLAIN), ("pct_improvement", _PLAIN),
        ("improvement_per_session", _PLAIN), ("immediate_effect", _PLAIN),
        ("responder", _PLAIN), ("worsened", _PLAIN), ("rci", _PLAIN),
        ("reliable_improvement", _PLAIN), ("n_values", _PLAIN),
        ("baseline_session_number", _PLAIN), ("latest_session_number", _PLAIN),
    ],
    "cohort_outcomes": [
        ("cohort", _PLAIN), ("metric", _PLAIN), ("courses_completed", _PLAIN),
        ("mean_improvement", _PLAIN), ("ci95_low", _PLAIN), ("ci95_high", _PLAIN),
        ("median_improvement", _PLAIN), ("responder_rate", _PLAIN), ("dropout_rate", _PLAIN),
        ("sd_improvement", _PLAIN),
    ],
    "alerts": [
        ("alert_type", _PLAIN),
        ("client_id", _pseudo("client", "client_id")),
        ("course_id", _pseudo("course", "course_id")),
        ("session_id", _pseudo("session", "session_id")),
        ("therapist_id", _PLAIN), ("occurred_at", _PLAIN), ("detail", _PLAIN),
    ],
    "quarantine": [
        ("entity", _PLAIN), ("source_file", _PLAIN), ("row_number", _PLAIN),
        ("reference_only", _PLAIN), ("first_seen_at", _PLAIN),
    ],
    "load_log": [
        ("source_file", _PLAIN), ("content_hash", _PLAIN), ("entity", _PLAIN),
        ("loaded_at", _PLAIN), ("rows_read", _PLAIN), ("rows_loaded", _PLAIN),
        ("rows_quarantined", _PLAIN), ("rows_duplicate", _PLAIN), ("status", _PLAIN),
        ("message", _PLAIN),
    ],
}  # fmt: skip
ANALYST_TABLES: tuple[str, ...] = tuple(COLUMNS)

_COMMENTS = {
    "client_id": "Pseudonym of the client: keyed hash (HMAC-SHA256) of the client id.",
    "course_id": "Pseudonym of the course: keyed hash of the course id.",
    "session_id": "Pseudonym of the session: keyed hash of the session id.",
    "declared_course_id": "Pseudonym of the course id given in the export, if any.",
    "birth_year": "Year of birth (the birth date is not available here).",
}


def _columns_of(con: duckdb.DuckDBPyConnection, view: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
            " AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
            [view],
        ).fetchall()
    ]


def _source_column(out: str, expr: str | None) -> str:
    if expr is None:
        return out
    return "birth_date" if out == "birth_year" else out


def create_analyst_schema(
    con: duckdb.DuckDBPyConnection, secret: bytes, n_hex: int | None = None
) -> list[str]:
    """(Re)create the view `analyst.<view>` for every §6 view present in `main`, after
    bringing the pseudonym lookups up to date; returns the views. No transaction handling
    (the caller's rebuild transaction covers it)."""
    if not secret:
        raise ValueError("create_analyst_schema needs the pseudonym secret")
    if n_hex is None:
        from pipelines.settings import get_settings

        n_hex = get_settings().pseudonym_hex_chars
    from pipelines.warehouse.catalog import VIEWS

    sync_pseudonyms(con, secret, int(n_hex))
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ANALYST_SCHEMA}")
    for (old,) in con.execute(  # analyst.* were tables before they became views
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ?",
        [ANALYST_SCHEMA],
    ).fetchall():
        con.execute(f'DROP TABLE {ANALYST_SCHEMA}."{old}"')
    created = []
    for view, columns in COLUMNS.items():
        present = set(_columns_of(con, view))
        if not present:
            con.execute(f"DROP VIEW IF EXISTS {ANALYST_SCHEMA}.{view}")
            continue
        kept = [(o, e) for o, e in columns if _source_column(o, e) in present]
        target = f"{ANALYST_SCHEMA}.{view}"
        con.execute(f"CREATE OR REPLACE VIEW {target} AS {_select(view, kept)}")
        doc = VIEWS.get(view)
        statements = []
        if doc is not None:
            statements.append(
                f"COMMENT ON VIEW {target} IS "
                + sql_literal(f"Pseudonymised {view}: one row per {doc.grain}.")
            )
        for out, _ in kept:
            text = _COMMENTS.get(out)
            if text is None and doc is not None and out in doc.column_names:
                text = doc.column(out).doc
            if text:
                statements.append(f"COMMENT ON COLUMN {target}.{out} IS {sql_literal(text)}")
        if statements:
            con.execute(";\n".join(statements))
        created.append(view)
    return created


def _key_check(secret: bytes, n_hex: int) -> str:
    """What identifies the key and length the stored pseudonyms were made with (an HMAC of a
    fixed text: comparing it tells whether the key changed, and it cannot give the key)."""
    return f"{n_hex}:" + hmac.new(secret, b"pseudonym-key-check", hashlib.sha256).hexdigest()


def sync_pseudonyms(con: duckdb.DuckDBPyConnection, secret: bytes, n_hex: int) -> None:
    """Bring `pseudonym.<kind>` to exactly the ids now in the warehouse: drop the ids that
    are gone, hash the new ones (all of them when the key or length changed)."""
    # HMAC-SHA256 computed by DuckDB itself, vectorised (RFC 2104 over its sha256), once
    # per new id; the padded keys travel only as statement parameters, never into the
    # file. (At 1 M sessions a per-row Python UDF took 24 s; hashing every id in SQL ~1 s.)
    key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
    key = key.ljust(64, b"\x00")
    pads = {
        "ipad": bytes(b ^ 0x36 for b in key).hex(),
        "opad": bytes(b ^ 0x5C for b in key).hex(),
    }
    check = _key_check(secret, n_hex)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PSEUDONYM_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {PSEUDONYM_SCHEMA}.key_check (key_check VARCHAR)")
    stored = con.execute(f"SELECT key_check FROM {PSEUDONYM_SCHEMA}.key_check").fetchall()
    same_key = stored == [(check,)]
    for kind, sources in _id_sources(con).items():
        lookup = f"{PSEUDONYM_SCHEMA}.{kind}"
        con.execute(f"CREATE TABLE IF NOT EXISTS {lookup} (value VARCHAR, pseudonym VARCHAR)")
        union = " UNION ".join(f"SELECT {c}::VARCHAR AS v FROM main.{v}" for v, c in sources)
        ids = f"SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL"
        if same_key:
            con.execute(f"DELETE FROM {lookup} WHERE value NOT IN ({ids})")
        else:
            con.execute(f"DELETE FROM {lookup}")
        inner = f"sha256(from_hex($ipad) || encode('{kind}:' || v))"
        con.execute(
            f"""
            INSERT INTO {lookup}
            WITH ids AS ({ids}),
            new_ids AS (SELECT v FROM ids ANTI JOIN {lookup} AS known ON known.value = ids.v),
            final AS (
                SELECT v AS value,
                       substr(sha256(from_hex($opad) || unhex({inner})), 1, {n_hex}) AS pseudonym
                FROM new_ids
            )
            SELECT value, pseudonym FROM final
            """,
            pads,
        )
    if not same_key:
        con.execute(f"DELETE FROM {PSEUDONYM_SCHEMA}.key_check")
        con.execute(f"INSERT INTO {PSEUDONYM_SCHEMA}.key_check VALUES (?)", [check])


def _select(view: str, kept: list[tuple[str, str | None]]) -> str:
    """SELECT of an analyst view: plain columns as they are, ids via their lookup table."""
    items, joins = [], []
    for i, (out, expr) in enumerate(kept):
        match = _PSEUDO_CALL.fullmatch(expr or "")
        if match:
            kind, col = match.groups()
            joins.append(
                f"LEFT JOIN {PSEUDONYM_SCHEMA}.{kind} p{i} ON p{i}.value = src.{col}::VARCHAR"
            )
            items.append(f"p{i}.pseudonym AS {out}")
        else:
            items.append(f"{expr} AS {out}" if expr else f"src.{out}")
    return f"SELECT {', '.join(items)} FROM main.{view} src " + " ".join(joins)


ID_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "client": (("clients", "client_id"),),
    "session": (("sessions", "session_id"),),
    "course": (("sessions", "course_id"), ("courses", "course_id")),
    "declared_course": (("sessions", "declared_course_id"),),
}
"""Where every id of a kind is found: the loader guarantees that other views only refer
to these (references are checked), and each view is scanned once per kind, not per use."""


def _id_sources(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """kind -> the (view, column) pairs present in this warehouse."""
    out: dict[str, list[tuple[str, str]]] = {}
    for kind, sources in ID_SOURCES.items():
        present = [(v, c) for v, c in sources if c in set(_columns_of(con, v))]
        if present:
            out[kind] = present
    return out
