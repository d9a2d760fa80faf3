"""The Great Expectations suites, built from the contract in pipelines/schema.py.

One suite per entity for the row rules of spec §2, and one per validated mart, whose
expectations sit in the mart's contract (the YAML beside its SQL, pipelines/contracts.py).
The suites are committed as GX JSON under ``expectations/gx/expectations/``;
``outcomes write-suites`` (a maintenance command, hidden from ``outcomes --help``)
rewrites them after a change to the contract, and a test checks that the committed files
match what this module builds.

Rules that depend on the day of loading use suite parameters filled in at run time:
``oldest_birth_date``/``today`` (birth_date not in the future, age ≤ max_age_years) and
``latest_start`` (started_at at most max_started_ahead_days after loading) and
``earliest_start`` (started_at not before min_started_at, midnight in the clinic's zone).
"""

from __future__ import annotations

from typing import Any

from pipelines.contracts import suite_expectations
from pipelines.schema import ENTITIES, SCORES_GIVEN, Entity


def _list_pattern(codes: tuple[str, ...]) -> str:
    item = "(?:" + "|".join(codes) + ")"
    return f"^{item}(?:;{item})*$"


def entity_expectations(entity: Entity) -> list[dict[str, Any]]:
    """The row rules of one entity as (GX expectation type, kwargs) dicts."""
    out: list[dict[str, Any]] = []
    for col in entity.columns:
        if col.required:
            out.append({"type": "expect_column_values_to_not_be_null", "column": col.name})
        if col.min is not None or col.max is not None:
            out.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "column": col.name,
                    "min_value": col.min,
                    "max_value": col.max,
                }
            )
        if col.codes and col.type == "text":
            out.append(
                {
                    "type": "expect_column_values_to_be_in_set",
                    "column": col.name,
                    "value_set": list(col.codes),
                }
            )
        if col.codes and col.type == "list":
            out.append(
                {
                    "type": "expect_column_values_to_match_regex",
                    "column": col.name,
                    "regex": _list_pattern(col.codes),
                }
            )
    if entity.name == "clients":
        out.append(
            {
                "type": "expect_column_values_to_be_between",
                "column": "birth_date",
                "min_value": {"$PARAMETER": "oldest_birth_date"},
                "max_value": {"$PARAMETER": "today"},
            }
        )
    if entity.name == "sessions":
        out.append(
            {
                "type": "expect_column_values_to_be_between",
                "column": "started_at",
                "max_value": {"$PARAMETER": "latest_start"},
            }
        )
        out.append(  # a rule of its own, so that its reason says which bound was crossed
            {
                "type": "expect_column_values_to_be_between",
                "column": "started_at",
                "min_value": {"$PARAMETER": "earliest_start"},
            }
        )
    if entity.name == "scores":
        out.append(
            {"type": "expect_column_values_to_be_between", "column": SCORES_GIVEN, "min_value": 1}
        )
    return out


def derived_expectations() -> dict[str, list[dict[str, Any]]]:
    """Sanity rules on the marts, per table (asset name = table name): the expectations in
    each model's contract (``pipelines/warehouse/models/<mart>.yml``)."""
    return suite_expectations()


def build_suite(name: str, expectations: list[dict[str, Any]]):
    """A GX ExpectationSuite object from plain dicts (GX imported lazily: it is slow)."""
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    suite = gx.ExpectationSuite(name=name)
    for spec in expectations:
        kwargs = {k: v for k, v in spec.items() if k != "type"}
        suite.add_expectation(get_expectation_impl(spec["type"])(**kwargs))
    return suite


def all_suites() -> dict[str, list[dict[str, Any]]]:
    """Suite name -> expectations: one per entity, one per validated mart table."""
    suites = {name: entity_expectations(e) for name, e in ENTITIES.items()}
    suites.update(derived_expectations())
    return suites
