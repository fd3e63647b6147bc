"""The package's layering, checked statically and at import time.

``raysweep/__init__.py`` declares the layers once, in its docstring's literal block (top to bottom,
one layer a line). Here every import statement of every module under ``raysweep/`` is read with
``ast`` (module-level and function-level, ``import x`` and ``from x import y``, relative imports
resolved, ``__import__``/``importlib.import_module`` of a literal name too; nothing is imported or
run) and checked: none may point at a higher layer, none may name a raysweep module that does not
exist, and neither the module graph nor the graph between packages may hold a cycle (entry points
left out: they sit on top and may import anything). The README's Layout lists the same layers.
Finally every module is imported on its own in a fresh interpreter, which catches import-time cycles.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "raysweep"


# ---------------------------------------------------------------- reading the declaration


def literal_block(text: str, marker: str) -> list[str]:
    """The indented lines of the ``::`` literal block that follows the paragraph holding ``marker``."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if marker in line), None)
    assert start is not None, f"no paragraph with {marker!r}"
    while not lines[start].rstrip().endswith("::"):
        start += 1
    block: list[str] = []
    for line in lines[start + 1 :]:
        if line.strip() and not line.startswith(" "):
            break
        block.append(line)
    return [line.strip() for line in block if line.strip()]


def declared_layers(root: Path = ROOT) -> list[list[str]]:
    """The layers of ``raysweep/__init__.py``'s docstring, bottom first; each a list of unit names."""
    doc = ast.get_docstring(ast.parse((root / PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    assert doc, "raysweep/__init__.py has no docstring"
    rows = [line.split("#", 1)[0].split() for line in literal_block(doc, "Layers, top to bottom")]
    return [row for row in reversed(rows) if row]


def readme_layers(root: Path = ROOT) -> list[list[str]]:
    """The layers of the README's Layout block (top to bottom there), bottom first, as unit names."""
    text = (root / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```\n(.*?)```", section, re.S)
    assert block, "README Layout has no code block"
    rows = []
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith(" "):  # an indented line continues the one above
            continue
        head = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        names = [n.strip() for n in head.split(",")]
        rows.append([n.removeprefix("raysweep/").removeprefix("*/").strip("/").removesuffix(".py") for n in names])
    return list(reversed(rows))


# ---------------------------------------------------------------- reading the imports


def module_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module under ``raysweep/``: dotted name -> file (a package is its ``__init__.py``)."""
    out: dict[str, Path] = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported_names(tree: ast.AST, module: str, package: bool) -> Iterator[tuple[str, list[str], int]]:
    """``(target, names taken from it, line)`` for every import in the tree, relative ones resolved."""
    here = module if package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            yield base, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("__import__", "import_module") and isinstance(node.args[0].value, str):
                yield node.args[0].value, [], node.lineno


def import_edges(root: Path = ROOT) -> list[tuple[str, str, int]]:
    """``(importer, imported, line)`` for every import of a raysweep module by a raysweep module.

    ``from a import b`` is an import of ``a.b`` when that is a module, else of ``a``; a raysweep name
    that is no module at all is returned as it is (the test reports it).
    """
    files = module_files(root)
    edges = []
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for target, names, line in _imported_names(tree, module, is_package(path)):
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            subs = [f"{target}.{n}" for n in names if f"{target}.{n}" in files]
            if len(subs) < len(names) or not names:
                edges.append((module, target, line))
            edges.extend((module, sub, line) for sub in subs)
    return edges


def unit(module: str) -> str:
    """The layer unit of a module: its top-level module or subpackage under raysweep; every
    ``__main__`` is the unit ``__main__``; the package's own ``__init__`` is ``raysweep``."""
    parts = module.split(".")
    if parts[-1] == "__main__":
        return "__main__"
    return parts[1] if len(parts) > 1 else PACKAGE


def layer_of(layers: list[list[str]]) -> dict[str, int]:
    index = {name: i for i, row in enumerate(layers) for name in row}
    index[PACKAGE] = 0  # raysweep/__init__.py (version, RaysweepError) sits in the bottom layer
    return index


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def graphs(root: Path = ROOT, entry: frozenset[str] = frozenset()) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """The module graph and the unit graph (importer -> imported), entry-point units left out."""
    modules: dict[str, set[str]] = {}
    units: dict[str, set[str]] = {}
    for src, dst, _ in import_edges(root):
        if unit(src) in entry or unit(dst) in entry or src == dst:
            continue
        modules.setdefault(src, set()).add(dst)
        if unit(src) != unit(dst):
            units.setdefault(unit(src), set()).add(unit(dst))
    return modules, units


# ---------------------------------------------------------------- the tests


def test_the_declared_layers_name_every_module_once() -> None:
    layers = declared_layers()
    names = [n for row in layers for n in row]
    assert len(layers) >= 5 and len(names) == len(set(names)), layers
    present = {unit(m) for m in module_files()} - {PACKAGE}
    assert sorted(present - set(names)) == [], "modules in no layer: add them to raysweep/__init__.py's Layers"
    assert sorted(set(names) - present) == [], "layers naming no module: remove them from raysweep/__init__.py"


def test_the_readme_layout_lists_the_same_layers() -> None:
    assert readme_layers() == declared_layers()


def test_no_import_points_upward_or_nowhere() -> None:
    layers = declared_layers()
    level = layer_of(layers)
    top = len(layers) - 1
    files = module_files()
    upward, missing = [], []
    for src, dst, line in import_edges():
        where = f"{files[src].relative_to(ROOT)}:{line}: {src} imports {dst}"
        if dst not in files:
            missing.append(where)
        elif level[unit(src)] != top and level[unit(dst)] > level[unit(src)]:
            upward.append(f"{where} ({unit(src)} is below {unit(dst)})")
    assert missing == [], "imports of modules that do not exist"
    assert upward == [], "imports that point up the layers of raysweep/__init__.py"


def test_no_import_cycles_between_modules_or_packages() -> None:
    layers = declared_layers()
    modules, units = graphs(entry=frozenset(layers[-1]))
    assert cycles(modules) == []
    assert cycles(units) == []


def test_the_layer_check_catches_an_upward_import_and_a_cycle(tmp_path: Path) -> None:
    pkg = tmp_path / PACKAGE
    for sub in ("low", "high"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text('"""x.\n\nLayers, top to bottom::\n\n    high\n    low\n"""\n')
    (pkg / "low" / "a.py").write_text("def f():\n    from ..high import b\n")
    (pkg / "high" / "b.py").write_text("import raysweep.low.a\n")
    assert declared_layers(tmp_path) == [["low"], ["high"]]
    edges = {(s, d) for s, d, _ in import_edges(tmp_path)}
    assert {("raysweep.low.a", "raysweep.high.b"), ("raysweep.high.b", "raysweep.low.a")} <= edges
    modules, units = graphs(tmp_path)
    assert cycles(modules) == [["raysweep.high.b", "raysweep.low.a"]] and cycles(units) == [["high", "low"]]
    level = layer_of(declared_layers(tmp_path))
    assert [(s, d) for s, d, _ in import_edges(tmp_path) if level[unit(d)] > level[unit(s)]] == [
        ("raysweep.low.a", "raysweep.high.b")
    ]
    # at run time: importing low.a first works (its import is in a function), high.b first too; a
    # module-level cycle that needs a name fails when either side is imported first
    assert import_each(tmp_path).returncode == 0
    (pkg / "low" / "a.py").write_text("from raysweep.high.b import Y\nX = 1\n")
    (pkg / "high" / "b.py").write_text("from raysweep.low.a import X\nY = 1\n")
    done = import_each(tmp_path)
    assert done.returncode == 1 and "raysweep.high.b: ImportError" in done.stdout and "raysweep.low.a" in done.stdout


IMPORT_EACH = """
import importlib, sys, traceback
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "raysweep" or m.startswith("raysweep.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failed.append(name + ": " + traceback.format_exc(limit=3).strip().splitlines()[-1])
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def import_each(root: Path) -> subprocess.CompletedProcess[str]:
    """Import every module under ``root/raysweep`` first, with no other raysweep module loaded, in one
    fresh interpreter (third-party modules stay cached, so it takes seconds, not one start each)."""
    names = sorted(module_files(root))
    return subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, *names], cwd=root, capture_output=True, text=True, timeout=300
    )


def test_every_module_imports_on_its_own() -> None:
    """An import-time cycle (``a`` needs a name of ``b``, which needs one of ``a``) fails here."""
    done = import_each(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
