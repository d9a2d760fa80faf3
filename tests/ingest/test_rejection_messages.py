"""Rejection messages name what is wrong and never quote a file's contents.

A rejected file's message reaches `load_log` (an analyst view) and the dashboard's
Overview (every role); the note on ignored columns reaches them too. A generated corpus of
hostile files (tests/ingest/hostile_corpus.py) carries a marker in every cell, header cell
and line; no message may contain it. File names with control characters are escaped
wherever they are shown.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hostile_corpus import BUILDERS
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest.discover import classify
from pipelines.ingest.readers import FileRejected, read_delivery_file
from pipelines.ingest.rejection import display_name, unknown_columns_note

MARKERS = st.builds(
    lambda tag, name, born: f"{tag} {name} {born}",
    tag=st.from_regex(r"Zq[0-9a-f]{8}", fullmatch=True),
    name=st.sampled_from(["Marek O.", "Ana-María", "José Ü", "o'Neil", "000731"]),
    born=st.dates().map(str),
)


def _messages(folder: Path, marker: str) -> list[str]:
    """The message of every file of the corpus: its rejection, or its ignored-columns note."""
    out = []
    for build in BUILDERS:
        f = classify(build(folder, marker))
        try:
            table = read_delivery_file(f.path, f.entity, f.format)
        except FileRejected as exc:
            out.append(str(exc))
        else:
            out.append(unknown_columns_note(table.extra_columns))
    return out


@settings(max_examples=12, deadline=None)
@given(marker=MARKERS)
def test_no_rejection_message_quotes_the_file(marker):
    tag = marker.split()[0].lower()
    with tempfile.TemporaryDirectory() as tmp:
        messages = _messages(Path(tmp), marker)
    assert len(messages) == len(BUILDERS)
    for message in messages:
        assert tag not in message.lower(), message


def test_each_hostile_file_still_says_what_is_wrong(tmp_path):
    messages = _messages(tmp_path, "Zq00000000 Marek O. 1980-08-20")
    joined = "\n".join(messages)
    for words in (
        "missing required column(s) client_id, birth_date for clients",
        "expected header: client_id, name, birth_date",
        "duplicate column name(s)",
        "not UTF-8 text (byte 0xe9",
        "binary content",
        "no line is a JSON object",
        "holds nested values",
        "cannot read scores_cut.parquet as parquet",
        "ignored 3 unknown column(s)",
    ):
        assert words in joined, words


def test_a_missing_header_is_named_as_such(tmp_path):
    from hostile_corpus import csv_without_header

    path = csv_without_header(tmp_path, "Zq00000001 Ana 1990-01-01")
    with pytest.raises(FileRejected) as rejected:
        read_delivery_file(path, "clients", "csv")
    message = str(rejected.value)
    assert "the file has 9 column(s), none of them a clients column" in message
    assert "is the header row missing?" in message


def test_twenty_thousand_unknown_columns_are_summarised(tmp_path):
    path = tmp_path / "therapists.csv"
    names = [f"extra_column_{i:05d}" for i in range(20_000)]
    path.write_text("therapist_id," + ",".join(names) + "\nT1" + ",x" * 20_000 + "\n")
    table = read_delivery_file(path, "therapists", "csv")
    note = unknown_columns_note(table.extra_columns)
    assert len(note) < 300, note
    assert note.startswith("ignored 20,000 unknown column(s): extra_column_00000, ")
    assert note.endswith("and 19,995 more")


def test_unknown_column_names_are_shown_only_when_plain_and_short():
    note = unknown_columns_note(["notes", "x" * 80, "marek o.", "1980-08-20", "visit_reason"])
    assert note.startswith("ignored 5 unknown column(s): notes, " + "x" * 32 + "…, visit_reason")
    assert "marek" not in note and "1980" not in note
    assert "2 more not shown (not plain column names)" in note
    assert unknown_columns_note([]) == ""


CONTROL = st.characters(codec="utf-8", categories=("Cc", "Cf", "Zl", "Zp"))
NAMES = st.lists(st.one_of(CONTROL, st.characters(codec="utf-8")), min_size=1, max_size=40).map(
    "".join
)


@given(name=NAMES)
def test_displayed_file_names_hold_no_control_character(name):
    shown = display_name(name)
    assert not any(c in shown for c in "\x1b\r\n\x00\x7f\x9b\u202e\u2028")
    assert all(ch.isprintable() for ch in shown), repr(shown)


def test_plain_names_are_shown_as_they_are_and_escapes_are_readable():
    assert display_name("sessions_2026-11 (1).csv") == "sessions_2026-11 (1).csv"
    assert display_name("a\x1b[31mb\r\n.csv") == "a\\x1b[31mb\\r\\n.csv"
    assert display_name("x\u202etxt.csv") == "x\\u202etxt.csv"
