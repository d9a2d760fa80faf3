"""Every component id of the dashboard, in one place (callbacks and browser tests share them)."""

# --- shell ---------------------------------------------------------------------------------
NAVBAR = "navbar"
PAGE_CONTENT = "page-content"
NAV_USER = "nav-user"
NAV_SIGNOUT = "nav-signout"
NOT_ALLOWED = "not-allowed"

# --- audit ---------------------------------------------------------------------------------
AUDIT_GRID = "audit-grid"

# --- overview ------------------------------------------------------------------------------
OVERVIEW_KPIS = "overview-kpis"
OVERVIEW_WEEKLY = "overview-weekly-sessions"
OVERVIEW_LAST_LOAD = "overview-last-load"

# --- cohorts -------------------------------------------------------------------------------
COHORT_METRIC = "cohort-metric"
COHORT_DATES = "cohort-dates"
COHORT_THERAPIST = "cohort-therapist"
COHORT_TRAJECTORY = "cohort-trajectory"
COHORT_DISTRIBUTION = "cohort-distribution"
COHORT_RATES = "cohort-rates"
COHORT_FAIR_TABLE = "cohort-fair-table"  # completers beside intention to treat and adjusted
COHORT_FOREST = "cohort-forest"
COHORT_FAIR_SENTENCES = "cohort-fair-sentences"

# --- client --------------------------------------------------------------------------------
CLIENT_SEARCH = "client-search"
CLIENT_DETAIL = "client-detail"
CLIENT_BANNER = "client-banner"
CLIENT_ALERTS = "client-alerts"
CLIENT_TREND = "client-trend"  # one graph per metric: f"{CLIENT_TREND}-{metric}"
CLIENT_PROGRESS = "client-progress"
CLIENT_COURSES = "client-courses"
CLIENT_OFF_TRACK = "client-off-track"

# --- therapists ----------------------------------------------------------------------------
THERAPIST_METRIC = "therapist-metric"
THERAPIST_GRID = "therapist-grid"
THERAPIST_FUNNEL = "therapist-funnel"

# --- quality -------------------------------------------------------------------------------
QUALITY_RUNS = "quality-runs"
QUALITY_LOAD_LOG = "quality-load-log"
QUALITY_Q_ENTITY = "quality-quarantine-entity"
QUALITY_Q_REASON = "quality-quarantine-reason"
QUALITY_QUARANTINE = "quality-quarantine"
QUALITY_GX = "quality-gx"
QUALITY_DOCS_LINK = "quality-docs-link"

# --- SQL console ---------------------------------------------------------------------------
SQL_INPUT = "sql-input"
SQL_RUN = "sql-run"
SQL_MESSAGE = "sql-message"
SQL_GRID = "sql-grid"
SQL_VIEW_BROWSER = "sql-view-browser"  # the views and columns a query may name
SQL_DOWNLOAD_BUTTON = "sql-download-button"
SQL_DOWNLOAD = "sql-download"


def client_trend(metric: str) -> str:
    return f"{CLIENT_TREND}-{metric}"
