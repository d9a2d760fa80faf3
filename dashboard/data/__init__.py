"""Everything the dashboard reads from the warehouse: the ONLY dashboard code with SQL
(the SQL console's own engine, dashboard/sql_console.py, is the one exception).

- `warehouse`: the `Warehouse` (one file, read on short-lived read-only connections, with
  retries) and how the running app's is found;
- `stats`: the intervals shown with the figures;
- one module per page: `overview_kpis`, `cohorts`, `client`, `therapists`, `quality`,
  `fair` (the fair comparisons of spec §7 on the cohorts and therapists pages),
  `view_browser` (the SQL console's list of views and columns), and `security` (reads that
  decide what a role may see).

Every reader takes `db` (a warehouse path; None: the running app's warehouse) and returns
pandas DataFrames or plain dicts; nothing is read at import time. The public names are
re-exported here: pages call `data.overview()`, `data.cohort_page(...)` ….
"""

from dashboard.data.client import ClientDetail, client_detail, search_clients
from dashboard.data.cohorts import (
    CourseFilter,
    cohort_page,
    cohort_rates,
    cohort_trajectories,
    filter_options,
    improvement_distribution,
)
from dashboard.data.fair import cohort_fairness, therapist_funnel
from dashboard.data.overview_kpis import SAFETY_ALERTS, overview
from dashboard.data.quality import gx_results, load_log, quarantine, runs
from dashboard.data.security import own_client, search_own_clients, therapist_pseudonyms
from dashboard.data.stats import SMALL_N, mean_ci, mean_ci_by, t975, wilson_ci
from dashboard.data.therapists import qualification_status, therapists_table
from dashboard.data.view_browser import ANALYST_VIEWS, analyst_copy_columns, view_columns
from dashboard.data.warehouse import Warehouse, WarehouseUnavailable, attach, current

__all__ = [
    "ANALYST_VIEWS", "SAFETY_ALERTS", "SMALL_N", "ClientDetail", "CourseFilter", "Warehouse",
    "WarehouseUnavailable", "analyst_copy_columns", "attach", "client_detail", "cohort_page",
    "cohort_fairness", "cohort_rates", "cohort_trajectories", "current", "filter_options", "gx_results",
    "improvement_distribution", "load_log", "mean_ci", "mean_ci_by", "own_client", "overview",
    "qualification_status", "quarantine", "runs", "search_clients", "search_own_clients", "t975",
    "therapist_funnel", "therapist_pseudonyms", "therapists_table", "view_columns", "wilson_ci",
]  # fmt: skip
