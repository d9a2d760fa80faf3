"""The run summary a person reads after `outcomes ingest` (pure: summary in, text out).

File names and messages are printed with control characters escaped and as plain text
(never rich markup): a file named ``\x1b[31m…`` or ``[red]…`` shows as written.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from pipelines.ingest.rejection import display_name
from pipelines.store.bookkeeping import RunSummary


def summary_table(summary: RunSummary) -> Table:
    table = Table(title=f"ingest run {summary.run_id}", show_lines=False)
    table.add_column("file", overflow="fold")
    for name in ("entity", "status"):
        table.add_column(name)
    for name in ("read", "loaded", "quarantined", "duplicate"):
        table.add_column(name, justify="right")
    colours = {"loaded": "green", "rejected": "red", "skipped": "yellow"}
    for f in summary.files:
        r = f.result
        table.add_row(
            Text(display_name(f.source_file)),
            f.entity or "?",
            f"[{colours.get(f.status, 'white')}]{f.status}[/]",
            *(
                str(getattr(r, a)) if r else "-"
                for a in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate")
            ),
        )
    return table


def summary_lines(summary: RunSummary) -> list[str]:
    lines = [
        f"files: {summary.count('loaded')} loaded, {summary.count('rejected')} rejected, "
        f"{summary.count('skipped')} skipped (loaded before)",
        f"rows: {summary.total('rows_loaded')} loaded, {summary.total('rows_quarantined')} "
        f"quarantined, {summary.total('rows_duplicate')} duplicate; "
        f"{summary.rows_retried} waiting rows loaded after their reference arrived",
        f"alerts: {summary.alerts}",
        f"derived tables valid (GX): {'yes' if summary.derived_valid else 'NO - see data quality'}",
        f"elapsed: {summary.elapsed_s:.1f} s",
    ]
    problems = [f for f in summary.files if f.status == "rejected" or f.message]
    lines += [f"  {display_name(f.source_file)}: {display_name(f.message)}" for f in problems]
    return lines
