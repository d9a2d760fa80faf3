"""Serve the GX Data Docs under /gx-docs/ (owners only: dashboard.auth), offline and under a
Content-Security-Policy of their own (docs/security.md, "Data Docs").

GX's pages load bootstrap, jquery, bootstrap-table, vega and font-awesome from CDNs and run
inline scripts; the app's policy allows neither, and clinics are often offline. So, as each
page is served:

- every CDN URL is rewritten to the copy shipped in dashboard/gx_docs_assets/
  (dashboard.gx_docs_vendor), served under /gx-docs/_vendor/;
- the response carries `docs_policy(page)`: the app's strict policy plus the sha256 of the
  inline scripts (and `onclick` handlers) the page may run. GX writes row values into
  validation pages without escaping them (a value `<script>…` arrives as markup), so on those
  pages only scripts that are fixed text in GX's templates are allowed; a script made of data
  gets no hash and does not run. The index and suite pages are built from our own suite and
  run names, and all their inline scripts are allowed.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.util
import re
from html.parser import HTMLParser
from pathlib import Path

import flask
from werkzeug.security import safe_join

from dashboard.auth import content_security_policy
from dashboard.gx_docs_vendor import (
    ASSETS,
    ASSETS_DIR,
    LOCAL_PREFIX,
    LOGO_BUCKET,
    LOGO_LOCAL,
    local_url,
)
from pipelines.settings import get_settings

ROUTE = "/gx-docs/"
DATA_PAGES = "validations/"  # pages that quote rows: only GX's fixed scripts run there


class _InlineCode(HTMLParser):
    """Collects the inline scripts and inline event handlers of a page, as the browser sees
    them (script text raw, attribute values unescaped)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [v for k, v in attrs if k.startswith("on") and v]
        if tag == "script" and not any(k == "src" for k, _ in attrs):
            self._in_inline_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        if self._in_inline_script:
            self.scripts[-1] += data


def inline_code(html: str) -> _InlineCode:
    parser = _InlineCode()
    parser.feed(html.replace("\r\n", "\n"))  # browsers see LF only
    parser.close()
    return parser


def _sha256(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode() + "'"


@functools.cache
def template_code() -> frozenset[str]:
    """The inline scripts and handlers written as fixed text in GX's page templates (those
    without a Jinja expression in them): the only ones a validation page may run."""
    spec = importlib.util.find_spec("great_expectations")
    root = Path(next(iter(spec.submodule_search_locations)))  # no import: GX takes seconds
    fixed = set()
    for template in (root / "render" / "view" / "templates").glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        code = inline_code(text)
        fixed.update(c for c in code.scripts + code.handlers if "{{" not in c and "{%" not in c)
    return frozenset(fixed)


def rewrite(html: str) -> str:
    """The page with every CDN asset pointing at the shipped copy, and the site's own static
    files addressed from the site's root (GX's validation pages climb one folder too few to
    reach static/ for their favicon: a 404 on every page)."""
    for cdn_url in sorted(ASSETS, key=len, reverse=True):  # longest first: no prefix clashes
        html = html.replace(f'"{cdn_url}"', f'"{local_url(cdn_url)}"')
    html = re.sub(r'"(?:\./|(?:\.\./)+)static/', f'"{ROUTE}static/', html)
    return html.replace(LOGO_BUCKET, LOGO_LOCAL)


def docs_policy(page: str, html: str) -> str:
    """The Content-Security-Policy of one Data Docs page (its path under the docs folder)."""
    code = inline_code(html)
    if page.startswith(DATA_PAGES):
        allowed = template_code()
        scripts = [s for s in code.scripts if s in allowed]
        handlers = [h for h in code.handlers if h in allowed]
    else:
        scripts, handlers = code.scripts, code.handlers
    sources = sorted({_sha256(s) for s in scripts})
    if handlers:  # 'unsafe-hashes': only handlers with exactly these texts may run
        sources += ["'unsafe-hashes'", *sorted({_sha256(h) for h in handlers})]
    # the app's own policy otherwise: GX's pages are styled inline too ('unsafe-inline' styles)
    return content_security_policy(sources)


def _serve(path: str) -> flask.Response:
    if path.startswith(LOCAL_PREFIX.removeprefix(ROUTE)):
        return flask.send_from_directory(ASSETS_DIR, path.split("/", 1)[1])
    docs_dir = get_settings().path("gx_docs_dir")
    if not docs_dir.is_dir():
        flask.abort(404, f"No Data Docs at {docs_dir}: they are built by `outcomes ingest`.")
    if not path.endswith(".html"):
        return flask.send_from_directory(docs_dir, path)  # refuses paths outside docs_dir
    page = safe_join(str(docs_dir), path)
    if page is None or not Path(page).is_file():
        flask.abort(404)
    html = rewrite(Path(page).read_text(encoding="utf-8"))
    response = flask.Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = docs_policy(path, html)
    return response


def init_app(server: flask.Flask) -> None:
    server.add_url_rule(ROUTE, "gx_docs_index", _serve, defaults={"path": "index.html"})
    server.add_url_rule(ROUTE + "<path:path>", "gx_docs", _serve)
