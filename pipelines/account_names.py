"""Which account names and therapist links `outcomes users add` accepts (docs/security.md).

A user name is what the audit trail, the navbar and the Audit page show, so two accounts must
never look alike and a name must never carry hidden characters:

- 1-64 characters after Unicode NFC normalisation; starts with a letter or a digit;
- letters of **one** script (all Latin, or all Cyrillic, ...: "оlga" with a Cyrillic "о" is
  refused), ASCII digits 0-9, and `.` `-` `_` `@`; nothing else: no spaces, no control or
  invisible format characters (zero-width, bidi overrides), no combining marks, no
  compatibility forms (fullwidth "ｏｌｇａ"), no other punctuation or emoji;
- not equal, ignoring case, to an existing name.

A therapist account's `--therapist-id` must be a therapist in the warehouse, read read-only.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

MAX_LENGTH = 64
PUNCTUATION = frozenset(".-_@")
ASCII_DIGITS = frozenset("0123456789")
FIND_IDS = 'outcomes sql "SELECT therapist_id, name FROM therapists"'
RULE = (
    "A user name is 1-64 characters: letters of one script (e.g. all Latin), digits 0-9 and "
    ". - _ @, starting with a letter or digit"
)


class NameRefused(ValueError):
    """The message says what is wrong, with hidden characters shown escaped."""


def normalise(name: str) -> str:
    """The form names are stored and signed in with (NFC, no surrounding whitespace)."""
    return unicodedata.normalize("NFC", name.strip())


def shown(text: str) -> str:
    """`text` quoted, with every character that is not plainly visible escaped."""
    return "'" + "".join(c if c.isprintable() and c.isascii() or c.isalnum() else
                         c.encode("unicode_escape").decode() for c in text) + "'"  # fmt: skip


def _script(ch: str) -> str:
    """The script of a letter: the first word of its Unicode name (LATIN, CYRILLIC, CJK...)."""
    return unicodedata.name(ch, "UNKNOWN").split()[0]


def check_username(name: str) -> str:
    """The normalised name, or NameRefused saying why it is not a sane account name."""
    name = normalise(name)
    if not 1 <= len(name) <= MAX_LENGTH:
        raise NameRefused(f"{RULE}; got {len(name)} characters.")
    bad = [c for c in name if not (c in PUNCTUATION or c in ASCII_DIGITS or c.isalpha())]
    if bad:
        raise NameRefused(f"{RULE}; {shown(name)} contains {shown(''.join(dict.fromkeys(bad)))}.")
    if unicodedata.normalize("NFKC", name) != name:  # fullwidth "ｏｌｇａ", ligatures, ...
        raise NameRefused(f"{RULE}; {shown(name)} has compatibility forms of letters.")
    if name[0] in PUNCTUATION:
        raise NameRefused(f"{RULE}; {shown(name)} starts with {name[0]!r}.")
    scripts = sorted({_script(c) for c in name if c.isalpha()})
    if len(scripts) > 1:
        raise NameRefused(
            f"{RULE}; {shown(name)} mixes scripts ({', '.join(scripts)}): letters that look "
            "alike could pass for another account."
        )
    return name


def case_twin(name: str, existing: list[str]) -> str | None:
    """An existing name that differs from `name` only in case, if any."""
    folded = name.casefold()
    return next((o for o in existing if o != name and o.casefold() == folded), None)


def check_therapist_id(therapist_id: str, db: Path) -> None:
    """Refuse (NameRefused) a therapist id that is not in the warehouse `db`'s therapists."""
    import duckdb

    db = Path(db)
    if not db.is_file():
        raise NameRefused(
            f"no warehouse at {db} to check --therapist-id against: load the clinic's export "
            "first (outcomes ingest), or name the warehouse with --db."
        )
    try:
        con = duckdb.connect(str(db), read_only=True)
        try:
            found = con.execute(
                "SELECT count(*) FROM therapists WHERE therapist_id = ?", [therapist_id]
            ).fetchone()[0]
        finally:
            con.close()
    except duckdb.Error as exc:
        raise NameRefused(f"cannot read the therapists of {db}: {exc}") from exc
    if not found:
        raise NameRefused(
            f"{shown(therapist_id)} is not a therapist in the warehouse {db}. List the ids "
            f"with: {FIND_IDS}"
        )
