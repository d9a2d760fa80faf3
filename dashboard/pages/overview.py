"""Overview ("/"): the clinic's state at a glance, for the clinic manager."""

from __future__ import annotations

import dash
from dash import dcc, html

from dashboard import auth, data, figures, ids
from dashboard.components import fmt_ci, fmt_num, fmt_pct, fmt_time, guarded, kpi

ROLES = ("owner", "therapist", "analyst")
dash.register_page(
    __name__, path="/", name="Overview", title="Overview · outcomes", order=0, roles=ROLES
)


def _last_load(kpis: dict) -> html.Div:
    run = kpis["last_run"]
    if run is None:
        return html.Div("No load has run yet.", className="panel warn", id=ids.OVERVIEW_LAST_LOAD)
    tone = "ok" if run["status"] == "succeeded" else "warn"
    rejected = run.get("files_rejected") or 0
    return html.Div(
        [
            html.Strong(f"Last load: {run['status']}"),
            html.Span(
                f" · started {fmt_time(run['started_at'])}"
                f" · finished {fmt_time(run['finished_at'])}"
                f" · files loaded {run.get('files_loaded') or 0}, rejected {rejected},"
                f" skipped {run.get('files_skipped') or 0}"
                f" · rows loaded {run.get('rows_loaded') or 0},"
                f" quarantined {run.get('rows_quarantined') or 0}"
                f" · open quarantine rows {kpis['open_quarantine']}"
            ),
            html.Div(run.get("message") or "", className="muted"),
            # only owners may open the quality page (it quotes rejected rows)
            dcc.Link("Data quality details →", href="/quality")
            if auth.may_open("/quality")
            else None,
        ],
        className=f"panel {tone if not rejected else 'warn'}",
        id=ids.OVERVIEW_LAST_LOAD,
    )


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
    kpis = data.overview()
    improvement, responders = kpis["improvement"], kpis["responder"]
    small = " (small n)" if improvement["n"] < data.SMALL_N else ""
    improvement_ci = fmt_ci(improvement["ci_low"], improvement["ci_high"])
    responders_ci = fmt_ci(responders["ci_low"], responders["ci_high"], pct=True)
    cards = [
        kpi("Active clients", str(kpis["active_clients"]), "with a course in progress"),
        kpi("Courses in progress", str(kpis["in_progress"])),
        kpi("Courses completed", str(kpis["completed"]),
            f"completion rate {fmt_pct(kpis['completion_rate'])}"),
        kpi("Courses dropped out", str(kpis["dropped_out"]),
            f"dropout rate {fmt_pct(kpis['dropout_rate'])}",
            tone="warn" if (kpis["dropout_rate"] or 0) > 0.3 else ""),
        kpi("Mean pain improvement", fmt_num(improvement["mean"]),
            f"{improvement_ci}, n={improvement['n']}{small}"),
        kpi("Pain responders", fmt_pct(responders["rate"]),
            f"{responders_ci}, n={responders['n']}{small}"),
        kpi("Open safety alerts", str(kpis["open_safety_alerts"]), "on courses in progress",
            tone="alert" if kpis["open_safety_alerts"] else "ok"),
    ]  # fmt: skip
    return html.Div(
        [
            html.H1("Overview"),
            html.P(
                f"As of {kpis['as_of'] or '—'} (date of the latest completed session).",
                className="muted",
            ),  # fmt: skip
            _last_load(kpis),
            html.Div(cards, className="kpis", id=ids.OVERVIEW_KPIS),
            dcc.Graph(
                id=ids.OVERVIEW_WEEKLY,
                figure=figures.weekly_sessions(kpis["weekly"]),
                config={"displaylogo": False},
            ),
        ]
    )
