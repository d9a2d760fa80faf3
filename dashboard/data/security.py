"""Reads that decide what a role may see (docs/security.md): a therapist's own clients,
and the pseudonyms the analyst role sees instead of therapist ids."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.warehouse import frame, one, resolve


def therapist_pseudonyms(db: Path | None = None) -> dict[str, str]:
    """therapist_id -> its pseudonym, as the analysts' copy has it (the warehouse's lookup,
    pipelines/warehouse/pseudonyms.py): what the analyst role sees instead of the id."""
    sql = "SELECT value, pseudonym FROM pseudonym.therapist"
    try:
        return dict(resolve(db).read(lambda con: con.execute(sql).fetchall()))
    except duckdb.CatalogException:  # a warehouse loaded before therapists had pseudonyms
        return {}


def own_client(client_id: str, therapist_id: str, db: Path | None = None) -> bool:
    """A therapist's "own" client: one with at least one session (any status) with them."""
    sql = (
        "SELECT count(*) AS n FROM sessions WHERE client_id = $client AND therapist_id = $therapist"
    )
    params = {"client": client_id, "therapist": therapist_id}
    row = resolve(db).read(lambda con: one(con, sql, params))
    return bool(row and row["n"])


def search_own_clients(
    text: str, therapist_id: str, limit: int = 20, db: Path | None = None
) -> pd.DataFrame:
    """Like search_clients, among the therapist's own clients only."""
    sql = """
    WITH q AS (SELECT lower(trim($text)) AS q)
    SELECT c.client_id, c.name, c.cohort
    FROM clients AS c, q
    WHERE (contains(lower(c.client_id), q.q) OR contains(lower(coalesce(c.name, '')), q.q))
      AND EXISTS (SELECT 1 FROM sessions AS s
                  WHERE s.client_id = c.client_id AND s.therapist_id = $therapist)
    ORDER BY lower(c.client_id) = q.q DESC, starts_with(lower(c.client_id), q.q) DESC,
             c.client_id
    LIMIT $limit
    """
    params = {"text": text or "", "therapist": therapist_id, "limit": int(limit)}
    return resolve(db).read(lambda con: frame(con, sql, params))
