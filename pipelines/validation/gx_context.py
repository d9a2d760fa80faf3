"""The file-based Great Expectations context rooted at ``expectations/`` (I/O edge).

Suites, the pandas data source and its assets are committed under
``expectations/gx/``; validation results and Data Docs are written under ``data/``
(git-ignored) by pointing GX's stores there. GX is imported lazily: it takes seconds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from functools import cache
from pathlib import Path
from typing import Any

from pipelines.folders import remove_if_empty
from pipelines.settings import PROJECT_ROOT, Settings, get_settings
from pipelines.validation.suites import all_suites, build_suite

DATASOURCE = "outcomes"
BATCH = "whole_frame"


def _relative_to_gx_root(target: Path, gx_root: Path) -> str:
    # relative, so the committed great_expectations.yml works in any clone
    return os.path.relpath(target, gx_root) + "/"


@cache
def get_context(expectations_dir: Path | None = None, docs_dir: Path | None = None):
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    settings = get_settings()
    root = expectations_dir or settings.path("expectations_dir")
    ctx = gx.get_context(mode="file", project_root_dir=str(root))
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = docs_dir or settings.path("gx_docs_dir")
    gx_root = Path(ctx.root_directory)
    site = ctx.variables.data_docs_sites.get("local_site", {})
    wanted = _relative_to_gx_root(docs, gx_root)
    if site.get("store_backend", {}).get("base_directory") != wanted:
        ctx.update_data_docs_site(
            "local_site",
            {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": wanted,
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return ctx


def batch_definition(ctx, asset_name: str):
    """The whole-dataframe batch definition of an asset, created on first use."""
    source = (
        ctx.data_sources.add_or_update_pandas(DATASOURCE)
        if DATASOURCE not in [d.name for d in ctx.data_sources.all().values()]
        else ctx.data_sources.get(DATASOURCE)
    )
    try:
        asset = source.get_asset(asset_name)
    except LookupError:
        asset = source.add_dataframe_asset(asset_name)
    try:
        return asset.get_batch_definition(BATCH)
    except KeyError:
        return asset.add_batch_definition_whole_dataframe(BATCH)


def validation_definition(ctx, suite_name: str):
    """Suite `suite_name` validated against the asset of the same name."""
    import great_expectations as gx

    try:
        return ctx.validation_definitions.get(suite_name)
    except Exception:  # GX raises its own not-found errors, which vary by store
        vd = gx.ValidationDefinition(
            name=suite_name,
            data=batch_definition(ctx, suite_name),
            suite=ctx.suites.get(suite_name),
        )
        return ctx.validation_definitions.add(vd)


def write_suites(settings: Settings | None = None) -> list[str]:
    """(Re)write every suite and its validation definition from pipelines/schema.py
    (the maintenance command ``outcomes write-suites``)."""
    ctx = get_context()
    written = []
    for name, expectations in all_suites().items():
        suite = build_suite(name, expectations)
        with contextlib.suppress(Exception):  # not there yet
            ctx.suites.delete(name)
        ctx.suites.add(suite)
        with contextlib.suppress(Exception):
            ctx.validation_definitions.delete(name)
        validation_definition(ctx, name)
        written.append(name)
    return written


_COLUMN_KWARGS = ("column", "column_A", "column_B")


def checked_columns(suite) -> set[str] | None:
    """The columns the expectations of `suite` read; None when one reads others as well
    (a kind of expectation naming columns differently), so the frame must stay whole."""
    columns: set[str] = set()
    for expectation in suite.expectations:
        kwargs = expectation.configuration.kwargs
        if any("column" in k and k not in _COLUMN_KWARGS for k in kwargs):
            return None
        columns.update(kwargs[k] for k in _COLUMN_KWARGS if k in kwargs)
    return columns


def run_validation(suite_name: str, frame, parameters: dict[str, Any] | None = None):
    """Validate `frame` with suite `suite_name`; results are stored (for Data Docs).

    GX gets only the columns the suite checks: it copies the whole batch frame for every
    expectation's domain, and an unchecked column (notes, ids without rules) only costs.
    """
    ctx = get_context()
    vd = validation_definition(ctx, suite_name)
    columns = checked_columns(vd.suite)
    if columns is not None and columns <= set(frame.columns):
        frame = frame[[c for c in frame.columns if c in columns]]
    return vd.run(
        batch_parameters={"dataframe": frame},
        expectation_parameters=parameters or {},
        result_format="COMPLETE",
    )


def build_docs(since: dt.datetime | None = None) -> Path:
    """Render the validations run since `since` (all kept ones when None) into the Data
    Docs site and refresh its index; returns index.html.

    GX's results store and the site keep only the latest ``gx_keep_validations`` results
    per suite (every result also stays in the warehouse's ``meta_gx_results``): rendering
    grows with what is kept, and a load must not get slower with every run before it.
    """
    ctx = get_context()
    settings = get_settings()
    docs = settings.path("gx_docs_dir")
    kept = prune_validation_results(ctx, settings.gx_keep_validations, docs / "validations")
    fresh = [k for k in kept if since is None or k.run_id.run_time >= since]
    ctx.build_data_docs(resource_identifiers=fresh or None)
    return docs / "index.html"


def prune_validation_results(ctx, keep: int, pages: Path) -> list:
    """Drop all but the newest `keep` results per suite from the store and their pages from
    the site (`pages`), with the folders that leaves empty; returns the kept keys.

    The folders matter: GX lists a store by walking its whole tree, several times a docs
    build, and a result's folders (suite/run/time) used to stay behind empty. After a few
    hundred loads thousands of them slowed every build, more with every run (figures in
    docs/performance.md). (Docs are built after the load lock is released: a second load
    validating at that very moment could find a folder GX just made for its result removed;
    that load then fails whole, loading nothing, and is run again: by the worker after
    inbox_retry_seconds, by hand after a CLI run.)
    """
    store = ctx.validation_results_store
    by_suite: dict[str, list] = {}
    for key in store.list_keys():
        by_suite.setdefault(key.expectation_suite_identifier.name, []).append(key)
    kept = []
    for keys in by_suite.values():
        keys.sort(key=lambda k: k.run_id.run_time)
        for old in keys[:-keep]:
            store.remove_key(old)
        kept.extend(keys[-keep:])
    wanted = {pages.joinpath(*k.to_tuple()).with_suffix(".html") for k in kept}
    for page in pages.rglob("*.html") if pages.exists() else []:
        if page not in wanted:
            page.unlink()
    for root in (Path(store.store_backend.full_base_directory), pages):
        remove_if_empty(Path(folder) for folder, _, _ in os.walk(root) if Path(folder) != root)
    return kept


__all__ = ["PROJECT_ROOT", "get_context", "run_validation", "write_suites", "build_docs"]
