"""What the analysts' copy holds: an allow-list of columns per §6 view.

Each §6 view becomes a table `main.<view>` of the copy, made of an allow-list of columns:
- every id (client, session, course, the declared course, therapist) is swapped for its
  pseudonym from the warehouse's lookups (pipelines/warehouse/pseudonyms.py);
- clients.birth_date becomes birth_year; names, session notes, alerts.alert_id (it embeds a
  session id) and a therapist's certificate number are left out (`has_qualification` says
  whether there is one); an alert's detail names the therapist by pseudonym;
- quarantine keeps neither `record` nor `reasons` (they quote the rejected rows).

A column added to a view later is not copied until it is listed here, so a new personal
field cannot leak by default.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipelines.warehouse.pseudonyms import PSEUDONYM_SCHEMA
from pipelines.warehouse.render import sql_literal


@dataclass(frozen=True)
class Col:
    """One column of an analyst table."""

    name: str
    source: str | None = None
    """Column of the §6 view it is made from (default: the same name)."""
    pseudonym: str | None = None
    """Kind of id: the value is swapped for its pseudonym (joined as `p_<name>`)."""
    sql: str | None = None
    """Expression over the view (`src`) and the pseudonym joins, instead of the value."""
    comment: str | None = None
    """Documentation, where it differs from the §6 view's column."""

    @property
    def from_column(self) -> str:
        return self.source or self.name


def _id(name: str, kind: str, what: str) -> Col:
    return Col(name, pseudonym=kind, comment=f"Pseudonym of {what}: keyed hash (HMAC-SHA256).")


def _plain(*names: str) -> list[Col]:
    return [Col(n) for n in names]


CLIENT = _id("client_id", "client", "the client")
SESSION = _id("session_id", "session", "the session")
COURSE = _id("course_id", "course", "the course")
THERAPIST = _id("therapist_id", "therapist", "the therapist")

_CERTIFICATE = "coalesce('qualification ' || trim(th.qualification) || ' of ', 'qualification of ')"
_UNQUALIFIED_DETAIL = f"""CASE WHEN src.alert_type = 'unqualified_therapist' THEN replace(
    replace(src.detail, {_CERTIFICATE}, 'qualification of '),
    'therapist ' || src.therapist_id, 'therapist ' || coalesce(p_therapist_id.pseudonym, '?'))
ELSE src.detail END"""
"""An unqualified-therapist alert names the therapist and the certificate; the copy names
the therapist's pseudonym and no certificate."""

COLUMNS: dict[str, list[Col]] = {
    "clients": [
        CLIENT,
        Col("birth_year", source="birth_date", sql="year(src.birth_date)::INTEGER",
            comment="Year of birth (the birth date is not available here)."),
        *_plain("sex", "height_cm", "weight_kg", "bmi", "athlete", "cohort",
                "contraindications", "intake_date"),
    ],
    "therapists": [
        THERAPIST,
        Col("has_qualification", source="qualification",
            sql="nullif(trim(src.qualification), '') IS NOT NULL",
            comment="Whether a certificate is on record (its number is not available here)."),
        *_plain("qualified_until", "body_weight_kg"),
    ],
    "sessions": [
        SESSION, CLIENT, THERAPIST, COURSE,
        *_plain("session_number", "started_at", "status", "duration_min", "warmup_min", "feet",
                "direction", "techniques", "spine_pressure", "discomfort_reported",
                "session_date"),
        _id("declared_course_id", "declared_course", "the course id given in the export"),
    ],
    "scores": [
        SESSION, CLIENT,
        *_plain("timing", "pain", "muscle_tone", "mobility", "recorded_at"),
        COURSE,
        *_plain("session_number", "session_status"),
    ],
    "courses": [
        COURSE, CLIENT,
        *_plain("cohort", "sessions_completed", "first_session_at", "last_session_at", "status",
                "contraindicated", "first_session_date", "last_session_date", "as_of",
                "age_at_start", "elderly", "contraindications"),
        _id("last_therapist_id", "therapist", "the therapist of the course's last session"),
        *_plain("client_count"),
    ],
    "course_progress": [
        COURSE, CLIENT,
        *_plain("cohort", "metric", "status", "sessions_completed", "baseline", "latest",
                "improvement", "pct_improvement", "improvement_per_session",
                "immediate_effect", "responder", "worsened", "rci", "reliable_improvement",
                "n_values", "baseline_session_number", "latest_session_number"),
    ],
    "cohort_outcomes": _plain(
        "cohort", "metric", "courses_completed", "mean_improvement", "ci95_low", "ci95_high",
        "median_improvement", "responder_rate", "dropout_rate", "sd_improvement",
        "itt_courses", "itt_mean_improvement", "itt_responder_rate", "missing_outcome_rate",
    ),
    "alerts": [
        Col("alert_type"), CLIENT, COURSE, SESSION, THERAPIST, Col("occurred_at"),
        Col("detail", sql=_UNQUALIFIED_DETAIL),
    ],
    "quarantine": _plain("entity", "source_file", "row_number", "reference_only", "first_seen_at"),
    "load_log": _plain(
        "source_file", "content_hash", "entity", "loaded_at", "rows_read", "rows_loaded",
        "rows_quarantined", "rows_duplicate", "status", "message",
    ),
    "cohort_outcomes_adjusted": _plain(
        "cohort", "metric", "courses", "raw_mean_improvement", "adjusted_mean_improvement",
        "adjusted_ci95_low", "adjusted_ci95_high", "difference_vs_other", "difference_ci95_low",
        "difference_ci95_high", "difference_p_value", "model_courses", "model_r_squared",
        "model_residual_sd",
    ),
    "therapist_outcomes": [
        THERAPIST,
        *_plain("metric", "courses", "observed_mean", "expected_mean", "difference",
                "adjusted_mean", "ci95_low", "ci95_high", "z", "funnel_band"),
    ],
    "course_expectations": [
        COURSE, CLIENT,
        *_plain("metric", "session_number", "value", "change", "reference_courses",
                "reference_scope", "expected_p10", "expected_p25", "expected_median",
                "expected_p75", "off_track"),
    ],
}  # fmt: skip
ANALYST_TABLES: tuple[str, ...] = tuple(COLUMNS)

_EXTRA_JOINS = {"alerts": "LEFT JOIN main.therapists th ON th.therapist_id = src.therapist_id"}
"""Joins an expression above needs besides the pseudonym lookups."""


def select_sql(view: str, columns: list[Col], source: str = "") -> str:
    """SELECT of one analyst table from `main.<view>` (or from `source`, rows of it), ids
    swapped via their lookups."""
    items, joins = [], []
    for col in columns:
        if col.pseudonym:
            alias = f"p_{col.name}"
            joins.append(
                f"LEFT JOIN {PSEUDONYM_SCHEMA}.{col.pseudonym} {alias}"
                f" ON {alias}.value = src.{col.from_column}::VARCHAR"
            )
            items.append(f"{alias}.pseudonym AS {col.name}")
        elif col.sql:
            items.append(f"{col.sql} AS {col.name}")
        else:
            items.append(f"src.{col.name}")
    joins += [_EXTRA_JOINS[view]] if view in _EXTRA_JOINS else []
    return f"SELECT {', '.join(items)} FROM {source or 'main.' + view} src " + " ".join(joins)


def columns_fingerprint() -> str:
    """Digest of what the copy is made of: a release that changes it rebuilds the copy."""
    text = repr(sorted(COLUMNS.items())) + repr(sorted(_EXTRA_JOINS.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def comment_statements(table: str, view: str, columns: list[Col], doc) -> list[str]:
    """COMMENT ON statements of one analyst table, from the §6 documentation."""
    grain = doc.grain if doc is not None else "row"
    about = sql_literal(f"Pseudonymised {view}: one row per {grain}.")
    out = [f"COMMENT ON TABLE {table} IS {about}"]
    for col in columns:
        text = col.comment
        if text is None and doc is not None and col.name in doc.column_names:
            text = doc.column(col.name).doc
        if text:
            out.append(f"COMMENT ON COLUMN {table}.{col.name} IS {sql_literal(text)}")
    return out
