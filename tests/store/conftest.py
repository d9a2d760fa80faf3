import datetime as dt
from pathlib import Path

import pytest

from pipelines.ingest import read_and_validate
from pipelines.ingest.discover import discover
from pipelines.settings import load_settings
from pipelines.store.connection import open_writer
from pipelines.store.loader import load_plan
from pipelines.store.retry import retry_late_references

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


class Loader:
    """Loads files with the pipeline's own steps (no Prefect), one load per call."""

    def __init__(self, db: Path):
        self.con = open_writer(db)
        self.load_seq = 0
        self.settings = load_settings(env={})

    def load(self, *paths: Path, retry: bool = True) -> list:
        self.load_seq += 1
        results = []
        for file_seq, f in enumerate(discover(list(paths)), start=1):
            snap = read_and_validate.snapshot(f, self.settings.max_line_bytes)
            plan, _ = read_and_validate.validate_file(
                read_and_validate.read_file(f, snap), f.entity, self.settings, NOW
            )
            results.append(
                load_plan(
                    self.con,
                    plan,
                    run_id=f"run{self.load_seq}",
                    load_seq=self.load_seq,
                    file_seq=file_seq,
                    source_file=f.path.name,
                    content_hash=snap.digest,
                    loaded_at=NOW,
                    message="",
                )
            )
        if retry:
            retry_late_references(self.con, load_seq=self.load_seq, now=NOW, clinic_timezone="UTC")
        return results

    def rows(self, sql: str) -> list[tuple]:
        return self.con.execute(sql).fetchall()


@pytest.fixture
def loader(db_path):
    ld = Loader(db_path)
    yield ld
    ld.con.close()


@pytest.fixture
def write(tmp_path):
    """write(name, text) -> path of a new delivery file in its own folder."""
    counter = iter(range(1000))

    def _write(name: str, text: str) -> Path:
        folder = tmp_path / f"delivery{next(counter)}"
        folder.mkdir()
        path = folder / name
        path.write_text(text)
        return path

    return _write
