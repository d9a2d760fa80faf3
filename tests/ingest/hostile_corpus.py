"""Hostile delivery files whose every cell, header cell and line carries a marker: the data
a rejection message must never quote (docs/security.md, "Hostile files").

Each builder writes one file into a folder and returns its path. The marker stands for
personal data as it is found in exports: a name with a space and a full stop, a birth date,
an id with leading zeros. Shared by the unit tests (tests/ingest/test_rejection_messages.py)
and the end-to-end run of `outcomes ingest`.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq


def _text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _cells(marker: str, n: int) -> list[str]:
    return [f"{marker} {i:05d}" for i in range(n)]


def csv_without_header(folder: Path, m: str) -> Path:
    """A clients export whose header row is missing: its first data row is taken as one."""
    path = folder / "clients_no_header.csv"
    rows = [",".join(_cells(m, 9)) for _ in range(3)]
    path.write_text("\n".join(rows) + "\n")
    return path


def csv_semicolon_data(folder: Path, m: str) -> Path:
    return _text(
        folder / "therapists_semicolons.csv",
        ";".join(_cells(m, 4)) + "\n" + ";".join(_cells(m, 4)) + "\n",
    )


def csv_repeated_cells(folder: Path, m: str) -> Path:
    """The first line repeats a value (a data row as header): duplicate column names."""
    return _text(folder / "sessions_repeats.csv", f"{m},{m},{m} 2\n{m},{m},{m}\n")


def csv_ragged_row(folder: Path, m: str) -> Path:
    """A proper header, then a row with more fields than it: the parser's error quotes it."""
    return _text(
        folder / "clients_ragged.csv",
        "client_id,birth_date\nC1,1990-01-01\n" + ",".join(_cells(m, 6)) + "\n",
    )


def csv_open_quote(folder: Path, m: str) -> Path:
    return _text(
        folder / "clients_open_quote.csv",
        f'client_id,birth_date\nC1,1990-01-01\n"{m},{m}\nmore {m}\n',
    )


def csv_not_utf8(folder: Path, m: str) -> Path:
    path = folder / "clients_latin1_marker.csv"
    path.write_bytes(f"client_id,birth_date\n{m}\xe9,1990-01-01\n".encode("latin-1"))
    return path


def csv_nul_bytes(folder: Path, m: str) -> Path:
    path = folder / "clients_nul.csv"
    path.write_bytes(f"{m}\x00{m}\n".encode())
    return path


def csv_unknown_data_columns(folder: Path, m: str) -> Path:
    """A valid file whose extra header cells are data: the 'ignored columns' note."""
    path = folder / "therapists_extra.csv"
    extra = _cells(m, 3)
    path.write_text("therapist_id," + ",".join(extra) + "\nT77,a,b,c\n")
    return path


def jsonl_not_objects(folder: Path, m: str) -> Path:
    return _text(folder / "scores_not_objects.jsonl", f'"{m}"\n[{json.dumps(m)}]\n')


def jsonl_broken_lines(folder: Path, m: str) -> Path:
    return _text(folder / "scores_broken.jsonl", f'{{"session_id": "{m}", \n{{{m}}}\n')


def jsonl_keys_are_data(folder: Path, m: str) -> Path:
    return _text(folder / "sessions_keys.jsonl", json.dumps(dict.fromkeys(_cells(m, 4), m)) + "\n")


def jsonl_repeated_keys(folder: Path, m: str) -> Path:
    return _text(folder / "scores_repeated_keys.jsonl", f'{{"{m}": 1, " {m.upper()} ": 2}}\n')


def xlsx_without_header(folder: Path, m: str) -> Path:
    path = folder / "clients_no_header.xlsx"
    wb = openpyxl.Workbook()
    for _ in range(3):
        wb.active.append(_cells(m, 9))
    wb.save(path)
    return path


def xlsx_repeated_cells(folder: Path, m: str) -> Path:
    path = folder / "therapists_repeats.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append([m, m, "therapist_id"])
    wb.save(path)
    return path


def xlsx_damaged(folder: Path, m: str) -> Path:
    """A zip whose member names and contents are the marker: not a workbook."""
    path = folder / "clients_damaged.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{m}.xml", m)
        z.writestr("[Content_Types].xml", f"<{m}>")
    return path


def parquet_data_columns(folder: Path, m: str) -> Path:
    path = folder / "sessions_data_columns.parquet"
    names = _cells(m, 3)
    pq.write_table(pa.table([[m], [m], [m]], names=names), path)
    return path


def parquet_nested_fields(folder: Path, m: str) -> Path:
    """client_id holds structs whose field names are the marker."""
    path = folder / "clients_nested.parquet"
    struct = pa.array([{m: m}], type=pa.struct([(m, pa.string())]))
    pq.write_table(pa.table({"client_id": struct, "birth_date": [m]}), path)
    return path


def parquet_list_of_structs(folder: Path, m: str) -> Path:
    path = folder / "therapists_lists.parquet"
    lists = pa.array([[{m: m}]], type=pa.list_(pa.struct([(m, pa.string())])))
    pq.write_table(pa.table({"therapist_id": lists}), path)
    return path


def parquet_cut_short(folder: Path, m: str) -> Path:
    path = folder / "scores_cut.parquet"
    pq.write_table(pa.table({m: [m] * 50}), path)
    path.write_bytes(path.read_bytes()[:-30])
    return path


BUILDERS: tuple[Callable[[Path, str], Path], ...] = (
    csv_without_header, csv_semicolon_data, csv_repeated_cells, csv_ragged_row,
    csv_open_quote, csv_not_utf8, csv_nul_bytes, csv_unknown_data_columns,
    jsonl_not_objects, jsonl_broken_lines, jsonl_keys_are_data, jsonl_repeated_keys,
    xlsx_without_header, xlsx_repeated_cells, xlsx_damaged,
    parquet_data_columns, parquet_nested_fields, parquet_list_of_structs, parquet_cut_short,
)  # fmt: skip


def build_all(folder: Path, marker: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [build(folder, marker) for build in BUILDERS]
