"""The GX context's upkeep: the results store and the Data Docs stay bounded."""

import os
from pathlib import Path

import pandas as pd

from pipelines.settings import get_settings
from pipelines.validation.gx_context import (
    build_docs,
    get_context,
    prune_validation_results,
    run_validation,
)


def _empty_folders(root: Path) -> list[str]:
    return [d for d, dirs, files in os.walk(root) if Path(d) != root and not dirs and not files]


def test_pruning_keeps_the_newest_results_and_leaves_no_empty_folder():
    ctx = get_context()
    store = ctx.validation_results_store
    frame = pd.DataFrame({"therapist_id": ["T1", "T2"], "body_weight_kg": [70.0, 80.0]})
    for _ in range(3):  # each result gets folders of its own (suite/run/time/batch)
        run_validation("therapists", frame)
    build_docs()  # a page per kept result
    pages = get_settings().path("gx_docs_dir") / "validations"
    therapists = sorted(
        (k for k in store.list_keys() if k.expectation_suite_identifier.name == "therapists"),
        key=lambda k: k.run_id.run_time,
    )
    assert len(therapists) >= 3

    kept = prune_validation_results(ctx, 2, pages)

    left = [k for k in store.list_keys() if k.expectation_suite_identifier.name == "therapists"]
    assert sorted(left, key=lambda k: k.run_id.run_time) == therapists[-2:]
    by_suite = [k.expectation_suite_identifier.name for k in store.list_keys()]
    assert max(by_suite.count(name) for name in set(by_suite)) == 2
    assert set(store.list_keys()) == set(kept)
    assert sorted(p.relative_to(pages).with_suffix("") for p in pages.rglob("*.html")) == sorted(
        Path(*k.to_tuple()) for k in kept
    )
    store_root = Path(store.store_backend.full_base_directory)
    assert _empty_folders(store_root) == []
    assert _empty_folders(pages) == []
