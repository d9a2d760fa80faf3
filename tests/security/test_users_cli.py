"""`outcomes users add|list|passwd|remove` as a user runs them, and the accounts file:
Argon2id hashes, mode 0600, clear refusals; the demo owner's one-time password."""

from __future__ import annotations

import sqlite3
import stat

import pytest
from security_support import users_cli

from pipelines.settings import Settings
from pipelines.users import DEMO_OWNER, UserStore, ensure_demo_owner


@pytest.fixture
def users_env(tmp_path, sec_warehouse) -> dict[str, str]:
    # the warehouse: `users add --therapist-id` checks the id is a therapist there (T01 is)
    return {"OUTCOMES_USERS_DB": str(tmp_path / "users.db"), "OUTCOMES_DB": str(sec_warehouse)}


_users = users_cli


def test_users_lifecycle(users_env, tmp_path):
    added = _users(users_env, "add", "maria", "--role", "owner", "--password-stdin",
                   password="a-long-password")  # fmt: skip
    assert added.returncode == 0 and "added maria: owner" in added.stdout
    t = _users(users_env, "add", "tom", "--role", "therapist", "--therapist-id", "T01",
               "--password-stdin", password="tom-password-1")  # fmt: skip
    assert "added tom: therapist (therapist T01)" in t.stdout

    listed = _users(users_env, "list")
    assert listed.returncode == 0
    assert "maria\towner\t-" in listed.stdout and "tom\ttherapist\tT01" in listed.stdout
    assert "argon2" not in listed.stdout and "a-long-password" not in listed.stdout

    db = tmp_path / "users.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT password_hash FROM users WHERE username='maria'").fetchone()
    assert stored[0].startswith("$argon2id$") and "a-long-password" not in stored[0]

    store = UserStore(db, Settings(users_db=db))
    assert store.verify("maria", "a-long-password").role == "owner"
    assert _users(users_env, "passwd", "maria", "--password-stdin",
                  password="another-long-one").returncode == 0  # fmt: skip
    assert store.verify("maria", "a-long-password") is None
    assert store.verify("maria", "another-long-one") is not None

    assert _users(users_env, "remove", "tom").returncode == 0
    assert "tom" not in _users(users_env, "list").stdout


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["add", "x", "--role", "owner"], "short", "at least 10 characters"),
        (["add", "x", "--role", "admin"], "long-enough-pw", "Role must be one of"),
        (["add", "x", "--role", "therapist"], "long-enough-pw", "needs --therapist-id"),
        (["add", "x", "--role", "analyst", "--therapist-id", "T01"], "long-enough-pw",
         "Only therapist accounts"),
        (["passwd", "nobody"], "long-enough-pw", "No user 'nobody'"),
        (["remove", "nobody"], None, "No user 'nobody'"),
    ],
)  # fmt: skip
def test_refusals_are_clear(users_env, args, password, message):
    extra = ["--password-stdin"] if password is not None else []
    proc = _users(users_env, *args, *extra, password=password)
    assert proc.returncode == 1
    assert message in proc.stderr


def test_duplicate_user_refused(users_env):
    assert _users(users_env, "add", "dup", "--role", "analyst", "--password-stdin",
                  password="long-enough-pw").returncode == 0  # fmt: skip
    again = _users(users_env, "add", "dup", "--role", "analyst", "--password-stdin",
                   password="long-enough-pw")  # fmt: skip
    assert again.returncode == 1 and "already exists" in again.stderr


def test_demo_owner_gets_a_new_random_password_each_run(tmp_path):
    settings = Settings(users_db=tmp_path / "users.db")
    store = UserStore(settings=settings)
    first = ensure_demo_owner(settings)
    assert len(first) >= settings.password_min_length
    assert store.verify(DEMO_OWNER, first).role == "owner"
    second = ensure_demo_owner(settings)
    assert second != first
    assert store.verify(DEMO_OWNER, first) is None and store.verify(DEMO_OWNER, second)
