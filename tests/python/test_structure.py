"""The shape of loaders/: no import cycles, imports run down the layers, sources are chosen
through the registry, modules stay readable.

The layers, lowest first (a module imports from its own layer or below):

0. base      loaders (the package), loaders.errors, loaders.settings, loaders.logs
1. common    loaders.common.*, loaders.progress, loaders.reference.*,
             loaders.testing.failpoints (the fault points the load path marks)
2. sources   loaders.sources.* (each source's folder, the Source protocol, the registry)
3. commands  loaders.commands, loaders.operations.* (what the commands do),
             loaders.testing.replay (the replay server: serves the sources' recordings)
4. entry     loaders.cli, loaders.dispatch, loaders.console, loaders.demo, loaders.__main__

Every import counts, at module top or inside a function (an import inside a function still
ties the modules together: it only hides the tie from the reader); imports under
`if TYPE_CHECKING:` do not, as they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOADERS = ROOT / "loaders"

LAYERS = (
    ("base", ("loaders", "loaders.errors", "loaders.settings", "loaders.logs")),
    (
        "common",
        ("loaders.common", "loaders.progress", "loaders.reference", "loaders.testing"),
    ),
    ("sources", ("loaders.sources",)),
    ("commands", ("loaders.commands", "loaders.operations", "loaders.testing.replay")),
    (
        "entry",
        ("loaders.cli", "loaders.dispatch", "loaders.console", "loaders.demo", "loaders.__main__"),
    ),
)
# "at most 2 imports up a layer" (issue 20); today there are none
MAX_UPWARD = 2
MAX_LINES = 500
# modules allowed over MAX_LINES for now (none)
TOO_LONG_FOR_NOW: set[str] = set()


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(LOADERS.rglob("*.py"))}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes under `if TYPE_CHECKING:`."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return skipped


def _resolve(name: str, known: dict[str, Path]) -> str | None:
    """The loaders module an import names: itself, or the package that holds the name."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The loaders modules a file imports (module top or inside functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(
                _resolve(a.name, known) for a in node.names if a.name.startswith("loaders")
            )
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("loaders"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in known else _resolve(str(node.module), known))
    found.discard(None)
    if path.is_relative_to(ROOT):
        found.discard(module_name(path))
    return {name for name in found if name is not None}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) for name, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> int:
    """The highest layer whose prefix names the module (the package `loaders` is layer 0)."""
    best = None
    for level, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            names_it = module == prefix or module.startswith(prefix + ".")
            if names_it and (best is None or len(prefix) > best[1]):
                best = (level, len(prefix))
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[0]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} ({LAYERS[layer_of(source)][0]}) -> {target} ({LAYERS[layer_of(target)][0]})"
        for source, targets in graph.items()
        for target in targets
        if layer_of(target) > layer_of(source)
    )


# -- the checks themselves ------------------------------------------------------------------


def test_the_checker_finds_a_cycle_and_an_upward_import():
    """The checks can fail: a made-up graph with a circle and an import up a layer."""
    graph = {
        "loaders.common.a": {"loaders.operations.b"},
        "loaders.operations.b": {"loaders.common.a"},
        "loaders.cli": {"loaders.common.a"},
    }
    assert cycles(graph) == [["loaders.common.a", "loaders.operations.b"]]
    assert upward_imports(graph) == ["loaders.common.a (common) -> loaders.operations.b (commands)"]


def test_the_graph_sees_imports_inside_functions_and_skips_type_checking(tmp_path):
    known = {"loaders.common.x": tmp_path, "loaders.cli": tmp_path, "loaders.demo": tmp_path}
    path = tmp_path / "m.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from loaders.demo import thing\n"
        "def f():\n    from loaders.cli import main\n    import loaders.common.x\n"
    )
    assert imports_of(path, known) == {"loaders.cli", "loaders.common.x"}


def test_loaders_has_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles between loaders modules:\n" + "\n".join(map(str, found))


def test_imports_run_down_the_layers():
    upward = upward_imports(import_graph())
    assert len(upward) <= MAX_UPWARD, "imports up a layer:\n" + "\n".join(upward)


def test_every_loaders_module_is_in_a_layer():
    for module in modules():
        layer_of(module)


def test_no_loaders_module_is_over_500_lines():
    long = {
        str(path.relative_to(ROOT)): n
        for path in LOADERS.rglob("*.py")
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(long) <= TOO_LONG_FOR_NOW, long


# -- sources are chosen through the registry ------------------------------------------------


def _source_names() -> set[str]:
    from loaders.sources.registry import SOURCES

    return set(SOURCES)


def _names_a_source(node: ast.AST) -> bool:
    """`source`, `args.source`, `summary.source`, `self.source_name`…"""
    if isinstance(node, ast.Name):
        return "source" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "source" in node.attr.lower()
    return False


def _string_constants(node: ast.AST) -> set[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return {v for e in node.elts for v in _string_constants(e)}
    return set()


def source_branches(path: Path, names: set[str]) -> list[str]:
    """Comparisons of a source variable with a source's name: `source == "bmrs"`,
    `args.source != "dno"`, `source in ("bmrs", "neso")`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if any(_names_a_source(s) for s in sides) and any(
            _string_constants(s) & names for s in sides
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


# files allowed a source branch for now (none)
NOT_YET: set[str] = set()


def test_the_branch_finder_finds_branches(tmp_path):
    path = ROOT / "tests" / "python" / "_synthetic_branches.py"
    try:
        path.write_text(
            'if source == "bmrs": pass\nif args.source in ("dno", "x"): pass\n'
            'if command == "bmrs": pass\n'
        )
        assert [f.split(": ", 1)[1] for f in source_branches(path, {"bmrs", "dno"})] == [
            "source == 'bmrs'",
            "args.source in ('dno', 'x')",
        ]
    finally:
        path.unlink()


def test_no_source_is_chosen_by_name_outside_the_registry_and_its_own_folder():
    """Only loaders/sources/ (the registry, and each source inside its own folder) may
    branch on a source's name; everything else asks the registry."""
    names = _source_names()
    found = [
        branch
        for path in sorted(LOADERS.rglob("*.py"))
        if not path.is_relative_to(LOADERS / "sources")
        and str(path.relative_to(ROOT)) not in NOT_YET
        for branch in source_branches(path, names)
    ]
    assert not found, "\n".join(found)


# -- the registry ---------------------------------------------------------------------------


def test_every_loadable_source_describes_its_datasets_and_is_a_cli_choice(tmp_path):
    """Each registered source: a catalogue whose datasets have a cadence, a window shape and
    a raw table of its own; the CLI offers exactly the loadable ones."""
    from loaders.cli import build_parser
    from loaders.settings import load_settings
    from loaders.sources.registry import SOURCES, loadable

    settings = load_settings(env={}, cwd=tmp_path)
    assert set(loadable()) == {"bmrs", "neso", "dno", "isone"}
    for name in loadable():
        catalogue = SOURCES[name].catalogue(settings)
        assert catalogue, name
        for info in catalogue:
            assert info.cadence and info.window, (name, info)
            assert info.table.startswith(f"raw_{name}."), (name, info)
    load = build_parser().parse_args(["load", "isone", "--all"])
    assert load.source == "isone"
