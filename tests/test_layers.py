"""The import graph of pipelines/ and dashboard/ keeps its layers (docs/architecture.md):
no module imports from a layer above its own, imports inside functions included, and no
two modules import each other, directly or through others.

Layers, bottom up: (1) settings and schema; (2) ingest and validation; (3) store;
(4) warehouse; (5) flows, inbox, cli, users_cli, worker and the dashboard. Any other
module sits on the lowest layer its imports allow.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("pipelines", "dashboard")
LAYERS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (1, ("pipelines.settings", "pipelines.schema")),
    (2, ("pipelines.ingest", "pipelines.validation")),
    (3, ("pipelines.store",)),
    (4, ("pipelines.warehouse",)),
    (5, ("pipelines.flows", "pipelines.inbox", "pipelines.cli", "pipelines.users_cli",
         "pipelines.worker", "dashboard")),
)  # fmt: skip


def module_imports(root: Path) -> dict[str, set[str]]:
    """Each module of the packages under `root` -> the modules of them it imports."""
    files = {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for package in PACKAGES
        for path in sorted((root / package).rglob("*.py"))
    }
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        imported: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:  # `from package import module` names a module
                    submodule = f"{node.module}.{alias.name}"
                    imported.add(submodule if submodule in files else node.module)
        graph[module] = {name for name in imported if name in files and name != module}
    return graph


def fixed_layer(module: str) -> int | None:
    for layer, prefixes in LAYERS:
        if any(module == p or module.startswith(f"{p}.") for p in prefixes):
            return layer
    return None


def layers_of(graph: dict[str, set[str]]) -> dict[str, int]:
    """Every module's layer: its own, or for the others the highest of what they import."""
    found: dict[str, int] = {}

    def layer(module: str, seen: frozenset[str]) -> int:
        if module not in found:
            own = fixed_layer(module)
            found[module] = own or max(
                [layer(m, seen | {module}) for m in graph[module] - seen], default=1
            )
        return found[module]

    for module in graph:
        layer(module, frozenset())
    return found


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    layers = layers_of(graph)
    return sorted(
        f"{module} (layer {layers[module]}) imports {imported} (layer {layers[imported]})"
        for module, imports in graph.items()
        for imported in imports
        if layers[imported] > layers[module]
    )


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: each as a path of modules that leads back to its first."""
    found, done = [], set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            found.append(path[path.index(module) :] + [module])
            return
        if module in done:
            return
        for imported in sorted(graph[module]):
            visit(imported, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    return found


def test_no_module_imports_from_a_layer_above_its_own():
    assert upward_imports(module_imports(ROOT)) == []


def test_no_import_cycles():
    assert cycles(module_imports(ROOT)) == []


def test_every_layer_has_modules():  # a renamed package would leave its layer unchecked
    layers = layers_of(module_imports(ROOT))
    for _, prefixes in LAYERS:
        for prefix in prefixes:
            assert any(m == prefix or m.startswith(f"{prefix}.") for m in layers), prefix


@pytest.mark.parametrize(
    ("sources", "upward", "cyclic"),
    [
        ({"pipelines/schema.py": "import pipelines.store.ddl"}, 1, False),
        ({"pipelines/ingest/x.py": "def f():\n    from pipelines.warehouse import views"},
         1, False),
        ({"pipelines/ingest/x.py": "from pipelines.ingest import y"}, 0, False),
        ({"pipelines/ingest/x.py": "from pipelines.ingest import y",
          "pipelines/ingest/y.py": "import pipelines.ingest.x"}, 0, True),
        ({"pipelines/store/x.py": "from pipelines import report"}, 0, False),
        ({"pipelines/report.py": "import pipelines.warehouse.views",
          "pipelines/store/x.py": "from pipelines import report"}, 1, False),
    ],
)  # fmt: skip
def test_the_checks_catch_what_they_look_for(tmp_path, sources, upward, cyclic):
    """The checks themselves, on small made-up trees: an import up a layer (also inside a
    function, also through a module of no layer of its own) and a cycle are found."""
    base = {
        "pipelines/__init__.py": "",
        "pipelines/schema.py": "",
        "pipelines/report.py": "",
        "pipelines/ingest/__init__.py": "",
        "pipelines/ingest/y.py": "",
        "pipelines/store/__init__.py": "",
        "pipelines/store/ddl.py": "",
        "pipelines/warehouse/__init__.py": "",
        "pipelines/warehouse/views.py": "",
        "dashboard/__init__.py": "",
    }
    for name, text in {**base, **sources}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = module_imports(tmp_path)
    assert len(upward_imports(graph)) == upward
    assert bool(cycles(graph)) == cyclic
