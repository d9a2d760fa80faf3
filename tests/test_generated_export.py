"""The generator's manifest against the real pipeline: every injected fault is caught.

One mixed-format export with faults is loaded by `outcomes ingest` (real Prefect flow
runs, real GX validation, a real DuckDB file), first delivery 1, then delivery 2.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipelines.generate import generate_export

# What each injected kind must produce, as the loader words it (docs/loading.md).
REASONS = {
    "missing_id": r"(client_id|therapist_id|session_id): required value is missing",
    "bad_date": r"(birth_date|qualified_until): '.*' is not",
    "future_date": r"(birth_date|started_at): .* (in the future|after loading)",
    "age_over_limit": r"birth_date: .* more than the maximum age ago",
    "out_of_range": r"(height_cm|body_weight_kg|duration_min|pain): .* outside",
    "bad_number": r"(weight_kg|mobility): '.*' is not a number",
    "unknown_code": r"(sex|status|timing): 'female'|'done'|'during'.* is not one of",
    "unknown_list_code": r"(contraindications|techniques): .* unknown code",
    "bad_boolean": r"(athlete|spine_pressure): 'sometimes'|'maybe'.* is not",
    "bad_timestamp": r"started_at: '.*' is not an ISO 8601 timestamp",
    "unknown_client": r"unknown client_id '.*' \(no such client loaded\)",
    "unknown_therapist": r"unknown therapist_id 'T-GONE'",
    "unknown_session": r"unknown session_id '.*' \(no such session loaded\)",
    "client_mismatch": r"client_id '.*' does not match the session's client",
    "all_blank_scores": r"all three scores .* are blank",
    "conflicting_duplicate": r"ambiguous: 2 rows of this file have",
    "late_reference": r"unknown (client_id|session_id) '.*' \(no such",
}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    generate_export(out, n_clients=120, seed=9, fault_rate=0.04, fmt="mixed")
    return out


@pytest.fixture(scope="module")
def manifest(export) -> list[dict]:
    return [json.loads(line) for line in (export / "manifest.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def warehouse(export, tmp_path_factory, module_cli, prefect_api, module_snapshot):
    """The warehouse after delivery 1, its quarantine then, and after delivery 2."""
    db = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    module_cli("ingest", str(export / "delivery-1"), "--db", str(db), api_url=prefect_api)
    after_first = module_snapshot(db)
    module_cli("ingest", str(export / "delivery-2"), "--db", str(db), api_url=prefect_api)
    return db, after_first


def _quarantined(query, db: Path) -> dict[tuple[str, int], list[str]]:
    rows = query(db, "SELECT source_file, row_number, reasons FROM quarantine")
    return {(Path(f).name, n): reasons for f, n, reasons in rows}


def test_every_fault_of_delivery_1_is_quarantined_with_its_reason(warehouse, manifest, query):
    db, _ = warehouse
    # the quarantine after delivery 1: rebuild it from history of the meta table
    rows = query(
        db,
        "SELECT source_file, row_number, reasons FROM meta_quarantine "
        "WHERE source_file LIKE '%delivery-1%'",
    )
    quarantined = {(Path(f).name, n): reasons for f, n, reasons in rows}
    expected = [e for e in manifest if e["delivery"] == "delivery-1"
                and e["outcome"] in ("quarantined", "retried")]  # fmt: skip
    assert {e["kind"] for e in expected} >= set(REASONS) - {"future_date"} | {"late_reference"}
    for entry in expected:
        reasons = quarantined.get((entry["file"], entry["row_number"]))
        assert reasons is not None, f"not quarantined: {entry}"
        assert any(re.search(REASONS[entry["kind"]], r) for r in reasons), (entry, reasons)
    # and nothing else was: every quarantined row is an injected fault
    assert len(quarantined) == len(expected)


def test_every_fault_of_delivery_2_is_quarantined_and_late_rows_have_left(
    warehouse, manifest, query
):
    db, _ = warehouse
    now = _quarantined(query, db)
    still_expected = [e for e in manifest if e["outcome"] == "quarantined"]
    for entry in still_expected:
        reasons = now.get((entry["file"], entry["row_number"]))
        assert reasons is not None, f"not in quarantine: {entry}"
        assert any(re.search(REASONS[entry["kind"]], r) for r in reasons), (entry, reasons)
    assert len(now) == len(still_expected)  # the late rows were retried and loaded
    late = [e for e in manifest if e["kind"] == "late_reference"]
    assert late and not any((e["file"], e["row_number"]) in now for e in late)


def test_late_clients_sessions_are_loaded_after_their_intake_arrives(warehouse, manifest, query):
    db, after_first = warehouse
    late_sessions = {e["value"] for e in manifest
                     if e["kind"] == "late_reference" and e["entity"] == "sessions"}  # fmt: skip
    assert late_sessions
    loaded_clients = {r[0] for r in query(db, "SELECT DISTINCT client_id FROM sessions")}
    assert late_sessions <= loaded_clients
    first_clients = " ".join(after_first["sessions"])
    assert not any(f"'{c}'" in first_clients for c in late_sessions)


def test_corrections_replace_values_and_keep_history(warehouse, manifest, query):
    db, _ = warehouse
    corrections = [e for e in manifest if e["kind"] == "correction"]
    assert {e["entity"] for e in corrections} >= {"clients", "scores", "therapists"}
    for entry in corrections:
        entity, column = entry["entity"], entry["column"]
        source = query(db, f"SELECT * FROM raw_{entity} WHERE _source_file LIKE ? "
                           "AND _row_number = ?",
                       [f"%{entry['file']}", entry["row_number"]])  # fmt: skip
        assert len(source) == 1, entry
        cols = [r[0] for r in query(db, f"DESCRIBE raw_{entity}")]
        row = dict(zip(cols, source[0], strict=True))
        key = {"clients": ["client_id"], "therapists": ["therapist_id"],
               "scores": ["session_id", "timing"]}[entity]  # fmt: skip
        where = " AND ".join(f"{k} = ?" for k in key)
        current = query(db, f"SELECT {column} FROM {entity} WHERE {where}", [row[k] for k in key])
        value = current[0][0]
        assert str(value) == str(entry["value"]) or float(value) == pytest.approx(entry["value"])
        versions = query(db, f"SELECT count(*) FROM raw_{entity} WHERE {where}",
                         [row[k] for k in key])  # fmt: skip
        assert versions[0][0] >= 2  # the replaced version stays in history


def test_resent_and_identical_rows_collapse_and_every_file_reconciles(warehouse, manifest, query):
    db, _ = warehouse
    log = query(db, "SELECT source_file, rows_read, rows_loaded, rows_quarantined, "
                    "rows_duplicate, status FROM load_log")  # fmt: skip
    assert len(log) == 8 and {r[5] for r in log} == {"loaded"}
    for _, read, loaded, quarantined, duplicate, _ in log:
        assert read == loaded + quarantined + duplicate
    duplicates = {Path(r[0]).name: r[4] for r in log}
    collapsing = {}
    for e in manifest:
        if e["outcome"] in ("collapsed", "unchanged"):
            collapsing[e["file"]] = collapsing.get(e["file"], 0) + 1
    assert collapsing
    for file, n in collapsing.items():
        assert duplicates[file] == n, file


def test_loading_delivery_2_again_changes_nothing(warehouse, export, cli, prefect_api, snapshot):
    db, _ = warehouse
    before = snapshot(db)
    done = cli("ingest", str(export / "delivery-2"), "--db", str(db), api_url=prefect_api)
    assert "4 skipped" in done.stdout
    assert snapshot(db) == before
