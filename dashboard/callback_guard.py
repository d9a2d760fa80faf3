"""One gate in front of every Dash callback (docs/security.md, "Crafted requests").

A POST to /_dash-update-component is a plain JSON request anyone signed in can craft. Before
Dash reads it, `check_callback_request` refuses with HTTP 400 a body that is not the shape
Dash's renderer sends (an unknown output, inputs that are not the callback's own, a body
that is not JSON or nests too deep) and any input or state value whose type is not the one
the callback declares: its parameter annotations (`search: str | None`), or for Dash's own
page router, which has none, `PROPERTY_TYPES`. A callback therefore never runs with a list
where it expects a string; an annotation this gate cannot read refuses everything (fail
closed), and tests/security/test_crafted_requests.py sends every callback a corpus of wrongly
typed values.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from typing import Any, Literal, Union

import dash
import flask
from werkzeug.exceptions import HTTPException

CALLBACK_PATH = "/_dash-update-component"
# Inputs of callbacks we do not write (Dash's page router): property -> type.
PROPERTY_TYPES: dict[str, Any] = {"pathname": str | None, "search": str | None}
# ... and what the router needs beyond the type (it raises on a path without a leading "/").
PROPERTY_CHECKS: dict[str, Any] = {"pathname": lambda path: path is None or path.startswith("/")}


def _text_ok(value: str) -> bool:
    """A string that is real Unicode (a lone surrogate from JSON's \\ud800 is not)."""
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True


def fits(value: Any, expected: Any) -> bool:
    """Whether a JSON value has the annotated type (str, int, float, bool, None, list[...],
    dict[str, ...], Literal[...] of strings, unions, Any); unknown annotations never fit."""
    if expected is Any:
        return True
    if typing.get_origin(expected) is Literal:  # one of a few known values (a metric name)
        return isinstance(value, str) and value in typing.get_args(expected)
    if expected is None or expected is type(None):
        return value is None
    origin, args = typing.get_origin(expected), typing.get_args(expected)
    if origin in (Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if expected is list or origin is list:
        item = args[0] if args else Any
        return isinstance(value, list) and all(fits(v, item) for v in value)
    if expected is dict or origin is dict:
        item = args[1] if args else Any
        return isinstance(value, dict) and all(
            isinstance(k, str) and _text_ok(k) and fits(v, item) for k, v in value.items()
        )
    if expected is str:
        return isinstance(value, str) and _text_ok(value)
    if expected is bool:
        return isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


@functools.cache
def _parameter_types(func: Any) -> tuple[Any, ...] | None:
    """The annotated types of a callback's positional parameters; None if it has none."""
    inner = inspect.unwrap(func)
    hints = typing.get_type_hints(inner)
    params = [
        p for p in inspect.signature(inner).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]  # fmt: skip
    if not any(p.name in hints for p in params):
        return None
    return tuple(hints.get(p.name, object) for p in params)  # object: unannotated, never fits


def _is_prop(item: Any) -> bool:
    return isinstance(item, dict) and isinstance(item.get("id"), str) and (
        isinstance(item.get("property"), str)
    )  # fmt: skip


def _problem(app: dash.Dash, body: Any) -> str | None:
    """Why `body` is not a request for one of `app`'s callbacks, or None when it is."""
    if not isinstance(body, dict) or not isinstance(body.get("output"), str):
        return "not a Dash callback request"
    entry = app.callback_map.get(body["output"])
    if entry is None or "callback" not in entry:
        return "no such callback"
    outputs, several = body.get("outputs"), body["output"].startswith("..")
    # one output: a dict; several ("..a.x...b.y.."): a list of as many, as Dash's renderer sends
    if several != isinstance(outputs, list):
        return "malformed outputs"
    outputs = outputs if several else [outputs]
    wanted = body["output"].strip(".").count("...") + 1 if several else 1
    if len(outputs) != wanted or not all(_is_prop(output) for output in outputs):
        return "malformed outputs"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(prop_id, str) for prop_id in changed):
        return "malformed changedPropIds"
    declared = [*entry["inputs"], *entry["state"]]
    sent_inputs, sent_state = body.get("inputs"), body.get("state", [])
    if not isinstance(sent_inputs, list) or not isinstance(sent_state, list):
        return "malformed inputs"
    sent = [*sent_inputs, *sent_state]
    if len(sent_inputs) != len(entry["inputs"]) or len(sent) != len(declared):
        return "inputs are not the callback's own"
    for item, want in zip(sent, declared, strict=True):
        if not _is_prop(item) or (item["id"], item["property"]) != (want["id"], want["property"]):
            return "inputs are not the callback's own"
    types_ = _parameter_types(entry["callback"])
    for i, (item, want) in enumerate(zip(sent, declared, strict=True)):
        if types_ is not None:
            expected = types_[i] if i < len(types_) else object
        else:
            expected = PROPERTY_TYPES.get(want["property"], object)
        check = PROPERTY_CHECKS.get(want["property"]) if types_ is None else None
        value = item.get("value")
        if not fits(value, expected) or (check is not None and not check(value)):
            return f"{want['id']}.{want['property']} has the wrong type or value"
    return None


def check_callback_request(app: dash.Dash) -> Any:
    """Flask before_request hook: HTTP 400 for a malformed callback request."""
    if flask.request.path != CALLBACK_PATH or flask.request.method != "POST":
        return None
    try:
        body = flask.request.get_json(silent=False)
    except (HTTPException, RecursionError):  # not JSON, or nested deeper than Python goes
        body = None
    try:
        problem = _problem(app, body)
    except RecursionError:  # a value nested too deep to check
        problem = "value nested too deep"
    if problem is not None:
        return flask.jsonify(error=f"Bad callback request: {problem}."), 400
    return None


def init_app(app: dash.Dash) -> None:
    app.server.before_request(functools.partial(check_callback_request, app))
