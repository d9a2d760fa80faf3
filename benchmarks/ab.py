"""A/B of the loads between two checkouts of the product, on this machine, in one run:

    .venv/bin/python -m benchmarks.ab --baseline ../before [--candidate ../after]
        [--pairs 3] [--clients N]

Runs `python -m pipelines.cli ingest` of the benchmark export's full load, then of its
incremental day, alternately in the baseline checkout (A) and in the candidate (B; default
this one), against one
local Prefect server, and prints each wall time (start-up included: what a user waits for)
and the ratio of the medians B / A. Alternating pairs share the machine's drift (other
load, cache, thermal) evenly. Both checkouts run on this interpreter, each importing its own
`pipelines` package (the command's working directory comes first on sys.path).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.dataset import CLIENTS_FOR_1M_SESSIONS, ensure_dataset
from pipelines.settings import PROJECT_ROOT


def _ingest(checkout: Path, delivery: Path, db: Path, env: dict, log: Path) -> float:
    """Wall seconds of one `ingest` run from `checkout` (raises when it fails)."""
    command = [sys.executable, "-m", "pipelines.cli", "ingest", str(delivery), "--db", str(db)]
    started = time.perf_counter()
    with log.open("a") as out:
        done = subprocess.run(command, cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"ingest in {checkout} failed; see {log}")
    return elapsed


def run_pairs(
    baseline: Path, candidate: Path, pairs: int, clients: int, work: Path
) -> dict[str, dict]:
    """{"full load": {"A": [s…], "B": [s…]}, "incremental day": {…}}."""
    from pipelines.prefect_env import LocalPrefectServer

    data = ensure_dataset(clients)
    times: dict[str, dict[str, list[float]]] = {
        "full load": {"A": [], "B": []},
        "incremental day": {"A": [], "B": []},
    }
    checkouts = {"A": baseline, "B": candidate}
    with LocalPrefectServer(work / "prefect-home", work / "prefect-server.log") as server:
        env = {**os.environ, "PREFECT_API_URL": server.url}
        for i in range(pairs):
            order = ("A", "B") if i % 2 == 0 else ("B", "A")  # neither always goes first
            for side in order:
                db = work / f"{side}-{i}.duckdb"
                log = work / f"{side}.log"
                full = _ingest(checkouts[side], data.full, db, env, log)
                day = _ingest(checkouts[side], data.day, db, env, log)
                times["full load"][side].append(full)
                times["incremental day"][side].append(day)
                print(f"pair {i + 1} {side}: full load {full:.1f} s, day {day:.1f} s", flush=True)
                for leftover in work.glob(f"{side}-{i}.*"):
                    leftover.unlink()
    return times


def report(times: dict[str, dict[str, list[float]]]) -> list[str]:
    lines = ["| load | A (baseline) median | B (this checkout) median | B / A | runs A | runs B |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for name, sides in times.items():
        a, b = statistics.median(sides["A"]), statistics.median(sides["B"])
        runs = [", ".join(f"{t:.1f}" for t in sides[s]) for s in ("A", "B")]
        lines.append(f"| {name} | {a:.1f} s | {b:.1f} s | {b / a:.3f} × | {runs[0]} | {runs[1]} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A/B of the loads between two checkouts.")
    parser.add_argument("--baseline", type=Path, required=True, help="the other checkout (A)")
    parser.add_argument("--candidate", type=Path, default=PROJECT_ROOT, help="B (default: here)")
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=CLIENTS_FOR_1M_SESSIONS)
    args = parser.parse_args(argv)
    for checkout in (args.baseline, args.candidate):
        if not (checkout / "pipelines" / "cli.py").is_file():
            parser.error(f"{checkout} is not a checkout of this product")
    work = Path(tempfile.mkdtemp(prefix="bench-ab-"))
    try:
        times = run_pairs(
            args.baseline.resolve(), args.candidate.resolve(), args.pairs, args.clients, work
        )
        print("\n".join(report(times)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
