"""benchmarks.floor.differences matches rows on their keys and compares doubles with a
relative tolerance: values straddling a rounding boundary are equal, real changes and rows
missing on either side are counted."""

from __future__ import annotations

import importlib.util

import duckdb

from pipelines.settings import PROJECT_ROOT

# benchmarks/ is not an installed package (tests/benchmarks shadows its name): load by path
_spec = importlib.util.spec_from_file_location("floor", PROJECT_ROOT / "benchmarks" / "floor.py")
_floor = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_floor)
differences = _floor.differences

TABLES = {
    "mart_courses": "course_id VARCHAR, sessions_completed BIGINT, status VARCHAR",
    "mart_course_progress": "course_id VARCHAR, metric VARCHAR, improvement DOUBLE, "
    "rci DOUBLE, responder BOOLEAN",
    "mart_cohort_outcomes": "cohort VARCHAR, metric VARCHAR, mean_improvement DOUBLE",
}


def _db(path, progress, courses=(("K1", 10, "completed"),)):
    con = duckdb.connect(str(path))
    for table, columns in TABLES.items():
        con.execute(f"CREATE TABLE {table} ({columns})")
    con.executemany("INSERT INTO mart_courses VALUES (?, ?, ?)", list(courses))
    con.executemany("INSERT INTO mart_course_progress VALUES (?, ?, ?, ?, ?)", progress)
    con.execute("INSERT INTO mart_cohort_outcomes VALUES ('athlete', 'pain', 1.5)")
    con.close()
    return path


def test_values_either_side_of_a_rounding_boundary_are_the_same(tmp_path):
    floor = _db(tmp_path / "f.duckdb", [("K1", "pain", 2.0000000005, 1.1, True),
                                        ("K1", "mobility", None, None, None)])  # fmt: skip
    pipeline = _db(tmp_path / "p.duckdb", [("K1", "pain", 2.0000000004999998, 1.1, True),
                                           ("K1", "mobility", None, None, None)])  # fmt: skip
    assert differences(floor, pipeline) == {"courses": 0, "course_progress": 0,
                                            "cohort_outcomes": 0}  # fmt: skip


def test_real_differences_and_missing_rows_are_counted(tmp_path):
    floor = _db(tmp_path / "f.duckdb", [("K1", "pain", 2.0, 1.1, True),
                                        ("K1", "mobility", 1.0, None, False),
                                        ("K1", "muscle_tone", 1.0, 0.5, False)])  # fmt: skip
    pipeline = _db(
        tmp_path / "p.duckdb",
        [("K1", "pain", 2.001, 1.1, True),  # a real difference
         ("K1", "mobility", 1.0, 0.7, False),  # NULL on one side only
         ("K2", "pain", 1.0, 0.5, False)],  # missing in the floor; muscle_tone missing here
        courses=[("K1", 10, "completed"), ("K2", 3, "in_progress")],
    )  # fmt: skip
    assert differences(floor, pipeline) == {"courses": 1, "course_progress": 4,
                                            "cohort_outcomes": 0}  # fmt: skip
