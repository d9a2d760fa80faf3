"""Fixtures of the security tests (docs/security.md).

One warehouse built by the real pipeline from shared/examples (clients C001 and C002 with
therapists T01 and T02; C003 has no session) with its analysts' copy, made with this
session's pseudonym key; accounts of every role in a temporary users DB, and one real app
process for the session, started with settings pointing at those files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from security_support import ACCOUNTS, Client, SecurityPaths, app_with_env

from pipelines.users import UserStore


@pytest.fixture(scope="session")
def sec_paths(tmp_path_factory) -> SecurityPaths:
    root = tmp_path_factory.mktemp("sec")
    return SecurityPaths(root, root / "users.db", root / "session.key", root / "pseudonym.key")


@pytest.fixture(scope="session")
def sec_store(sec_paths) -> UserStore:
    store = UserStore(settings=sec_paths.settings())
    for name, (password, role, therapist) in ACCOUNTS.items():
        store.add(name, password, role, therapist)
    return store


@pytest.fixture(scope="session")
def sec_warehouse(tmp_path_factory, module_cli, prefect_api, examples_dir, sec_paths) -> Path:
    """The example warehouse (real `outcomes ingest`) with its analysts' copy, made with
    this session's pseudonym key."""
    db = tmp_path_factory.mktemp("sec-warehouse") / "warehouse.duckdb"
    module_cli("ingest", str(examples_dir), "--db", str(db), api_url=prefect_api,
               **sec_paths.env())  # fmt: skip
    return db


@pytest.fixture(scope="session")
def sec_url(sec_warehouse, sec_paths, sec_store) -> Iterator[str]:
    with app_with_env(sec_warehouse, sec_paths.env()) as url:
        yield url


@pytest.fixture
def client_for(sec_url):
    """client_for(name) -> a Client signed in as that account (through the real form)."""

    def make(name: str | None = None) -> Client:
        c = Client(sec_url)
        if name is not None:
            resp = c.login(name, ACCOUNTS[name][0])
            assert resp.status == 302, resp.body
        return c

    return make
