"""Pseudonym lookups: every id of the warehouse beside its keyed hash, in schema `pseudonym`.

A pseudonym is HMAC-SHA256(secret, "<kind>:<id>") truncated to `pseudonym_hex_chars` hex
characters: the same id always maps to the same pseudonym, so joins keep working, but
without the secret nobody can compute or reverse it. The secret never enters the warehouse,
so pseudonyms are computed at load time, and only for ids the lookup does not hold yet: a
day's delivery hashes a few hundred ids instead of 2.6 M. The lookup keeps exactly the ids
present in the warehouse, and is recomputed when the key or the length changes (a key check
is stored: an HMAC of a fixed text, which reveals nothing about the key).

The lookups hold real ids, like every table of the warehouse; they never leave it. The
analysts' copy (pipelines/warehouse/analyst_copy.py) is made from them.
"""

from __future__ import annotations

import hashlib
import hmac

import duckdb

PSEUDONYM_SCHEMA = "pseudonym"
"""Lookup tables `pseudonym.<kind>` (value, pseudonym) and `pseudonym.key_check`."""

ID_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "client": (("clients", "client_id"),),
    "session": (("sessions", "session_id"),),
    "course": (("sessions", "course_id"), ("courses", "course_id")),
    "declared_course": (("sessions", "declared_course_id"),),
    "therapist": (("therapists", "therapist_id"), ("sessions", "therapist_id")),
}
"""Where every id of a kind is found: the loader guarantees that other views only refer
to these (references are checked), and each view is scanned once per kind, not per use.
A therapist id of a session may be missing from `therapists` (its record was never
delivered): the sessions are scanned too."""


def view_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The columns of every table and view in `main` of this database, in order."""
    out: dict[str, list[str]] = {}
    for table, column in con.execute(
        "SELECT table_name, column_name FROM duckdb_columns()"
        " WHERE database_name = current_database() AND schema_name = 'main'"
        " ORDER BY table_name, column_index"
    ).fetchall():
        out.setdefault(table, []).append(column)
    return out


def _key_check(secret: bytes, n_hex: int) -> str:
    """What identifies the key and length the stored pseudonyms were made with (an HMAC of a
    fixed text: comparing it tells whether the key changed, and it cannot give the key)."""
    return f"{n_hex}:" + hmac.new(secret, b"pseudonym-key-check", hashlib.sha256).hexdigest()


def sync_pseudonyms(con: duckdb.DuckDBPyConnection, secret: bytes, n_hex: int) -> None:
    """Bring `pseudonym.<kind>` to exactly the ids now in the warehouse: drop the ids that
    are gone, hash the new ones (all of them when the key or length changed). No
    transaction handling: the caller's rebuild transaction covers it."""
    if not secret:
        raise ValueError("pseudonyms need the pseudonym secret")
    # HMAC-SHA256 computed by DuckDB itself, vectorised (RFC 2104 over its sha256), once
    # per new id; the padded keys travel only as statement parameters, never into the file.
    key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
    key = key.ljust(64, b"\x00")
    pads = {
        "ipad": bytes(b ^ 0x36 for b in key).hex(),
        "opad": bytes(b ^ 0x5C for b in key).hex(),
    }
    check = _key_check(secret, n_hex)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {PSEUDONYM_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {PSEUDONYM_SCHEMA}.key_check (key_check VARCHAR)")
    stored = con.execute(f"SELECT key_check FROM {PSEUDONYM_SCHEMA}.key_check").fetchall()
    same_key = stored == [(check,)]
    for kind, sources in _id_sources(con).items():
        lookup = f"{PSEUDONYM_SCHEMA}.{kind}"
        con.execute(f"CREATE TABLE IF NOT EXISTS {lookup} (value VARCHAR, pseudonym VARCHAR)")
        union = " UNION ".join(f"SELECT {c}::VARCHAR AS v FROM main.{v}" for v, c in sources)
        ids = f"SELECT DISTINCT v FROM ({union}) WHERE v IS NOT NULL"
        if same_key:
            con.execute(f"DELETE FROM {lookup} WHERE value NOT IN ({ids})")
        else:
            con.execute(f"DELETE FROM {lookup}")
        inner = f"sha256(from_hex($ipad) || encode('{kind}:' || v))"
        con.execute(
            f"""
            INSERT INTO {lookup}
            WITH ids AS ({ids}),
            new_ids AS (SELECT v FROM ids ANTI JOIN {lookup} AS known ON known.value = ids.v),
            final AS (
                SELECT v AS value,
                       substr(sha256(from_hex($opad) || unhex({inner})), 1, {n_hex}) AS pseudonym
                FROM new_ids
            )
            SELECT value, pseudonym FROM final
            """,
            pads,
        )
    if not same_key:
        con.execute(f"DELETE FROM {PSEUDONYM_SCHEMA}.key_check")
        con.execute(f"INSERT INTO {PSEUDONYM_SCHEMA}.key_check VALUES (?)", [check])


def _id_sources(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str]]]:
    """kind -> the (view, column) pairs present in this warehouse."""
    columns = view_columns(con)
    out: dict[str, list[tuple[str, str]]] = {}
    for kind, sources in ID_SOURCES.items():
        present = [(v, c) for v, c in sources if c in columns.get(v, [])]
        if present:
            out[kind] = present
    return out
