"""Project rules that a machine can check (docs/CONTRIBUTING.md)."""

from __future__ import annotations

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
        (r"""startswith\(\s*["']chr""", {"annotator/chromnames.py"}, "only chromnames inspects a chr prefix"),
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
    big = [f"{rel(p)} ({n})" for p in MODULES if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not big, f"modules over {MAX_LINES} lines: {big}"
