"""Every page layout and every callback of the app declares which roles may use it, so a
page or callback added later without a role check fails here (docs/security.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from pipelines.settings import PROJECT_ROOT

_SCRIPT = """
import json
import dash
import dash._callback as cb
from dashboard.app import create_app
from dashboard.auth import PAGE_ROLES

create_app()
print(json.dumps({
    "pages": {p["path"]: getattr(p["layout"], "roles", None)
              for p in dash.page_registry.values()},
    "callbacks": {k: getattr(v["callback"], "roles", None)
                  for k, v in cb.GLOBAL_CALLBACK_MAP.items()},
    "declared": dict(PAGE_ROLES),
}))
"""


def test_every_page_and_callback_has_roles(sec_paths):
    # a separate process: create_app registers pages globally (once per process)
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
        env={**os.environ, **sec_paths.env()},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    # the roles each page declares in dash.register_page, read once the pages are registered
    PAGE_ROLES = {path: tuple(roles) for path, roles in found["declared"].items()}
    assert {path: tuple(r) for path, r in found["pages"].items() if r} == PAGE_ROLES
    assert set(found["pages"]) == set(PAGE_ROLES)
    missing = [key for key, roles in found["callbacks"].items() if not roles]
    assert found["callbacks"] and missing == []
