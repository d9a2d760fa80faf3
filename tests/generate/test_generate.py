"""The synthetic export: deterministic, every format, a truthful manifest, clean rows clean."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from pathlib import Path

import pandas as pd
import pytest

from pipelines.generate import DEFAULT_END, FORMATS, generate_export
from pipelines.generate import writers as writers_module
from pipelines.generate.faults import FAULTS
from pipelines.ingest.discover import classify
from pipelines.ingest.readers import read_delivery_file


def _files(out: Path) -> list[Path]:
    return sorted(p for p in out.rglob("*") if p.is_file())


def _fingerprint(path: Path) -> str:
    """Bytes for text and Parquet; cell values for XLSX (its zip stores the save time)."""
    if path.suffix == ".xlsx":
        from openpyxl import load_workbook

        rows = list(load_workbook(path, read_only=True).worksheets[0].values)
        return hashlib.sha256(repr(rows).encode()).hexdigest()
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("fmt", ["csv", "mixed"])
def test_same_seed_same_files_other_seed_other_files(tmp_path, fmt):
    runs = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        out = tmp_path / name
        generate_export(out, n_clients=40, seed=seed, fault_rate=0.05, fmt=fmt)
        runs[name] = {p.relative_to(out): _fingerprint(p) for p in _files(out)}
    assert runs["a"] == runs["b"]
    assert runs["a"] != runs["c"]


def test_regenerating_into_a_folder_leaves_no_stale_parts(tmp_path):
    generate_export(tmp_path, n_clients=60, seed=1, fmt="csv")
    generate_export(tmp_path, n_clients=10, seed=1, fmt="jsonl")
    suffixes = {p.suffix for p in _files(tmp_path / "delivery-1")}
    assert suffixes == {".jsonl"}


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_back_through_the_loader_with_manifest_row_numbers(tmp_path, fmt):
    summary = generate_export(tmp_path, n_clients=30, seed=3, fault_rate=0.08, fmt=fmt)
    files = _files(tmp_path / "delivery-1") + _files(tmp_path / "delivery-2")
    assert {f for f in files} == set(summary.files)
    if fmt != "mixed":
        assert {f.suffix for f in files} == {"." + fmt}
    else:
        assert {f.suffix for f in files} == {".csv", ".jsonl", ".xlsx", ".parquet"}
    frames = {}
    for path in files:
        delivery_file = classify(path)
        assert delivery_file.entity is not None, f"{path.name} must name its entity"
        table = read_delivery_file(path, delivery_file.entity, delivery_file.format)
        frames[(path.parent.name, path.name)] = table.frame.set_index("_row_number")
    total_rows = sum(len(f) for f in frames.values())
    assert total_rows == sum(summary.rows.values())
    # every manifest entry points at a row holding what it says was injected
    for entry in _manifest(tmp_path):
        row = frames[(entry["delivery"], entry["file"])].loc[entry["row_number"]]
        if entry["column"] and entry["value"] is not None:
            got = row[entry["column"]]
            assert got is not None, entry
            want = entry["value"]
            if isinstance(want, int | float):
                assert float(str(got).replace(",", ".")) == pytest.approx(want), entry
            else:
                assert got == want, entry


def test_manifest_labels_every_fault_kind_of_spec_section_3(tmp_path):
    generate_export(tmp_path, n_clients=80, seed=5, fault_rate=0.03, fmt="csv")
    entries = _manifest(tmp_path)
    seen = {(e["entity"], e["kind"]) for e in entries}
    expected = {(entity, kind) for entity, kinds in FAULTS.items() for kind in kinds}
    assert expected <= seen
    # the spec's list: ids, dates, ranges, codes, references, duplicates, mismatch, blanks
    for kind in ("missing_id", "bad_date", "out_of_range", "unknown_code", "unknown_client",
                 "unknown_therapist", "unknown_session", "conflicting_duplicate",
                 "identical_duplicate", "client_mismatch", "all_blank_scores"):  # fmt: skip
        assert any(k == kind for _, k in seen), kind
    # and the second delivery's corrections and late arrivals
    assert {"correction", "late_client", "late_reference", "resent"} <= {k for _, k in seen}
    outcomes = {e["kind"]: e["outcome"] for e in entries}
    assert outcomes["identical_duplicate"] == "collapsed"
    assert outcomes["bad_date"] == "quarantined"
    assert outcomes["late_reference"] == "retried"


def test_no_fault_rate_means_no_manifest_entries_and_one_delivery_period_each(tmp_path):
    summary = generate_export(tmp_path, n_clients=50, seed=2, fmt="csv")
    assert _manifest(tmp_path) == []
    assert summary.faults == {}
    assert summary.rows[("delivery-1", "sessions")] > summary.rows[("delivery-2", "sessions")] > 0


# ---- clean rows satisfy spec §2, checked independently of the loader ------------------

TRUE_FALSE = {"true", "false", "yes", "no", "y", "n", "1", "0"}


def _read_all(out: Path, entity: str) -> pd.DataFrame:
    frames = [pd.read_csv(p, dtype=str, keep_default_na=False)
              for p in sorted(out.rglob(f"{entity}*.csv"))]  # fmt: skip
    frames += [pd.read_csv(p, dtype=str, keep_default_na=False)
               for p in sorted(out.rglob(f"{entity.title()}*.csv"))]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


def _num_ok(value: str, low: float, high: float) -> bool:
    return value == "" or (low <= float(value) <= high and not math.isnan(float(value)))


def test_clean_rows_satisfy_every_rule_of_spec_section_2(tmp_path):
    generate_export(tmp_path, n_clients=150, seed=11, fault_rate=0.0, fmt="csv")
    today = dt.date.today()
    clients = _read_all(tmp_path, "clients")
    therapists = _read_all(tmp_path, "therapists")
    sessions = _read_all(tmp_path, "sessions")
    scores = _read_all(tmp_path, "scores")

    assert clients.client_id.str.len().min() > 0 and clients.client_id.is_unique
    assert clients.client_id.str.startswith("0").any()  # leading zeros: ids are text
    births = pd.to_datetime(clients.birth_date, format="%Y-%m-%d").dt.date
    assert (births <= today).all()
    assert ((today - births).map(lambda d: d.days) / 365.25 <= 120).all()
    assert clients.sex.isin(["F", "M", "X", ""]).all()
    assert clients.height_cm.map(lambda v: _num_ok(v, 100, 250)).all()
    assert clients.weight_kg.map(lambda v: _num_ok(v, 30, 300)).all()
    assert clients.athlete.str.lower().isin(TRUE_FALSE | {""}).all()
    codes = {"spinal_tuberculosis", "pregnancy", "thrombophlebitis", "bronchial_asthma",
             "musculoskeletal_disease", ""}  # fmt: skip
    assert clients.contraindications.map(lambda v: set(v.split(";")) <= codes).all()
    pd.to_datetime(clients.intake_date[clients.intake_date != ""], format="%Y-%m-%d")

    assert therapists.therapist_id.is_unique and therapists.therapist_id.str.len().min() > 0
    assert therapists.body_weight_kg.map(lambda v: _num_ok(v, 30, 300)).all()
    pd.to_datetime(therapists.qualified_until[therapists.qualified_until != ""], format="%Y-%m-%d")
    assert (therapists.qualification == "").any() and (therapists.qualification != "").any()

    assert sessions.session_id.is_unique
    assert sessions.client_id.isin(clients.client_id).all()
    assert sessions.therapist_id.isin(therapists.therapist_id).all()
    started = pd.to_datetime(sessions.started_at, format="ISO8601", utc=True)
    assert (started <= pd.Timestamp.now(tz="UTC") + pd.Timedelta(days=1)).all()
    assert sessions.status.isin(["completed", "cancelled", "no_show", ""]).all()
    assert set(sessions.status) >= {"completed", "cancelled", "no_show", ""}
    assert sessions.duration_min.map(lambda v: _num_ok(v, 1, 240)).all()
    assert sessions.warmup_min.map(lambda v: _num_ok(v, 0, 60)).all()
    assert sessions.feet.isin(["both", "one", ""]).all()
    assert sessions.direction.isin(["with_flow", "against_flow", "both", ""]).all()
    techniques = {"rubbing", "kneading", "stroking", ""}
    assert sessions.techniques.map(lambda v: set(v.split(";")) <= techniques).all()
    for column in ("spine_pressure", "discomfort_reported"):
        assert sessions[column].str.lower().isin(TRUE_FALSE | {""}).all()
    # both kinds of course membership occur: declared and to be inferred
    assert (sessions.course_id != "").any() and (sessions.course_id == "").any()

    keys = scores.session_id + "|" + scores.timing
    assert keys.is_unique
    assert scores.session_id.isin(sessions.session_id).all()
    assert scores.timing.isin(["pre", "post"]).all()
    for metric in ("pain", "muscle_tone", "mobility"):
        assert scores[metric].map(lambda v: _num_ok(v, 0, 10)).all()
    assert ((scores[["pain", "muscle_tone", "mobility"]] != "").any(axis=1)).all()
    owner = sessions.set_index("session_id").client_id
    given = scores[scores.client_id != ""]
    assert (given.client_id.values == owner.loc[given.session_id].values).all()


def test_cohorts_and_trajectories_are_plausible(tmp_path):
    """Athletes, overweight and others all occur; courses improve on average, with
    diminishing returns, and athletes gain most in muscle tone (docs/generator.md)."""
    generate_export(tmp_path, n_clients=400, seed=4, fmt="csv")
    clients = _read_all(tmp_path, "clients")
    sessions = _read_all(tmp_path, "sessions")
    scores = _read_all(tmp_path, "scores")
    assert (clients.athlete.isin(["yes"])).mean() > 0.15
    h, w = pd.to_numeric(clients.height_cm), pd.to_numeric(clients.weight_kg)
    assert (w / (h / 100) ** 2 >= 25).mean() > 0.15  # overweight clients
    assert (clients.height_cm == "").any() or (clients.weight_kg == "").any()
    assert (clients.contraindications != "").any()

    done = sessions[sessions.status.isin(["completed", ""])].copy()
    done["when"] = pd.to_datetime(done.started_at, format="ISO8601", utc=True)
    done = done.sort_values(["client_id", "when"])
    done["n"] = done.groupby(["client_id", "course_id"]).cumcount() + 1
    declared = done[done.course_id != ""]
    pre = scores[scores.timing == "pre"].merge(declared[["session_id", "client_id", "n"]],
                                               on="session_id", suffixes=("_s", ""))  # fmt: skip
    pain = pd.to_numeric(pre.pain, errors="coerce")
    by_n = pain.groupby(pre.n).mean()
    assert by_n.loc[1] - by_n.loc[10] > 1.0  # pain falls over a course
    assert (by_n.loc[1] - by_n.loc[5]) > (by_n.loc[6] - by_n.loc[10])  # diminishing returns
    athlete_ids = set(clients.client_id[clients.athlete == "yes"])
    tone = pd.to_numeric(pre.muscle_tone, errors="coerce")
    is_athlete = pre.client_id.isin(athlete_ids)
    gain = {
        group: tone[mask & (pre.n == 1)].mean() - tone[mask & (pre.n == 10)].mean()
        for group, mask in (("athlete", is_athlete), ("rest", ~is_athlete))
    }
    assert gain["athlete"] > gain["rest"] > 0


def test_large_tables_split_into_parts_named_for_their_entity(tmp_path, monkeypatch):
    monkeypatch.setitem(writers_module.MAX_ROWS_PER_FILE, "csv", 500)
    summary = generate_export(tmp_path, n_clients=60, seed=1, fmt="csv")
    parts = [p.name for p in summary.files if "_part" in p.name]
    assert parts and all(classify(tmp_path / "delivery-1" / n).entity for n in parts
                         if (tmp_path / "delivery-1" / n).exists())  # fmt: skip
    assert sum(len(pd.read_csv(p)) for p in summary.files if "sessions" in p.name) == (
        summary.sessions
    )


def test_default_period_ends_before_today_so_no_session_is_in_the_future():
    assert dt.date.today() > DEFAULT_END


def test_cli_generate_writes_an_export_and_refuses_an_unknown_format(cli, tmp_path):
    done = cli("generate", "--out", str(tmp_path / "x"), "--clients", "12", "--format", "parquet")
    assert "delivery-1" in done.stdout
    assert list((tmp_path / "x" / "delivery-1").glob("*.parquet"))
    refused = cli("generate", "--out", str(tmp_path / "y"), "--format", "docx", check=False)
    assert refused.returncode != 0
    assert "csv, jsonl, xlsx, parquet" in refused.stdout + refused.stderr


@pytest.mark.parametrize("seed", range(6))
def test_client_mismatches_name_a_known_client_other_than_the_sessions_own(tmp_path, seed):
    generate_export(tmp_path, n_clients=60, seed=seed, fault_rate=0.1, fmt="csv")
    clients = set(_read_all(tmp_path, "clients").client_id)
    owner = _read_all(tmp_path, "sessions").drop_duplicates("session_id").set_index(
        "session_id"
    ).client_id  # fmt: skip
    mismatches = [e for e in _manifest(tmp_path) if e["kind"] == "client_mismatch"]
    assert mismatches
    for entry in mismatches:
        path = tmp_path / entry["delivery"] / entry["file"]
        row = pd.read_csv(path, dtype=str, keep_default_na=False).iloc[entry["row_number"] - 2]
        assert row.client_id == entry["value"] and row.client_id in clients
        assert owner[row.session_id] != row.client_id
