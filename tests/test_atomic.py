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


@pytest.mark.parametrize("exchange_min", [0, 1 << 40])
def test_force_replaces_existing_results_and_leaves_no_old_copy(tmp_path, monkeypatch, exchange_min):
    # a replaced result is renamed over, or swapped out (RENAME_EXCHANGE on Linux) into the
    # staging directory, which the commit removes: only the new bytes remain, no staging folder
    from annotator.io import atomic

    monkeypatch.setattr(atomic, "EXCHANGE_MIN_BYTES", exchange_min)
    out = tmp_path / "out"
    for text in ("old", "new"):
        with OutputDir(out, force=True) as o:
            o.stage("a.tsv").write_text(text)
            o.stage(OutputDir.MARKER).write_text("{}")
    assert (out / "a.tsv").read_text() == "new"
    assert sorted(p.name for p in out.iterdir() if p.name != ".resmark.lock") == ["a.tsv", "provenance.json"]


def test_replace_file_swaps_only_regular_files(tmp_path, monkeypatch):
    from annotator.io import atomic
    from annotator.io.atomic import replace_file

    monkeypatch.setattr(atomic, "EXCHANGE_MIN_BYTES", 0)

    src, dst = tmp_path / "src", tmp_path / "dst"
    src.write_text("new")
    dst.write_text("old")
    replace_file(src, dst)
    assert dst.read_text() == "new"
    assert not src.exists() or src.read_text() == "old"  # the old file, swapped out
    # a directory in the way is never swapped into the staging directory (which is deleted)
    src.write_text("new")
    blocker = tmp_path / "blocker"
    (blocker / "inside").mkdir(parents=True)
    with pytest.raises(OSError):
        replace_file(src, blocker)
    assert (blocker / "inside").is_dir() and src.read_text() == "new"
    # a symlink at the target is replaced, its target untouched
    kept = tmp_path / "kept"
    kept.write_text("keep")
    link = tmp_path / "link"
    link.symlink_to(kept)
    replace_file(src, link)
    assert not link.is_symlink() and link.read_text() == "new" and kept.read_text() == "keep"
