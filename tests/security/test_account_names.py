"""`outcomes users add` refuses hostile account names and therapist ids it cannot find in the
warehouse, through the real CLI (docs/security.md, "Accounts and sign-in"). Names are
generated: every control and invisible format character, lookalike letters of another script
swapped into real names, and the punctuation a shell or a log would trip on."""

from __future__ import annotations

import csv
import itertools
from concurrent.futures import ThreadPoolExecutor

import pytest
from security_support import users_cli

from pipelines.settings import Settings
from pipelines.users import UserError, UserStore

PASSWORD = "long-enough-pw"
# Latin letter -> lookalikes in other scripts (Cyrillic, Greek)
LOOKALIKES = {"a": "аα", "o": "оο", "e": "е", "p": "рρ", "c": "с", "x": "хχ", "i": "іι", "s": "ѕ"}
REAL_NAMES = ("olga", "tess", "owner", "maria", "admin", "demo-owner")
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e", "\u2066", "\u00ad"]


def _control_names() -> list[str]:
    controls = [chr(c) for c in itertools.chain(range(0, 32), [127], range(0x80, 0xA0))]
    # (NUL cannot be passed in argv at all: test_store_refuses_what_the_cli_refuses has it)
    return [f"ol{c}ga" for c in controls if c != "\x00"] + [f"ol{c}ga" for c in INVISIBLE]


def _lookalike_names() -> list[str]:
    """Each real name with one Latin letter swapped for a lookalike of another script."""
    out = []
    for name in REAL_NAMES:
        for i, ch in enumerate(name):
            out += [name[:i] + alike + name[i + 1 :] for alike in LOOKALIKES.get(ch, "")]
    return out


OTHER_BAD = [
    "", "-rf", ".hidden", "a" * 65, "olga tess", "olga/../x", "olga\\x", "olga:x", "olga'x",
    'olga"x', "<olga>", "olga;x", "olga$x", "olga%0a", "olga😀", "olga١", "olga１", "ｏｌｇａ",
    "olgа", "Ольгa",
]  # fmt: skip
GOOD = ["maria", "dr.olga-k_2", "olga@clinic", "Ольга", "Μαρία", "józef", "李雷", "T-01"]


def _users(env: dict[str, str], *args: str, password: str | None = PASSWORD):
    return users_cli(env, *args, password=password)


@pytest.fixture
def env(tmp_path, sec_warehouse) -> dict[str, str]:
    return {"OUTCOMES_USERS_DB": str(tmp_path / "users.db"), "OUTCOMES_DB": str(sec_warehouse)}


def test_hostile_names_are_refused_and_nothing_is_added(env):
    names = _control_names() + _lookalike_names() + OTHER_BAD
    assert len(names) > 90

    def add(name: str):
        # after "--": a name like "-rf" reaches the check instead of Click's option parser
        return name, _users(env, "add", "--role", "analyst", "--password-stdin", "--", name)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(add, names))
    for name, proc in results:
        assert proc.returncode == 1, (name, proc.stdout)
        assert "refused: " in proc.stderr and "user name" in proc.stderr, (name, proc.stderr)
        shown = proc.stderr.replace("\n", "")
        assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in shown), repr(proc.stderr)
    listed = _users(env, "list", password=None)
    assert "no accounts yet" in listed.stdout


def test_lookalike_is_named_as_mixed_scripts(env):
    proc = _users(env, "add", "оlga", "--role", "analyst", "--password-stdin")
    assert proc.returncode == 1
    assert "mixes scripts" in proc.stderr and "CYRILLIC" in proc.stderr and "LATIN" in proc.stderr


def test_sane_names_of_one_script_are_accepted(env):
    for name in GOOD:
        proc = _users(env, "add", name, "--role", "analyst", "--password-stdin")
        assert proc.returncode == 0, (name, proc.stderr)
    listed = _users(env, "list", password=None).stdout
    assert all(f"{name}\tanalyst" in listed for name in GOOD)
    again = _users(env, "add", "Maria", "--role", "analyst", "--password-stdin")
    assert again.returncode == 1 and "differs only in case from maria" in again.stderr


UNKNOWN_IDS = ["T99", "t01", "T1", "T001", " T01", "T01 ", "T01\n", "' OR 1=1 --", "%", "T0_"]


def test_unknown_therapist_ids_are_refused(env):
    for n, tid in enumerate(UNKNOWN_IDS):
        proc = _users(env, "add", f"tina{n}", "--role", "therapist", "--therapist-id", tid,
                      "--password-stdin")  # fmt: skip
        assert proc.returncode == 1, (tid, proc.stdout)
        assert "is not a therapist in the warehouse" in proc.stderr, proc.stderr
        assert 'outcomes sql "SELECT therapist_id, name FROM therapists"' in proc.stderr
    assert "no accounts yet" in _users(env, "list", password=None).stdout
    ok = _users(env, "add", "tina", "--role", "therapist", "--therapist-id", "T02",
                "--password-stdin")  # fmt: skip
    assert ok.returncode == 0 and "(therapist T02)" in ok.stdout


def test_therapist_id_needs_a_warehouse(env, tmp_path, sec_warehouse):
    missing = tmp_path / "nowhere.duckdb"
    proc = _users(env, "add", "tina", "--role", "therapist", "--therapist-id", "T01",
                  "--db", str(missing), "--password-stdin")  # fmt: skip
    assert proc.returncode == 1 and f"no warehouse at {missing}" in proc.stderr
    assert not missing.exists()  # read-only: nothing created
    elsewhere = {**env, "OUTCOMES_DB": str(missing)}  # --db wins over the setting
    ok = _users(elsewhere, "add", "tina", "--role", "therapist", "--therapist-id", "T01",
                "--db", str(sec_warehouse), "--password-stdin")  # fmt: skip
    assert ok.returncode == 0, ok.stderr


def test_help_shows_a_real_therapist_id(env, examples_dir):
    with (examples_dir / "therapists.csv").open(encoding="utf-8") as f:
        real_ids = {row["therapist_id"] for row in csv.DictReader(f)}
    text = _users(env, "add", "--help", password=None).stdout
    assert any(f"e.g. {tid}" in text for tid in real_ids), text
    assert "SELECT therapist_id" in text


def test_store_refuses_what_the_cli_refuses(tmp_path):
    """The same rules in UserStore.add (the CLI's only way in), NUL included."""
    store = UserStore(tmp_path / "users.db", Settings(users_db=tmp_path / "users.db"))
    for name in ["ol\x00ga", *_control_names(), *_lookalike_names(), *OTHER_BAD]:
        with pytest.raises(UserError, match="user name"):
            store.add(name, PASSWORD, "analyst")
    assert store.list() == []
