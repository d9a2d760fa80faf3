"""The scripts, styles and fonts GX Data Docs load from CDNs, shipped with the project.

GX 1.24.1's page templates (great_expectations/render/view/templates: js_script_imports.j2,
page.j2, page_minimal.j2, index_page.j2, top_navbar.j2) reference the URLs in `ASSETS`; the
app serves each from dashboard/gx_docs_assets/ instead (dashboard.gx_docs rewrites the pages),
so the Data Docs work offline and under a Content-Security-Policy without other hosts.

The files are the npm registry's packages, unchanged (popper and bootstrap match the
Subresource-Integrity hashes in GX's templates). Fetch them again, e.g. after a GX upgrade
changes the URLs, with ``python -m dashboard.gx_docs_vendor`` (needs `npm`).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "gx_docs_assets"
LOCAL_PREFIX = "/gx-docs/_vendor/"

_JSDELIVR, _CDNJS, _UNPKG = (
    "https://cdn.jsdelivr.net/npm/",
    "https://cdnjs.cloudflare.com/ajax/libs/",
    "https://unpkg.com/",
)
_FILTER = "dist/extensions/filter-control/bootstrap-table-filter-control"
_DATEPICKER = "bootstrap-datepicker/1.9.0/"
# CDN URL in GX's templates -> (npm package@version, file inside the package)
ASSETS: dict[str, tuple[str, str]] = {
    f"{_JSDELIVR}vega@5": ("vega@5.33.1", "build/vega.min.js"),
    f"{_JSDELIVR}vega-lite@5": ("vega-lite@5.23.0", "build/vega-lite.min.js"),
    f"{_JSDELIVR}vega-embed@6": ("vega-embed@6.29.0", "build/vega-embed.min.js"),
    f"{_CDNJS}font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0",
        "css/all.min.css",
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": ("jquery@3.7.1", "dist/jquery.min.js"),
    f"{_CDNJS}popper.js/1.12.9/umd/popper.min.js": ("popper.js@1.12.9", "dist/umd/popper.min.js"),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap@4.3.1",
        "dist/js/bootstrap.min.js",
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap@4.3.1",
        "dist/css/bootstrap.min.css",
    ),
    f"{_UNPKG}bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.js",
    ),
    f"{_UNPKG}bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table@1.19.1",
        "dist/bootstrap-table.min.css",
    ),
    f"{_UNPKG}bootstrap-table@1.19.1/{_FILTER}.min.js": (
        "bootstrap-table@1.19.1",
        f"{_FILTER}.min.js",
    ),
    f"{_UNPKG}bootstrap-table@1.19.0/{_FILTER}.css": ("bootstrap-table@1.19.0", f"{_FILTER}.css"),
    f"{_UNPKG}bootstrap-table@1.19.0/{_FILTER}.min.css": (
        "bootstrap-table@1.19.0",
        f"{_FILTER}.min.css",
    ),
    f"{_CDNJS}{_DATEPICKER}css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker@1.9.0",
        "dist/css/bootstrap-datepicker.min.css",
    ),
    f"{_CDNJS}{_DATEPICKER}js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker@1.9.0",
        "dist/js/bootstrap-datepicker.min.js",
    ),
    f"{_JSDELIVR}@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark@1.1.0",
        "dist/css/bootstrap-prefers-dark.css",
    ),
}
# Files the assets load in turn (font-awesome's css: ../webfonts/*.woff2; browsers take the
# woff2 and never ask for the .ttf also listed), and each package's licence where it has one.
EXTRA_FILES: dict[str, tuple[str, ...]] = {
    "@fortawesome/fontawesome-free@6.6.0": tuple(
        f"webfonts/fa-{name}.woff2"
        for name in ("brands-400", "regular-400", "solid-900", "v4compatibility")
    ),
}
LICENCE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md")
# The navbar's logo comes from GX's own bucket; the same image is in the site's static/images.
LOGO_BUCKET = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
LOGO_LOCAL = "/gx-docs/static/images/"


def folder(package: str) -> str:
    """Where a package's files live under ASSETS_DIR: "@scope/name@1.0" -> "name-1.0"."""
    name, version = package.rsplit("@", 1)
    return f"{name.rsplit('/', 1)[-1]}-{version}"


def local_url(cdn_url: str) -> str:
    package, file = ASSETS[cdn_url]
    return f"{LOCAL_PREFIX}{folder(package)}/{file}"


def fetch(target: Path = ASSETS_DIR) -> list[Path]:
    """Download every package with `npm pack` and copy the files used into `target`."""
    wanted: dict[str, set[str]] = {}
    for package, file in ASSETS.values():
        wanted.setdefault(package, set()).add(file)
    for package, files in EXTRA_FILES.items():
        wanted[package].update(files)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for package, files in sorted(wanted.items()):
            out = subprocess.run(["npm", "pack", package, "--silent"], cwd=tmp, check=True,
                                 capture_output=True, text=True).stdout.split()[-1]  # fmt: skip
            with tarfile.open(Path(tmp) / out) as tar:
                tar.extractall(Path(tmp) / folder(package), filter="data")
            root = Path(tmp) / folder(package) / "package"
            licences = [n for n in LICENCE_NAMES if (root / n).exists()]
            for file in sorted(files) + licences[:1]:
                dest = target / folder(package) / file
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(root / file, dest)
                written.append(dest)
    return written


if __name__ == "__main__":
    for path in fetch():
        print(path.relative_to(ASSETS_DIR.parent), path.stat().st_size)
