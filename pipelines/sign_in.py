"""Sign-in state kept in users_db: the rate limit's attempts and server-side sessions.

Rate limit: the check and the record are one step. `start_login` counts the user's recent
failed *and still running* attempts and records its own attempt inside one SQLite
`BEGIN IMMEDIATE` transaction (a write lock on the file), so parallel guesses, from threads
or from several worker processes, are admitted one at a time and at most
`login_max_failures` of them ever reach the password check. `finish_login` then marks the
attempt `login_ok` or `login_failed`. An attempt whose process died before that stays
`login_checking` and keeps counting as a failure until the window has passed.

Sessions: the cookie carries a random token; the store keeps only its sha256 with the user
name, creation and last-seen times. Signing out revokes that one session (the user's other
browsers stay signed in); `users passwd` and `users remove` delete all of the user's
sessions (pipelines/users.py). A session also ends `session_max_age_s` after sign-in,
whatever the cookie says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from pipelines.users import User, UserStore, iso_utc, utc_now

CHECKING, FAILED, OK, REFUSED = "login_checking", "login_failed", "login_ok", "login_refused"
LAST_SEEN_EVERY_S = 60  # last_seen_at is refreshed at most this often (a write per request
# would make every page view wait for the file's write lock)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SignIns:
    """Attempts and sessions of one users_db (`store`)."""

    def __init__(self, store: UserStore) -> None:
        self.store = store

    # --- the rate limit ---------------------------------------------------------------------

    def start_login(self, username: str, ip: str | None, window_s: float, limit: int) -> int | None:
        """Record an attempt and return its id, or None (recorded as login_refused) when the
        user already has `limit` failed or running attempts from `ip` within `window_s`."""
        since = iso_utc(utc_now() - dt.timedelta(seconds=window_s))
        with self.store.connect() as con:
            con.execute("BEGIN IMMEDIATE")  # the write lock: count and insert as one step
            try:
                (recent,) = con.execute(
                    "SELECT count(*) FROM audit WHERE event IN (?, ?) AND username = ?"
                    " AND ip IS ? AND at >= ?",
                    (FAILED, CHECKING, username, ip, since),
                ).fetchone()
                admitted = recent < limit
                cur = con.execute(
                    "INSERT INTO audit (at, username, ip, event, detail) VALUES (?, ?, ?, ?, ?)",
                    (iso_utc(utc_now()), username, ip, CHECKING if admitted else REFUSED,
                     "" if admitted else "rate limit"),
                )  # fmt: skip
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return cur.lastrowid if admitted else None

    def finish_login(self, attempt: int, ok: bool) -> None:
        with self.store.connect() as con:
            con.execute(
                "UPDATE audit SET event = ? WHERE id = ? AND event = ?",
                (OK if ok else FAILED, attempt, CHECKING),
            )

    # --- sessions ---------------------------------------------------------------------------

    def open_session(self, username: str, max_age_s: float) -> str:
        """A new session of `username`; returns the token for the cookie. Sessions older than
        `max_age_s` (of every user) are deleted on the way."""
        token = secrets.token_urlsafe(32)
        now = utc_now()
        with self.store.connect() as con:
            con.execute(
                "DELETE FROM sessions WHERE created_at < ?",
                (iso_utc(now - dt.timedelta(seconds=max_age_s)),),
            )
            con.execute(
                "INSERT INTO sessions (token_hash, username, created_at, last_seen_at)"
                " VALUES (?, ?, ?, ?)",
                (_hash(token), username, iso_utc(now), iso_utc(now)),
            )
        return token

    def session_user(self, token: object, max_age_s: float) -> User | None:
        """The user of a live session (not revoked, not older than `max_age_s`, account still
        there), else None."""
        if not isinstance(token, str) or not token:
            return None
        now = utc_now()
        with self.store.connect() as con:
            row = con.execute(
                "SELECT username, last_seen_at FROM sessions WHERE token_hash = ?"
                " AND revoked_at IS NULL AND created_at >= ?",
                (_hash(token), iso_utc(now - dt.timedelta(seconds=max_age_s))),
            ).fetchone()
            if row is None:
                return None
            if row[1] < iso_utc(now - dt.timedelta(seconds=LAST_SEEN_EVERY_S)):
                con.execute(
                    "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?",
                    (iso_utc(now), _hash(token)),
                )
        return self.store.get(row[0])

    def revoke(self, token: object) -> None:
        """End one session (sign-out): its cookie, replayed later, signs no one in."""
        if isinstance(token, str) and token:
            with self.store.connect() as con:
                con.execute(
                    "UPDATE sessions SET revoked_at = ? WHERE token_hash = ?",
                    (iso_utc(utc_now()), _hash(token)),
                )
