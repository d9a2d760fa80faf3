"""The `outcomes` command: one entry point, one subcommand per job.

Heavy imports (pandas, Prefect, GX, Dash) happen inside the subcommands so that
`outcomes --help` answers at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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

    from pipelines.prefect_env import configure_prefect
    from pipelines.settings import get_settings

    console = Console()
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        console.print(f"[red]no such file or folder: {', '.join(missing)}[/]")
        raise typer.Exit(2)
    configure_prefect(get_settings())
    with console.status(f"loading {', '.join(str(p) for p in paths)} …", spinner="dots"):
        from pipelines.flows import ingest_flow
        from pipelines.report import summary_lines, summary_table
        from pipelines.store.connection import WarehouseBusy

        try:
            summary = ingest_flow([str(p) for p in paths], str(db) if db else None)
        except WarehouseBusy as exc:
            console.print(f"[red]{exc}[/]")
            raise typer.Exit(3) from exc
        except Exception as exc:  # the run failed: say why, exit non-zero, keep the trace
            console.print(f"[red]ingest failed: {type(exc).__name__}: {exc}[/]")
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
) -> None:
    """The main job on generated data: write a demo export, load both of its deliveries."""
    from pipelines.generate import generate_export
    from pipelines.settings import get_settings

    settings = get_settings()
    out = settings.path("demo_dir")
    typer.echo(f"generating a demo export of {clients} clients into {out} …")
    summary = generate_export(out, n_clients=clients, seed=seed, fault_rate=0.03, fmt="mixed")
    typer.echo(summary.describe())
    for delivery in ("delivery-1", "delivery-2"):  # two deliveries arrive one after the other
        _run_ingest([out / delivery], db)
    warehouse = db or settings.db_path
    typer.echo(f"\nwarehouse: {warehouse}")
    typer.echo('query it:  .venv/bin/outcomes sql "select * from cohort_outcomes"')


@app.command()
def serve(
    interval: Annotated[
        int | None, typer.Option("--interval", min=5, help="Seconds between inbox checks.")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Warehouse file.")] = None,
    inbox: Annotated[Path | None, typer.Option("--inbox", help="Folder to watch.")] = None,
    archive: Annotated[
        Path | None, typer.Option("--archive", help="Where processed files go.")
    ] = None,
) -> None:
    """Register a deployment that loads files dropped into data/inbox/ on a schedule.

    Processed files move to data/archive/<time>/. Runs until stopped (Ctrl-C).
    """
    from pipelines.prefect_env import configure_prefect
    from pipelines.settings import get_settings

    settings = get_settings()
    configure_prefect(settings)
    from pipelines.flows import watch_inbox_flow

    every = interval or settings.inbox_poll_seconds
    inbox_dir = inbox or settings.path("inbox_dir")
    inbox_dir.mkdir(parents=True, exist_ok=True)
    typer.echo(f"watching {inbox_dir} every {every} s (Ctrl-C to stop)")
    watch_inbox_flow.serve(
        name="inbox",
        interval=every,
        parameters={
            "db": str(db) if db else None,
            "inbox": str(inbox_dir),
            "archive": str(archive) if archive else None,
        },
    )


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
