"""Small shared UI pieces (no data access)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any, Literal

import dash_ag_grid as dag
import pandas as pd
from dash import dcc, html

from dashboard.data import WarehouseUnavailable
from dashboard.sql_console import to_records
from pipelines.settings import METRICS

GX_DOCS_ROUTE = "/gx-docs/"  # Flask route serving the GX Data Docs folder


def fmt_num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "—"
    if isinstance(value, int | float):
        return f"{value:.{digits}f}"
    return str(value)


def fmt_signed(value: Any) -> str:
    """+1.5 / −2 / — (no value): a change, its sign always shown."""
    if value is None or pd.isna(value):
        return "—"
    return f"{value:+g}".replace("-", "−")


def fmt_pct(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{100 * value:.0f} %"


def fmt_ci(low: Any, high: Any, digits: int = 2, pct: bool = False) -> str:
    if (
        low is None
        or high is None
        or any(isinstance(v, float) and math.isnan(v) for v in (low, high))
    ):
        return "95% CI n/a (n < 2)"
    if pct:
        return f"95% CI {100 * low:.0f}–{100 * high:.0f} %"
    return f"95% CI {low:.{digits}f} to {high:.{digits}f}"


def fmt_time(value: Any) -> str:
    if value is None or value is pd.NaT:
        return "—"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M %Z").strip()
    return str(value)


def kpi(label: str, value: str, detail: str = "", tone: str = "") -> html.Div:
    return html.Div(
        [html.Div(label, className="kpi-label"), html.Div(value, className="kpi-value"),
         html.Div(detail, className="kpi-detail")],
        className=f"kpi {tone}".strip(),
    )  # fmt: skip


def grid(grid_id: str, df: pd.DataFrame, height: str = "360px", **kwargs: Any) -> dag.AgGrid:
    """A sortable, filterable grid; every value made JSON-safe."""
    return dag.AgGrid(
        id=grid_id,
        rowData=to_records(df),
        columnDefs=column_defs(df),
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
        dashGridOptions={
            "suppressFieldDotNotation": True,
            "pagination": True,
            "paginationPageSize": 100,
            "animateRows": False,
        },  # fmt: skip
        columnSize="autoSize",
        style={"height": height, "width": "100%"},
        className="ag-theme-quartz",
        **kwargs,
    )


def column_defs(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"field": str(c), "headerName": str(c)} for c in df.columns]


def error_panel(message: str) -> html.Div:
    return html.Div(message, className="panel error", role="alert")


def guarded(render: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a layout/callback body: a missing warehouse shows a message, not a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return render(*args, **kwargs)
        except WarehouseUnavailable as exc:
            return error_panel(str(exc))

    wrapper.__name__ = getattr(render, "__name__", "wrapper")
    wrapper.__doc__ = render.__doc__
    return wrapper


def table(df: pd.DataFrame, class_name: str = "simple") -> html.Table:
    """A small static HTML table (for a handful of rows)."""
    head = html.Thead(html.Tr([html.Th(str(c)) for c in df.columns]))
    body = html.Tbody(
        [html.Tr([html.Td(str(v)) for v in row]) for row in df.itertuples(index=False)]
    )
    return html.Table([head, body], className=class_name)


Metric = Literal[METRICS]  # type: ignore[valid-type]
"""Annotation of a metric_dropdown's value in a callback: dashboard.callback_guard refuses
any other value with HTTP 400 before the callback runs."""


def metric_dropdown(component_id: str) -> dcc.Dropdown:
    """The pain / muscle tone / mobility chooser shared by the cohort and therapist pages."""
    return dcc.Dropdown(
        id=component_id,
        value="pain",
        clearable=False,
        options=[{"label": m.replace("_", " "), "value": m} for m in METRICS],
    )
