"""The input contract of spec §2: entities, their columns, types and rules.

One source of truth for the readers, the validator (GX suites are generated from it),
the generator and the docs. Also the names of the columns the pipeline adds to a file's
rows on their way to the warehouse, which readers, validation and the store share.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "date", "timestamp", "number", "boolean", "list"]

ENTITY_ORDER: tuple[str, ...] = ("clients", "therapists", "sessions", "scores")
"""Entities are processed in this order within a delivery, whatever the file order."""

CONTRAINDICATION_CODES: tuple[str, ...] = (
    "spinal_tuberculosis",
    "pregnancy",
    "thrombophlebitis",
    "bronchial_asthma",
    "musculoskeletal_disease",
)
TECHNIQUE_CODES: tuple[str, ...] = ("rubbing", "kneading", "stroking")
SESSION_STATUSES: tuple[str, ...] = ("completed", "cancelled", "no_show")
TRUE_WORDS: frozenset[str] = frozenset({"true", "yes", "y", "1"})
FALSE_WORDS: frozenset[str] = frozenset({"false", "no", "n", "0"})


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False
    min: float | None = None
    max: float | None = None
    codes: tuple[str, ...] | None = None
    """Allowed values (for lists: allowed items)."""
    reference: str | None = None
    """Entity whose key this column must name (checked against the warehouse)."""


@dataclass(frozen=True)
class Entity:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


ENTITIES: dict[str, Entity] = {
    "clients": Entity(
        "clients",
        key=("client_id",),
        columns=(
            Column("client_id", "text", required=True),
            Column("name", "text"),
            Column("birth_date", "date", required=True),
            Column("sex", "text", codes=("F", "M", "X")),
            Column("height_cm", "number", min=100, max=250),
            Column("weight_kg", "number", min=30, max=300),
            Column("athlete", "boolean"),
            Column("contraindications", "list", codes=CONTRAINDICATION_CODES),
            Column("intake_date", "date"),
        ),
    ),
    "therapists": Entity(
        "therapists",
        key=("therapist_id",),
        columns=(
            Column("therapist_id", "text", required=True),
            Column("name", "text"),
            Column("qualification", "text"),
            Column("qualified_until", "date"),
            Column("body_weight_kg", "number", min=30, max=300),
        ),
    ),
    "sessions": Entity(
        "sessions",
        key=("session_id",),
        columns=(
            Column("session_id", "text", required=True),
            Column("client_id", "text", required=True, reference="clients"),
            Column("therapist_id", "text", required=True, reference="therapists"),
            Column("course_id", "text"),
            Column("started_at", "timestamp", required=True),
            Column("status", "text", codes=SESSION_STATUSES),
            Column("duration_min", "number", min=1, max=240),
            Column("warmup_min", "number", min=0, max=60),
            Column("feet", "text", codes=("both", "one")),
            Column("direction", "text", codes=("with_flow", "against_flow", "both")),
            Column("techniques", "list", codes=TECHNIQUE_CODES),
            Column("spine_pressure", "boolean"),
            Column("discomfort_reported", "boolean"),
            Column("notes", "text"),
        ),
    ),
    "scores": Entity(
        "scores",
        key=("session_id", "timing"),
        columns=(
            Column("session_id", "text", required=True, reference="sessions"),
            Column("client_id", "text"),
            Column("timing", "text", required=True, codes=("pre", "post")),
            Column("pain", "number", min=0, max=10),
            Column("muscle_tone", "number", min=0, max=10),
            Column("mobility", "number", min=0, max=10),
            Column("recorded_at", "timestamp"),
        ),
    ),
}


# --- columns the pipeline adds to a file's rows ------------------------------------------

ROW_NUMBER = "_row_number"
"""Where a person finds the row in its file (the line, the sheet row, the record number)."""
READ_ERROR = "_read_error"
"""Set on a row that could not be read (e.g. a JSONL line that is not an object)."""
POSITION = "_pos"
"""A typed row's position in its file's plan: the key of its reasons."""
SCORES_GIVEN = "_scores_given"
"""Helper column on scores: how many of pain, muscle_tone, mobility are present."""
