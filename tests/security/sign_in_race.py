"""The worker of test_sign_in's cross-process race, in a module of its own: each spawned
process imports only this (not the test module, which pulls in Dash and Playwright)."""

from __future__ import annotations

import time
from pathlib import Path

from pipelines.settings import Settings
from pipelines.sign_in import SignIns
from pipelines.users import UserStore


def one_attempt(db: str, barrier) -> bool:
    """In a process of its own: try to start a sign-in of "proc" (as a gunicorn worker would)."""
    store = UserStore(Path(db), Settings(users_db=Path(db)))
    barrier.wait()
    attempt = SignIns(store).start_login("proc", "10.0.0.9", 300, 5)
    if attempt is not None:
        time.sleep(0.2)  # the password check, while the others knock
        SignIns(store).finish_login(attempt, ok=False)
    return attempt is not None
