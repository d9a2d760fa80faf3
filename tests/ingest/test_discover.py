from pathlib import Path

from pipelines.ingest.discover import classify, discover


def test_entity_from_name_start_case_insensitive_and_format_from_suffix():
    f = classify(Path("Scores week 45.XLSX"))
    assert (f.entity, f.format, f.problem) == ("scores", "xlsx", None)
    assert classify(Path("sessions_2026-11.ndjson")).format == "jsonl"


def test_unknown_entity_or_format_names_the_problem():
    assert "must start with" in classify(Path("visits.csv")).problem
    assert "'.txt' is not accepted" in classify(Path("clients.txt")).problem


def test_entities_are_processed_in_contract_order_whatever_the_file_order(tmp_path):
    for name in ("scores.csv", "sessions_b.csv", "clients.csv", "zzz.csv", "sessions_a.csv"):
        (tmp_path / name).write_text("x\n")
    (tmp_path / ".hidden.csv").write_text("x\n")
    order = [f.path.name for f in discover([tmp_path])]
    assert order == ["clients.csv", "sessions_a.csv", "sessions_b.csv", "scores.csv", "zzz.csv"]
