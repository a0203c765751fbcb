from __future__ import annotations

import os

import pytest

from annotator.errors import OutputError
from annotator.io.atomic import OutputDir, safe_name


def test_commit_moves_files_and_removes_staging(tmp_path):
    out = tmp_path / "out"
    with OutputDir(out) as o:
        o.stage("a.tsv").write_text("x")
        o.stage(OutputDir.MARKER).write_text("{}")
    assert sorted(p.name for p in out.iterdir()) == ["a.tsv", "provenance.json"]


def test_failure_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError), OutputDir(out) as o:
        o.stage("a.tsv").write_text("partial")
        raise RuntimeError("disk full")
    assert not out.exists()


def test_failure_keeps_unrelated_existing_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(KeyboardInterrupt), OutputDir(out) as o:
        o.stage("a.tsv").write_text("partial")
        raise KeyboardInterrupt
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_existing_results_refused_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / OutputDir.MARKER).write_text("{}")
    with pytest.raises(OutputError, match="--force"):
        OutputDir(out).check()
    OutputDir(out, force=True).check()


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only directories")
def test_unwritable_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(OutputError, match="not writable"):
        OutputDir(ro / "out").check()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("../../etc/passwd", "etc_passwd"), ("/abs/path", "abs_path"), ("T1 tumour", "T1_tumour"),
     ("<script>", "script"), ("..", "sample"), ("ok-name_1.x", "ok-name_1.x")],
)
def test_safe_name_neutralises_paths(name, expected):
    assert safe_name(name) == expected
    assert "/" not in safe_name(name) and ".." not in safe_name(name)
