"""The package's structure, checked rather than remembered.

* Layers: a module imports only from its own layer or below (docs/architecture.md draws them).
  ``_core`` imports nothing of the package outside ``_core`` but ``semconv`` and ``version``;
  adapters import only ``_core``, ``semconv``, ``version`` and each other.
* No import cycles, counting imports inside functions (they hide cycles, they do not remove them).
* No function longer than 40 lines unless a ``# long:`` comment in it says why.

Imports are read from the source with ``ast``, so the checks see every import, including the
ones inside functions, and cost no import of the SDKs.
"""

from __future__ import annotations

import ast
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "opentelemetry_instrumentation_llm"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

# Bottom to top. A module's layer is that of the longest prefix listed; a module may import from
# its own layer and the layers below. Anything unlisted is on top.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("semconv", "version"),
    ("_core",),
    ("providers", "frameworks", "testing"),
    (
        "config",
        "cost",
        "request_context",
        "feedback",
        "processors",
        "gpu",
        "instrumentor",
        "agents",
        "integrations",
        "fingerprint",
        "spend",
        "patching",
    ),
)
# Narrower rules inside a layer: these may import only the listed prefixes.
ONLY: dict[str, tuple[str, ...]] = {
    "_core": ("_core", "semconv", "version"),
    "providers": ("providers", "_core", "semconv", "version"),
    "testing": ("testing",),
}
MAX_FUNCTION_LINES = 40


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)  # "" is the package itself


def _modules(root: Path) -> dict[str, Path]:
    return {_module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_type_checking(node):
            stack.extend(node.orelse)  # annotations only: not an import at run time
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    anchor = name.split(".") if name else []
    if not is_package:
        anchor = anchor[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([PACKAGE, *anchor, *([node.module] if node.module else [])])


def _relative(target: str) -> str | None:
    if target == PACKAGE:
        return ""
    if target.startswith(PACKAGE + "."):
        return target[len(PACKAGE) + 1 :]
    return None


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package modules ``name`` imports (relative names, "" for the package root).

    ``from pkg.mod import x`` counts as importing ``pkg.mod.x`` when that is a module, else ``pkg.mod``.
    """
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            candidates = [_relative(alias.name) for alias in node.names]
        else:
            base = _relative(_absolute(node, name, path.name == "__init__.py"))
            if base is None:
                continue
            candidates = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}" if base else alias.name
                candidates.append(submodule if submodule in modules else base)
        found.update(c for c in candidates if c is not None and c in modules)
    found.discard(name)
    return found


def _layer(module: str) -> int:
    best, best_len = len(LAYERS), -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def _top(module: str) -> str:
    return module.split(".")[0]


def layering_violations(root: Path) -> list[str]:
    modules = _modules(root)
    problems = []
    for name, path in modules.items():
        for target in sorted(imports_of(name, path, modules)):
            allowed = ONLY.get(_top(name))
            if allowed is not None and _top(target) not in allowed:
                problems.append(
                    f"{name or PACKAGE} imports {target or PACKAGE}: {_top(name)} may import only {', '.join(allowed)}"
                )
            elif _layer(target) > _layer(name):
                problems.append(f"{name or PACKAGE} imports {target or PACKAGE}, a layer above it")
    return problems


def import_cycles(root: Path) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. the import cycles."""
    modules = _modules(root)
    graph = {name: sorted(imports_of(name, path, modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        # long: Tarjan's algorithm reads best as one piece.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


def long_functions(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1  # type: ignore[operator]
                body = lines[node.lineno - 1 : node.end_lineno]
                if length > MAX_FUNCTION_LINES and not any("# long:" in line for line in body):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno} {node.name} ({length} lines)")
    return found


# ------------------------------------------------------------------------------------ the checks


def test_layers_hold() -> None:
    assert layering_violations(ROOT) == []


def test_no_import_cycles() -> None:
    assert import_cycles(ROOT) == []


def test_no_long_functions() -> None:
    assert long_functions(ROOT) == []


# ------------------------------------------------------------------- the checks catch what they guard


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    copy = tmp_path / PACKAGE
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def _append(path: Path, code: str) -> None:
    path.write_text(path.read_text() + "\n\n" + code + "\n")


def test_an_upward_import_in_the_core_is_caught(package_copy: Path) -> None:
    _append(
        package_copy / "_core" / "recorder.py",
        "def _later():\n    from opentelemetry_instrumentation_llm import cost\n    return cost\n",
    )
    added = set(layering_violations(package_copy)) - set(layering_violations(ROOT))
    assert added == {"_core.recorder imports cost: _core may import only _core, semconv, version"}


def test_an_adapter_importing_config_is_caught(package_copy: Path) -> None:
    _append(package_copy / "providers" / "groq.py", "from .. import config  # noqa")
    added = set(layering_violations(package_copy)) - set(layering_violations(ROOT))
    assert added == {"providers.groq imports config: providers may import only providers, _core, semconv, version"}


def test_a_cycle_hidden_in_a_function_is_caught(package_copy: Path) -> None:
    _append(
        package_copy / "_core" / "records.py",
        "def _later():\n    from opentelemetry_instrumentation_llm._core import recorder\n    return recorder\n",
    )
    cycles = import_cycles(package_copy)
    assert any({"_core.recorder", "_core.records"} <= set(cycle) for cycle in cycles), cycles


def test_an_import_under_type_checking_is_not_an_import(package_copy: Path) -> None:
    _append(
        package_copy / "_core" / "records.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from opentelemetry_instrumentation_llm._core.recorder import Recorder  # noqa\n",
    )
    assert import_cycles(package_copy) == import_cycles(ROOT)


def test_a_long_function_is_caught_unless_explained(package_copy: Path) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    _append(package_copy / "version.py", f"def _too_long():\n{body}")
    before = set(long_functions(ROOT))
    added = {p.split(" ", 1)[1] for p in set(long_functions(package_copy)) - before}
    assert added == {f"_too_long ({MAX_FUNCTION_LINES + 1} lines)"}
    _append(package_copy / "version.py", f"def _explained():\n    # long: a table\n{body}")
    assert len(set(long_functions(package_copy)) - before) == 1
