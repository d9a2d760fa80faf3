"""Environment Prefect needs before it is imported (shared/notes/dependencies.md).

By default the CLI runs flows against a temporary local Prefect API that Prefect
starts itself. To use a long-running server instead, start `prefect server start`
and export ``PREFECT_API_URL=http://127.0.0.1:4200/api``; nothing else changes.
"""

from __future__ import annotations

import os

from pipelines.settings import Settings

DEFAULTS = {
    # analytics on a fresh PREFECT_HOME make the server fail with "database is locked"
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # the temporary server needs ~25 s to start on a new home on a 2-core machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def configure_prefect(settings: Settings) -> None:
    """Set Prefect's environment unless the user already chose (call before importing it)."""
    home = settings.path("prefect_home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)
