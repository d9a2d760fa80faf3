"""Crafted requests get a clear 400 (or a normal answer), never a server error: every
registered Dash callback is sent a generated corpus of wrongly typed values for each of its
inputs and states, malformed bodies, and `next` targets with control characters
(docs/security.md, "Crafted requests")."""

from __future__ import annotations

import itertools
import urllib.request

import pytest
from security_support import Client

from dashboard.auth import SESSION_COOKIE

OK = {200, 204, 400}  # 204: Dash's "no update" (PreventUpdate)

HOSTILE_VALUES = [
    [], ["C001"], [["C001"]], {}, {"value": "C001"}, {"$ne": None},
    0, -1, 2**63, 1e308, 3.5, True, False, "", "C001", "x" * 1_000_000,
    "\ud800", "a\x00b", "C001\r\nX-Injected: 1", [{"label": 1}], [1, 2, 3],
    {"a": {"b": {"c": [None, {"d": []}]}}}, [[[[[[[[[[[]]]]]]]]]]],
]  # fmt: skip


def _dependencies(client: Client) -> list[dict]:
    resp = client.get("/_dash-dependencies")
    assert resp.status == 200
    return [d for d in resp.json() if not d.get("clientside_function")]


def _outputs(spec: dict) -> list[dict] | dict:
    """As Chromium sends them: a dict for one output, a list for several ("..a.x...b.y..")."""
    out = [o.split("@")[0] for o in spec["output"].strip(".").split("...")]
    props = [{"id": o.rsplit(".", 1)[0], "property": o.rsplit(".", 1)[1]} for o in out]
    return props if spec["output"].startswith("..") else props[0]


def _body(spec: dict, values: list) -> dict:
    props = [*spec["inputs"], *spec["state"]]
    items = [{"id": p["id"], "property": p["property"], "value": v} for p, v in
             zip(props, values, strict=True)]  # fmt: skip
    n = len(spec["inputs"])
    return {
        "output": spec["output"],
        "outputs": _outputs(spec),
        "inputs": items[:n],
        "state": items[n:],
        "changedPropIds": [f"{p['id']}.{p['property']}" for p in spec["inputs"]],
    }


def test_every_callback_refuses_wrongly_typed_values(client_for):
    olga = client_for("olga")  # an owner may run every callback
    specs = _dependencies(olga)
    assert len(specs) >= 8  # the pages' callbacks and Dash's page router
    failures, tried = [], 0
    for spec in specs:
        n = len(spec["inputs"]) + len(spec["state"])
        for position, value in itertools.product(range(n), HOSTILE_VALUES):
            values = [None] * n
            values[position] = value
            resp = olga.callback(_body(spec, values))
            tried += 1
            if resp.status not in OK:
                failures.append((spec["output"][:40], position, repr(value)[:40], resp.status))
    assert tried >= 8 * len(HOSTILE_VALUES)
    assert failures == []


def _crafted_bodies(spec: dict) -> list[object]:
    good = _body(spec, [None] * (len(spec["inputs"]) + len(spec["state"])))
    return [
        None, [], "x", 1, {}, {"output": 1}, {"output": "no-such.children"},
        {**good, "inputs": "x"}, {**good, "inputs": [1]}, {**good, "inputs": [[good["inputs"]]]},
        {**good, "inputs": []}, {**good, "state": {"x": 1}}, {**good, "outputs": "x"},
        {**good, "outputs": [1]}, {**good, "outputs": [good["outputs"]] * 2},
        {**good, "changedPropIds": [1]},
        {**good, "inputs": [{**good["inputs"][0], "id": "sql-input"}]},
        {**good, "inputs": [{**good["inputs"][0], "property": "children"}]},
    ]  # fmt: skip


def test_malformed_callback_bodies_are_refused(client_for, sec_url):
    olga = client_for("olga")
    specs = _dependencies(olga)
    for spec in specs:
        for body in _crafted_bodies(spec):
            resp = olga.callback(body)
            assert resp.status == 400, (body, resp.status, resp.body[:200])
    cookie = olga.cookie(SESSION_COOKIE).value
    for raw in (b"not json", b"[" * 100_000 + b"]" * 100_000, b'{"output": "\xff"}'):
        req = urllib.request.Request(
            sec_url + "/_dash-update-component", data=raw, method="POST",
            headers={"Content-Type": "application/json", "Cookie": f"{SESSION_COOKIE}={cookie}"},
        )  # fmt: skip
        try:
            status = urllib.request.urlopen(req, timeout=30).status
        except urllib.error.HTTPError as err:
            status = err.code
        assert status == 400, raw[:20]


CONTROL = [chr(c) for c in itertools.chain(range(0, 32), [127], range(0x80, 0xA0))]
NEXT_TARGETS = (
    [f"/cohorts{c}X-Injected: 1" for c in CONTROL]
    + [f"/cohorts%{ord(c):02x}X-Injected: 1" for c in CONTROL if ord(c) < 256]
    + ["/%0d%0aSet-Cookie: a=b", "/%0D%0ALocation: //evil.example", "/\u2028x", "/ü/ñ",
       "/%E2%80%A8", "/%c0%8a", "/" + "a" * 10_000]
)  # fmt: skip


@pytest.mark.parametrize("target", NEXT_TARGETS, ids=lambda t: repr(t[:24]))
def test_next_with_control_characters_is_refused_or_made_safe(client_for, target):
    c = client_for()
    page = c.get("/login?next=" + urllib.parse.quote(target, safe=""))
    assert page.status == 200
    resp = c.login("olga", "olga-password-1", next_path=target)
    assert resp.status in (302, 400), resp.status
    injected = {k.lower() for k in resp.headers} & {"x-injected", "set-cookie: a"}
    assert not injected
    if resp.status == 302:
        location = resp.headers["Location"]
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in location)
        assert location.startswith("/") and not location.startswith("//")
        assert "evil.example" not in location
