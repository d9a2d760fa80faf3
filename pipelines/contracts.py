"""The contracts of the SQL models: the YAML file beside each model's SQL.

Every view or mart ``<name>.sql`` has ``<name>.yml`` beside it (as dbt's schema.yml, one file
per model): what it is, the spec section it implements, and where analysts rely on it (the
spec §6 views) its grain and every column with type and meaning; for a validated mart, the GX
expectations its rows must meet. Shared texts sit in ``docs.md`` as dbt doc blocks
(``{% docs name %}…{% enddocs %}``), named in a description as ``{{ doc("name") }}``.

The store owns the SQL it runs (``pipelines/store/models/``: staging and its §6 views), the
warehouse the rest (``pipelines/warehouse/models/``). This module only reads the files, so
that every layer may: the warehouse renders COMMENT ON and docs/sql.md from them
(pipelines/warehouse/render.py), validation takes the marts' suites from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.settings import PROJECT_ROOT

_PACKAGE = Path(__file__).resolve().parent
MODEL_DIRS: tuple[Path, ...] = (_PACKAGE / "store" / "models", _PACKAGE / "warehouse" / "models")
"""Where the models live: the loading layer's, then the warehouse's."""
DOC_BLOCKS = "docs.md"
"""The file of shared texts in a model folder."""

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""yaml.safe_load's loader, in C when PyYAML has libyaml (it has here): the views' contracts
are read at the start of every process that builds views or serves pages
(docs/performance.md, "Process start")."""
_DOC_BLOCK = re.compile(r"\{%\s*docs\s+(\w+)\s*%\}(.*?)\{%\s*enddocs\s*%\}", re.DOTALL)
_DOC_REFERENCE = re.compile(r"""\{\{\s*doc\(\s*["'](\w+)["']\s*\)\s*\}\}""")
_MODEL_KEYS = frozenset({"name", "description", "spec", "grain", "columns", "expectations"})
_COLUMN_KEYS = frozenset({"name", "data_type", "description"})


class ContractError(ValueError):
    """A model's YAML does not say what it must (named with its file)."""


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str
    """DuckDB type (``TIMESTAMPTZ`` is reported as ``TIMESTAMP WITH TIME ZONE``)."""
    doc: str


@dataclass(frozen=True)
class ModelDoc:
    """One model's contract, as its YAML states it."""

    name: str
    doc: str
    spec: tuple[str, ...]
    """Sections of shared/spec.md the model implements (e.g. ``§4``)."""
    sql_path: str
    """The model's SQL file, relative to the project root."""
    grain: str | None = None
    """What one row is (documented for the analysts' views)."""
    columns: tuple[ColumnDoc, ...] = ()
    expectations: tuple[dict[str, Any], ...] = ()
    """GX expectations as ``{"type": <expectation>, <kwarg>: <value>…}``, in suite order."""

    @property
    def contract_path(self) -> str:
        """This YAML file, relative to the project root."""
        return self.sql_path.removesuffix(".sql") + ".yml"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnDoc:
        return next(c for c in self.columns if c.name == name)


def _text(value: Any, blocks: dict[str, str], where: str) -> str:
    """A description: a non-empty string, or ``{{ doc("name") }}`` for a shared block."""
    if not isinstance(value, str) or not value.strip():
        raise ContractError(f"{where}: description must be a non-empty text")
    reference = _DOC_REFERENCE.fullmatch(value.strip())
    if reference is None:
        return value
    if reference[1] not in blocks:
        raise ContractError(f"{where}: no doc block {reference[1]!r} in {DOC_BLOCKS}")
    return blocks[reference[1]]


def _mapping(value: Any, allowed: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ContractError(f"{where}: must be a mapping")
    extra = sorted(map(str, set(value) - allowed))
    if extra:
        raise ContractError(f"{where}: unknown keys {extra}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ContractError(f"{where}: must be a list")
    return value


def _column(value: Any, blocks: dict[str, str], where: str) -> ColumnDoc:
    col = _mapping(value, _COLUMN_KEYS, f"{where}: column")
    name, data_type = col.get("name"), col.get("data_type")
    if not (isinstance(name, str) and name and isinstance(data_type, str) and data_type):
        raise ContractError(f"{where}: every column needs a name and a data_type (texts)")
    return ColumnDoc(name, data_type, _text(col.get("description"), blocks, f"{where}: {name}"))


def _expectation(value: Any, where: str) -> dict[str, Any]:
    if not (isinstance(value, dict) and isinstance(value.get("type"), str)):
        raise ContractError(f"{where}: an expectation is a mapping with a type (a text)")
    return dict(value)


def _relative(path: Path) -> str:
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def read_contract(path: Path, blocks: dict[str, str] | None = None) -> ModelDoc:
    """The contract in one YAML file (raises ContractError, naming the file, when it is not
    one)."""
    where = _relative(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ContractError(f"{where}: not readable YAML ({error})") from error
    data = _mapping(data, _MODEL_KEYS, where)
    if data.get("name") != path.stem:
        raise ContractError(f"{where}: name must be {path.stem!r}, the file's")
    spec = data.get("spec")
    spec = _list(spec if isinstance(spec, list) or spec is None else [spec], f"{where}: spec")
    grain = data.get("grain")
    if not all(isinstance(s, str) and s for s in spec) or not isinstance(grain, str | None):
        raise ContractError(f"{where}: spec and grain must be texts")
    blocks = blocks or {}
    return ModelDoc(
        name=path.stem,
        doc=_text(data.get("description"), blocks, where),
        spec=tuple(spec),
        sql_path=_relative(path.with_suffix(".sql")),
        grain=grain,
        columns=tuple(_column(c, blocks, where) for c in _list(data.get("columns"), where)),
        expectations=tuple(_expectation(e, where) for e in _list(data.get("expectations"), where)),
    )


def doc_blocks(folder: Path) -> dict[str, str]:
    """The shared texts of a model folder (whitespace runs read as one space)."""
    path = folder / DOC_BLOCKS
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    return {name: " ".join(body.split()) for name, body in _DOC_BLOCK.findall(text)}


@cache
def _folder_blocks(folder: Path) -> dict[str, str]:
    return doc_blocks(folder)


@cache
def model_contract(name: str) -> ModelDoc:
    """The contract of model `name` (ContractError unless exactly one folder holds it)."""
    paths = [folder / f"{name}.yml" for folder in MODEL_DIRS if (folder / f"{name}.yml").is_file()]
    if len(paths) != 1:
        found = "no folder holds" if not paths else "more than one folder holds"
        raise ContractError(f"{name}.yml: {found} it ({', '.join(map(_relative, MODEL_DIRS))})")
    return read_contract(paths[0], _folder_blocks(paths[0].parent))


def model_contracts() -> dict[str, ModelDoc]:
    """Every model's contract by name, folder by folder (MODEL_DIRS), by file name within."""
    names = [path.stem for folder in MODEL_DIRS for path in sorted(folder.glob("*.yml"))]
    return {name: model_contract(name) for name in names}


def suite_expectations() -> dict[str, list[dict[str, Any]]]:
    """Model name -> the expectations of its GX suite, for the models that have some."""
    return {
        name: [dict(e) for e in model.expectations]
        for name, model in model_contracts().items()
        if model.expectations
    }
