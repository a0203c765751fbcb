"""The chunked text-VCF pass (annotator.io.textscan) against a line-by-line read of the same file.

The reference is the former ``scan_text`` loop: ``readline`` and
``LineChecker.line`` for every line, through the standard library's gzip.
Whatever numpy decides per line, the outcome must be the same: the Scan
(counts, skipped lines, contigs with their first line, sort state), the
bytes written to the sink, or the one error with its line number.  Kept
lines are also checked against overlap computed here from the text.
"""

from __future__ import annotations

import gzip
import io
import random
import zlib
from pathlib import Path

import pytest

from annotator.errors import InputError
from annotator.io import linescan, textscan, vcfcheck
from annotator.io.textscan import LineChecker, RegionSelect

REGIONS = [("chr1", 10_000, 10_400), ("chr1", 30_000, 30_050), ("chr2", 5_000, 9_000), ("chrX", 100, 200)]
HEADER = (
    "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n##contig=<ID=chr2>\n"
    "##INFO=<ID=DP,Number=1,Type=Integer,Description=\"d\">\n"
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
)


def _exact(chrom: bytes, pos: int, ref_len: int) -> bool:
    end = pos + max(ref_len - 1, 0)
    return any(c.encode() == chrom and s <= end and e >= pos for c, s, e in REGIONS)


def _near(native: str) -> tuple[object, object] | None:
    import numpy as np

    union = {c: (np.array(a), np.array(b)) for c, (a, b) in linescan.merged([REGIONS]).items()}
    return union.get(native)


def _records(seed: int, n: int = 600) -> list[str]:
    rng = random.Random(seed)
    out = []
    for chrom, top in (("chr1", 40_000), ("chr2", 12_000), ("chrX", 400), ("chrUn_KI270742v1", 50)):
        pos = sorted(rng.randint(1, top) for _ in range(n // 4))
        for p in pos:
            ref = "".join(rng.choice("ACGT") for _ in range(rng.choice([1, 1, 1, 2, 5, 60])))
            info = f"DP={rng.randint(1, 999)}" + (";X=" + "N" * rng.randint(0, 300) if rng.random() < 0.1 else "")
            pos_s = ("000" + str(p)) if rng.random() < 0.02 else str(p)
            out.append(f"{chrom}\t{pos_s}\t.\t{ref}\tA\t50\tPASS\t{info}\tGT\t0/1\n")
    return out


MUTATIONS = {
    "none": lambda lines: lines,
    "blank": lambda lines: lines[:40] + ["\n"] + lines[40:],
    "spaces": lambda lines: lines[:41] + [" \t \n"] + lines[41:],
    "crlf": lambda lines: [x.replace("\n", "\r\n") for x in lines],
    "comment": lambda lines: lines[:90] + ["# note\n"] + lines[90:],
    "few_columns": lambda lines: lines[:77] + ["chr1\t20000\t.\tA C\t.\tPASS\n"] + lines[77:],
    "pos_letters": lambda lines: lines[:60] + ["chr1\t12a\t.\tA\tC\t.\tPASS\t.\n"] + lines[60:],
    "pos_zero": lambda lines: lines[:3] + ["chr1\t0\t.\tA\tC\t.\tPASS\t.\n"] + lines[3:],
    "pos_11_digits": lambda lines: lines + ["chrY\t12345678901\t.\tA\tC\t.\tPASS\t.\n"],
    "ref_empty": lambda lines: lines[:50] + ["chr1\t20001\t.\t\tC\t.\tPASS\t.\n"] + lines[50:],
    "chrom_empty": lambda lines: lines[:50] + ["\t20001\t.\tA\tC\t.\tPASS\t.\n"] + lines[50:],
    "chrom_space": lambda lines: lines[:50] + [" chr1\t10100\t.\tA\tC\t.\tPASS\t.\n"] + lines[50:],
    "unsorted": lambda lines: lines[:20] + [lines[30]] + lines[20:30] + lines[31:],
    "revisited": lambda lines: lines + [lines[5]],
    "no_final_newline": lambda lines: lines[:-1] + [lines[-1].rstrip("\n")],
    "non_ascii": lambda lines: lines[:70] + ["chr1\t10050\t.\tA\tC\t.\tPASS\tNOTE=caf\xe9\n"] + lines[70:],
    "mostly_blank": lambda lines: [x for line in lines[:80] for x in (line, "\n")] + lines[80:],
}


def _write(tmp_path: Path, text: bytes, kind: str) -> tuple[Path, vcfcheck.Container]:
    path = tmp_path / ("in.vcf.gz" if kind != "text" else "in.vcf")
    if kind == "text":
        path.write_bytes(text)
    else:
        whole = gzip.compress(text[: len(text) // 2]) + gzip.compress(text[len(text) // 2:])  # 2 members
        if kind == "truncated":
            whole = whole[:-300]
        elif kind == "corrupt":
            at = len(whole) * 2 // 3
            whole = whole[:at] + bytes(b ^ 0x55 for b in whole[at : at + 40]) + whole[at + 40:]
        elif kind == "bad_crc":
            whole = whole[:-8] + bytes([whole[-8] ^ 1]) + whole[-7:]
        path.write_bytes(whole)
    return path, vcfcheck.Container("text" if kind == "text" else "gzip")


def _reference(path: Path, container: vcfcheck.Container, select: textscan.Select, max_line: int
               ) -> tuple[object, bytes]:
    sink = io.BytesIO()
    ck = LineChecker(path, max_line, False, select, sink)
    try:
        with vcfcheck._open_text(path, container) as (fh, hashing):
            while True:
                raw = fh.readline(max_line + 1)
                if not raw:
                    break
                ck.line(raw)
            digest = hashing.finish()
        scan = ck.end()
        scan.sha256 = digest
        return scan, sink.getvalue()
    except (EOFError, zlib.error, gzip.BadGzipFile) as e:
        return f"{path}: truncated or damaged compressed data after line {ck.lineno} ({e})", b""
    except InputError as e:
        return str(e), b""


def _chunked(path: Path, container: vcfcheck.Container, select: textscan.Select) -> tuple[object, bytes]:
    sink = io.BytesIO()
    try:
        return vcfcheck.scan_text(path, container, set(), select=select, sink=sink), sink.getvalue()
    except InputError as e:
        return str(e), b""


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
@pytest.mark.parametrize("kind", ["text", "gzip"])
@pytest.mark.parametrize("read_bytes", [1_000, 4_096, textscan.READ_BYTES])
def test_chunked_pass_equals_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          mutation: str, kind: str, read_bytes: int) -> None:
    monkeypatch.setattr(textscan, "READ_BYTES", read_bytes)
    lines = MUTATIONS[mutation](_records(seed=len(mutation)))
    path, container = _write(tmp_path, (HEADER + "".join(lines)).encode("latin-1"), kind)
    for select in (RegionSelect(_exact, _near), _exact):  # numpy's region test, and every line asked
        got = _chunked(path, container, select)
        assert got == _reference(path, container, select, vcfcheck.MAX_LINE)
    if mutation in ("none", "crlf", "no_final_newline"):
        scan, kept = got
        assert isinstance(scan, textscan.Scan) and scan.records == len(lines) and scan.sorted
        truth = [x.rstrip("\r\n") + "\n" for x in lines if _exact(x.split("\t")[0].encode(),
                 int(x.split("\t")[1]), len(x.split("\t")[3]))]
        assert kept == (HEADER + "".join(truth)).encode()
        assert kept.count(b"\n") - HEADER.count("\n") == scan.kept > 0


@pytest.mark.parametrize("kind", ["truncated", "corrupt", "bad_crc"])
def test_damaged_gzip_fails_after_the_same_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                kind: str) -> None:
    monkeypatch.setattr(textscan, "READ_BYTES", 64 << 10)
    lines = _records(seed=11, n=4_000)
    path, container = _write(tmp_path, (HEADER + "".join(lines)).encode(), kind)
    got = _chunked(path, container, RegionSelect(_exact, _near))
    assert isinstance(got[0], str)  # damaged deflate data may first decode into a bad record line
    assert kind == "corrupt" or "truncated or damaged compressed data after line" in got[0]
    assert got == _reference(path, container, RegionSelect(_exact, _near), vcfcheck.MAX_LINE)


@pytest.mark.parametrize("where", ["header", "record", "last"])
def test_overlong_lines_fail_at_the_same_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              where: str) -> None:
    monkeypatch.setattr(vcfcheck, "MAX_LINE", 300)
    monkeypatch.setattr(textscan, "READ_BYTES", 1_000)
    lines = _records(seed=12)
    long_line = "chr2\t6000\t.\tA\tC\t.\tPASS\tX=" + "N" * 2_000
    header = HEADER
    if where == "header":
        header = HEADER.replace("##contig=<ID=chr2>\n", "##x=" + "y" * 700 + "\n")
    elif where == "record":
        lines.insert(200, long_line + "\n")
    else:
        lines.append(long_line)  # no newline at the end of the file
    for kind in ("text", "gzip"):
        path, container = _write(tmp_path, (header + "".join(lines)).encode(), kind)
        got = _chunked(path, container, _exact)
        assert isinstance(got[0], str) and "line longer than" in got[0]
        assert got == _reference(path, container, _exact, 300)
