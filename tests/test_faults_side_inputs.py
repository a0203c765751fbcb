"""Issue #14: bad side inputs (CNV, SV, fusion tables, sample sheets, panels), bad numbers
and output faults: one line naming the file, the documented exit code, no traceback, no
hang, no partial output, no overwritten input, provenance kept.

Static fixtures are in test_vcfs/faults/side/ (derived from test_vcfs/cnv/ and the demo
VCF); the other cases of each class are derived from the same files at test time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from annotator.errors import InputError, PanelError, UsageError
from annotator.io.textinput import Limits, TextInput
from tests.conftest import datapath
from tests.corpus_harness import check_outdir, run_cli, speed_up

pytestmark = pytest.mark.timeout(120)

DEMO = datapath("demo", "demo_tumour.grch38.vcf.gz")
SIDE = datapath("faults", "side")
CNS = datapath("cnv", "erbb2_amp.grch38.cns")
SV = datapath("cnv", "symbolic_alleles.grch38.vcf")
FUSIONS = datapath("cnv", "fusions.grch38.tsv")
BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


@pytest.fixture(autouse=True)
def _fast_panel(monkeypatch: pytest.MonkeyPatch) -> None:
    speed_up(monkeypatch)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused(args: list[str], out: Path, needle: str, code: int = 1, names: str | None = None) -> str:
    """Run the CLI; assert the one-line refusal contract; return the message."""
    exit_code, err = run_cli(["-q", *args])
    lines = [x for x in err.splitlines() if x.strip()]
    assert exit_code == code, (exit_code, err)
    assert len(lines) == 1, err
    assert lines[0].startswith("resmark: error: "), err
    assert "Traceback" not in err and "internal error" not in err and "interrupted" not in err
    if names is not None:
        assert names in lines[0], err
    assert needle.lower() in lines[0].lower(), err
    assert check_outdir(out) is None
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())
    return lines[0]


def annotate_ok(args: list[str], out: Path) -> dict[str, object]:
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv,json",
                              *args])
    assert exit_code == 0, err
    assert check_outdir(out) is None
    prov: dict[str, object] = json.loads((out / "provenance.json").read_text())
    return prov


# ---------------------------------------------------------------- the shared reader


def _bgzip(data: bytes, path: Path) -> Path:
    import pysam

    plain = path.with_suffix(".plain")
    plain.write_bytes(data)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    return path


CONTAINER_FAULTS: dict[str, tuple[Callable[[bytes, Path], None], str]] = {
    "empty": (lambda d, p: p.write_bytes(b""), "empty (0 bytes)"),
    "bgzf_without_eof_block": (
        lambda d, p: p.write_bytes(_bgzip(d, p).read_bytes()[:-28]), "end-of-file block is missing"),
    "bgzf_cut_inside_block": (
        lambda d, p: p.write_bytes(_bgzip(d, p).read_bytes()[:-40]), "truncated"),
    "gzip_cut_short": (lambda d, p: p.write_bytes(gzip.compress(d)[:-9]), "truncated"),
    "gzip_header_only": (lambda d, p: p.write_bytes(gzip.compress(d)[:10]), "truncated"),
    "gzip_damaged": (
        lambda d, p: p.write_bytes(gzip.compress(d)[:20] + b"\xff" * 30 + gzip.compress(d)[50:]),
        "damaged"),
    "gzip_trailing_junk": (lambda d, p: p.write_bytes(gzip.compress(d) + b"junk!"), "not gzip"),
    "bzip2": (lambda d, p: p.write_bytes(b"BZh91AY&SY" + d), "bzip2"),
    "xz": (lambda d, p: p.write_bytes(b"\xfd7zXZ\x00" + d), "xz"),
    "zip": (lambda d, p: p.write_bytes(b"PK\x03\x04" + d), "zip"),
    "zstd": (lambda d, p: p.write_bytes(b"\x28\xb5\x2f\xfd" + d), "zstd"),
    "nul_bytes": (lambda d, p: p.write_bytes(d[:40] + b"\0" * 100 + d[40:]), "binary data"),
    "gzipped_nul_bytes": (lambda d, p: p.write_bytes(gzip.compress(b"\0" * 5000)), "binary data"),
    "one_endless_line": (lambda d, p: p.write_bytes(b"x" * (2 << 20)), "longer than"),
    "gzip_bomb_line": (lambda d, p: p.write_bytes(gzip.compress(b"y" * (64 << 20))), "longer than"),
    "latin1_bytes": (lambda d, p: p.write_bytes(d.replace(b"CDK6", b"CDK\xe96")), "not UTF-8"),
}


@pytest.mark.parametrize("fault", sorted(CONTAINER_FAULTS))
def test_cnv_container_faults_are_one_line_exit_1(fault: str, tmp_path: Path) -> None:
    make, needle = CONTAINER_FAULTS[fault]
    bad = tmp_path / f"bad_{fault}.cns"
    make(CNS.read_bytes(), bad)
    before = _sha(bad)
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(bad)],
            tmp_path / "out", needle, names=str(bad))
    assert _sha(bad) == before


@pytest.mark.parametrize("fault", ["empty", "bgzf_without_eof_block", "gzip_cut_short",
                                   "gzip_trailing_junk", "bzip2", "nul_bytes", "one_endless_line",
                                   "gzip_damaged"])
def test_sv_container_faults_are_one_line_exit_1(fault: str, tmp_path: Path) -> None:
    make, needle = CONTAINER_FAULTS[fault]
    bad = tmp_path / f"bad_{fault}.vcf.gz"
    make(SV.read_bytes(), bad)
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--sv", str(bad)],
            tmp_path / "out", needle, names=str(bad))


@pytest.mark.parametrize("fault", ["bgzf_without_eof_block", "gzip_cut_short", "latin1_bytes"])
def test_fusion_table_container_faults(fault: str, tmp_path: Path) -> None:
    make, needle = CONTAINER_FAULTS[fault]
    bad = tmp_path / "fusions.tsv.gz"
    make(FUSIONS.read_bytes().replace(b"BICC1", b"BICC\xe91") if fault == "latin1_bytes"
         else FUSIONS.read_bytes(), bad)
    if fault == "latin1_bytes":  # fusion tables and SV VCFs are read with replacement characters
        annotate_ok(["--sv", str(bad)], tmp_path / "out")
        return
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--sv", str(bad)],
            tmp_path / "out", needle, names=str(bad))


@pytest.mark.parametrize("name", ["cns_bgzf_no_eof_block.cns.gz", "cns_gzip_cut_short.cns.gz"])
def test_truncated_cnv_fixtures_are_not_interrupts(name: str, tmp_path: Path) -> None:
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(SIDE / name)],
            tmp_path / "out", "truncated", names=name)


def test_truncated_and_empty_sv_fixtures(tmp_path: Path) -> None:
    for name, needle in (("sv_bgzf_no_eof_block.vcf.gz", "end-of-file block"),
                         ("sv_empty.vcf", "empty")):
        refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--sv", str(SIDE / name)],
                tmp_path / "out", needle, names=name)


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/null", "directory"])
def test_devices_and_directories_are_refused(special: str, tmp_path: Path) -> None:
    target = str(tmp_path) if special == "directory" else special
    if not Path(target).exists():
        pytest.skip(f"{target} absent")
    for option in ("--cnv", "--sv"):
        # a directory is an option problem (click's path check, exit 2); a device is data
        refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), option, target],
                tmp_path / "out", "", code=2 if special == "directory" else 1, names=target)


def test_empty_gzip_is_an_empty_table(tmp_path: Path) -> None:
    bad = tmp_path / "empty.cns.gz"
    bad.write_bytes(gzip.compress(b""))
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(bad)],
            tmp_path / "out", "empty", names=str(bad))


def test_limits_are_enforced_while_streaming(tmp_path: Path) -> None:
    big = tmp_path / "big.tsv"
    big.write_bytes(b"chrom\tstart\tend\tcn\n" + b"chr1\t1\t2\t2\n" * 200_000)
    small = Limits(max_line=1024, max_bytes=1 << 20)
    with pytest.raises(InputError, match="larger than the 1 MiB limit"), \
            TextInput(big, what="copy-number table", limits=small) as src:
        for _ in src.lines():
            pass
    with TextInput(big, what="copy-number table", limits=small) as src, \
            pytest.raises(InputError, match="line 1: line longer than the 1 KiB limit"):
        big.write_bytes(b"a" * 5000)
        list(src.lines())


def test_multi_member_gzip_and_bgzf_are_read(tmp_path: Path) -> None:
    data = CNS.read_bytes()
    half = data.index(b"\n", len(data) // 2) + 1
    members = tmp_path / "two_members.cns.gz"
    members.write_bytes(gzip.compress(data[:half]) + gzip.compress(data[half:]))
    bgzf = _bgzip(data, tmp_path / "x.cns.gz")
    assert bgzf.read_bytes().endswith(BGZF_EOF)
    for path in (members, bgzf):
        with TextInput(path) as src:
            text = "".join(f"{line}\n" for _, line in src.lines())
            assert text.encode() == data
            assert src.sha256 == _sha(path)


# ---------------------------------------------------------------- pipes (read once)


def _pipe_path(data: bytes) -> tuple[str, threading.Thread, int]:
    r, w = os.pipe()

    def feed() -> None:
        with os.fdopen(w, "wb") as fh:
            fh.write(data)

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    return f"/dev/fd/{r}", t, r


@pytest.mark.parametrize(("option", "source"), [("--cnv", CNS), ("--sv", SV), ("--sv", FUSIONS)])
def test_a_pipe_is_read_once_and_hashed(option: str, source: Path, tmp_path: Path) -> None:
    data = gzip.compress(source.read_bytes()) if option == "--cnv" else source.read_bytes()
    path, feeder, fd = _pipe_path(data)
    try:
        prov = annotate_ok([option, path], tmp_path / "out")
    finally:
        feeder.join(5)
        os.close(fd)
    role = option.lstrip("-")
    recorded = [i for i in prov["inputs"] if i["role"] == role]  # type: ignore[attr-defined]
    assert recorded == [{"role": role, "path": path, "sha256": hashlib.sha256(data).hexdigest()}]


def test_side_input_digest_is_the_file_digest(tmp_path: Path) -> None:
    prov = annotate_ok(["--cnv", str(CNS), "--sv", str(SV)], tmp_path / "out")
    got = {i["role"]: i["sha256"] for i in prov["inputs"]}  # type: ignore[attr-defined]
    assert got["cnv"] == _sha(CNS) and got["sv"] == _sha(SV)


# ---------------------------------------------------------------- numbers in tables

CNS_HEADER = "chromosome\tstart\tend\tgene\tlog2\tcn\tdepth\tprobes\tweight\n"


@pytest.mark.parametrize(
    ("row", "needle"),
    [
        ("chr17\t39690000\t39740000\tERBB2\tinf\t.\t1\t1\t1", "not a finite number"),
        ("chr17\t39690000\t39740000\tERBB2\t-inf\t.\t1\t1\t1", "not a finite number"),
        ("chr17\t39690000\t39740000\tERBB2\tInfinity\t.\t1\t1\t1", "not a finite number"),
        ("chr17\t39690000\t39740000\tERBB2\t1e400\t.\t1\t1\t1", "not a finite number"),
        ("chr17\t39690000\t39740000\tERBB2\t1024\t.\t1\t1\t1", "out of range"),
        ("chr17\t39690000\t39740000\tERBB2\t5000.5\t.\t1\t1\t1", "out of range"),
        ("chr17\t39690000\t39740000\tERBB2\t0.5\t-5\t1\t1\t1", "negative"),
        ("chr17\t39690000\t39740000\tERBB2\t0.5\tinf\t1\t1\t1", "not a finite number"),
        ("chr17\t39690000\t39740000\tERBB2\t0.5\t1e300\t1\t1\t1", "out of range"),
        ("chr17\tinf\t39740000\tERBB2\t0.5\t.\t1\t1\t1", "not a finite number"),
        ("chr17\t-5\t39740000\tERBB2\t0.5\t.\t1\t1\t1", "not a genome position"),
        ("chr17\t1e30\t1e31\tERBB2\t0.5\t.\t1\t1\t1", "not a genome position"),
        ("chr17\t39.5\t39740000\tERBB2\t0.5\t.\t1\t1\t1", "not a genome position"),
        ("chr17\t39740000\t39690000\tERBB2\t0.5\t.\t1\t1\t1", "before its start"),
        ("chr17\t39690000\t39740000\tERBB2\tabc\t.\t1\t1\t1", "not a number"),
        ("chr17\t39690000", "columns"),
    ],
)
def test_bad_numbers_in_a_cnvkit_table_name_the_line(row: str, needle: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.cns"
    bad.write_text(CNS_HEADER + "chr7\t90000000\t95000000\tCDK6\t0.02\t2\t100\t40\t30\n" + row + "\n")
    msg = refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(bad)],
                  tmp_path / "out", needle, names=str(bad))
    assert "line 3" in msg


@pytest.mark.parametrize("name", ["cns_log2_inf.cns", "cns_log2_overflow.cns", "cns_cn_negative.cns"])
def test_number_fixtures(name: str, tmp_path: Path) -> None:
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(SIDE / name)],
            tmp_path / "out", "line 2", names=name)


def test_nan_is_a_missing_value_and_small_negative_cn_is_zero(tmp_path: Path) -> None:
    from annotator.cnv.readers import read_cnv

    p = tmp_path / "ok.cns"
    p.write_text(CNS_HEADER + "chr7\t90000000\t95000000\tCDK6\tNaN\tnan\t1\t1\t1\n"
                 "chr13\t48300000\t48400000\tRB1\t-4.5\t-0.2\t1\t1\t1\n")
    cnv = read_cnv(p)
    assert [(s.copy_number, s.log2) for s in cnv.segments] == [(0.0, -4.5)]
    assert cnv.skipped == 1


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        ("gene\tcopy_number\nERBB2\tinf\n", "not a finite number"),
        ("gene\tcopy_number\nERBB2\t-3\n", "negative"),
        ("Hugo_Symbol\tS1\nERBB2\tinf\n", "not a finite number"),
        ("Hugo_Symbol\tS1\nERBB2\t7\n", "not one of"),
        ("chrom\tstart\tend\tnMajor\tnMinor\nchr17\t1\t100\t2\t-9\n", "negative"),
        ("ID\tchrom\tloc.start\tloc.end\tnum.mark\tseg.mean\nS\tchr17\t1\t100\t5\t2000\n", "out of range"),
        ("chromosome\tstart\tend\tcopyNumber\nchr17\t1\t100\tnan\n", "no usable"),
        ("chromosome\tstart\tend\tcopyNumber\n", "no usable"),
        ("## only comments\n", "empty table"),
        ("a\tb\tc\n1\t2\t3\n", "unrecognised"),
    ],
)
def test_other_formats_bad_values(table: str, needle: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tsv"
    bad.write_text(table)
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--cnv", str(bad)],
            tmp_path / "out", needle, names=str(bad))


@pytest.mark.parametrize(
    ("info", "needle"),
    [("SVTYPE=DEL;END=inf", "not a finite number"), ("SVTYPE=DUP;END=39735000;LOG2=1024", ""),
     ("SVTYPE=DUP;END=39735000;CN=inf", "not a finite"), ("SVTYPE=DUP;END=39735000;CN=-5", ""),
     ("SVTYPE=DUP;END=39735000;FOLD_CHANGE=1e400", "not a finite")],
)
def test_bad_numbers_in_sv_info_are_rejected_records_not_crashes(info: str, needle: str,
                                                                 tmp_path: Path) -> None:
    sv = tmp_path / "sv.vcf"
    head = "".join(line for line in SV.read_text().splitlines(keepends=True) if line.startswith("#"))
    sv.write_text(head + f"chr17\t39690000\tx\tC\t<DUP>\t.\tPASS\t{info}\tGT\t0/1\n")
    prov = annotate_ok(["--sv", str(sv)], tmp_path / "out")
    rejected = prov["accounting"]["DEMO_TUMOUR"]  # type: ignore[index]
    assert rejected is not None
    text = (tmp_path / "out" / "accounting.tsv").read_text()
    if needle:
        assert needle in text, text
    assert "inf" not in (tmp_path / "out" / "DEMO_TUMOUR.resmark.tsv").read_text().split("\t")


@pytest.mark.parametrize(
    ("line", "needle"),
    [("chr1\tabc\tx\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=5\tGT\t0/1", "POS"),
     ("chr1\t-5\tx\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL;END=5\tGT\t0/1", "POS"),
     ("chr1\t99999999999\tx\tA\t<DEL>\t.\tPASS\tSVTYPE=DEL\tGT\t0/1", "POS"),
     ("chr1\t5", "fewer than 5")],
)
def test_bad_sv_records_name_the_line(line: str, needle: str, tmp_path: Path) -> None:
    sv = tmp_path / "sv.vcf"
    sv.write_text(SV.read_text() + line + "\n")
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--sv", str(sv)],
            tmp_path / "out", needle, names=str(sv))


@pytest.mark.parametrize("bp", ["chr10", "chr10:abc", ":5", "chr10:-5", "chr10:0", "chr10:1e9"])
def test_bad_fusion_breakpoints(bp: str, tmp_path: Path) -> None:
    t = tmp_path / "f.tsv"
    t.write_text(f"FusionGene\tLeftBreakpoint\tRightBreakpoint\nFGFR2--BICC1\t{bp}\tchr10:58700000\n")
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--sv", str(t)],
            tmp_path / "out", "breakpoint", names=str(t))


# ---------------------------------------------------------------- options


@pytest.mark.parametrize(
    "option",
    [["--ploidy", "0"], ["--ploidy", "-2"], ["--ploidy", "inf"], ["--ploidy", "nan"],
     ["--ploidy", "1e308"], ["--tumor-fraction", "0"], ["--tumor-fraction", "-0.1"],
     ["--tumor-fraction", "1.5"], ["--tumor-fraction", "nan"], ["--tumor-fraction", "inf"],
     ["--amp-ratio", "inf"], ["--amp-ratio", "nan"], ["--gain-ratio", "0.5"],
     ["--loss-ratio", "1"], ["--loss-ratio", "-1"], ["--deep-deletion-cn", "-1"],
     ["--cn-min-fraction", "0"], ["--cn-min-fraction", "2"], ["-j", "0"], ["-j", "-3"],
     ["--ploidy", "two"]],
)
def test_annotate_numeric_options_are_range_checked(option: list[str], tmp_path: Path) -> None:
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), *option], tmp_path / "out",
            option[0], code=2)


@pytest.mark.parametrize(
    "option",
    [["--min-vaf", "nan"], ["--min-vaf", "1.5"], ["--alpha", "0"], ["--alpha", "inf"],
     ["--ci-level", "1"], ["--min-alt-reads", "0"], ["--min-base-quality", "-1"],
     ["--min-fold-change", "0.5"], ["--progression-rise", "inf"], ["--cn-delta", "0"],
     ["--power-vaf", "0"], ["--min-power", "nan"], ["--response-fall", "2"]],
)
def test_track_numeric_options_are_range_checked(option: list[str], tmp_path: Path) -> None:
    refused(["track", str(DEMO), "-o", str(tmp_path / "out"), *option], tmp_path / "out",
            option[0], code=2)


def test_the_config_checks_numbers_for_api_callers(tmp_path: Path) -> None:
    from annotator.api import AnnotateConfig, annotate
    from annotator.cnv.thresholds import CnThresholds

    for kw in ({"ploidy": 0.0}, {"ploidy": float("inf")}, {"ploidy": float("nan")},
               {"tumor_fraction": 0.0}, {"tumor_fraction": float("nan")}):
        with pytest.raises(UsageError):
            annotate(AnnotateConfig(inputs=[str(DEMO)], outdir=tmp_path / "o", **kw))  # type: ignore[arg-type]
    for th in ({"amplification_ratio": float("inf")}, {"loss_ratio": float("nan")},
               {"deep_deletion_cn": -1.0}):
        with pytest.raises(UsageError, match="--"):
            CnThresholds(**th)
    assert not (tmp_path / "o").exists()


# ---------------------------------------------------------------- sample sheets


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('sample,vcf\n"S1\nx",{vcf}\n', "quoted field runs over lines 2-3"),
        ('sample,vcf\nS1,"{vcf}\n', "quoted field runs over"),
        ("sample\tvcf\tpurity\nS1\t{vcf}\t0\n", "not in (0, 1]"),
        ("sample\tvcf\tpurity\nS1\t{vcf}\tnan\n", "not in (0, 1]"),
        ("sample\tvcf\tpurity\nS1\t{vcf}\tinf\n", "not in (0, 1]"),
        ("sample\tvcf\tpurity\nS1\t{vcf}\t1.5\n", "not in (0, 1]"),
        ("sample\tvcf\tpurity\nS1\t{vcf}\thalf\n", "not a number"),
        ("sample\tvcf\nS1\t{vcf}\t" + "x" * 70_000 + "\n", "KiB limit"),
        ("sample\tpath2\nS1\t{vcf}\n", "no 'vcf' column"),
        ("# only a comment\n", "empty"),
        ("sample\tvcf\n", "lists no VCF"),
        ("sample\tvcf\nS1\t\n", "empty 'vcf'"),
    ],
)
def test_bad_sample_sheets(text: str, needle: str, tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(text.replace("{vcf}", str(DEMO)))
    refused(["annotate", "--samplesheet", str(sheet), "-o", str(tmp_path / "out")],
            tmp_path / "out", needle, names=str(sheet))


@pytest.mark.parametrize("fault", ["empty", "gzip_cut_short", "nul_bytes", "latin1_bytes",
                                   "bgzf_without_eof_block"])
def test_sample_sheet_container_faults(fault: str, tmp_path: Path) -> None:
    make, needle = CONTAINER_FAULTS[fault]
    sheet = tmp_path / "sheet.tsv"
    make(f"sample\tvcf\nCDK6x\t{DEMO}\n".encode(), sheet)
    refused(["annotate", "--samplesheet", str(sheet), "-o", str(tmp_path / "out")],
            tmp_path / "out", needle, names=str(sheet))


def test_quoted_newline_fixture(tmp_path: Path) -> None:
    refused(["annotate", "--samplesheet", str(SIDE / "sheet_quoted_newline.csv"), "-o",
             str(tmp_path / "out")], tmp_path / "out", "line 2", names="sheet_quoted_newline.csv")


def test_a_sheet_from_a_pipe_with_bom_and_crlf(tmp_path: Path) -> None:
    data = f"\ufeffsample,vcf\r\nS1,{DEMO}\r\n".encode()
    path, feeder, fd = _pipe_path(data)
    try:
        exit_code, err = run_cli(["-q", "annotate", "--samplesheet", path, "-o",
                                  str(tmp_path / "out"), "--formats", "tsv"])
    finally:
        feeder.join(5)
        os.close(fd)
    assert exit_code == 0, err
    prov = json.loads((tmp_path / "out" / "provenance.json").read_text())
    assert prov["samples"] == ["S1"]
    assert {"role": "samplesheet", "path": path,
            "sha256": hashlib.sha256(data).hexdigest()} in prov["inputs"]


# ---------------------------------------------------------------- panels (YAML)


def _bomb(levels: int, width: int = 9) -> str:
    text = "genes:\n  - symbol: ERBB2\n    role: oncogene\n    notes: &a [" + ",".join(['"lol"'] * width) + "]\n"
    prev = "a"
    for i in range(levels):
        name = f"l{i}"
        text += f"    n{name}: &{name} [" + ",".join([f"*{prev}"] * width) + "]\n"
        prev = name
    return text


YAML_FAULTS = {
    "alias_bomb": (_bomb(8), "alias"),
    "alias_bomb_wide": (_bomb(5, 30), "alias"),
    "merge_key_bomb": ("a0: &a0 {x: 1}\n" + "".join(
        f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}], y{i}: [*a{i - 1}, *a{i - 1}, *a{i - 1}]}}\n"
        for i in range(1, 30)), "alias"),
    "recursive_alias": ("genes: &g [*g]\n", "contains it"),
    "flow_nesting": ("genes: " + "[" * 20_000 + "]" * 20_000 + "\n", "nest"),
    "block_nesting": ("genes:\n" + "".join(" " * (i + 1) + f"- k{i}:\n" for i in range(300)), "nest"),
    "mapping_nesting": ("genes: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n", "nest"),
    "undefined_alias": ("genes: *nowhere\n", "undefined"),
    "two_documents": ("genes: []\n---\nrules: []\n", "one YAML document"),
    "python_tag": ("genes: !!python/object/apply:os.getcwd []\n", "invalid YAML"),
    "not_utf8": ("genes: [caf\xe9]\n", "not UTF-8"),
    "tabs_in_indent": ("genes:\n\t- x\n", "invalid YAML"),
}


@pytest.mark.parametrize("fault", sorted(YAML_FAULTS))
def test_bad_panel_yaml_is_one_line_panel_error(fault: str, tmp_path: Path) -> None:
    text, needle = YAML_FAULTS[fault]
    panel = tmp_path / f"{fault}.yaml"
    panel.write_bytes(text.encode("latin-1") if fault == "not_utf8" else text.encode())
    from annotator.knowledge import loader

    with pytest.raises(PanelError, match=r"(?i)" + needle.split()[0]) as e:
        loader.read_raw(panel, partial=True)
    assert str(panel) in e.value.one_line()
    refused(["panel", "validate", str(panel)], tmp_path / "none", needle, names=str(panel))
    refused(["annotate", str(DEMO), "-o", str(tmp_path / "out"), "--panel", str(panel)],
            tmp_path / "out", needle, names=str(panel))


@pytest.mark.parametrize("name", ["panel_alias_bomb.yaml", "panel_deep_nesting.yaml"])
def test_panel_fixtures(name: str, tmp_path: Path) -> None:
    refused(["panel", "validate", str(SIDE / name)], tmp_path / "none", "", names=name)


def test_oversized_panel_file(tmp_path: Path) -> None:
    from annotator.knowledge import safeyaml

    panel = tmp_path / "huge.yaml"
    panel.write_bytes(b"genes:\n" + b"  - {symbol: X}\n" * ((safeyaml.MAX_BYTES // 16) + 10))
    refused(["panel", "validate", str(panel)], tmp_path / "none", "MiB limit",
            names=str(panel))


def test_safe_loading_gives_the_same_data_as_pyyaml() -> None:
    import yaml

    from annotator.knowledge import loader, safeyaml

    for f in sorted(loader.builtin_panel_dir().glob("*.yaml")):
        assert safeyaml.load_file(f) == yaml.safe_load(f.read_text(encoding="utf-8")), f
    text = "base: &b {x: 1, y: [1, 2]}\nm:\n  <<: *b\n  z: 3\nd: 2026-01-15\nn: ~\n"
    assert safeyaml.load_text(text, "t") == yaml.safe_load(text)


# ---------------------------------------------------------------- output safety


def test_an_output_never_replaces_an_input(tmp_path: Path) -> None:
    out = tmp_path / "results"
    annotate_ok([], out)
    own = out / "DEMO_TUMOUR.resmark.tsv"
    vcf_out = tmp_path / "copy" / "DEMO_TUMOUR.resmark.vcf.gz"
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(tmp_path / "copy"),
                              "--formats", "vcf"])
    assert exit_code == 0, err
    snapshot = {p.name: _sha(p) for p in out.iterdir()}
    # the input lives in OUTDIR under a name resmark writes: refused, even with --force
    (out / vcf_out.name).write_bytes(vcf_out.read_bytes())
    (out / (vcf_out.name + ".tbi")).write_bytes(Path(str(vcf_out) + ".tbi").read_bytes())
    snapshot = {p.name: _sha(p) for p in out.iterdir()}
    for force in ([], ["--force"]):
        exit_code, err = run_cli(["-q", "annotate", str(out / vcf_out.name), "-o", str(out), *force])
        assert exit_code == 2, err
        assert len(err.strip().splitlines()) == 1 and "never replace an input" in err
        assert {p.name: _sha(p) for p in out.iterdir()} == snapshot
    # a side input so named too
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--force",
                              "--cnv", str(own)])
    assert exit_code == 2 and "never replace an input" in err, err


def test_commit_refuses_to_move_onto_a_linked_input(tmp_path: Path) -> None:
    from annotator.io.atomic import OutputDir

    src = tmp_path / "input.tsv"
    src.write_text("precious\n")
    out = tmp_path / "out"
    out.mkdir()
    os.link(src, out / "x.tsv")  # a hard link: another name of the input
    with pytest.raises(UsageError, match="never replace"), OutputDir(out, protect=[src]) as o:
        o.stage("x.tsv").write_text("new")
        o.stage(OutputDir.MARKER).write_text("{}")
    assert src.read_text() == "precious\n"
    assert sorted(p.name for p in out.iterdir()) == ["x.tsv"]


_HOLD_LOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, f"{os.getpid()}\\n".encode())
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_run_into_a_busy_outdir_fails_and_loses_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    annotate_ok([], out)
    before = {p.name: _sha(p) for p in out.iterdir()}
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(out / ".resmark.lock")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--force"])
        assert exit_code == 1, err
        assert len(err.strip().splitlines()) == 1
        assert f"another resmark run (pid {holder.pid})" in err
        exit_code, err = run_cli(["-q", "track", str(DEMO), "-o", str(out), "--force"])
        assert exit_code == 1 and "another resmark run" in err, err
    finally:
        holder.kill()
        holder.communicate()
    after = {p.name: _sha(p) for p in out.iterdir() if p.name != ".resmark.lock"}
    assert after == before
    # the holder died: its lock went with it, the next run works
    annotate_ok(["--force"], out)


def test_stale_staging_folders_are_cleaned_only_when_their_run_is_gone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    gone = out / f".resmark-staging-{int(dead.stdout)}-abc123"
    legacy = out / ".resmark-staging-k2j3h4"
    for d in (gone, legacy):
        d.mkdir()
        (d / "DEMO_TUMOUR.resmark.tsv").write_text("partial")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    alive = out / f".resmark-staging-{sleeper.pid}-zzz"
    alive.mkdir()
    try:
        exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv"])
        assert exit_code == 0, err
        assert not gone.exists() and not legacy.exists()
        assert alive.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv",
                              "--force"])
    assert exit_code == 0 and not alive.exists(), err
    assert check_outdir(out) is None


def test_force_replaces_a_whole_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    annotate_ok(["--formats", "tsv,json,html"], out)
    # the new run writes fewer files: the old ones it does not rewrite must not linger
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv",
                              "--force"])
    assert exit_code == 0, err
    assert check_outdir(out) is None
    assert not (out / "DEMO_TUMOUR.report.html").exists()


def test_a_failed_run_keeps_the_previous_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    annotate_ok([], out)
    before = {p.name: _sha(p) for p in out.iterdir()}
    bad = tmp_path / "bad.cns.gz"
    bad.write_bytes(gzip.compress(CNS.read_bytes())[:-12])
    exit_code, err = run_cli(["-q", "annotate", str(DEMO), "-o", str(out), "--force", "--cnv",
                              str(bad)])
    assert exit_code == 1 and "truncated" in err, err
    assert {p.name: _sha(p) for p in out.iterdir()} == before


def test_segments_outside_the_called_genes_are_counted_not_kept() -> None:
    from annotator.cnv.readers import read_cnv
    from annotator.cnv.segment import overlap_filter

    every = read_cnv(CNS)
    # RB1 (GRCh38 chr13:48,303,747-48,481,890, NM_000321.3) only
    rb1 = read_cnv(CNS, keep=overlap_filter([("chr13", 48_303_747, 48_481_890)]))
    assert rb1.n_records == every.n_records
    assert {s.chrom for s in rb1.segments} == {"chr13"}
    assert [s for s in every.segments if s.chrom == "chr13"] == list(rb1.segments)
    assert rb1.outside == len(every.segments) - len(rb1.segments) > 0


def test_a_piped_side_input_is_refused_for_a_cohort(tmp_path: Path) -> None:
    path, feeder, fd = _pipe_path(CNS.read_bytes())
    try:
        refused(["annotate", str(DEMO), str(datapath("cohort", "P002_T0.vcf")), "-o",
                 str(tmp_path / "out"), "--cnv", path], tmp_path / "out", "read only once",
                code=2, names=path)
    finally:
        feeder.join(5)  # the table fits in the pipe's buffer: the writer is done unread
        os.close(fd)
