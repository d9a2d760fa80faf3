"""The documentation of the analysts' SQL surface (spec §6), as Python objects.

The documentation itself is each view's YAML contract beside its SQL
(``pipelines/warehouse/models/<view>.yml``; ``pipelines/store/models/`` for the loading
layer's ``quarantine`` and ``load_log``), read by :mod:`pipelines.contracts`. Used for
``COMMENT ON VIEW`` / ``COMMENT ON COLUMN`` (:func:`pipelines.warehouse.views.comment_on`),
for the analysts' copy (:mod:`pipelines.warehouse.analyst_copy`), and for the reference
section of ``docs/sql.md`` (:mod:`pipelines.warehouse.render`).
"""

from __future__ import annotations

from pipelines.contracts import ModelDoc, model_contract

SPEC_VIEWS: tuple[str, ...] = (
    "clients",
    "therapists",
    "sessions",
    "scores",
    "courses",
    "course_progress",
    "cohort_outcomes",
    "alerts",
    "quarantine",
    "load_log",
    "cohort_outcomes_adjusted",
    "therapist_outcomes",
    "course_expectations",
)
"""The analysts' views: those of spec §6 in its order, then those of §7 (also the order of
docs/sql.md)."""

VIEWS: dict[str, ModelDoc] = {name: model_contract(name) for name in SPEC_VIEWS}
