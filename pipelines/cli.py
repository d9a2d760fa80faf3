"""The `outcomes` command: one entry point, one subcommand per job.

Heavy imports (pandas, Prefect, GX, Dash) happen inside the subcommands so that
`outcomes --help` answers at once.
"""

from __future__ import annotations

import gc
import os
from pathlib import Path
from typing import Annotated

import typer

from pipelines.users_cli import refused_on, users_app

app = typer.Typer(
    name="outcomes",
    help=(
        "Client outcome tracking for foot-massage clinics.\n\n"
        "Load the clinic's exports (clients, therapists, sessions, scores) into a DuckDB "
        "warehouse, check them, compute how each 10-15 session course helped, and show it "
        "on a dashboard. Start with `outcomes demo`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the export into.")],
    clients: Annotated[int, typer.Option("--clients", min=1, help="Number of clients.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 1,
    fault_rate: Annotated[
        float,
        typer.Option("--fault-rate", min=0.0, max=1.0, help="Share of rows made faulty."),
    ] = 0.0,
    fmt: Annotated[
        str,
        typer.Option("--format", help="csv, jsonl, xlsx, parquet or mixed (one per file)."),
    ] = "csv",
) -> None:
    """Write a realistic synthetic clinic export (two deliveries and a fault manifest)."""
    from pipelines.generate import FORMATS, generate_export

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    summary = generate_export(
        out, n_clients=clients, seed=seed, fault_rate=fault_rate, fmt=fmt, progress=True
    )
    typer.echo(summary.describe())


def _run_ingest(paths: list[Path], db: Path | None):
    """One ingest flow run with a spinner and the summary printed; returns the summary."""
    from rich.console import Console
    from rich.markup import escape

    from pipelines.ingest.rejection import display_name
    from pipelines.prefect_env import (
        configure_prefect,
        start_temporary_api,
        without_flow_heartbeats,
    )
    from pipelines.settings import get_settings

    console = Console()
    shown = escape(", ".join(display_name(str(p)) for p in paths))
    missing = [display_name(str(p)) for p in paths if not os.path.lexists(p)]
    if missing:
        console.print(f"[red]no such file or folder: {escape(', '.join(missing))}[/]")
        raise typer.Exit(2)
    settings = get_settings()
    from pipelines.store.connection import (
        NotAWarehouse,
        describe_load_failure,
        file_state,
        resolve_warehouse,
    )

    try:  # before the flow starts: a clear message, not a flow run's traceback
        warehouse = resolve_warehouse(db or settings.db_path)
    except NotAWarehouse as exc:
        console.print(f"[red]ingest failed: {escape(str(exc))}[/]", highlight=False)
        raise typer.Exit(1) from exc
    configure_prefect(settings)

    state_before = file_state(warehouse)
    with console.status(f"loading {shown} …", spinner="dots"):
        from pipelines.flows import ingest_flow
        from pipelines.report import summary_lines, summary_table
        from pipelines.store.connection import WarehouseBusy, load_lock

        try:  # the lock first: a busy warehouse is said before any flow run starts
            with load_lock(warehouse, settings.load_lock_wait_s), without_flow_heartbeats():
                start_temporary_api()
                summary = ingest_flow([str(p) for p in paths], str(warehouse))
        except WarehouseBusy as exc:
            console.print(f"[red]{escape(str(exc))}[/]")
            raise typer.Exit(3) from exc
        except NotAWarehouse as exc:
            console.print(f"[red]ingest failed: {escape(str(exc))}[/]")
            raise typer.Exit(1) from exc
        except Exception as exc:  # the run failed: say why, exit non-zero, keep the trace
            reason = describe_load_failure(exc, warehouse)
            unchanged = file_state(warehouse) == state_before
            outcome = (
                "The warehouse is unchanged."
                if unchanged
                else f"The load was published to {warehouse} before the failure."
            )
            console.print(f"[red]ingest failed: {escape(reason)} {escape(outcome)}[/]")
            raise typer.Exit(1) from exc
    console.print(summary_table(summary))
    for line in summary_lines(summary):
        console.print(line, highlight=False, markup=False)
    return summary


@app.command()
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Files or folders of a delivery (several: loaded in one run)."),
    ],
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
) -> None:
    """Load a delivery into the warehouse, validate it, and rebuild course outcomes.

    Rejected files and quarantined rows are listed with their reasons; see them later
    in the `load_log` and `quarantine` views. Exits 0 when the run itself succeeded.
    """
    _run_ingest(paths, db)


@app.command()
def demo(
    clients: Annotated[int, typer.Option("--clients", min=10, help="Clients to generate.")] = 300,
    seed: Annotated[int, typer.Option("--seed")] = 42,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Where the export goes (default: data/demo).")
    ] = None,
    dashboard: Annotated[
        bool, typer.Option("--dashboard/--no-dashboard", help="Serve the dashboard afterwards.")
    ] = True,
    port: Annotated[int | None, typer.Option("--port", help="Dashboard port.")] = None,
) -> None:
    """The main job on generated data: write a demo export, load both of its deliveries,
    then serve the dashboard on localhost."""
    from pipelines.generate import generate_export
    from pipelines.settings import get_settings

    settings = get_settings()
    out = out or settings.path("demo_dir")
    typer.echo(f"generating a demo export of {clients} clients into {out} …")
    summary = generate_export(
        out, n_clients=clients, seed=seed, fault_rate=0.03, fmt="mixed", progress=True
    )
    typer.echo(summary.describe())
    for delivery in ("delivery-1", "delivery-2"):  # two deliveries arrive one after the other
        _run_ingest([out / delivery], db)
    warehouse = db or settings.db_path
    typer.echo(f"\nwarehouse: {warehouse}")
    typer.echo('query it:  .venv/bin/outcomes sql "select * from cohort_outcomes"')
    _announce_demo_owner()
    if dashboard:
        _serve_dashboard(db, None, port)
    else:
        typer.echo("open the dashboard:  .venv/bin/outcomes dashboard")


def _announce_demo_owner() -> None:
    """Create (or reset) the demo owner account and print its password, shown only now."""
    from pipelines.users import DEMO_OWNER, ensure_demo_owner

    password = ensure_demo_owner()
    typer.secho(f"dashboard sign-in: user {DEMO_OWNER}  password {password}  "
                "(new on every demo run; shown only now)", fg="yellow", bold=True)  # fmt: skip


def _serve_dashboard(db: Path | None, host: str | None, port: int | None) -> None:
    from dashboard.app import run
    from pipelines.settings import get_settings

    settings = get_settings()
    address = f"http://{host or settings.dashboard_host}:{port or settings.dashboard_port}/"
    typer.secho(f"\ndashboard: {address}  (Ctrl-C to stop)", fg="green", bold=True)
    run(db, host, port)


@app.command("dashboard")
def dashboard_command(
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Port (default 8050).")] = None,
    host: Annotated[
        str | None, typer.Option("--host", help="Address to bind (default 127.0.0.1).")
    ] = None,
) -> None:
    """Serve the dashboard: overview, cohorts, client, therapists, data quality, SQL."""
    _serve_dashboard(db, host, port)


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT or WITH query over the views.")],
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
    csv_out: Annotated[
        Path | None,
        typer.Option("--csv", help="Also write the rows to this new CSV file."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Let --csv overwrite an existing file.")
    ] = False,
    analyst: Annotated[
        bool,
        typer.Option(
            "--analyst",
            help="Query the pseudonymised analysts' copy (no names, birth dates, notes or "
            "real ids), as the dashboard's analyst role does.",
        ),
    ] = False,
) -> None:
    """Run a read-only query over the analyst views (docs/sql.md), with the dashboard's
    guards: SELECT/WITH only, the spec's views only, a time limit and row and byte caps.
    --csv never overwrites a file unless --force is given, and never the warehouse, the
    accounts or the secrets."""
    from dashboard.sql_console import QueryRefused, format_result, run_query
    from pipelines.output_files import OutputRefused, check_output, open_output, protected_files
    from pipelines.settings import get_settings

    settings = get_settings()
    warehouse = db or settings.db_path
    protected = protected_files(settings, warehouse)
    with refused_on(QueryRefused, OutputRefused):
        if csv_out is not None:  # refused before the query runs, not after
            check_output(csv_out, force=force, protected=protected)
        result = run_query(warehouse, query, settings, surface="analyst" if analyst else "main")
        typer.echo(format_result(result))
        if csv_out is not None:
            from pipelines.csv_safe import write_csv

            with open_output(csv_out, force=force, protected=protected) as out:
                write_csv(result.rows, out)
            typer.echo(f"wrote {len(result.rows)} rows to {csv_out}")


@app.command()
def serve(
    interval: Annotated[
        int | None,
        typer.Option(
            "--interval", min=1, help="Seconds between inbox checks (setting inbox_poll_seconds)."
        ),
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
    inbox: Annotated[Path | None, typer.Option("--inbox", help="Folder to watch.")] = None,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Where processed files go.")
    ] = None,
) -> None:
    """Load every delivery dropped into data/inbox/, in this one warm process.

    GX and Prefect are imported once, at start-up; then the inbox is checked every few
    seconds and each delivery found is loaded by a `watch-inbox` flow run here (tracked by
    the Prefect API), its files moved to data/archive/<time>/. Move a delivery in whole
    (e.g. a finished folder): a file still being written may be loaded as it is. A failed
    load leaves the files in the inbox and is tried again after inbox_retry_seconds.
    Runs until Ctrl-C or SIGTERM.
    """
    from pipelines.prefect_env import configure_prefect, start_temporary_api
    from pipelines.settings import get_settings

    settings = get_settings()
    configure_prefect(settings)
    from pipelines import worker
    from pipelines.store.connection import describe_load_failure

    warehouse = db or settings.db_path
    try:
        start_temporary_api()  # dies with this process (kill -9 included)
        worker.serve(
            warehouse,
            inbox or settings.path("inbox_dir"),
            archive or settings.path("archive_dir"),
            interval_s=interval or settings.inbox_poll_seconds,
            retry_s=settings.inbox_retry_seconds,
        )
    except Exception as exc:  # the warm-up failed (e.g. no Prefect API): say why
        typer.secho(f"serve failed: {describe_load_failure(exc, warehouse)}", fg="red", err=True)
        raise typer.Exit(1) from exc


@app.command("write-suites", hidden=True)
def write_suites_command() -> None:
    """Maintenance: rewrite the GX suites under expectations/ from the contract in
    pipelines/schema.py, after a change to it; commit what it writes."""
    from pipelines.validation.gx_context import write_suites

    for name in write_suites():
        typer.echo(f"wrote suite {name}")


app.add_typer(users_app, name="users")


def main() -> None:  # pragma: no cover - console entry point
    try:
        app()
    finally:
        # Everything still alive is about to go. Exempting it from the interpreter's last
        # garbage collections spares them walking GX's and Prefect's import graphs
        # (docs/performance.md); connections are closed and files flushed before this, and
        # atexit hooks still run.
        gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
