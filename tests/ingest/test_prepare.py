import pandas as pd

from pipelines.ingest.normalise import normalise
from pipelines.ingest.prepare import combine_reasons, plan_file


def _therapists(rows):
    raw = pd.DataFrame(
        rows, columns=["therapist_id", "name", "qualification", "qualified_until", "body_weight_kg"]
    ).astype(object)
    raw = raw.where(raw.notna(), None)
    raw["_row_number"] = range(2, len(raw) + 2)
    return raw


def test_identical_rows_collapse_and_conflicting_keys_are_all_ambiguous():
    raw = _therapists(
        [
            ["T1", "Dana", "Q1", None, "68"],
            ["T1", "Dana", "Q1", None, "68"],  # identical copy
            ["T2", "Eli", None, None, "81"],
            ["T2", "Eli", None, None, "82"],  # same key, other content
            ["T3", "Fay", None, None, "70"],
        ]
    )
    typed = normalise(raw, "therapists", "UTC").typed
    plan = plan_file("therapists", raw, typed, {})
    assert plan.rows_read == 5 and plan.duplicates_in_file == 1
    assert len(plan.typed) == 4
    ambiguous = {plan.typed.loc[p, "_row_number"]: r for p, r in plan.reasons.items()}
    assert set(ambiguous) == {4, 5}
    assert "ambiguous: 2 rows of this file have therapist_id=T2" in ambiguous[4][0]
    assert "(rows 4, 5)" in ambiguous[5][0]


def test_missing_required_that_only_repeats_a_type_error_is_dropped():
    parse = {0: ["birth_date: '1990-13-01' is not an ISO date (YYYY-MM-DD)"]}
    rules = {
        0: ["birth_date: required value is missing [x]", "height_cm: 50 is outside 100–250 [y]"],
        1: ["client_id: required value is missing [x]"],
    }
    out = combine_reasons(parse, rules)
    assert out[0] == [parse[0][0], "height_cm: 50 is outside 100–250 [y]"]
    assert out[1] == rules[1]
