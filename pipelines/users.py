"""Dashboard accounts, per-installation secrets and the audit trail (no Dash import).

Accounts and audit events live in one small SQLite file (setting `users_db`) beside the
warehouse, never inside it: a load publishes a new warehouse file with `os.replace`, which
would wipe anything stored there. SQLite because several dashboard workers and the CLI
write to it at once (short transactions, WAL, busy timeout).

Passwords are hashed with Argon2id (argon2-cffi's defaults). Secrets (session-cookie key,
pseudonym key) are random files created with mode 0600 on first use.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from pipelines.account_names import NameRefused, case_twin, check_username, shown
from pipelines.settings import Settings, get_settings

ROLES: tuple[str, ...] = ("owner", "therapist", "analyst")
DEMO_OWNER = "demo-owner"
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified when the user does not exist: a wrong name costs as long as a wrong password
    (made on first use, not at import: the load flow imports this module for `pseudonym`)."""
    return _HASHER.hash(secrets.token_urlsafe(16))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'therapist', 'analyst')),
    therapist_id TEXT,
    created_at TEXT NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0  -- bumped by passwd: old cookies stop working
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,            -- UTC, ISO 8601
    username TEXT,
    ip TEXT,
    event TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_login ON audit (event, username, ip, at);
CREATE TABLE IF NOT EXISTS sessions (  -- pipelines/sign_in.py
    token_hash TEXT PRIMARY KEY,  -- sha256 of the cookie's random token, never the token
    username TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (username);
"""


class UserError(ValueError):
    """A refused account operation; the message is for the user."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    therapist_id: str | None
    session_epoch: int = 0
    created_at: str = ""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(t: dt.datetime) -> str:
    return t.astimezone(dt.UTC).isoformat(timespec="microseconds")


# --- secrets --------------------------------------------------------------------------------


def read_or_create_secret(path: Path, n_bytes: int = 32) -> bytes:
    """The secret in `path`; a new random one (file mode 0600) when it does not exist."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        # O_EXCL: two processes starting at once cannot both write a different key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_hex(n_bytes) + "\n")
    text = path.read_text(encoding="ascii").strip()
    if not text:
        raise RuntimeError(f"{path} is empty: delete it to create a new secret")
    return bytes.fromhex(text)


def session_secret(settings: Settings | None = None) -> bytes:
    return read_or_create_secret((settings or get_settings()).path("session_secret_file"))


def pseudonym_secret(settings: Settings | None = None) -> bytes:
    return read_or_create_secret((settings or get_settings()).path("pseudonym_secret_file"))


def pseudonym(secret: bytes, kind: str, value: str, n_hex: int = 16) -> str:
    """Keyed hash of an id: HMAC-SHA256(secret, "<kind>:<value>"), first n_hex hex chars.
    The kind separates domains (a course pseudonym never equals a client's)."""
    return hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:n_hex]


# --- the store ------------------------------------------------------------------------------


class UserStore:
    """Accounts and audit events in the SQLite file `path` (created on first use)."""

    def __init__(self, path: Path | None = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.path = Path(path) if path is not None else self.settings.path("users_db")
        self._ready = False

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if not self.path.exists():  # password hashes and the audit: owner-only file
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        con = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            if not self._ready:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(_SCHEMA)
                self._ready = True
            yield con
        finally:
            con.close()

    # accounts

    def add(self, username: str, password: str, role: str, therapist_id: str | None = None) -> User:
        try:
            username = check_username(username)
        except NameRefused as exc:
            raise UserError(str(exc)) from exc
        if twin := case_twin(username, [u.username for u in self.list()]):
            raise UserError(f"{shown(username)} differs only in case from {twin}.")
        if role not in ROLES:
            raise UserError(f"Role must be one of {', '.join(ROLES)}.")
        if role == "therapist" and not (therapist_id or "").strip():
            raise UserError("A therapist account needs --therapist-id (e.g. T01).")
        if role != "therapist" and therapist_id:
            raise UserError("Only therapist accounts are linked to a therapist id.")
        self._check_password(password)
        try:
            with self.connect() as con:
                con.execute(
                    "INSERT INTO users (username, password_hash, role, therapist_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (username, _HASHER.hash(password), role, therapist_id, iso_utc(utc_now())),
                )
        except sqlite3.IntegrityError as exc:
            raise UserError(f"User {username!r} already exists.") from exc
        return self.get(username)  # type: ignore[return-value]

    def remove(self, username: str) -> None:
        with self.connect() as con:
            if con.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                raise UserError(f"No user {username!r}.")
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))

    def set_password(self, username: str, password: str) -> None:
        self._check_password(password)
        with self.connect() as con:
            cur = con.execute(
                "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1"
                " WHERE username = ?",
                (_HASHER.hash(password), username),
            )
            if cur.rowcount == 0:
                raise UserError(f"No user {username!r}.")
            con.execute("DELETE FROM sessions WHERE username = ?", (username,))  # everywhere

    def get(self, username: str) -> User | None:
        with self.connect() as con:
            row = con.execute(
                "SELECT username, role, therapist_id, session_epoch, created_at FROM users"
                " WHERE username = ?",
                (username,),
            ).fetchone()
        return User(*row) if row else None

    def list(self) -> list[User]:
        with self.connect() as con:
            rows = con.execute(
                "SELECT username, role, therapist_id, session_epoch, created_at FROM users"
                " ORDER BY username"
            ).fetchall()
        return [User(*r) for r in rows]

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (same work for unknown names)."""
        with self.connect() as con:
            row = con.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        try:
            _HASHER.verify(row[0] if row else _dummy_hash(), password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self.get(username) if row else None

    def _check_password(self, password: str) -> None:
        if len(password) < self.settings.password_min_length:
            raise UserError(
                f"A password needs at least {self.settings.password_min_length} characters "
                "(setting password_min_length)."
            )

    # audit

    def record(
        self, event: str, username: str | None, ip: str | None = None, detail: str = ""
    ) -> None:
        """Add an event; `detail` is kept whole (a cut could hide what was done)."""
        with self.connect() as con:
            con.execute(
                "INSERT INTO audit (at, username, ip, event, detail) VALUES (?, ?, ?, ?, ?)",
                (iso_utc(utc_now()), username, ip, event, detail),
            )

    def audit_events(self, limit: int = 1000) -> list[dict[str, str | None]]:
        with self.connect() as con:
            cur = con.execute(
                "SELECT at, username, ip, event, detail FROM audit ORDER BY id DESC LIMIT ?",
                (int(limit),),
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def ensure_demo_owner(settings: Settings | None = None) -> str:
    """Create the owner account `demo-owner`, or give it a new password if it exists, and
    return the random password (to be printed once). New on every `outcomes demo` run, so
    whoever runs the demo always knows it; older demo sessions end with the change."""
    store = UserStore(settings=settings)
    password = secrets.token_urlsafe(12)
    if store.get(DEMO_OWNER) is None:
        store.add(DEMO_OWNER, password, "owner")
    else:
        store.set_password(DEMO_OWNER, password)
    return password
