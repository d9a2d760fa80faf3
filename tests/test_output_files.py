"""`outcomes sql --csv PATH` (pipelines/output_files.py): never over an existing file without
--force, never over the product's own files (by any path that reaches them), and a clear
refusal instead of a traceback for a bad --db or --csv."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipelines.output_files import OutputRefused, open_output, protected_files
from pipelines.settings import analyst_copy_path, get_settings

QUERY = "SELECT 1 AS one"


@pytest.fixture(scope="module")
def wh(tmp_path_factory, examples_warehouse) -> Path:
    """A private copy of the examples warehouse and its analysts' copy."""
    db = tmp_path_factory.mktemp("out") / "warehouse.duckdb"
    shutil.copyfile(examples_warehouse, db)
    shutil.copyfile(analyst_copy_path(examples_warehouse), analyst_copy_path(db))
    return db


def _protected(db: Path) -> list[Path]:
    settings = get_settings()
    secrets = [settings.path("session_secret_file"), settings.path("pseudonym_secret_file")]
    for path in secrets:  # the test session's secrets exist once something made them
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("00" * 32 + "\n")
    users = settings.path("users_db")
    if not users.exists():
        users.write_bytes(b"")
    return [db, analyst_copy_path(db), users, *secrets]


def _spellings(target: Path, scratch: Path) -> list[Path]:
    """Paths that reach `target`: itself, a detour through `..`, a symbolic and a hard link
    (a hard link only on the same file system)."""
    out = [target, target.parent / "." / target.name,
           target.parent / ".." / target.parent.name / target.name]  # fmt: skip
    link = scratch / f"link-to-{target.name}.csv"
    link.unlink(missing_ok=True)
    link.symlink_to(target)
    out.append(link)
    hard = target.parent / f"hard-{target.name}.csv"
    hard.unlink(missing_ok=True)
    os.link(target, hard)
    out.append(hard)
    return out


def test_no_spelling_of_a_product_file_is_written_even_with_force(wh, tmp_path):
    protected = protected_files(get_settings(), wh)
    for target in _protected(wh):
        before = target.read_bytes()
        for path in _spellings(target, tmp_path):
            for force in (False, True):
                with pytest.raises(OutputRefused, match="cannot write"):
                    open_output(path, force=force, protected=protected)
        assert target.read_bytes() == before, target
        (target.parent / f"hard-{target.name}.csv").unlink()


def test_the_cli_refuses_the_warehouse_behind_a_hard_link_with_force(wh, cli, tmp_path):
    hard = wh.parent / "innocent.csv"
    os.link(wh, hard)
    before = wh.read_bytes()
    try:
        done = cli("sql", QUERY, "--db", str(wh), "--csv", str(hard), "--force", check=False)
    finally:
        hard.unlink()
    assert done.returncode == 1 and "one of the product's own files" in done.stderr
    assert "Traceback" not in done.stderr and wh.read_bytes() == before


def test_an_existing_file_needs_force(wh, cli, tmp_path):
    out = tmp_path / "answer.csv"
    out.write_text("keep me\n")
    done = cli("sql", QUERY, "--db", str(wh), "--csv", str(out), check=False)
    assert done.returncode == 1 and "exists: add --force" in done.stderr
    assert out.read_text() == "keep me\n"
    cli("sql", QUERY, "--db", str(wh), "--csv", str(out), "--force")
    assert out.read_text().splitlines() == ["one", "1"]


def test_a_new_file_is_written_and_a_refused_query_leaves_none(wh, cli, tmp_path):
    out = tmp_path / "new.csv"
    done = cli("sql", "SELECT * FROM meta_runs", "--db", str(wh), "--csv", str(out), check=False)
    assert done.returncode == 1 and not out.exists()
    cli("sql", QUERY, "--db", str(wh), "--csv", str(out))
    assert out.read_text().splitlines() == ["one", "1"]


def test_a_fifo_or_a_folder_is_refused_without_blocking(wh, cli, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for target, why in ((fifo, "not a regular file"), (tmp_path, "not a regular file")):
        done = cli("sql", QUERY, "--db", str(wh), "--csv", str(target), "--force", check=False)
        assert done.returncode == 1 and why in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("csv", "db", "message"),
    [
        ("{tmp}/no-such-folder/a.csv", "{db}", "the folder {tmp}/no-such-folder does not exist"),
        (None, "{tmp}", "is not a warehouse file"),
        (None, "{tmp}/not-duckdb.txt", "cannot open"),
        (None, "{tmp}/missing.duckdb", "No warehouse at"),
    ],
)
def test_bad_paths_get_a_message_not_a_traceback(wh, cli, tmp_path, csv, db, message):
    (tmp_path / "not-duckdb.txt").write_text("clients,but not a database\n")
    args = ["sql", QUERY, "--db", db.format(tmp=tmp_path, db=wh)]
    if csv:
        args += ["--csv", csv.format(tmp=tmp_path)]
    done = cli(*args, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert message.format(tmp=tmp_path) in done.stderr, done.stderr
