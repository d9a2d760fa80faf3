"""Write a synthetic clinic export: two deliveries and a manifest of what was injected.

`delivery-1/` holds everything up to two weeks before the export's end date;
`delivery-2/` the last two weeks, and (with a fault rate above zero) corrections of
rows of the first delivery, the intake records of clients that arrived late, a
re-sent therapist list and re-sent sessions. `manifest.jsonl` lists every injected
fault and every correction or late row with its file and row number.

Rows stream straight to the files: memory stays flat whatever the number of clients.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipelines.generate.clinic import (
    Client,
    Ids,
    Record,
    client_history,
    make_client,
    make_therapists,
)  # fmt: skip
from pipelines.generate.faults import Context, FaultInjector, ManifestEntry
from pipelines.generate.writers import FileStyle, TableWriter
from pipelines.schema import ENTITIES, ENTITY_ORDER

FORMATS = ("csv", "jsonl", "xlsx", "parquet", "mixed")
DELIVERIES = ("delivery-1", "delivery-2")
DEFAULT_END = dt.date(2026, 10, 31)
"""Last day of the synthetic period; fixed so that a seed always gives the same files."""
SECOND_DELIVERY_DAYS = 14
RESENT_DAYS = 3  # delivery 2 repeats the sessions of the last days of delivery 1

_MIXED: dict[tuple[str, str], FileStyle] = {
    ("delivery-1", "clients"): FileStyle("xlsx"),
    ("delivery-1", "therapists"): FileStyle(
        "csv", delimiter=";", bom=True, decimal_comma=True, booleans=("Y", "N")
    ),
    ("delivery-1", "sessions"): FileStyle("csv"),
    ("delivery-1", "scores"): FileStyle("jsonl"),
    ("delivery-2", "clients"): FileStyle(
        "csv",
        delimiter=";",
        bom=True,
        decimal_comma=True,
        booleans=("1", "0"),
        header_case="title",
        extra_columns={"exported_by": "front desk"},
    ),  # fmt: skip
    ("delivery-2", "therapists"): FileStyle("jsonl"),
    ("delivery-2", "sessions"): FileStyle("parquet", booleans=("true", "false")),
    ("delivery-2", "scores"): FileStyle("xlsx"),
}


def file_style(fmt: str, delivery: str, entity: str) -> FileStyle:
    if fmt == "mixed":
        return _MIXED[(delivery, entity)]
    return FileStyle(fmt, booleans=("true", "false") if fmt == "parquet" else ("yes", "no"))


def _stems(end: dt.date) -> dict[tuple[str, str], str]:
    cutoff = end - dt.timedelta(days=SECOND_DELIVERY_DAYS)
    week = end.isocalendar().week
    return {
        ("delivery-1", "clients"): "clients",
        ("delivery-1", "therapists"): "Therapists",
        ("delivery-1", "sessions"): f"sessions_{cutoff:%Y-%m}",
        ("delivery-1", "scores"): f"scores_{cutoff:%Y-%m}",
        ("delivery-2", "clients"): "clients update",
        ("delivery-2", "therapists"): "therapists",
        ("delivery-2", "sessions"): f"sessions_{end:%Y-%m}",
        ("delivery-2", "scores"): f"Scores week {week}",
    }


@dataclass
class ExportSummary:
    out: Path
    rows: Counter = field(default_factory=Counter)  # (delivery, entity) -> rows written
    files: list[Path] = field(default_factory=list)
    faults: dict[str, int] = field(default_factory=dict)  # entity.kind -> faulty rows
    events: Counter = field(default_factory=Counter)  # corrections, late rows, re-sent rows
    seconds: float = 0.0

    @property
    def sessions(self) -> int:
        return sum(n for (_, entity), n in self.rows.items() if entity == "sessions")

    def describe(self) -> str:
        lines = [f"wrote {len(self.files)} files to {self.out} in {self.seconds:.1f} s"]
        for delivery in DELIVERIES:
            parts = [f"{self.rows[(delivery, e)]:,} {e}" for e in ENTITY_ORDER]
            lines.append(f"  {delivery}: " + ", ".join(parts))
        if self.faults:
            lines.append(
                f"  injected {sum(self.faults.values()):,} faulty rows of "
                f"{len(self.faults)} kinds; {dict(self.events)}"
            )
            lines.append(f"  manifest: {self.out / 'manifest.jsonl'}")
        return "\n".join(lines)


class _Export:
    """The open writers of one export and its manifest."""

    def __init__(self, out: Path, fmt: str, end: dt.date) -> None:
        self.out, self.fmt, self.stems = out, fmt, _stems(end)
        self.writers: dict[tuple[str, str], TableWriter] = {}
        self.manifest = (out / "manifest.jsonl").open("w", encoding="utf-8")
        self.events: Counter = Counter()

    def emit(self, delivery: str, entity: str, record: Record) -> tuple[str, int]:
        writer = self.writers.get((delivery, entity))
        if writer is None:
            folder = self.out / delivery
            folder.mkdir(parents=True, exist_ok=True)
            columns = list(ENTITIES[entity].column_names)
            style = file_style(self.fmt, delivery, entity)
            writer = TableWriter(folder, self.stems[(delivery, entity)], columns, style)
            self.writers[(delivery, entity)] = writer
        return writer.write(record)

    def record(self, entry: ManifestEntry) -> None:
        self.manifest.write(json.dumps(asdict(entry), default=str) + "\n")
        if entry.kind in ("late_reference", "late_client", "correction", "resent"):
            self.events[entry.kind] += 1

    def note(self, delivery: str, entity: str, record: Record, kind: str, outcome: str,
             column: str | None = None, value: Any = None) -> None:  # fmt: skip
        """Write a row that is valid but special (late, corrected, re-sent) and list it."""
        file, row = self.emit(delivery, entity, record)
        self.record(ManifestEntry(delivery, file, entity, row, kind, column, value, outcome))

    def close(self, summary: ExportSummary) -> None:
        self.manifest.close()
        for (delivery, entity), writer in self.writers.items():
            summary.files.extend(writer.close())
            summary.rows[(delivery, entity)] += writer.rows
        summary.events.update(self.events)


def generate_export(
    out: Path,
    n_clients: int,
    seed: int,
    fault_rate: float = 0.0,
    fmt: str = "csv",
    end: dt.date = DEFAULT_END,
    progress: bool = False,
) -> ExportSummary:
    """Write two deliveries for `n_clients` clients under `out`; same seed, same files."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    started = time.perf_counter()
    out = Path(out)
    for stale in DELIVERIES:  # a previous export's parts must not mix with this one's
        shutil.rmtree(out / stale, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(seed)  # the valid data
    event_rng = random.Random(f"events-{seed}")  # faults, corrections, late arrivals
    span_days = min(3650, max(365, n_clients // 15))
    start = end - dt.timedelta(days=span_days)
    cutoff = end - dt.timedelta(days=SECOND_DELIVERY_DAYS)
    ids = Ids()
    export = _Export(out, fmt, end)
    faults = FaultInjector(event_rng, fault_rate, export.emit, export.record)
    spare_slots: deque = deque(maxlen=64)
    events_on = fault_rate > 0

    therapists = make_therapists(rng, min(200, max(4, n_clients // 25)), start, end)
    _write_therapists(export, faults, therapists, ids, spare_slots, end, events_on)

    summary = ExportSummary(out=out)
    previous_client: str | None = None
    with _progress(progress, n_clients) as advance:
        for number in range(1, n_clients + 1):
            late = events_on and (number == 1 or event_rng.random() < fault_rate / 2)
            latest_first_visit = span_days // 2 if late else span_days - 7
            first_visit = start + dt.timedelta(days=rng.randint(0, latest_first_visit))
            client = make_client(rng, number, first_visit)
            client.late = late
            _write_client(export, faults, event_rng, client, ids, spare_slots, fault_rate)
            for session, scores, day in client_history(
                rng, client, therapists, first_visit, end, ids
            ):
                delivery = "delivery-1" if day <= cutoff else "delivery-2"
                _write_session(
                    export, faults, event_rng, client, session, scores, delivery,
                    Context(delivery, session, ids, spare_slots, previous_client,
                            client.record["client_id"]),
                    resend=events_on and not late and cutoff - day
                    < dt.timedelta(days=RESENT_DAYS) and delivery == "delivery-1",
                    correct_rate=fault_rate,
                )  # fmt: skip
            if not late:
                previous_client = client.record["client_id"]
            advance()
    faults.finish()
    export.close(summary)
    summary.faults = faults.counts
    summary.seconds = time.perf_counter() - started
    return summary


def _write_therapists(export, faults, therapists, ids, spare_slots, end, events_on) -> None:
    for therapist in therapists:
        export.emit("delivery-1", "therapists", therapist.record)
        faults.after("therapists", Context("delivery-1", therapist.record, ids, spare_slots))
    if not events_on:
        return
    # the second delivery re-sends the whole list, with one expired certificate renewed
    renewed = next(
        (t for t in therapists if (t.record["qualified_until"] or "9999") < end.isoformat()),
        None,
    )
    for therapist in therapists:
        if therapist is renewed:
            until = (end + dt.timedelta(days=730)).isoformat()
            export.note("delivery-2", "therapists", {**therapist.record, "qualified_until": until},
                        "correction", "corrected", "qualified_until", until)  # fmt: skip
        else:
            export.note("delivery-2", "therapists", therapist.record, "resent", "unchanged")


def _write_client(export, faults, event_rng, client: Client, ids, spare_slots, rate) -> None:
    record = client.record
    if client.late:  # intake arrives with the second delivery; its sessions wait for it
        export.note("delivery-2", "clients", record, "late_client", "loaded")
        return
    export.emit("delivery-1", "clients", record)
    faults.after("clients", Context("delivery-1", record, ids, spare_slots))
    if rate > 0 and event_rng.random() < rate:  # corrected weight, e.g. re-measured
        weight = round((record["weight_kg"] or 75.0) + 6.0, 1)
        export.note("delivery-2", "clients", {**record, "weight_kg": weight},
                    "correction", "corrected", "weight_kg", weight)  # fmt: skip


def _write_session(
    export, faults, event_rng, client: Client, session: Record, scores: list[Record],
    delivery: str, ctx: Context, resend: bool, correct_rate: float,
) -> None:  # fmt: skip
    if client.late and delivery == "delivery-1":
        export.note(delivery, "sessions", session, "late_reference", "retried",
                    "client_id", session["client_id"])  # fmt: skip
        for score in scores:
            export.note(delivery, "scores", score, "late_reference", "retried",
                        "session_id", score["session_id"])  # fmt: skip
        return
    export.emit(delivery, "sessions", session)
    if client.late:  # its later rows are plain: no faults, slots, re-sends or corrections
        for score in scores:
            export.emit(delivery, "scores", score)
        return
    faults.after("sessions", ctx)
    for score in scores:
        export.emit(delivery, "scores", score)
        faults.after("scores", Context(delivery, score, ctx.ids, ctx.spare_slots,
                                       ctx.other_client_id, ctx.client_id))  # fmt: skip
    completed = session["status"] in (None, "completed")
    if completed and not any(s["timing"] == "post" for s in scores):
        ctx.spare_slots.append((session["session_id"], session["client_id"], delivery))
    if resend:  # overlapping export windows: identical rows that must change nothing
        export.note("delivery-2", "sessions", session, "resent", "unchanged")
        for score in scores:
            export.note("delivery-2", "scores", score, "resent", "unchanged")
    elif delivery == "delivery-1" and correct_rate > 0:
        for score in scores:
            if score["pain"] is not None and event_rng.random() < correct_rate:
                pain = score["pain"] - 1.0 if score["pain"] >= 1 else score["pain"] + 1.0
                export.note("delivery-2", "scores", {**score, "pain": pain},
                            "correction", "corrected", "pain", pain)  # fmt: skip


class _progress:
    """A rich progress bar over clients when asked for, else nothing."""

    def __init__(self, show: bool, total: int) -> None:
        self.show, self.total = show, total

    def __enter__(self):
        if not self.show:
            return lambda: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._bar = Progress("[cyan]generating clients", BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn())  # fmt: skip
        self._bar.start()
        task = self._bar.add_task("clients", total=self.total)
        return lambda: self._bar.advance(task)

    def __exit__(self, *exc) -> None:
        if self.show:
            self._bar.stop()
