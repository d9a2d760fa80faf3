"""The documentation of the analysts' SQL surface (spec §6), in one place.

Used for ``COMMENT ON VIEW`` / ``COMMENT ON COLUMN`` (:func:`pipelines.warehouse.views.comment_on`),
for the column lists of the views built in :mod:`pipelines.warehouse.views`, and to generate
the reference section of ``docs/sql.md`` (``python -m pipelines.warehouse.catalog`` rewrites it;
a test checks it is current).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import PROJECT_ROOT


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    """DuckDB type (``TIMESTAMPTZ`` is reported as ``TIMESTAMP WITH TIME ZONE``)."""
    doc: str


@dataclass(frozen=True)
class ViewDoc:
    name: str
    grain: str
    """What one row is."""
    doc: str
    columns: tuple[ColumnDoc, ...]
    built_by: str = "pipelines/warehouse/views.py"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnDoc:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str, doc: str) -> ColumnDoc:
    return ColumnDoc(name, type_, doc)


_METRIC = "Metric: `pain`, `muscle_tone` or `mobility`."
_COHORT = (
    "Cohort of the client as currently recorded: `athlete` (athlete is true), else "
    "`overweight` (BMI >= 25), else `other`."
)
_ORIENTED = "Oriented: positive is better (lower pain/muscle_tone, higher mobility)."
_STATUS = (
    "Course status at as_of: `completed` (>= course_min_sessions, default 10, sessions), "
    "else `in_progress` (last session at most dropout_days, default 28, before as_of), "
    "else `dropped_out`."
)

VIEWS: dict[str, ViewDoc] = {
    v.name: v
    for v in (
        ViewDoc(
            "clients",
            "client",
            "Clients as currently recorded (latest intake version), with BMI and cohort.",
            (
                _c("client_id", "VARCHAR", "Client key, as in the clinic's export."),
                _c("birth_date", "DATE", "Date of birth."),
                _c("sex", "VARCHAR", "`F`, `M`, `X` or NULL when not given."),
                _c("height_cm", "DOUBLE", "Height in cm (NULL when not given)."),
                _c("weight_kg", "DOUBLE", "Body weight in kg (NULL when not given)."),
                _c(
                    "bmi",
                    "DOUBLE",
                    "Body-mass index weight_kg / (height_cm/100)^2, rounded to 9 decimals; "
                    "NULL when height or weight is missing.",
                ),
                _c(
                    "athlete",
                    "BOOLEAN",
                    "Trains regularly or competitively, as given; NULL (not given) counts as no.",
                ),
                _c("cohort", "VARCHAR", _COHORT),
                _c(
                    "contraindications",
                    "VARCHAR[]",
                    "Contraindication codes (spinal_tuberculosis, pregnancy, thrombophlebitis, "
                    "bronchial_asthma, musculoskeletal_disease); empty list when none.",
                ),
                _c("name", "VARCHAR", "Client's name (personal data)."),
                _c("intake_date", "DATE", "Intake date, when given."),
            ),
        ),
        ViewDoc(
            "therapists",
            "therapist",
            "Therapists as currently recorded.",
            (
                _c("therapist_id", "VARCHAR", "Therapist key, as in the clinic's export."),
                _c(
                    "qualification",
                    "VARCHAR",
                    "Certificate number; NULL or blank means not qualified.",
                ),
                _c(
                    "qualified_until",
                    "DATE",
                    "Certificate expiry (sessions after this date raise an alert); NULL means "
                    "no expiry.",
                ),
                _c("body_weight_kg", "DOUBLE", "Therapist's body weight in kg (technique)."),
                _c("name", "VARCHAR", "Therapist's name (personal data)."),
            ),
        ),
        ViewDoc(
            "sessions",
            "session (every status)",
            "The session log as currently recorded, with the course each completed session "
            "belongs to and its number in that course.",
            (
                _c("session_id", "VARCHAR", "Session key."),
                _c("client_id", "VARCHAR", "Client of the session."),
                _c("therapist_id", "VARCHAR", "Therapist who gave the session."),
                _c(
                    "course_id",
                    "VARCHAR",
                    "Course of a completed session: the given course_id, else inferred as "
                    "`<client_id>-1`, `-2`… (new course after a gap of more than gap_days, "
                    "default 28, days or after course_max_sessions, default 15, sessions). "
                    "NULL for sessions that are not completed.",
                ),
                _c(
                    "session_number",
                    "INTEGER",
                    "1-based number of the session in its course, by started_at (ties by "
                    "session_id); NULL when not in a course.",
                ),
                _c("started_at", "TIMESTAMPTZ", "Start of the session (an instant)."),
                _c(
                    "status",
                    "VARCHAR",
                    "`completed`, `cancelled` or `no_show` (blank in the export = completed).",
                ),
                _c("duration_min", "DOUBLE", "Duration in minutes."),
                _c("warmup_min", "DOUBLE", "Manual warm-up in minutes."),
                _c("feet", "VARCHAR", "`both` or `one`."),
                _c("direction", "VARCHAR", "`with_flow`, `against_flow` or `both` (blood flow)."),
                _c(
                    "techniques",
                    "VARCHAR[]",
                    "Closing manual techniques (rubbing, kneading, stroking); NULL when not given.",
                ),
                _c("spine_pressure", "BOOLEAN", "Force was applied to the spine."),
                _c(
                    "discomfort_reported",
                    "BOOLEAN",
                    "The client reported pain or discomfort during the session.",
                ),
                _c(
                    "session_date",
                    "DATE",
                    "Date of started_at in the clinic's time zone (setting clinic_timezone).",
                ),
                _c(
                    "declared_course_id",
                    "VARCHAR",
                    "course_id as given in the export (kept also for sessions not completed).",
                ),
                _c("notes", "VARCHAR", "Free-text notes."),
            ),
        ),
        ViewDoc(
            "scores",
            "score row (session × timing)",
            "Client-reported scores (0–10) before (`pre`) and after (`post`) sessions. Only "
            "scores of completed sessions are used in outcome figures.",
            (
                _c("session_id", "VARCHAR", "Session the scores belong to."),
                _c(
                    "client_id",
                    "VARCHAR",
                    "Client: as given in the scores file, else the session's client.",
                ),
                _c("timing", "VARCHAR", "`pre` (before the session) or `post` (after it)."),
                _c("pain", "DOUBLE", "Pain 0 (none) … 10 (worst); lower is better."),
                _c(
                    "muscle_tone",
                    "DOUBLE",
                    "Felt muscle tension 0 (none) … 10 (extreme); lower is better.",
                ),
                _c(
                    "mobility",
                    "DOUBLE",
                    "Ease of movement 0 (cannot move) … 10 (moves freely); higher is better.",
                ),
                _c("recorded_at", "TIMESTAMPTZ", "When the scores were recorded."),
                _c("course_id", "VARCHAR", "Course of the session (NULL when not completed)."),
                _c("session_number", "INTEGER", "Number of the session in its course."),
                _c("session_status", "VARCHAR", "Status of the session."),
            ),
        ),
        ViewDoc(
            "courses",
            "course",
            "Courses of 10–15 sessions: completed sessions grouped by course_id (given or "
            "inferred).",
            (
                _c("course_id", "VARCHAR", "Course key (given, or `<client_id>-<n>` inferred)."),
                _c(
                    "client_id",
                    "VARCHAR",
                    "Client of the course (of its first session, should a course_id be shared).",
                ),
                _c("cohort", "VARCHAR", _COHORT),
                _c("sessions_completed", "BIGINT", "Number of completed sessions in the course."),
                _c("first_session_at", "TIMESTAMPTZ", "Start of the first session."),
                _c("last_session_at", "TIMESTAMPTZ", "Start of the last session."),
                _c("status", "VARCHAR", _STATUS),
                _c(
                    "contraindicated",
                    "BOOLEAN",
                    "The client has a contraindication code, or is elderly at course start.",
                ),
                _c("first_session_date", "DATE", "Date of the first session (clinic time zone)."),
                _c("last_session_date", "DATE", "Date of the last session (clinic time zone)."),
                _c(
                    "as_of",
                    "DATE",
                    "Reference date of status: setting as_of, else the date of the latest "
                    "completed session in the warehouse.",
                ),
                _c("age_at_start", "INTEGER", "Client's age in whole years at first_session_date."),
                _c(
                    "elderly",
                    "BOOLEAN",
                    "age_at_start >= elderly_age (default 65): a contraindication.",
                ),
                _c("contraindications", "VARCHAR[]", "The client's contraindication codes."),
                _c("last_therapist_id", "VARCHAR", "Therapist of the course's latest session."),
                _c(
                    "client_count",
                    "INTEGER",
                    "Clients whose sessions carry this course_id (more than 1 is a data error).",
                ),
            ),
        ),
        ViewDoc(
            "course_progress",
            "course × metric",
            "Outcome of each course per metric, from the `pre` scores of its sessions "
            "(baseline = first value, latest = last value). A row exists for every metric "
            "of every course, also when the metric has no values.",
            (
                _c("course_id", "VARCHAR", "Course."),
                _c("client_id", "VARCHAR", "Client of the course."),
                _c("cohort", "VARCHAR", _COHORT),
                _c("metric", "VARCHAR", _METRIC),
                _c("status", "VARCHAR", _STATUS),
                _c("sessions_completed", "BIGINT", "Number of completed sessions in the course."),
                _c(
                    "baseline",
                    "DOUBLE",
                    "Pre value at the lowest session_number with a value; NULL when none.",
                ),
                _c(
                    "latest",
                    "DOUBLE",
                    "Pre value at the highest session_number with a value, when that session "
                    "is not the baseline's; else NULL.",
                ),
                _c(
                    "improvement",
                    "DOUBLE",
                    "Change from baseline to latest, rounded to 9 decimals. " + _ORIENTED,
                ),
                _c(
                    "pct_improvement",
                    "DOUBLE",
                    "100 × improvement / possible (possible = baseline for pain and "
                    "muscle_tone, 10 − baseline for mobility); NULL when possible is 0.",
                ),
                _c(
                    "improvement_per_session",
                    "DOUBLE",
                    "Least-squares slope of the pre values on session_number (points per "
                    "session), oriented; NULL with fewer than 3 values.",
                ),
                _c(
                    "immediate_effect",
                    "DOUBLE",
                    "Mean over the course's sessions with both a pre and a post value of the "
                    "change pre → post, oriented; NULL when no session has both.",
                ),
                _c(
                    "responder",
                    "BOOLEAN",
                    "improvement >= MCID of the metric (setting mcid, default 2 points); NULL "
                    "when improvement is NULL.",
                ),
                _c("worsened", "BOOLEAN", "improvement <= −MCID; NULL when improvement is NULL."),
                _c(
                    "rci",
                    "DOUBLE",
                    "Reliable change index (Jacobson–Truax): improvement / (SD × √2 × √(1 − r)); "
                    "SD = sample SD of baseline over all courses with a baseline for the metric, "
                    "r = setting reliability (default 0.80). NULL when SD is 0 or fewer than 2 "
                    "baselines exist.",
                ),
                _c(
                    "reliable_improvement",
                    "BOOLEAN",
                    "rci >= rci_threshold (default 1.96); NULL when rci is NULL.",
                ),
                _c("n_values", "INTEGER", "Number of sessions of the course with a pre value."),
                _c(
                    "baseline_session_number",
                    "INTEGER",
                    "session_number of the baseline value.",
                ),
                _c(
                    "latest_session_number",
                    "INTEGER",
                    "session_number of the latest value (NULL when latest is NULL).",
                ),
            ),
        ),
        ViewDoc(
            "cohort_outcomes",
            "cohort × metric",
            "Outcomes per cohort and metric over `completed` courses with a non-null "
            "improvement. A row exists for all three metrics of every cohort that has at "
            "least one course (any status), also when no course qualifies (n = 0).",
            (
                _c("cohort", "VARCHAR", "Cohort: `athlete`, `overweight` or `other`."),
                _c("metric", "VARCHAR", _METRIC),
                _c(
                    "courses_completed",
                    "INTEGER",
                    "n: completed courses of the cohort with a non-null improvement for the "
                    "metric.",
                ),
                _c("mean_improvement", "DOUBLE", "Mean improvement (NULL when n = 0)."),
                _c(
                    "ci95_low",
                    "DOUBLE",
                    "Lower bound of the 95 % confidence interval of the mean: mean − "
                    "t(0.975, n − 1) × s / √n; NULL when n < 2.",
                ),
                _c(
                    "ci95_high",
                    "DOUBLE",
                    "Upper bound: mean + t(0.975, n − 1) × s / √n; NULL when n < 2.",
                ),
                _c("median_improvement", "DOUBLE", "Median improvement (NULL when n = 0)."),
                _c(
                    "responder_rate",
                    "DOUBLE",
                    "Share (0–1) of the n courses that are responders; NULL when n = 0.",
                ),
                _c(
                    "dropout_rate",
                    "DOUBLE",
                    "Per cohort (same for every metric): dropped_out / (completed + "
                    "dropped_out) over all courses of the cohort; NULL when that is 0/0.",
                ),
                _c(
                    "sd_improvement",
                    "DOUBLE",
                    "Sample standard deviation s of the improvements (NULL when n < 2).",
                ),
            ),
        ),
        ViewDoc(
            "alerts",
            "alert",
            "Safety and protocol alerts. Session alerts point at the session; course alerts "
            "(contraindication, course longer than course_max_sessions) have session_id "
            "NULL and take therapist_id/occurred_at from the session that raised them.",
            (
                _c(
                    "alert_type",
                    "VARCHAR",
                    "`contraindication`, `discomfort`, `spine_pressure`, "
                    "`unqualified_therapist` or `protocol_deviation`.",
                ),
                _c("client_id", "VARCHAR", "Client concerned."),
                _c("course_id", "VARCHAR", "Course concerned (NULL when none)."),
                _c("session_id", "VARCHAR", "Session concerned; NULL for course alerts."),
                _c(
                    "therapist_id",
                    "VARCHAR",
                    "Therapist of the session (course alerts: of the course's first session "
                    "for contraindication, of the first session over the maximum for a long "
                    "course).",
                ),
                _c(
                    "occurred_at",
                    "TIMESTAMPTZ",
                    "started_at of that session.",
                ),
                _c(
                    "detail",
                    "VARCHAR",
                    "Human-readable reasons, separated by `; ` (e.g. `pregnancy; elderly (age "
                    "67 at course start)`, `warm-up 3 min outside 5–10 min; techniques lack "
                    "kneading`).",
                ),
                _c(
                    "alert_id",
                    "VARCHAR",
                    "Stable key: `<alert_type>:session:<session_id>` or "
                    "`<alert_type>:course:<course_id>`.",
                ),
            ),
        ),
        ViewDoc(
            "quarantine",
            "rejected row (not yet resolved)",
            "Rows that broke a rule of spec §2/§3, with every reason. Rows whose only fault "
            "is an unknown reference are retried at every load and leave this view once "
            "they load.",
            (
                _c("entity", "VARCHAR", "`clients`, `therapists`, `sessions` or `scores`."),
                _c("source_file", "VARCHAR", "Name of the file the row came from."),
                _c(
                    "row_number",
                    "BIGINT",
                    "Where to find the row in the file: CSV line (header = 1), JSONL line, "
                    "XLSX sheet row (header = 1), Parquet 1-based record index.",
                ),
                _c("record", "JSON", "The row's original values."),
                _c("reasons", "VARCHAR[]", "Every rule the row broke."),
                _c(
                    "reference_only",
                    "BOOLEAN",
                    "The only fault is an unknown reference (retried automatically).",
                ),
                _c("first_seen_at", "TIMESTAMPTZ", "When the row was first rejected."),
            ),
            built_by="pipelines/store/ddl.py (loading layer)",
        ),
        ViewDoc(
            "load_log",
            "processed file (loaded, or rejected as a whole)",
            "Files whose bytes were loaded before are skipped and not logged again. For each "
            "file rows_read = rows_loaded + rows_quarantined + rows_duplicate (all 0 for a "
            "rejected file).",
            (
                _c("source_file", "VARCHAR", "File name."),
                _c("content_hash", "VARCHAR", "Hash of the file's bytes (same bytes = same load)."),
                _c("entity", "VARCHAR", "Entity of the file (NULL when not recognised)."),
                _c("loaded_at", "TIMESTAMPTZ", "When the file was processed."),
                _c("rows_read", "BIGINT", "Data rows read from the file."),
                _c("rows_loaded", "BIGINT", "Rows loaded into the warehouse."),
                _c("rows_quarantined", "BIGINT", "Rows sent to quarantine."),
                _c("rows_duplicate", "BIGINT", "Identical duplicate rows collapsed."),
                _c("status", "VARCHAR", "`loaded` or `rejected` (whole file)."),
                _c("message", "VARCHAR", "Why a file was rejected, or notes (e.g. extra columns)."),
            ),
            built_by="pipelines/store/ddl.py (loading layer)",
        ),
    )
}


# --- docs/sql.md ----------------------------------------------------------------------
DOC_PATH: Path = PROJECT_ROOT / "docs" / "sql.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m pipelines.warehouse.catalog) -->"
END = "<!-- END GENERATED REFERENCE -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_reference() -> str:
    """The reference section of docs/sql.md: every view, column, type and meaning."""
    out: list[str] = []
    for v in VIEWS.values():
        out += [
            f"### `{v.name}`",
            "",
            f"One row per {v.grain}. {v.doc} *(Built by `{v.built_by}`.)*",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        out += [f"| `{c.name}` | {c.type} | {_cell(c.doc)} |" for c in v.columns]
        out.append("")
    return "\n".join(out).strip("\n")


def documented_reference(text: str) -> str:
    """The generated section as it stands in a docs/sql.md text."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def write_reference(path: Path = DOC_PATH) -> None:
    """Replace the generated section of docs/sql.md with the current catalog."""
    text = path.read_text(encoding="utf-8")
    head, tail = text[: text.index(BEGIN) + len(BEGIN)], text[text.index(END) :]
    path.write_text(f"{head}\n{render_reference()}\n{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - maintenance command
    write_reference(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_PATH)
