"""The client page's content: one function from client id to components.

Kept outside dashboard/pages so the benchmark can time it without starting Dash.
Safety first: the discomfort banner, contraindications and alerts come before outcomes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from dash import dcc, html

from dashboard import data, figures, ids
from dashboard.components import fmt_num, fmt_signed, table
from pipelines.settings import METRICS


def _banner(detail: data.ClientDetail) -> html.Div | None:
    last = detail.last_session
    if not detail.discomfort_at_last_session or last is None:
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


def off_track_since(expected: pd.DataFrame) -> dict[str, int]:
    """metric -> the session since which the course has been off track, for each metric
    whose latest row is off track (spec §7.5; the start of the trailing off-track run)."""
    runs: dict[str, list[tuple[int, bool]]] = {}
    # plain Python over a few dozen rows: a pandas filter per metric costs ~1 ms each
    for metric, k, off in zip(expected["metric"], expected["session_number"],
                              expected["off_track"], strict=True):  # fmt: skip
        runs.setdefault(metric, []).append((int(k), bool(off)))
    since: dict[str, int] = {}
    for metric in METRICS:
        rows = sorted(runs.get(metric, []))
        if not rows or not rows[-1][1]:
            continue
        start = len(rows) - 1
        while start > 0 and rows[start - 1][1]:
            start -= 1
        since[metric] = rows[start][0]
    return since


def _off_track(detail: data.ClientDetail) -> html.Div | None:
    if detail.expected.empty:
        return None
    since = off_track_since(detail.expected)
    if not since:
        return None
    first = min(since.values())
    metrics = ", ".join(f"{m.replace('_', ' ')} since session {k}" for m, k in since.items())
    return html.Div(
        [
            html.Strong(f"Not on track since session {first}"),
            f": {metrics}, below what 9 in 10 similar completed courses showed by then.",
        ],
        id=ids.CLIENT_OFF_TRACK,
        className="badge danger",
        role="alert",
    )


def _safety(detail: data.ClientDetail) -> html.Div:
    codes = list(detail.client["contraindications"])
    current = detail.current_course or {}
    if current.get("elderly"):
        codes.append(f"elderly (age {current.get('age_at_start')} at course start)")
    contra = (
        html.Div([html.Strong("Contraindications: "),
                  ", ".join(code.replace("_", " ") for code in codes)], className="panel danger")
        if codes
        else html.Div("No contraindications recorded.", className="panel ok")
    )  # fmt: skip
    if detail.alerts.empty:
        alerts = html.P("No alerts for this client.", className="muted")
    else:
        rows = [
            html.Tr(
                [
                    html.Td(alert.alert_type),
                    html.Td(str(alert.occurred_at)[:16]),
                    html.Td(alert.session_id or "—"),
                    html.Td(alert.therapist_id or "—"),
                    html.Td(alert.detail or ""),
                ],
                className="last-session" if alert.at_last_session else "",
            )  # fmt: skip
            for alert in detail.alerts.itertuples()
        ]
        alerts = html.Table(
            [html.Thead(html.Tr([html.Th(heading) for heading in
                                 ("alert", "when", "session", "therapist", "detail")])),
             html.Tbody(rows)],
            className="simple",
        )  # fmt: skip
    return html.Div(
        [
            _off_track(detail),
            contra,
            html.H3("Recent alerts (highlighted: at the last session)"),
            alerts,
        ],
        id=ids.CLIENT_ALERTS,
        className="safety",
    )


def _glance(detail: data.ClientDetail) -> html.Div:
    client, current = detail.client, detail.current_course
    facts = [
        f"{client['client_id']} · {client.get('name') or 'no name'} · cohort {client['cohort']}",
        f"BMI {fmt_num(client.get('bmi'), 1)} · born {client.get('birth_date') or '—'}",
    ]
    if current is None:
        return html.Div([html.H2(facts[0]), html.P(facts[1]), html.P("No course yet.")])
    course = (
        f"Course {current['course_id']}: session {current['sessions_completed']} of 10–15 · "
        f"{current['status'].replace('_', ' ')} · "
        f"{str(current['first_session_date'])[:10]} → {str(current['last_session_date'])[:10]} · "
        f"latest therapist {current['last_therapist_id']}"
    )
    return html.Div([html.H2(facts[0]), html.P(facts[1]), html.P(html.Strong(course))])


def _progress(detail: data.ClientDetail) -> html.Div:
    if detail.progress.empty:
        return html.Div()
    progress = detail.progress
    shown = pd.DataFrame(
        {
            "metric": progress["metric"].str.replace("_", " "),
            "baseline": progress["baseline"].map(fmt_num),
            "latest": progress["latest"].map(fmt_num),
            "improvement": progress["improvement_label"],
            "MCID": progress["responder_label"],
            "reliable change": progress["reliable_label"],
            "immediate effect": progress["immediate_effect"].map(fmt_num),
        }
    )
    return html.Div([html.H3("Progress in the current course"), table(shown)],
                    id=ids.CLIENT_PROGRESS)  # fmt: skip


def _trends(detail: data.ClientDetail) -> html.Div:
    graphs = []
    for metric in METRICS:
        row = detail.progress[detail.progress["metric"] == metric]
        baseline = row["baseline"].iloc[0] if len(row) else None
        mcid = detail.mcid.get(metric, 2.0)
        expected = (
            detail.expected[detail.expected["metric"] == metric] if len(detail.expected) else None
        )
        figure = figures.client_trend(detail.sessions, metric, baseline, mcid, expected)
        graphs.append(dcc.Graph(id=ids.client_trend(metric), figure=figure,
                                config={"displaylogo": False}, className="trend"))  # fmt: skip
    return html.Div(graphs, id=ids.CLIENT_TREND, className="trends")


def _notes(detail: data.ClientDetail) -> html.Div:
    last = detail.last_session
    if last is None:
        return html.Div()
    return html.Div(
        [html.H3("Last session notes"),
         html.P(f"{last['session_id']} ({last['session_date']}): "
                f"{last.get('notes') or 'no notes'}")]
    )  # fmt: skip


def _earlier(detail: data.ClientDetail) -> html.Div:
    """One line per completed earlier course: dates, sessions, improvement per metric."""
    if detail.earlier.empty:
        return html.Div()
    lines = []
    for course in detail.earlier.itertuples():
        changes = ", ".join(
            f"{metric.replace('_', ' ')} {fmt_signed(getattr(course, metric))}"
            for metric in METRICS
        )
        lines.append(html.Li(
            f"{course.course_id}: {str(course.first_session_date)[:10]} → "
            f"{str(course.last_session_date)[:10]} · {course.sessions_completed} sessions · "
            f"improvement {changes}"
        ))  # fmt: skip
    return html.Div(
        [html.H3("Earlier completed courses"), html.Ul(lines, className="course-lines")],
        id=ids.CLIENT_COURSES,
    )


def render(client_id: str | None, db: Path | None = None) -> list:
    """Everything shown for one client (one warehouse connection)."""
    if not client_id:
        return [html.P("Search a client by id or name.", className="muted")]
    try:
        detail = data.client_detail(client_id, db)
    except data.WarehouseUnavailable as exc:
        return [html.Div(str(exc), className="panel error")]
    if detail is None:
        return [html.Div(f"No client {client_id}.", className="panel warn")]
    sections = (_banner, _safety, _glance, _progress, _trends, _notes, _earlier)
    parts = [section(detail) for section in sections]
    return [part for part in parts if part is not None]
