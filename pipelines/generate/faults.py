"""Faulty rows of every kind spec §3 lists, injected into an export and listed in a manifest.

A fault is an *extra* row written next to a valid one (the valid row stays intact), so
one fault never cascades into others: a faulty session has a fresh id no score refers
to. Identical duplicates copy a valid row and should collapse; every other kind should
end in quarantine. Which kind comes next rotates, so every kind appears once there are
enough rows, and `finish` adds any kind still missing when the rate is above zero.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.generate.clinic import Ids, Record

Emit = Callable[[str, str, Record], tuple[str, int]]
"""emit(delivery, entity, record) -> (file name, row number)."""


@dataclass(frozen=True)
class ManifestEntry:
    delivery: str
    file: str
    entity: str
    row_number: int
    kind: str
    column: str | None
    value: Any
    outcome: str  # quarantined | collapsed | retried | corrected | loaded | unchanged


@dataclass
class Context:
    """The valid row a fault is modelled on, and what the fault may borrow."""

    delivery: str
    base: Record
    ids: Ids
    spare_slots: deque  # (session_id, client_id, delivery) of sessions without a post score
    other_client_id: str | None = None  # a loaded client that is not the row's own
    client_id: str | None = None  # the client the valid row belongs to


FaultRows = list[tuple[Record, str | None, Any]]  # (row, faulty column, faulty value)
Maker = Callable[[Context], FaultRows | None]


def _with(base: Record, column: str, value: Any) -> tuple[Record, str, Any]:
    return {**base, column: value}, column, value


def _fresh(ctx: Context, key: str, prefix: str, column: str, value: Any):
    row, col, val = _with({**ctx.base, key: ctx.ids.fresh(prefix)}, column, value)
    return row, col, val


def _conflicting(ctx: Context, key: str, prefix: str, column: str, values: tuple) -> FaultRows:
    fresh = ctx.ids.fresh(prefix)
    return [({**ctx.base, key: fresh, column: v}, key, fresh) for v in values]


def _slot_row(ctx: Context, **values: Any) -> Record | None:
    """A post-score row for a session that has none, so its key is new."""
    if not ctx.spare_slots:
        return None
    session_id, client_id, delivery = ctx.spare_slots.popleft()
    ctx.delivery = delivery  # the fault must travel with its session's delivery
    row = {"session_id": session_id, "client_id": client_id, "timing": "post",
           "pain": 4.0, "muscle_tone": 4.0, "mobility": 6.0, "recorded_at": None}  # fmt: skip
    row.update(values)
    return row


def _score_slot_fault(column: str | None, value: Any, **values: Any) -> Maker:
    def make(ctx: Context) -> FaultRows | None:
        row = _slot_row(ctx, **values)
        return None if row is None else [(row, column, value)]

    return make


def _score_conflict(ctx: Context) -> FaultRows | None:
    row = _slot_row(ctx)
    if row is None:
        return None
    return [({**row, "pain": p}, "session_id", row["session_id"]) for p in (3.0, 6.0)]


def _client_mismatch(ctx: Context) -> FaultRows | None:
    if ctx.other_client_id is None or not ctx.spare_slots:
        return None
    slot_client = ctx.spare_slots[0][1]
    # a known client other than the slot session's own (the slot may be the other client's)
    wrong = ctx.other_client_id if ctx.other_client_id != slot_client else ctx.client_id
    if wrong is None or wrong == slot_client:
        return None
    row = _slot_row(ctx, client_id=wrong)
    return None if row is None else [(row, "client_id", wrong)]


FAULTS: dict[str, dict[str, Maker]] = {
    "clients": {
        "missing_id": lambda c: [_with(c.base, "client_id", None)],
        "bad_date": lambda c: [_fresh(c, "client_id", "X", "birth_date", "1985-02-30")],
        "future_date": lambda c: [_fresh(c, "client_id", "X", "birth_date", "2099-01-01")],
        "age_over_limit": lambda c: [_fresh(c, "client_id", "X", "birth_date", "1890-05-01")],
        "out_of_range": lambda c: [_fresh(c, "client_id", "X", "height_cm", 320)],
        "bad_number": lambda c: [_fresh(c, "client_id", "X", "weight_kg", "heavy")],
        "unknown_code": lambda c: [_fresh(c, "client_id", "X", "sex", "female")],
        "unknown_list_code": lambda c: [
            _fresh(c, "client_id", "X", "contraindications", "pregnancy;flu")
        ],
        "bad_boolean": lambda c: [_fresh(c, "client_id", "X", "athlete", "sometimes")],
        "conflicting_duplicate": lambda c: _conflicting(
            c, "client_id", "X", "weight_kg", (70.0, 95.0)
        ),
        "identical_duplicate": lambda c: [(dict(c.base), None, None)],
    },
    "therapists": {
        "missing_id": lambda c: [_with(c.base, "therapist_id", None)],
        "bad_date": lambda c: [_fresh(c, "therapist_id", "TX", "qualified_until", "31/12/2027")],
        "out_of_range": lambda c: [_fresh(c, "therapist_id", "TX", "body_weight_kg", 20)],
        "conflicting_duplicate": lambda c: _conflicting(
            c, "therapist_id", "TX", "body_weight_kg", (60.0, 90.0)
        ),
        "identical_duplicate": lambda c: [(dict(c.base), None, None)],
    },
    "sessions": {
        "missing_id": lambda c: [_with(c.base, "session_id", None)],
        "bad_timestamp": lambda c: [
            _fresh(c, "session_id", "SX", "started_at", "2026-13-01T10:00:00")
        ],
        "future_date": lambda c: [_fresh(c, "session_id", "SX", "started_at", "2099-06-01T10:00")],
        "unknown_client": lambda c: [
            _fresh(c, "session_id", "SX", "client_id", c.ids.fresh("NOCLIENT-"))
        ],
        "unknown_therapist": lambda c: [_fresh(c, "session_id", "SX", "therapist_id", "T-GONE")],
        "unknown_code": lambda c: [_fresh(c, "session_id", "SX", "status", "done")],
        "unknown_list_code": lambda c: [
            _fresh(c, "session_id", "SX", "techniques", "rubbing;walking")
        ],
        "out_of_range": lambda c: [_fresh(c, "session_id", "SX", "duration_min", 500)],
        "bad_boolean": lambda c: [_fresh(c, "session_id", "SX", "spine_pressure", "maybe")],
        "conflicting_duplicate": lambda c: _conflicting(
            c, "session_id", "SX", "duration_min", (50, 70)
        ),
        "identical_duplicate": lambda c: [(dict(c.base), None, None)],
    },
    "scores": {
        "unknown_session": lambda c: [
            _with({**c.base, "client_id": None}, "session_id", c.ids.fresh("SGONE-"))
        ],
        "client_mismatch": _client_mismatch,
        "all_blank_scores": _score_slot_fault(
            None, None, pain=None, muscle_tone=None, mobility=None
        ),  # fmt: skip
        "out_of_range": _score_slot_fault("pain", 14, pain=14),
        "bad_number": _score_slot_fault("mobility", "seven", mobility="seven"),
        "unknown_code": lambda c: [_with(c.base, "timing", "during")],
        "missing_id": lambda c: [_with(c.base, "session_id", None)],
        "conflicting_duplicate": _score_conflict,
        "identical_duplicate": lambda c: [(dict(c.base), None, None)],
    },
}


class FaultInjector:
    """Writes faulty rows next to valid ones at `rate`, recording each in the manifest."""

    def __init__(self, rng: random.Random, rate: float, emit: Emit, record: Callable) -> None:
        self.rng, self.rate, self.emit, self.record = rng, rate, emit, record
        self.next_kind = dict.fromkeys(FAULTS, 0)
        self.seen: dict[str, set[str]] = {entity: set() for entity in FAULTS}
        self.last: dict[str, Context] = {}
        self.counts: dict[str, int] = {}

    def after(self, entity: str, ctx: Context) -> None:
        """Called after each valid row; injects one fault with probability `rate`."""
        self.last[entity] = ctx
        if self.rate <= 0 or self.rng.random() >= self.rate:
            return
        kinds = list(FAULTS[entity])
        for attempt in range(len(kinds)):
            kind = kinds[(self.next_kind[entity] + attempt) % len(kinds)]
            if self._inject(entity, kind, ctx):
                self.next_kind[entity] = (self.next_kind[entity] + attempt + 1) % len(kinds)
                return

    def finish(self) -> None:
        """With a rate above zero, every kind appears at least once."""
        if self.rate <= 0:
            return
        for entity, makers in FAULTS.items():
            ctx = self.last.get(entity)
            if ctx is None:
                continue
            for kind in makers:
                if kind not in self.seen[entity]:
                    self._inject(entity, kind, ctx)

    def _inject(self, entity: str, kind: str, ctx: Context) -> bool:
        ctx = Context(ctx.delivery, ctx.base, ctx.ids, ctx.spare_slots, ctx.other_client_id,
                      ctx.client_id)  # fmt: skip
        rows = FAULTS[entity][kind](ctx)
        if rows is None:
            return False
        outcome = "collapsed" if kind == "identical_duplicate" else "quarantined"
        for row, column, value in rows:
            file, row_number = self.emit(ctx.delivery, entity, row)
            self.record(ManifestEntry(ctx.delivery, file, entity, row_number, kind, column,
                                      value, outcome))  # fmt: skip
        self.seen[entity].add(kind)
        self.counts[f"{entity}.{kind}"] = self.counts.get(f"{entity}.{kind}", 0) + len(rows)
        return True
