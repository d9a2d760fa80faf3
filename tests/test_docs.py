"""docs/architecture.md names only files and tests that exist, so its paths cannot go stale."""

from __future__ import annotations

import re

import pytest

from pipelines.settings import PROJECT_ROOT

ARCHITECTURE = PROJECT_ROOT / "docs" / "architecture.md"
_NAMED = re.compile(r"`((?:[\w.-]+/)+(?:[\w.-]+\.(?:py|sql|yml|md|json|toml))?)(?:::(\w+))?`")
"""A backticked project path (with a slash; a folder ends with one), maybe `::test_name`."""


def named(text: str) -> list[tuple[str, str]]:
    return sorted(set(_NAMED.findall(text)))


def test_the_pattern_finds_paths_and_tests_and_skips_placeholders():
    text = "`a/b.py` `a/b.py::test_x` `c/` `a/<name>.sql` `x.py` `mart_*.json` `a/b.py (note)`"
    assert named(text) == [("a/b.py", ""), ("a/b.py", "test_x"), ("c/", "")]


@pytest.mark.parametrize(("path", "test"), named(ARCHITECTURE.read_text(encoding="utf-8")))
def test_every_path_and_test_named_in_the_architecture_exists(path, test):
    target = PROJECT_ROOT / path
    assert target.is_dir() if path.endswith("/") else target.is_file(), path
    if test:
        assert re.search(rf"^def {test}\(", target.read_text(encoding="utf-8"), re.M), test
