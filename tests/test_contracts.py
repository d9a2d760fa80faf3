"""The model contracts (YAML beside each model's SQL): every model has one, and a malformed
one is refused with a message naming its file, never with a crash of another kind."""

from __future__ import annotations

import copy
import re

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.contracts import (
    MODEL_DIRS,
    ContractError,
    doc_blocks,
    model_contracts,
    read_contract,
)
from pipelines.settings import PROJECT_ROOT

VALID = {
    "name": "things",
    "spec": "§6",
    "grain": "thing",
    "description": "Things.",
    "columns": [
        {"name": "thing_id", "data_type": "VARCHAR", "description": "Key."},
        {"name": "kind", "data_type": "VARCHAR", "description": '{{ doc("kind") }}'},
    ],
    "expectations": [{"type": "expect_column_values_to_not_be_null", "column": "thing_id"}],
}
BLOCKS = {"kind": "`a` or `b`."}
JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


def _write(tmp_path, data, name: str = "things") -> object:
    path = tmp_path / f"{name}.yml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_every_model_has_its_contract_beside_its_sql():
    for folder in MODEL_DIRS:
        assert {p.stem for p in folder.glob("*.sql")} == {p.stem for p in folder.glob("*.yml")}
    for model in model_contracts().values():
        assert (PROJECT_ROOT / model.sql_path).is_file(), model.contract_path
        assert model.doc.strip() and model.grain, model.name
        assert all(re.fullmatch(r"§[2-8]", s) for s in model.spec), model.name


def test_a_valid_contract_reads_with_its_shared_texts(tmp_path):
    model = read_contract(_write(tmp_path, VALID), BLOCKS)
    assert (model.name, model.spec, model.grain, model.doc) == (
        "things",
        ("§6",),
        "thing",
        "Things.",
    )
    assert model.column("kind").doc == "`a` or `b`."
    assert model.expectations == (
        {"type": "expect_column_values_to_not_be_null", "column": "thing_id"},
    )


def test_doc_blocks_read_as_one_line_each(tmp_path):
    (tmp_path / "docs.md").write_text("{% docs kind %}\n`a` or\n  `b`.\n{% enddocs %}\n")
    assert doc_blocks(tmp_path) == BLOCKS
    assert doc_blocks(tmp_path / "nowhere") == {}


def test_the_shared_doc_blocks_in_use_are_all_defined():
    for folder in MODEL_DIRS:
        for path in folder.glob("*.yml"):
            read_contract(path, doc_blocks(folder))  # raises on an unknown block


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(name="other"), "name must be 'things'"),
        (lambda d: d.update(colour="red"), "unknown keys \\['colour'\\]"),
        (lambda d: d.pop("description"), "description must be a non-empty text"),
        (lambda d: d["columns"][0].pop("data_type"), "needs a name and a data_type"),
        (lambda d: d["columns"][1].update(description='{{ doc("nope") }}'), "no doc block 'nope'"),
        (lambda d: d.update(columns="thing_id"), "must be a list"),
        (lambda d: d.update(expectations=[{"column": "x"}]), "mapping with a type"),
        (lambda d: d.update(spec=[6]), "spec and grain must be texts"),
    ],
)
def test_a_broken_contract_is_refused_naming_its_file(tmp_path, change, message):
    data = copy.deepcopy(VALID)
    change(data)
    with pytest.raises(ContractError, match=message) as error:
        read_contract(_write(tmp_path, data), BLOCKS)
    assert "things.yml" in str(error.value)


def test_text_that_is_not_yaml_is_refused(tmp_path):
    for text in ("name: [unclosed", "\tname: tab", "a: b\n a: c", "? [a]\n: b"):
        with pytest.raises(ContractError, match="things.yml"):
            read_contract(_write(tmp_path, text), BLOCKS)
    path = tmp_path / "things.yml"
    path.write_bytes(b"name: \xff\xfe")
    with pytest.raises(ContractError, match="not readable YAML"):
        read_contract(path, BLOCKS)


PLACES = [("name",), ("spec",), ("grain",), ("description",), ("columns",), ("expectations",),
          ("colour",), ("columns", 0), ("columns", 1, "description"), ("columns", 0, "name"),
          ("expectations", 0), ("expectations", 0, "type")]  # fmt: skip


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(place=st.sampled_from(PLACES), junk=JUNK)
def test_any_value_anywhere_gives_a_contract_or_a_contract_error(tmp_path, place, junk):
    data = copy.deepcopy(VALID)
    target = data
    for step in place[:-1]:
        target = target[step]
    target[place[-1]] = junk
    try:
        model = read_contract(_write(tmp_path, data), BLOCKS)
    except ContractError as error:
        assert "things.yml" in str(error)
    else:
        assert model.name == "things" and model.doc
        assert all(c.name and c.type and c.doc for c in model.columns)
        assert all(isinstance(e["type"], str) for e in model.expectations)
