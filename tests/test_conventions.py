"""Project rules that a machine can check (docs/CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import re

import pytest

from tests.conftest import REPO

PACKAGE = REPO / "annotator"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 500


def rel(p):
    return p.relative_to(REPO).as_posix()


def code_lines(path):
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        yield n, line


@pytest.mark.parametrize(
    ("pattern", "allowed", "rule"),
    [
        (r"""startswith\(\s*["']chr""", {"annotator/core/chromnames.py"}, "only chromnames inspects a chr prefix"),
        (r"^\s*(import click|from click)", None, "click only in annotator/cli/"),
        (r"\bsys\.exit\(", None, "only the CLI exits"),
        (r"logging\.basicConfig|\.addHandler\(", None, "handlers only in the CLI"),
        (r"^\s*print\(", {"annotator/__main__.py"}, "library code does not print"),
        (r"yaml\.load\(|yaml\.unsafe_load|pickle\.loads?\(|\beval\(|\bexec\(", set(), "no unsafe loading"),
        (r"shell\s*=\s*True|os\.system\(", set(), "no shell"),
    ],
)
def test_rule(pattern, allowed, rule):
    rx = re.compile(pattern)
    offenders = []
    for path in MODULES:
        name = rel(path)
        if allowed is None and name.startswith("annotator/cli/"):
            continue
        if allowed and name in allowed:
            continue
        offenders += [f"{name}:{n}" for n, line in code_lines(path) if rx.search(line)]
    assert not offenders, f"{rule}: {offenders}"


def test_modules_stay_small():
    big = [f"{rel(p)} ({n})" for p in MODULES if (n := len(p.read_text().splitlines())) >= MAX_LINES]
    assert not big, f"modules of {MAX_LINES} lines or more: {big}"


# The layers of docs/ARCHITECTURE.md, lowest first: a module may import its own
# layer or a lower one, never a higher one.  Prefixes are matched longest first.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("annotator.errors", "annotator.core"),
    ("annotator.reference",),
    ("annotator.io",),
    ("annotator.consequence", "annotator.knowledge", "annotator.cnv"),
    ("annotator.report",),
    ("annotator.annotation",),
    ("annotator.track",),
    ("annotator.api", "annotator"),
    ("annotator.cli", "annotator.__main__"),
)


def module_name(path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module):
    best, best_len = None, -1
    for n, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            hit = module == prefix or module.startswith(prefix + ".")
            if hit and len(prefix) > best_len:
                best, best_len = n, len(prefix)
    assert best is not None, f"{module} is in no layer of docs/ARCHITECTURE.md"
    return best


def import_graph():
    """Every import between the package's modules: module level, function level and
    ``TYPE_CHECKING`` alike (a lazy import hides a dependency from linters, not from a reader)."""
    names = {module_name(p): p for p in MODULES}
    graph = {m: set() for m in names}
    for mod, path in names.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in names
                           else node.module for a in node.names]
            for t in targets:
                while t and t not in names:
                    t = t.rpartition(".")[0]
                # a package's own __init__ imported from inside the package is not an edge
                if t and t != mod and not mod.startswith(t + "."):
                    graph[mod].add(t)
    return graph


def strongly_connected(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
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
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    cycles = strongly_connected(import_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_imports_follow_the_layers():
    upward = [
        f"{mod} (layer {layer_of(mod)}) imports {t} (layer {layer_of(t)})"
        for mod, targets in import_graph().items()
        for t in sorted(targets)
        if layer_of(t) > layer_of(mod)
    ]
    assert not upward, "imports against the layer direction: " + "; ".join(upward)


def test_package_root_holds_only_the_api_and_errors():
    loose = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "api.py", "errors.py"], loose


def test_the_layer_test_can_fail():
    graph = {"annotator.core.x": {"annotator.cli.y"}, "annotator.cli.y": {"annotator.core.x"}}
    assert strongly_connected(graph) == [["annotator.cli.y", "annotator.core.x"]]
    assert layer_of("annotator.cli.y") > layer_of("annotator.core.x")
