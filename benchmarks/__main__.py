"""The benchmark suite: `.venv/bin/python -m benchmarks [--clients N] [--runs R]`.

In one run on this machine: the full load against the plain-DuckDB floor, an
incremental day's load (through a warm `outcomes serve`, and by a cold `outcomes ingest`),
the dashboard's data queries, and the generator — each printed with its ratio to a
baseline measured in the same run, and written to docs/performance.md (with --docs). The
export is generated once and cached under data/benchmarks/; the default size is a clinic
chain's decade (about 1 M sessions).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dataset import CLIENTS_FOR_1M_SESSIONS, Dataset, ensure_dataset
from pipelines.settings import PROJECT_ROOT, get_settings

TARGETS = {
    "full_load_ratio": 3.0,  # full load / floor
    "incremental_s": 5.0,
    "query_p95_ms": 100.0,  # every dashboard data function (issue #14)
    "client_callback_p95_ms": 60.0,  # the client page's full callback (issue #14)
    "peak_rss_mb": 2048.0,
}


def _measured(result_dir: Path, name: str, command: list[str], env: dict) -> dict:
    """Run `command` under benchmarks.measure; its output goes to <name>.log."""
    result = result_dir / f"{name}.json"
    with (result_dir / f"{name}.log").open("w") as log:
        subprocess.run(
            [sys.executable, "-m", "benchmarks.measure", str(result), "--", *command],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, check=False,
        )  # fmt: skip
    measured = json.loads(result.read_text())
    if measured["returncode"] != 0:
        raise RuntimeError(f"{name} failed; see {result_dir / (name + '.log')}")
    return measured


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", *args]


def bench_loads(data: Dataset, work: Path, env: dict) -> dict:
    """Full load vs floor, then the incremental day, against our own Prefect server: through
    a warm `outcomes serve`, and by a cold `outcomes ingest` on a copy of the warehouse
    taken before (a day's bytes load only once per warehouse)."""
    from benchmarks.floor import differences
    from pipelines.prefect_env import LocalPrefectServer

    warehouse = work / "warehouse.duckdb"
    with LocalPrefectServer(work / "prefect-home", work / "prefect-server.log") as server:
        env = {**env, "PREFECT_API_URL": server.url}
        full = _measured(work, "full_load", _cli("ingest", str(data.full), "--db", str(warehouse)),
                         env)  # fmt: skip
        floor_db, floor_result = work / "floor.duckdb", work / "floor_result.json"
        _measured(work, "floor", [sys.executable, "-m", "benchmarks.floor", str(data.full),
                                  str(floor_db), str(floor_result)], env)  # fmt: skip
        floor = json.loads(floor_result.read_text())
        diff = differences(floor_db, warehouse)
        cold_db = work / "cold.duckdb"
        shutil.copyfile(warehouse, cold_db)
        warm = bench_warm_day(data.day, warehouse, work, env)
        cold = _measured(work, "incremental_cold",
                         _cli("ingest", str(data.day), "--db", str(cold_db)), env)  # fmt: skip
        cold_db.unlink()
        startup = server.startup_s
    return {"full": full, "floor": floor, "differences": diff, "incremental": warm,
            "incremental_cold": cold, "prefect_startup_s": startup,
            "warehouse": warehouse}  # fmt: skip


def bench_warm_day(day: Path, warehouse: Path, work: Path, env: dict) -> dict:
    """The day through a warm `outcomes serve --interval 1`. Its warm-up (start to its
    `watching` line) is reported apart, like the Prefect server's start-up; then the day is
    moved into the inbox whole (copied beside it, renamed in) and timed until the inbox is
    empty and the archive holds all its files: delivery to loaded, the poll's wait included.
    Peak memory is the worker's process tree, sampled meanwhile."""
    from benchmarks.measure import SAMPLE_S, tree_rss_kb
    from pipelines.inbox import inbox_files
    from pipelines.worker import LOADED, READY

    inbox, archive, log_path = work / "inbox", work / "archive", work / "serve.log"
    inbox.mkdir()
    command = _cli("serve", "--interval", "1", "--db", str(warehouse), "--inbox", str(inbox),
                   "--archive", str(archive))  # fmt: skip
    with log_path.open("w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=PROJECT_ROOT)  # fmt: skip
        try:
            _wait_until(lambda: READY in log_path.read_text(), proc, log_path)
            warm_up_s = time.perf_counter() - started
            staging = work / "staging"
            shutil.copytree(day, staging)
            expected = len(inbox_files(staging))
            peak_kb = tree_rss_kb(proc.pid)
            delivered = time.perf_counter()
            staging.rename(inbox / day.name)

            def loaded() -> bool:
                nonlocal peak_kb
                peak_kb = max(peak_kb, tree_rss_kb(proc.pid))
                return not inbox_files(inbox) and len(inbox_files(archive)) == expected

            _wait_until(loaded, proc, log_path, every_s=SAMPLE_S)
            seconds = time.perf_counter() - delivered
            # the run still reports its end to Prefect; stopped before, it would be cut short
            _wait_until(lambda: f"{LOADED} " in log_path.read_text(), proc, log_path)
            run_s = time.perf_counter() - delivered
        finally:
            proc.terminate()  # SIGTERM: the worker stops between runs with status 0
            code = proc.wait(timeout=60)
    if code != 0:
        raise RuntimeError(f"outcomes serve exited with {code}; see {log_path}")
    return {"seconds": seconds, "run_s": run_s, "peak_rss_mb": peak_kb / 1024,
            "warm_up_s": warm_up_s}  # fmt: skip


def _wait_until(done, proc: subprocess.Popen, log_path: Path, every_s: float = 0.1,
                timeout_s: float = 900) -> None:  # fmt: skip
    """Wait until done() while `proc` runs and says nothing of a failed load."""
    from pipelines.worker import FAILED

    deadline = time.monotonic() + timeout_s
    while not done():
        if proc.poll() is not None or FAILED in log_path.read_text():
            raise RuntimeError(f"outcomes serve failed; see {log_path}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"outcomes serve did not finish in {timeout_s} s; see {log_path}")
        time.sleep(every_s)


def bench_generator(work: Path, clients: int) -> dict:
    """Generator rows/s against writing the same number of CSV rows of fixed text."""
    from pipelines.generate import generate_export

    out = work / "generator"
    started = time.perf_counter()
    summary = generate_export(out, n_clients=clients, seed=2, fmt="csv")
    seconds = time.perf_counter() - started
    rows = sum(summary.rows.values())
    started = time.perf_counter()
    with (work / "baseline.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        row = ["S00000001", "000001", "T001", "", "2026-01-01T10:00:00", "completed", 60, 7]
        for _ in range(rows):
            writer.writerow(row)
    baseline = time.perf_counter() - started
    shutil.rmtree(out)
    return {"rows": rows, "seconds": seconds, "baseline_s": baseline}


def bench_dashboard(warehouse: Path, runs: int) -> list[dict]:
    from benchmarks.dashboard_queries import measure

    return measure(warehouse, runs)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                .splitlines() if line.startswith("model name")), platform.processor())  # fmt: skip
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))  # fmt: skip
    system = f"{platform.system()} {platform.release()}"
    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024**2:.0f} GB RAM, "
            f"Python {platform.python_version()}, {system}")  # fmt: skip


def report(data: Dataset, loads: dict, gen: dict, dash: list[dict]) -> list[str]:
    full, floor, inc = loads["full"], loads["floor"], loads["incremental"]
    cold = loads["incremental_cold"]
    ratio = full["seconds"] / floor["seconds"]
    ok = lambda good: "meets target" if good else "MISSES target"  # noqa: E731
    lines = [
        f"dataset: {data.sessions:,} sessions and {data.scores:,} score rows (delivery 1, "
        f"mixed formats), a day's delivery of {_count_rows(data.day, 'sessions'):,} sessions",
        "",
        "| measurement | value | baseline (same run) | ratio | target |",
        "|---|---|---|---|---|",
        f"| full load (`outcomes ingest`, wall) | {full['seconds']:.1f} s | floor "
        f"{floor['seconds']:.1f} s | {ratio:.2f} × | ≤ 3 × — {ok(ratio <= 3)} |",
        f"| full load peak memory | {full['peak_rss_mb']:,.0f} MB | floor "
        f"{floor['peak_rss_mb']:,.0f} MB | {full['peak_rss_mb'] / floor['peak_rss_mb']:.2f} × "
        f"| ≤ 2 GB — {ok(full['peak_rss_mb'] <= TARGETS['peak_rss_mb'])} |",
        f"| Prefect server start-up (separate) | {loads['prefect_startup_s']:.1f} s | | | |",
        f"| `outcomes serve` warm-up: start to watching (separate) | {inc['warm_up_s']:.1f} s "
        "| | | |",
        f"| incremental day (warm `outcomes serve`, delivery to archived) | {inc['seconds']:.1f} s "
        f"| cold `outcomes ingest` {cold['seconds']:.1f} s | "
        f"{inc['seconds'] / cold['seconds']:.2f} × | ≤ 5 s — "
        f"{ok(inc['seconds'] <= TARGETS['incremental_s'])} |",
        f"| incremental day's flow run finished (warm, its end reported to Prefect) | "
        f"{inc['run_s']:.1f} s | | | |",
        f"| incremental peak memory (warm worker's process tree) | {inc['peak_rss_mb']:,.0f} MB | "
        f"cold {cold['peak_rss_mb']:,.0f} MB | {inc['peak_rss_mb'] / cold['peak_rss_mb']:.2f} × "
        "| |",
        f"| incremental day (cold `outcomes ingest`, wall; same day, copy of the warehouse) | "
        f"{cold['seconds']:.1f} s | full load {full['seconds']:.1f} s | "
        f"{cold['seconds'] / full['seconds']:.3f} × | |",
        f"| generator | {gen['rows'] / gen['seconds']:,.0f} rows/s | plain csv.writer "
        f"{gen['rows'] / gen['baseline_s']:,.0f} rows/s | "
        f"{gen['baseline_s'] / gen['seconds']:.2f} × | |",
        "",
        "floor vs pipeline outputs (rows differing): "
        + ", ".join(f"{view} {n}" for view, n in loads["differences"].items()),
        "",
        "| page | data function | p50 ms | p95 ms | p50 / baseline p50 | target |",
        "|---|---|---|---|---|---|",
    ]
    for row in dash:
        if row["page"] == "-":  # the baseline itself
            lines.append(f"| | {row['name']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | 1 × | |")
            continue
        callback = row["name"].startswith("full callback")
        limit = TARGETS["client_callback_p95_ms" if callback else "query_p95_ms"]
        lines.append(
            f"| {row['page']} | {row['name']} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
            f"{row['x_baseline']:.1f} × | ≤ {limit:.0f} ms — "
            f"{ok(row['p95_ms'] <= limit)} |"
        )
    return lines


def _count_rows(folder: Path, entity: str) -> int:
    return sum(max(0, len(p.read_text().splitlines()) - 1) for p in folder.glob(f"{entity}*.csv"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--clients", type=int, default=CLIENTS_FOR_1M_SESSIONS)
    parser.add_argument("--runs", type=int, default=30, help="runs per dashboard query")
    parser.add_argument("--generator-clients", type=int, default=3000)
    parser.add_argument("--docs", type=Path, default=None,
                        help="write the results into this markdown file")  # fmt: skip
    args = parser.parse_args(argv)

    data = ensure_dataset(args.clients)
    if data.generated_s is not None:
        print(f"generated the export in {data.generated_s:.0f} s (cached for later runs)")
    root = get_settings().path("data_dir") / "benchmarks"
    work = Path(tempfile.mkdtemp(prefix="run-", dir=root))
    env = {**os.environ, "PREFECT_LOGGING_LEVEL": "WARNING"}
    loads = bench_loads(data, work, env)  # on failure, its logs stay in `work`
    gen = bench_generator(work, args.generator_clients)
    dash = bench_dashboard(loads["warehouse"], args.runs)
    lines = report(data, loads, gen, dash)
    shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))
    if args.docs:
        _write_docs(args.docs, lines)
    if any(loads["differences"].values()):
        sys.exit("the floor and the pipeline disagree: see the differences above")


def _write_docs(path: Path, lines: list[str]) -> None:
    """Replace the generated section of docs/performance.md, keeping the prose around it."""
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    stamp = f"Measured {time.strftime('%Y-%m-%d')} on {machine()}."
    block = "\n".join([start, stamp, "", *lines, end])
    text = path.read_text() if path.exists() else f"# Performance\n\n{start}\n{end}\n"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    path.write_text(before + block + after)


if __name__ == "__main__":
    main()
