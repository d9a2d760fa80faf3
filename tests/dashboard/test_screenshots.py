"""`python -m dashboard.screenshots` signs in with a throwaway owner and saves every page."""

from __future__ import annotations

import os

import pytest

from dashboard.screenshots import pages, take

pytestmark = pytest.mark.browser


def test_every_page_is_saved_as_a_png_after_signing_in(example_warehouse, tmp_path, browser):
    users_before = os.environ.get("OUTCOMES_USERS_DB")
    saved = take(example_warehouse, tmp_path, browser=browser)  # raises if a page never renders
    assert [p.stem for p in saved] == [name for name, _ in pages()]
    for png in saved:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert os.environ.get("OUTCOMES_USERS_DB") == users_before  # the throwaway is gone
