"""What is wrong with a delivery file, in words safe to show to every role.

A rejection message reaches `load_log` (an analyst view) and the dashboard's Overview (every
role), so it names what is wrong — counts, line numbers, the contract's own column names,
the expected header — and never quotes a file's contents: no cell, no line, no header cell
that might be data, no parser's own message (those quote the line they stopped at). File
names are shown with their control characters escaped (docs/security.md, "Hostile files").
"""

from __future__ import annotations

import re

from pipelines.schema import ENTITIES


class FileRejected(Exception):
    """The whole file is refused; the message says which file and why."""


def display_name(text: str) -> str:
    """`text` with every character Python does not call printable (terminal escapes, line
    breaks, bidirectional overrides, undecodable bytes) written as a ``\\x``/``\\u`` escape:
    safe to print to a terminal, log or store for display. Plain names are unchanged."""
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if ch in named:
        return named[ch]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


UNKNOWN_SHOWN = 5
"""At most this many unknown column names are shown in the 'ignored' note."""
NAME_WIDTH = 32
"""A shown column name is cut to this many characters."""
_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]*")


def unknown_columns_note(names: list[str]) -> str:
    """The note on a loaded file's ignored columns: their count and the first few names.

    Only plain names (letters, digits, underscore, from a letter: how columns are named) are
    shown, each cut to NAME_WIDTH characters; a header cell such as "marek o." or
    "1980-08-20" is data, and is counted, not shown."""
    if not names:
        return ""
    plain = [n for n in names if _PLAIN_NAME.fullmatch(n)]
    shown = [n if len(n) <= NAME_WIDTH else n[:NAME_WIDTH] + "…" for n in plain[:UNKNOWN_SHOWN]]
    note = f"ignored {len(names):,} unknown column(s)"
    if shown:
        note += ": " + ", ".join(shown)
    more_plain = len(plain) - len(shown)
    hidden = len(names) - len(plain)
    if more_plain and hidden:
        note += f" and {more_plain + hidden:,} more ({hidden:,} not shown: not plain column names)"
    elif more_plain:
        note += f" and {more_plain:,} more"
    elif hidden:
        note += f"{' and' if shown else ','} {hidden:,} more not shown (not plain column names)"
    return note


def missing_columns(file_name: str, entity: str, columns: list[str], missing: list[str]) -> str:
    """A file without every required column: which are missing, how many columns the file
    has and which of them the entity knows, and the header expected."""
    contract = ENTITIES[entity]
    known = [c for c in columns if c in contract.column_names]
    found = (
        f"{len(known)} of them {entity} column(s) ({', '.join(known)})"
        if known
        else f"none of them a {entity} column — is the header row missing?"
    )
    return (
        f"{file_name}: missing required column(s) {', '.join(missing)} for {entity}; "
        f"the file has {len(columns)} column(s), {found} "
        f"(expected header: {', '.join(contract.column_names)}; "
        f"required: {', '.join(contract.required)})"
    )


def duplicate_columns(file_name: str, entity: str, dupes: list[str]) -> str:
    """Column names that repeat: the entity's own are named, the others only counted."""
    contract = ENTITIES[entity].column_names
    named = [d for d in dupes if d in contract]
    others = len(dupes) - len(named)
    what = ", ".join(named)
    if others:
        what += f"{' and ' if named else ''}{others} other name(s) not shown (not {entity} columns)"
    return (
        f"{file_name}: duplicate column name(s) {what} "
        "(names are compared trimmed and case-insensitively)"
    )


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_OPEN_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_FORMAT_WORDS = {
    "csv": "the file cannot be parsed as CSV",
    "jsonl": "the file cannot be parsed as JSON lines",
    "xlsx": "not a readable .xlsx workbook (damaged, or another format under this name)",
    "parquet": "not a readable Parquet file (damaged, cut short, or another format)",
}


def unreadable(file_name: str, fmt: str, exc: BaseException) -> str:
    """A parser's failure in our words: a parser's own message may quote the line it
    stopped at, so only its numbers are kept (for the errors we know) and its type."""
    text = str(exc)
    if fields := _FIELDS.search(text):
        expected, line, saw = fields.groups()
        why = f"line {line} has {saw} fields where the header has {expected}"
    elif quote := _OPEN_QUOTE.search(text):
        why = f"a quoted value opened in record {quote.group(1)} is never closed"
    else:
        why = _FORMAT_WORDS.get(fmt, "the file cannot be read")
    return f"cannot read {file_name} as {fmt}: {why} ({type(exc).__name__})"
