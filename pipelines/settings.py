"""Every path and threshold of the product, in one place.

Each setting has the spec's default (``shared/spec.md``). Overrides, lowest to highest
precedence:

1. a TOML file: ``outcomes.toml`` in the project root, or the file named by
   ``OUTCOMES_CONFIG``; keys are the field names below (``[mcid]`` / ``[reliability]``
   tables for the per-metric settings);
2. environment variables ``OUTCOMES_<FIELD>`` (upper case), e.g. ``OUTCOMES_DB``,
   ``OUTCOMES_GAP_DAYS``, ``OUTCOMES_MCID_PAIN``.

Relative paths resolve from the project root, never from the working directory.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

PROJECT_ROOT: Path = Path(__file__).resolve().parents[1]
METRICS: tuple[str, ...] = ("pain", "muscle_tone", "mobility")
COHORTS: tuple[str, ...] = ("athlete", "overweight", "other")


def _default_mcid() -> dict[str, float]:
    return {m: 2.0 for m in METRICS}


def _default_reliability() -> dict[str, float]:
    return {m: 0.80 for m in METRICS}


@dataclass(frozen=True)
class Settings:
    # --- paths (relative ones resolve from the project root) -----------------------
    db: Path = Path("data/warehouse.duckdb")
    """The warehouse: one DuckDB file (env ``OUTCOMES_DB``)."""
    data_dir: Path = Path("data")
    """Everything generated lives here and is git-ignored."""
    inbox_dir: Path = Path("data/inbox")
    """`outcomes serve` picks up deliveries dropped here."""
    archive_dir: Path = Path("data/archive")
    """Processed deliveries are moved here by `outcomes serve`."""
    demo_dir: Path = Path("data/demo")
    """`outcomes demo` writes its generated export here."""
    expectations_dir: Path = Path("expectations")
    """Root of the file-based Great Expectations context (suites are committed)."""
    gx_docs_dir: Path = Path("data/gx_docs")
    """GX Data Docs are built here."""
    gx_keep_validations: int = 20
    """GX's results store and Data Docs keep this many latest results per suite (all of
    them also stay in the warehouse, in meta_gx_results); bounded so loads stay fast."""
    prefect_home: Path = Path("data/prefect")
    """PREFECT_HOME used when the CLI starts a local Prefect API."""
    inbox_poll_seconds: int = 5
    """`outcomes serve` looks into the inbox this often. Its process stays up with GX and
    Prefect imported (pipelines/worker.py), so a look is one directory listing and can be
    frequent: a delivery waits at most this long before its load starts."""
    inbox_retry_seconds: int = 60
    """After a failed load (e.g. the warehouse busy with another load), `outcomes serve`
    waits this long before trying the files, still in the inbox, again."""

    # --- clinic ------------------------------------------------------------------
    clinic_timezone: str = "UTC"
    """Time zone of timestamps without an offset, and of session dates (spec §2, §4)."""

    # --- courses (spec §4) ---------------------------------------------------------
    gap_days: int = 28
    """A new inferred course starts when consecutive sessions are more than this apart."""
    course_min_sessions: int = 10
    """A course with at least this many completed sessions is `completed`."""
    course_max_sessions: int = 15
    """Inferred courses roll over at this size; explicit courses above it raise an alert."""
    dropout_days: int = 28
    """An unfinished course whose last session is more than this before as_of dropped out."""
    elderly_age: int = 65
    """Age at course start from which a client counts as elderly (a contraindication)."""
    as_of: dt.date | None = None
    """Overrides as_of (default: date of the latest completed session)."""

    # --- outcome statistics (spec §4) ------------------------------------------------
    mcid: dict[str, float] = field(default_factory=_default_mcid)
    """Minimal clinically important difference per metric, in score points."""
    reliability: dict[str, float] = field(default_factory=_default_reliability)
    """Test–retest reliability r per metric, for the reliable change index."""
    rci_threshold: float = 1.96
    """rci at or above this is a reliable improvement."""

    # --- the expected course (spec §7.5) ------------------------------------------------
    expected_min_references: int = 20
    """The expected band needs this many completed reference courses at session k: from the
    course's cohort, else from every cohort, else there is no band."""
    expected_baseline_window: float = 1.0
    """A reference's baseline lies within this many points of the course's baseline."""
    off_track_from_session: int = 4
    """A course in progress can be off track (below the band's 10th percentile) from this
    session on: earlier changes are too small to tell."""

    # --- protocol (spec §5) ----------------------------------------------------------
    warmup_min_low: float = 5
    warmup_min_high: float = 10
    duration_min_low: float = 45
    duration_min_high: float = 75

    # --- loading (spec §2, §3) --------------------------------------------------------
    max_started_ahead_days: float = 1
    """A session may start at most this long after the time of loading."""
    max_age_years: int = 120
    """Oldest plausible client."""
    load_lock_wait_s: float = 0.0
    """How long a second `outcomes ingest` waits for a running one before giving up."""
    prepare_ahead_files: int = 2
    """While the worker process still reads an XLSX file (pipelines/ingest/read_ahead.py), the
    load reads, types and validates up to this many of the following files instead of
    waiting; each is held in memory until its turn to load (0: always wait)."""
    max_line_bytes: int = 1_048_576
    """A CSV or JSONL line longer than this (in bytes) rejects its file before parsing: a
    runaway line (e.g. a 50 MB file without a newline) must not exhaust memory or hang."""
    min_started_at: dt.date = dt.date(1990, 1, 1)
    """A session may not start before this date (midnight in the clinic's time zone)."""
    xlsx_max_rows: int = 1_048_576
    """An XLSX file whose first sheet reaches beyond this row (declared or found) is
    rejected before its rows are read (Excel's own limit by default: rows with no cell cost
    almost nothing; lower it to refuse big sheets sooner)."""
    xlsx_max_columns: int = 1_024
    """An XLSX file whose first sheet reaches beyond this column (declared or found) is
    rejected before its rows are read: a single formatted cell at XFD1048576 would
    otherwise make every row 16,384 cells wide and the read take minutes."""
    read_timeout_s: float = 300.0
    """A file read in the reader process (every XLSX file, in `outcomes ingest` and
    `outcomes serve`) that takes longer than this is stopped and the file rejected; the
    other formats' readers are bounded by the file's size (docs/reliability.md)."""

    # --- derived tables (docs/loading.md, "Keeping the marts up to date") ----------------
    incremental_marts: bool = True
    """After a load, recompute only the mart rows of the clients and courses it touched
    (pipelines/warehouse/incremental.py); False rebuilds every mart at every load."""
    full_rebuild_share: float = 0.2
    """A load rebuilds every mart from scratch once the session rows rewritten in place since
    the last full rebuild reach this share of mart_sessions: rewritten rows are appended out
    of client order, which slowly wears down the dashboard's lookups by client."""

    # --- dashboard and SQL console ------------------------------------------------------
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8050
    sql_timeout_s: float = 5.0
    """An ad-hoc SQL query is interrupted after this many seconds."""
    sql_row_cap: int = 10_000
    """At most this many rows of an ad-hoc query are returned (a LIMIT inside DuckDB)."""
    sql_byte_cap: int = 16 * 1024 * 1024
    """An ad-hoc query's answer stops before it holds this many bytes (its values as text),
    however few rows that is: a few huge values must not fill the browser or the terminal."""
    dashboard_memory_limit_mb: int = 1024
    """DuckDB's memory limit of the warehouse a dashboard process keeps open (its cache of
    the file's blocks included)."""
    sql_memory_limit_mb: int = 1024
    """DuckDB's memory limit while it runs an ad-hoc query (sorts, joins, aggregates)."""

    # --- security and privacy (docs/security.md) ------------------------------------------
    secrets_dir: Path = Path("data/secrets")
    """Folder of the secret keys. Nothing under it is ever read as a delivery (neither are
    the key files, the users database or the warehouse, wherever they are)."""
    users_db: Path = Path("data/users.db")
    """Dashboard accounts and the audit trail (SQLite). Beside the warehouse, never inside
    it: a load replaces the warehouse file as a whole."""
    session_secret_file: Path = Path("data/secrets/session.key")
    """Key signing the dashboard's session cookies; created (mode 0600) on first use."""
    pseudonym_secret_file: Path = Path("data/secrets/pseudonym.key")
    """Key of the HMAC that pseudonymises ids in the `analyst` schema; created (mode 0600)
    on first use. Whoever holds it can link pseudonyms back to clients: keep it off the
    warehouse and out of backups handed to analysts."""
    pseudonym_hex_chars: int = 16
    """Length of a pseudonym (hex characters of the HMAC-SHA256; 16 = 64 bits)."""
    session_max_age_s: int = 8 * 3600
    """A dashboard sign-in lasts this long (then sign in again)."""
    login_max_failures: int = 5
    """Failed sign-ins of one user from one address within login_window_s before further
    attempts are refused."""
    login_window_s: int = 300
    """Window of the sign-in rate limit, in seconds."""
    password_min_length: int = 10
    """Shortest password `outcomes users add|passwd` accepts."""
    audit_page_rows: int = 1000
    """The Audit page shows this many latest events."""
    audit_page_detail_chars: int = 300
    """The Audit page shows this many characters of an event's detail (whitespace runs shown
    as one space); users_db keeps the whole detail."""

    def path(self, name: str) -> Path:
        """A path setting resolved from the project root."""
        value = Path(getattr(self, name))
        return value if value.is_absolute() else PROJECT_ROOT / value

    @property
    def db_path(self) -> Path:
        return self.path("db")


def analyst_copy_path(db_path: Path) -> Path:
    """Where the analysts' pseudonymised copy of the warehouse `db_path` lives: beside it,
    `<name>.analyst.duckdb` (pipelines/warehouse/analyst_copy.py); it follows `--db`."""
    stem = db_path.stem if db_path.suffix == ".duckdb" else db_path.name
    return db_path.with_name(f"{stem}.analyst.duckdb")


_PATH_FIELDS = {f.name for f in dataclasses.fields(Settings) if f.type in ("Path", Path)}
_DICT_FIELDS = ("mcid", "reliability")
_BOOL_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def _coerce(name: str, raw: Any) -> Any:
    """Turn a TOML or environment value into the type of the field `name`."""
    kind = {f.name: f.type for f in dataclasses.fields(Settings)}[name]
    if raw is None:
        return None
    if name in _PATH_FIELDS:
        return Path(raw)
    if "dt.date" in str(kind):
        return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    if kind in ("bool", bool):
        text = str(raw).strip().lower()  # TOML gives a bool, the environment a word
        if text not in _BOOL_WORDS:
            raise ValueError(f"{name} must be true or false, got {raw!r}")
        return _BOOL_WORDS[text]
    if kind in ("int", int):
        return int(raw)
    if kind in ("float", float):
        return float(raw)
    return str(raw)


def load_settings(env: dict[str, str] | None = None, config_file: Path | None = None) -> Settings:
    """Build settings from defaults, the TOML file and the environment (in that order)."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    mcid, reliability = _default_mcid(), _default_reliability()

    path = config_file or Path(env.get("OUTCOMES_CONFIG", PROJECT_ROOT / "outcomes.toml"))
    if not path.is_absolute():
        path = PROJECT_ROOT / path
    if path.exists():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for key, raw in data.items():
            if key in _DICT_FIELDS:
                target = mcid if key == "mcid" else reliability
                target.update({m: float(v) for m, v in raw.items() if m in METRICS})
            elif key in {f.name for f in dataclasses.fields(Settings)}:
                values[key] = _coerce(key, raw)
            else:
                raise ValueError(f"{path}: unknown setting {key!r}")

    for f in dataclasses.fields(Settings):
        if f.name in _DICT_FIELDS:
            target = mcid if f.name == "mcid" else reliability
            for m in METRICS:
                raw = env.get(f"OUTCOMES_{f.name}_{m}".upper())
                if raw is not None:
                    target[m] = float(raw)
        else:
            raw = env.get(f"OUTCOMES_{f.name}".upper())
            if raw is not None:
                values[f.name] = _coerce(f.name, raw)
    return Settings(**values, mcid=mcid, reliability=reliability)


@cache
def get_settings() -> Settings:
    """The settings of this process (read once)."""
    return load_settings()
