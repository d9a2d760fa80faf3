import datetime as dt
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT, load_settings


def test_defaults_are_the_specs():
    s = load_settings(env={}, config_file=Path("/nonexistent.toml"))
    assert (s.gap_days, s.course_min_sessions, s.course_max_sessions) == (28, 10, 15)
    assert (s.elderly_age, s.dropout_days, s.clinic_timezone) == (65, 28, "UTC")
    assert s.mcid == {"pain": 2.0, "muscle_tone": 2.0, "mobility": 2.0}
    assert s.reliability == {"pain": 0.8, "muscle_tone": 0.8, "mobility": 0.8}
    assert (s.warmup_min_low, s.warmup_min_high) == (5, 10)
    assert (s.duration_min_low, s.duration_min_high) == (45, 75)
    assert s.db_path == PROJECT_ROOT / "data" / "warehouse.duckdb"
    assert s.min_started_at == dt.date(1990, 1, 1)  # started_at not before 1990-01-01


def test_toml_then_environment_override(tmp_path):
    toml = tmp_path / "outcomes.toml"
    toml.write_text(
        'clinic_timezone = "Europe/Berlin"\ngap_days = 21\nas_of = 2026-10-01\n'
        "[mcid]\npain = 1.5\n[reliability]\nmobility = 0.9\n"
    )
    s = load_settings(
        env={"OUTCOMES_GAP_DAYS": "30", "OUTCOMES_MCID_MOBILITY": "3"}, config_file=toml
    )
    assert s.clinic_timezone == "Europe/Berlin"
    assert s.gap_days == 30  # the environment wins over the file
    assert s.as_of == dt.date(2026, 10, 1)
    assert s.mcid == {"pain": 1.5, "muscle_tone": 2.0, "mobility": 3.0}
    assert s.reliability["mobility"] == 0.9


def test_paths_resolve_from_the_project_root_not_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(env={"OUTCOMES_DB": "data/other.duckdb"}, config_file=Path("/nonexistent"))
    assert s.db_path == PROJECT_ROOT / "data" / "other.duckdb"
    absolute = load_settings(env={"OUTCOMES_DB": str(tmp_path / "w.duckdb")})
    assert absolute.db_path == tmp_path / "w.duckdb"


def test_config_file_named_by_environment_and_unknown_keys_refused(tmp_path):
    toml = tmp_path / "clinic.toml"
    toml.write_text("elderly_age = 70\n")
    assert load_settings(env={"OUTCOMES_CONFIG": str(toml)}).elderly_age == 70
    toml.write_text("eldery_age = 70\n")
    with pytest.raises(ValueError, match="unknown setting 'eldery_age'"):
        load_settings(env={"OUTCOMES_CONFIG": str(toml)})


def test_a_switch_reads_true_or_false_from_toml_and_words_from_the_environment(tmp_path):
    toml = tmp_path / "outcomes.toml"
    toml.write_text("incremental_marts = false\n")
    assert load_settings(env={}, config_file=toml).incremental_marts is False
    for word, value in (("0", False), ("no", False), ("True", True), ("yes", True)):
        env = {"OUTCOMES_INCREMENTAL_MARTS": word}
        assert load_settings(env=env, config_file=toml).incremental_marts is value
    with pytest.raises(ValueError, match="incremental_marts must be true or false"):
        load_settings(env={"OUTCOMES_INCREMENTAL_MARTS": "maybe"}, config_file=toml)
