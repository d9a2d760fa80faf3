"""The client page's content: one function from client id to components.

Kept outside dashboard/pages so the benchmark can time it without starting Dash.
Safety first: the discomfort banner, contraindications and alerts come before outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dash import dcc, html

from dashboard import data, figures, ids
from dashboard.components import fmt_num, table
from pipelines.settings import METRICS


def _banner(d: data.ClientDetail) -> html.Div | None:
    last = d.last_session
    if not d.discomfort_at_last_session or last is None:
        return None
    note = f" Notes: “{last['notes']}”." if last.get("notes") else ""
    return html.Div(
        [
            html.Strong("Discomfort reported at the last session. "),
            f"Session {last['session_id']} on {last['session_date']} "
            f"(therapist {last['therapist_id']}).{note} Check with the client before continuing.",
        ],
        id=ids.CLIENT_BANNER,
        className="banner danger",
        role="alert",
    )


def _safety(d: data.ClientDetail) -> html.Div:
    codes = list(d.client["contraindications"])
    current = d.current_course or {}
    if current.get("elderly"):
        codes.append(f"elderly (age {current.get('age_at_start')} at course start)")
    contra = (
        html.Div([html.Strong("Contraindications: "),
                  ", ".join(c.replace("_", " ") for c in codes)], className="panel danger")
        if codes
        else html.Div("No contraindications recorded.", className="panel ok")
    )  # fmt: skip
    if d.alerts.empty:
        alerts = html.P("No alerts for this client.", className="muted")
    else:
        rows = [
            html.Tr(
                [
                    html.Td(r.alert_type),
                    html.Td(str(r.occurred_at)[:16]),
                    html.Td(r.session_id or "—"),
                    html.Td(r.therapist_id or "—"),
                    html.Td(r.detail or ""),
                ],
                className="last-session" if r.at_last_session else "",
            )  # fmt: skip
            for r in d.alerts.itertuples()
        ]
        alerts = html.Table(
            [html.Thead(html.Tr([html.Th(h) for h in
                                 ("alert", "when", "session", "therapist", "detail")])),
             html.Tbody(rows)],
            className="simple",
        )  # fmt: skip
    return html.Div(
        [contra, html.H3("Recent alerts (highlighted: at the last session)"), alerts],
        id=ids.CLIENT_ALERTS,
        className="safety",
    )


def _glance(d: data.ClientDetail) -> html.Div:
    c, cur = d.client, d.current_course
    facts = [
        f"{c['client_id']} · {c.get('name') or 'no name'} · cohort {c['cohort']}",
        f"BMI {fmt_num(c.get('bmi'), 1)} · born {c.get('birth_date') or '—'}",
    ]
    if cur is None:
        return html.Div([html.H2(facts[0]), html.P(facts[1]), html.P("No course yet.")])
    course = (
        f"Course {cur['course_id']}: session {cur['sessions_completed']} of 10–15 · "
        f"{cur['status'].replace('_', ' ')} · "
        f"{str(cur['first_session_date'])[:10]} → {str(cur['last_session_date'])[:10]} · "
        f"latest therapist {cur['last_therapist_id']}"
    )
    return html.Div([html.H2(facts[0]), html.P(facts[1]), html.P(html.Strong(course))])


def _progress(d: data.ClientDetail) -> html.Div:
    if d.progress.empty:
        return html.Div()
    shown = pd.DataFrame(
        {
            "metric": d.progress["metric"].str.replace("_", " "),
            "baseline": d.progress["baseline"].map(fmt_num),
            "latest": d.progress["latest"].map(fmt_num),
            "improvement": d.progress["improvement_label"],
            "MCID": d.progress["responder_label"],
            "reliable change": d.progress["reliable_label"],
            "immediate effect": d.progress["immediate_effect"].map(fmt_num),
        }
    )
    return html.Div([html.H3("Progress in the current course"), table(shown)],
                    id=ids.CLIENT_PROGRESS)  # fmt: skip


def _trends(d: data.ClientDetail) -> html.Div:
    graphs = []
    for metric in METRICS:
        row = d.progress[d.progress["metric"] == metric]
        baseline = row["baseline"].iloc[0] if len(row) else None
        fig = figures.client_trend(d.sessions, metric, baseline, d.mcid.get(metric, 2.0))
        graphs.append(dcc.Graph(id=ids.client_trend(metric), figure=fig,
                                config={"displaylogo": False}, className="trend"))  # fmt: skip
    return html.Div(graphs, id=ids.CLIENT_TREND, className="trends")


def _notes(d: data.ClientDetail) -> html.Div:
    last = d.last_session
    if last is None:
        return html.Div()
    return html.Div(
        [html.H3("Last session notes"),
         html.P(f"{last['session_id']} ({last['session_date']}): "
                f"{last.get('notes') or 'no notes'}")]
    )  # fmt: skip


def _earlier(d: data.ClientDetail) -> html.Div:
    earlier = d.courses.iloc[1:]
    if earlier.empty:
        return html.Div()
    shown = earlier[["course_id", "status", "sessions_completed", "first_session_date",
                     "last_session_date"]].astype(str)  # fmt: skip
    return html.Div([html.H3("Earlier courses"), table(shown)], id=ids.CLIENT_COURSES)


def render(client_id: str | None, db: Path | None = None) -> list:
    """Everything shown for one client (one warehouse connection)."""
    if not client_id:
        return [html.P("Search a client by id or name.", className="muted")]
    try:
        d = data.client_detail(client_id, db)
    except data.WarehouseUnavailable as exc:
        return [html.Div(str(exc), className="panel error")]
    if d is None:
        return [html.Div(f"No client {client_id}.", className="panel warn")]
    parts = [_banner(d), _safety(d), _glance(d), _progress(d), _trends(d), _notes(d), _earlier(d)]
    return [p for p in parts if p is not None]
