"""The house's layering, read from tierlib's source (issue 11 item 6).

One way through the house: panel -> ledger -> analyses -> charts -> reports, the CLI on top.
The imports of every module (``import`` and ``from ... import`` anywhere in the file, function
bodies included; ``if TYPE_CHECKING:`` blocks and the package's lazy ``tierlib.__getattr__``
re-exports excluded) are parsed with :mod:`ast`, and a forbidden edge or an import cycle fails
with the modules named.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "tierlib"

#: charts: draw the tables they are given; never read parameter files
CHARTS = {"tierlib.plots", "tierlib.churn.charts"}
PARAMS = {"tierlib.params", "tierlib.dated"}
#: the command line (the package tierlib.cli): only it (and ``python -m`` entry points) may import it
CLI = "tierlib.cli"
#: analyses: never import the report runner (tierlib.report) nor the CLI
ANALYSES = {
    "tierlib.ledger", "tierlib.compare", "tierlib.moves", "tierlib.reforms", "tierlib.explain",
    "tierlib.revenue", "tierlib.rating", "tierlib.engine", "tierlib.card", "tierlib.benefits",
    "tierlib.scale", "tierlib.spark", "tierlib.synth", "tierlib.churn", "tierlib.churn._common",
    "tierlib.churn.calibration", "tierlib.churn.effect", "tierlib.churn.features", "tierlib.churn.fit",
    "tierlib.churn.model", "tierlib.churn.neardrop", "tierlib.churn.rd", "tierlib.churn.reform",
    "tierlib.churn.risk", "tierlib.plots", "tierlib.churn.charts",
}
REPORT = "tierlib.report"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py")) if "__pycache__" not in p.parts}


def _type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _resolve(name: str) -> str | None:
    """The tierlib module an import names (the longest module prefix), or None outside tierlib."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        candidate = ".".join(parts[:k])
        if candidate in MODULES:
            return candidate
    return None


def imports_of(module: str) -> set[str]:
    """The tierlib modules ``module`` imports."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if module == "tierlib" and isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            return  # the package's lazy re-exports (tierlib.churn on first use), no import-time edge
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for a in node.names:
                out.add(_resolve(a.name))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for a in node.names:  # `from tierlib.x import y`: y may be a submodule
                out.add(_resolve(f"{base}.{a.name}") or _resolve(base))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(None)
    out.discard(module)
    return out


GRAPH = {m: imports_of(m) for m in MODULES}


def test_the_module_lists_name_real_modules():
    listed = CHARTS | PARAMS | ANALYSES | {CLI, REPORT}
    assert listed <= set(MODULES), sorted(listed - set(MODULES))
    assert len(MODULES) > 40  # the parser found the package


def test_charts_never_import_params():
    bad = {m: sorted(GRAPH[m] & PARAMS) for m in CHARTS if GRAPH[m] & PARAMS}
    assert not bad, f"charts import parameter modules (take labels from the tables): {bad}"


def _in_cli(m: str) -> bool:
    return m == CLI or m.startswith(CLI + ".")


def test_only_the_cli_imports_the_cli():
    bad = sorted(m for m, deps in GRAPH.items()
                 if any(_in_cli(d) for d in deps) and not _in_cli(m) and not m.endswith("__main__"))
    assert not bad, f"modules importing {CLI} (only the CLI and `python -m` entry points may): {bad}"


def test_analyses_never_import_the_report_runner():
    bad = {m: sorted(d for d in GRAPH[m] if d == REPORT or d.startswith(REPORT + "."))
           for m in ANALYSES}
    bad = {m: d for m, d in bad.items() if d}
    assert not bad, f"analyses importing the report runner: {bad}"


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycle_between_modules():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert _cycles(graph) == expected


def test_the_parser_sees_function_level_imports():
    # the real parser on this repository: tierlib.cli imports its commands inside functions
    assert "tierlib.synth" in GRAPH[CLI] and "tierlib.report" in GRAPH[CLI]


#: the words of the reports: used by every layer, so it imports no other module of tierlib
TERMS = "tierlib.terms"
#: how results are shown (display tables, chart rendering, notebook set-up, the papermill engine):
#: above the analyses, which return data and Said sentences and never format for a page
DISPLAY = {"tierlib.display", "tierlib.rendering", "tierlib.notebook", "tierlib.papermill_engine"}


def test_the_terms_catalogue_imports_nothing_of_tierlib():
    assert TERMS in MODULES and GRAPH[TERMS] - {TERMS, None} == set(), sorted(GRAPH[TERMS] - {None})


def test_analyses_and_charts_never_import_the_display_layer():
    assert DISPLAY <= set(MODULES)
    bad = {m: sorted(GRAPH[m] & DISPLAY) for m in ANALYSES | CHARTS if GRAPH[m] & DISPLAY}
    assert not bad, f"analyses that format for a page: {bad}"
