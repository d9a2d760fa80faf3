"""Decide, per row of one file, what happens to it (pure: frames in, plan out).

Combines the reasons a row failed (type errors from the normaliser, rules from GX),
collapses identical rows and marks rows of one file that share a key with different
content as ambiguous (spec §3). Reference checks need the warehouse and happen in
the loader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pipelines.schema import ENTITIES, POSITION, ROW_NUMBER


@dataclass
class FilePlan:
    entity: str
    rows_read: int
    typed: pd.DataFrame
    """Typed rows left after collapsing identical copies, with ``_pos`` and ``_row_number``."""
    reasons: dict[int, list[str]]
    """Position -> reasons, for the rows of `typed` that fail (others are candidates)."""
    text: pd.DataFrame
    """Original text of the rows of `typed` (same positions), for the quarantine."""
    duplicates_in_file: int

    def records(self, positions: list[int]) -> pd.DataFrame:
        """Original values (None for blank) and row numbers of the rows at `positions`."""
        columns = list(ENTITIES[self.entity].column_names)
        rows = self.text.iloc[positions]
        out = rows[columns].astype(object).where(rows[columns].notna(), None)
        out[ROW_NUMBER] = rows[ROW_NUMBER].to_numpy()
        return out


def combine_reasons(
    parse_errors: dict[int, list[str]], rule_reasons: dict[int, list[str]]
) -> dict[int, list[str]]:
    """Every reason per row; a 'required value is missing' that only repeats a type error
    of the same column (the value was there, but unreadable) is dropped."""
    out: dict[int, list[str]] = {}
    for pos in set(parse_errors) | set(rule_reasons):
        parsed = parse_errors.get(pos, [])
        bad_columns = {p.split(":", 1)[0] for p in parsed}
        rules = [
            r
            for r in rule_reasons.get(pos, [])
            if not (r.split(":", 1)[0] in bad_columns and "required value is missing" in r)
        ]
        out[pos] = parsed + rules
    return out


def plan_file(
    entity: str, raw: pd.DataFrame, typed: pd.DataFrame, reasons: dict[int, list[str]]
) -> FilePlan:
    spec = ENTITIES[entity]
    columns = list(spec.column_names)
    keys = list(spec.key)

    # identical rows (same text in every column) collapse to the first copy; an identical
    # row has an identical key, so only rows whose key text repeats are compared whole
    copies = pd.Series(False, index=raw.index)
    repeated_key = raw[keys].duplicated(keep=False)
    if repeated_key.any():
        copies[repeated_key] = raw.loc[repeated_key, columns].duplicated(keep="first")
    keep = ~copies
    typed = typed[keep]
    kept_raw = raw[keep] if copies.any() else raw  # no copy of a big frame when not needed

    # same key, different content, same file: all of them are ambiguous
    complete = typed[keys].notna().all(axis=1)
    conflicted = typed[complete & typed[keys].duplicated(keep=False)]
    out = {pos: list(r) for pos, r in reasons.items() if keep.iloc[pos]}
    if not conflicted.empty:
        rows_by_key = conflicted.groupby(keys, sort=False)[ROW_NUMBER].agg(list)
        for pos, row in conflicted.iterrows():
            key_value = tuple(row[k] for k in keys)
            lines = rows_by_key.loc[key_value if len(keys) > 1 else key_value[0]]
            key_text = ", ".join(f"{k}={v}" for k, v in zip(keys, key_value, strict=True))
            out.setdefault(int(pos), []).append(
                f"ambiguous: {len(lines)} rows of this file have {key_text} with different "
                f"content (rows {', '.join(str(n) for n in lines)})"
            )

    new_position = pd.Series(range(len(typed)), index=typed.index)
    typed = typed.reset_index(drop=True)
    typed[POSITION] = range(len(typed))
    reasons_by_new = {int(new_position[p]): r for p, r in out.items()}
    return FilePlan(
        entity=entity,
        rows_read=len(raw),
        typed=typed,
        reasons=reasons_by_new,
        text=kept_raw.reset_index(drop=True),
        duplicates_in_file=int(copies.sum()),
    )


REFERENCE_REASON = re.compile(r"^unknown (client_id|therapist_id|session_id) ")
