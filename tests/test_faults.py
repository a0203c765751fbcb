"""Issue #9.2: everyday faults, each either read correctly or stopped with one line.

Fixtures live in test_vcfs/faults/ (derived from the demo VCF, real GRCh38
hotspot coordinates); compressed and indexed variants are made from them here.
"""

from __future__ import annotations

import csv
import errno
import gzip
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import datapath
from tests.corpus_harness import check_outdir, run_cli

DEMO = datapath("demo", "demo_tumour.grch38.vcf.gz")


def faults(name: str) -> Path:
    return datapath("faults", name)


def annotate(*args: str) -> tuple[int, list[str]]:
    code, err = run_cli(["-q", "annotate", *args, "--formats", "tsv,json"])
    return code, [x for x in err.splitlines() if x.strip()]


def rows(out: Path, sample: str = "DEMO_TUMOUR") -> list[tuple[str, ...]]:
    with open(out / f"{sample}.resmark.tsv", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        return sorted((r["variant_key"], r["gene"], r["hgvsp_short"], r["rule_id"]) for r in reader)


def accounting(out: Path) -> dict[str, int]:
    with open(out / "accounting.tsv", encoding="utf-8") as fh:
        return {r["bucket"]: int(r["count"]) for r in csv.DictReader(fh, delimiter="\t") if not r["detail"]}


def assert_refused(code: int, err: list[str], path: Path | str, *needles: str) -> None:
    assert code == 1, err
    assert len(err) == 1, err
    assert err[0].startswith("resmark: error: ") and "internal error" not in err[0], err
    assert str(path) in err[0], err
    for n in needles:
        assert n in err[0], err


@pytest.fixture(scope="module")
def demo_rows(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, ...]]:
    out = tmp_path_factory.mktemp("demo") / "out"
    code, err = annotate(str(DEMO), "-o", str(out))
    assert code == 0, err
    return rows(out)


def plain_demo(tmp_path: Path) -> Path:
    p = tmp_path / "demo.vcf"
    p.write_bytes(gzip.decompress(DEMO.read_bytes()))
    return p


# -- files that cannot be read -----------------------------------------------------------


def test_empty_file(tmp_path: Path) -> None:
    code, err = annotate(str(faults("empty.vcf")), "-o", str(tmp_path / "o"))
    assert_refused(code, err, faults("empty.vcf"), "file is empty")
    assert not (tmp_path / "o").exists()


def test_truncated_bgzf(tmp_path: Path) -> None:
    data = DEMO.read_bytes()
    bad = tmp_path / "truncated.vcf.gz"
    bad.write_bytes(data[: len(data) - 28])  # BGZF end-of-file block cut off
    code, err = annotate(str(bad), "-o", str(tmp_path / "o"))
    assert_refused(code, err, bad, "truncated")
    bad.write_bytes(data[: len(data) // 2])  # cut inside a block
    code, err = annotate(str(bad), "-o", str(tmp_path / "o"))
    assert_refused(code, err, bad, "truncated")
    assert not (tmp_path / "o").exists()


def test_truncated_plain_gzip(tmp_path: Path) -> None:
    data = gzip.compress(gzip.decompress(DEMO.read_bytes()))
    bad = tmp_path / "truncated_gzip.vcf.gz"
    bad.write_bytes(data[: len(data) - 40])
    code, err = annotate(str(bad), "-o", str(tmp_path / "o"))
    assert_refused(code, err, bad, "truncated")


def test_gzip_that_is_not_bgzf_is_read(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    gz = tmp_path / "plain_gzip.vcf.gz"
    gz.write_bytes(gzip.compress(gzip.decompress(DEMO.read_bytes())))
    code, err = annotate(str(gz), "-o", str(tmp_path / "o"))
    assert code == 0, err
    assert rows(tmp_path / "o") == demo_rows


def test_text_named_bcf_is_read_as_vcf(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    fake = tmp_path / "really_text.bcf"
    fake.write_bytes(gzip.decompress(DEMO.read_bytes()))
    code, err = annotate(str(fake), "-o", str(tmp_path / "o"))
    assert code == 0, err
    assert rows(tmp_path / "o") == demo_rows


def test_other_compressions_are_named(tmp_path: Path) -> None:
    import bz2

    f = tmp_path / "demo.vcf.bz2"
    f.write_bytes(bz2.compress(gzip.decompress(DEMO.read_bytes())))
    code, err = annotate(str(f), "-o", str(tmp_path / "o"))
    assert_refused(code, err, f, "compressed with bzip2", "bgzip")


def test_header_only_reads_zero_records(tmp_path: Path) -> None:
    code, err = annotate(str(faults("header_only.grch38.vcf")), "-o", str(tmp_path / "o"))
    assert code == 0, err
    acc = accounting(tmp_path / "o")
    assert acc["records_read"] == 0 and acc["annotated"] == 0
    assert check_outdir(tmp_path / "o") is None


@pytest.mark.parametrize(
    ("fixture", "needles"),
    [
        ("bad_pos.grch38.vcf", ("line 48", "POS '152O98791' is not a whole number")),
        ("spaces_not_tabs.grch38.vcf", ("line 46", "separated by spaces")),
        ("comment_line_in_body.grch38.vcf", ("line 47", "after the first record")),
        ("non_utf8_sample_name.grch38.vcf", ("not valid UTF-8",)),
    ],
)
def test_bad_lines_stop_with_line_number(fixture: str, needles: tuple[str, ...], tmp_path: Path) -> None:
    code, err = annotate(str(faults(fixture)), "-o", str(tmp_path / "o"))
    assert_refused(code, err, faults(fixture), *needles)
    assert not (tmp_path / "o").exists()


# -- files that are read correctly -------------------------------------------------------


def test_blank_lines_are_skipped(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    code, err = annotate(str(faults("blank_and_trailing_lines.grch38.vcf")), "-o", str(tmp_path / "o"),
                         "--report", "panel")
    assert code == 0, err
    code, err = annotate(str(plain_demo(tmp_path)), "-o", str(tmp_path / "ref"), "--report", "panel")
    assert rows(tmp_path / "o") == rows(tmp_path / "ref")


def test_crlf_line_endings(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    code, err = annotate(str(faults("crlf_line_endings.grch38.vcf")), "-o", str(tmp_path / "o"))
    assert code == 0, err
    assert rows(tmp_path / "o") == demo_rows


def test_wrong_build_is_refused(tmp_path: Path) -> None:
    code, err = annotate(str(DEMO), "-o", str(tmp_path / "o"), "--build", "GRCh37")
    assert_refused(code, err, DEMO, "--build GRCh37 conflicts with the header")
    assert not (tmp_path / "o").exists()


def test_contigs_the_panel_does_not_know(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    code, err = annotate(str(faults("unknown_contigs.grch38.vcf")), "-o", str(tmp_path / "o"))
    assert code == 0, err
    assert rows(tmp_path / "o") == demo_rows
    acc = accounting(tmp_path / "o")
    assert acc["records_read"] + acc.get("off_panel_skipped", 0) >= 0
    assert acc["records_read"] == acc["annotated"] + acc["off_panel"] + acc["filtered"] + acc["rejected"]


def test_unsorted_input_next_to_an_index(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    """An index made for the sorted file, then the file replaced by an unsorted copy."""
    import pysam

    vcf = tmp_path / "sample.vcf.gz"
    shutil.copy(DEMO, vcf)
    pysam.tabix_index(str(vcf), preset="vcf", force=True)
    index = Path(str(vcf) + ".tbi")
    pysam.tabix_compress(str(faults("unsorted.grch38.vcf")), str(vcf), force=True)
    st = index.stat()
    os.utime(vcf, (st.st_atime + 10, st.st_mtime + 10))  # the data file is newer than its index
    code, err = annotate(str(vcf), "-o", str(tmp_path / "o"))
    assert code == 0, err
    assert rows(tmp_path / "o") == demo_rows


def test_duplicate_records_are_rejected_with_reason(tmp_path: Path) -> None:
    out = tmp_path / "o"
    code, err = annotate(str(faults("duplicate_records.grch38.vcf")), "-o", str(out))
    assert code == 0, err
    with open(out / "accounting.tsv", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh, delimiter="\t"))
    dup = [r for r in table if r["bucket"] == "rejected" and "duplicate" in r["detail"]]
    assert dup and int(dup[0]["count"]) == 1


def test_missing_sample_is_a_usage_error(tmp_path: Path) -> None:
    code, err = annotate(str(DEMO), "-o", str(tmp_path / "o"), "--sample", "NOPE")
    assert code == 2 and len(err) == 1 and "DEMO_TUMOUR, DEMO_NORMAL" in err[0], err


def test_path_with_spaces(tmp_path: Path, demo_rows: list[tuple[str, ...]]) -> None:
    d = tmp_path / "run 1 (tumour)"
    d.mkdir()
    vcf = d / "my sample.vcf.gz"
    shutil.copy(DEMO, vcf)
    code, err = annotate(str(vcf), "-o", str(d / "out dir"))
    assert code == 0, err
    assert rows(d / "out dir") == demo_rows


# -- output directory --------------------------------------------------------------------


def test_existing_results_need_force(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert annotate(str(DEMO), "-o", str(out))[0] == 0
    before = sorted(p.name for p in out.iterdir())
    code, err = annotate(str(DEMO), "-o", str(out))
    assert_refused(code, err, out, "--force")
    assert sorted(p.name for p in out.iterdir()) == before
    assert annotate(str(DEMO), "-o", str(out), "--force")[0] == 0


def test_unwritable_output_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: make the permission check see what a user sees
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == ro else real(p, m))
    try:
        code, err = annotate(str(DEMO), "-o", str(ro / "out"))
    finally:
        ro.chmod(0o700)
    assert_refused(code, err, ro, "not writable")


def test_disk_full_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.io import jsonout

    def full(path: Path, *a: object, **k: object) -> None:
        Path(path).write_text('{"partial": ')
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    # both JSON writers: which one a run uses is the outputs module's choice
    monkeypatch.setattr(jsonout, "write", full)
    monkeypatch.setattr(jsonout, "write_plain", full)
    out = tmp_path / "o"
    code, err = annotate(str(DEMO), "-o", str(out))
    assert_refused(code, err, out, "No space left on device", "nothing was kept")
    assert not out.exists() or not any(out.iterdir())


def test_ctrl_c_exits_130_without_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.annotation import pipeline

    calls = {"n": 0}
    real = pipeline.SampleAnnotator.add

    def interrupted(self: object, rec: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        real(self, rec)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.SampleAnnotator, "add", interrupted)
    out = tmp_path / "o"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, err = annotate(str(DEMO), "-o", str(out), "--report", "all")
    assert code == 130 and err == ["resmark: interrupted"], err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_ctrl_c_while_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.io import tsvout

    def interrupted(path: Path, *a: object, **k: object) -> None:
        Path(path).write_text("partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(tsvout, "write_rows", interrupted)
    out = tmp_path / "o"
    code, err = annotate(str(DEMO), "-o", str(out))
    assert code == 130, err
    assert not out.exists()


def test_missing_fileformat_line_is_added_with_a_warning(tmp_path, capsys):
    """SnpEff's example VCFs start at #CHROM; htslib refuses them, so resmark reads them
    from a copy with ``##fileformat`` added, and says so (issue 13: real files annotate)."""
    from annotator.cli import main

    vcf = tmp_path / "no_fileformat.vcf"
    vcf.write_text("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\nchr3\t179234297\t.\tA\tG\t.\tPASS\t.\n")
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(vcf), "-o", str(tmp_path / "out"), "--build", "GRCh38"])
    assert e.value.code == 0
    assert "no ##fileformat line" in capsys.readouterr().err
    assert "p.H1047R" in (tmp_path / "out" / "no_fileformat.resmark.tsv").read_text()
