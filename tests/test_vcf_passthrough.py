"""Annotated VCF by block copy: the output's records are the input's records plus the
RESMARK_* INFO tags, checked with an independent reader (pysam/htslib), and its index
is the one htslib builds for the output itself."""

from __future__ import annotations

import gzip
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from annotator.io import vcfout
from tests.conftest import datapath
from tests.test_report_data import make_row

pysam = pytest.importorskip("pysam")


def _without_resmark(rec: object) -> str:
    """The record as htslib prints it, with the RESMARK_* INFO entries taken out."""
    fields = str(rec).rstrip("\n").split("\t")
    info = [x for x in fields[7].split(";") if not x.startswith("RESMARK_")]
    fields[7] = ";".join(info) if info else "."
    return "\t".join(fields)


def _pairs(src: Path, out: Path) -> list[tuple[object, object]]:
    with pysam.VariantFile(str(src)) as a, pysam.VariantFile(str(out)) as b:
        return list(zip(list(a), list(b), strict=True))


def _same_records(src: Path, out: Path) -> dict[tuple[str, int, str], dict[str, object]]:
    """Assert records equal but for RESMARK_*; return the RESMARK tags of each annotated record."""
    tags = {}
    for a, b in _pairs(src, out):
        assert _without_resmark(b) == str(a).rstrip("\n")
        found = {k: b.info[k] for k in b.info if k.startswith("RESMARK_")}
        if found:
            tags[(b.chrom, b.pos, b.ref)] = found
    return tags


def _tabix_built(out: Path, tmp: Path) -> bytes:
    copy = tmp / "again.vcf.gz"
    shutil.copyfile(out, copy)
    pysam.tabix_index(str(copy), preset="vcf", force=True)
    return gzip.decompress(Path(f"{copy}.tbi").read_bytes())


@pytest.mark.parametrize("block_copy", [True, False])
def test_default_formats_keep_every_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           block_copy: bool) -> None:
    from annotator.api import AnnotateConfig, annotate
    from annotator.io import vcfcopy

    monkeypatch.setattr(vcfcopy, "BLOCK_COPY_MIN_BYTES", 0 if block_copy else 1 << 40)

    src = datapath("demo", "demo_tumour.grch38.vcf.gz")
    res = annotate(AnnotateConfig(inputs=[str(src)], outdir=tmp_path / "o"))
    s = res.samples[0]
    out = tmp_path / "o" / "DEMO_TUMOUR.resmark.vcf.gz"
    tags = _same_records(src, out)
    listed = {(r.input_chrom, r.input_pos, r.input_ref) for r in s.rows if r.record_index >= 0}
    assert set(tags) == listed  # tags exactly on the records the TSV lists
    for r in s.rows:
        if r.record_index >= 0 and r.hgvsp_short:
            assert r.hgvsp_short in tags[(r.input_chrom, r.input_pos, r.input_ref)]["RESMARK_HGVSP"]
    # the index resmark moved is the index htslib builds for the output
    assert gzip.decompress(Path(f"{out}.tbi").read_bytes()) == _tabix_built(out, tmp_path)
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    from annotator.core.provenance import sha256_file

    digests = {o["file"]: o["sha256"] for o in prov["outputs"]}
    assert digests[out.name] == sha256_file(out)  # the digest taken while writing
    assert digests[f"{out.name}.tbi"] == sha256_file(f"{out}.tbi")


def _big_vcf(path: Path, n: int, seed: int) -> list[tuple[str, int, str, str]]:
    """A sorted bgzipped VCF of ``n`` records over 3 contigs (many BGZF blocks)."""
    rng = random.Random(seed)
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID=chr{c},length=50000000>" for c in (1, 2, 3)]
    lines += ['##INFO=<ID=DP,Number=1,Type=Integer,Description="depth">',
              '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
              "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1"]
    recs = []
    for c in (1, 2, 3):
        pos = sorted(rng.sample(range(1, 40_000_000), n // 3))
        for p in pos:
            ref, alt = rng.choice("ACGT"), rng.choice(["T", "G", "C,A", "AT"])
            recs.append((f"chr{c}", p, ref, alt))
            lines.append(f"chr{c}\t{p}\t.\t{ref}\t{alt}\t.\tPASS\tDP={rng.randint(5, 900)}\tGT\t0/1")
    text = path.with_suffix("")
    text.write_text("\n".join(lines) + "\n")
    pysam.tabix_compress(str(text), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return recs


def test_block_copy_of_many_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from annotator.io import vcfcopy

    monkeypatch.setattr(vcfcopy, "BLOCK_COPY_MIN_BYTES", 0)  # the block copy, whatever the size
    calls = []
    real = vcfcopy.copy_blocks
    monkeypatch.setattr(vcfcopy, "copy_blocks", lambda *a: calls.append(1) or real(*a))
    src = tmp_path / "big.vcf.gz"
    recs = _big_vcf(src, 30_000, seed=3)
    rng = random.Random(5)
    # clusters (runs of re-encoded blocks), isolated records and the very first/last record
    chosen = recs[:3] + recs[-2:] + recs[9_000:9_400] + rng.sample(recs, 200)
    rows = [make_row(input_chrom=c, input_pos=p, input_ref=r, input_alt=a.split(",")[0], allele_index=1,
                     hgvsp_short=f"p.X{p}Y", gene="G") for c, p, r, a in chosen]
    out = tmp_path / "out.vcf.gz"
    n = vcfout.write(out, str(src), rows, ["resmark_note=test"])  # type: ignore[arg-type]
    assert n == len(recs) and calls
    tags = _same_records(src, out)
    assert set(tags) == {(c, p, r) for c, p, r, _ in chosen}
    for (_, p, _), t in tags.items():
        assert t["RESMARK_HGVSP"][0] == f"p.X{p}Y"
    assert gzip.decompress(Path(f"{out}.tbi").read_bytes()) == _tabix_built(out, tmp_path)
    with pysam.TabixFile(str(out)) as tf:  # region queries through the moved index
        got = [line.split("\t")[1] for line in tf.fetch("chr2", 10_000_000, 20_000_000)]
    want = [str(p) for c, p, _, _ in recs if c == "chr2" and 10_000_000 < p <= 20_000_000]
    assert got == want


def test_undeclared_tags_and_contigs_are_declared(tmp_path: Path) -> None:
    src = tmp_path / "undeclared.vcf"
    src.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
        "chr1\t5\t.\tA\tC\t.\tlowq\tFOO=1;BAR\tGT:XX\t0/1:3\n"
        "chr2\t5\t.\tA\tC\t.\tPASS\t.\tGT\t0/1\n"
    )
    out = tmp_path / "out.vcf.gz"
    row = make_row(input_chrom="chr1", input_pos=5, input_ref="A", input_alt="C", allele_index=1, gene="G")
    assert vcfout.write(out, str(src), [row], []) == 2
    with pysam.VariantFile(str(out)) as vf:
        h = vf.header
        assert {"FOO", "BAR"} <= set(h.info) and {"GT", "XX"} <= set(h.formats)
        assert "lowq" in h.filters and "chr2" in h.contigs
        assert h.info["BAR"].type == "Flag" and h.info["FOO"].type == "String"
        recs = list(vf)
    assert recs[0].info["RESMARK_GENE"] == ("G",)
    bcftools = shutil.which("bcftools")
    if bcftools:
        proc = subprocess.run([bcftools, "view", str(out)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0 and "not defined" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("threaded", [False, True])
def test_failing_format_leaves_the_others(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threaded: bool) -> None:
    from annotator.annotation import outputs
    from annotator.api import AnnotateConfig, annotate
    from annotator.errors import InputError, OutputError

    # threaded: the annotated VCF written by the background thread (as for a large input)
    monkeypatch.setattr(outputs, "LARGE_INPUT_BYTES", 0 if threaded else 1 << 60)

    def broken(*a: object, **k: object) -> object:
        raise InputError("cannot reopen for the annotated VCF (gone)", path="x")

    monkeypatch.setattr(vcfout, "write_vcf", broken)
    src = datapath("demo", "demo_tumour.grch38.vcf.gz")
    with pytest.raises(OutputError, match=r"annotated VCF \(vcf\) not written: .*gone"):
        annotate(AnnotateConfig(inputs=[str(src)], outdir=tmp_path / "o", formats=("tsv", "vcf", "json")))
    names = {p.name for p in (tmp_path / "o").iterdir()}
    assert {"DEMO_TUMOUR.resmark.tsv", "DEMO_TUMOUR.resmark.json", "provenance.json"} <= names
    assert not any(n.endswith((".vcf.gz", ".tbi")) for n in names)  # no partial VCF
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    assert prov["output_failures"][0]["format"] == "vcf"


def test_vcf_written_by_a_thread_gives_the_same_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a large input's annotated VCF is written by a thread while the other formats are
    # written: same files, same order in provenance.json, same bytes but the timestamps
    import re

    from annotator.annotation import outputs
    from annotator.api import AnnotateConfig, annotate

    src = datapath("demo", "demo_tumour.grch38.vcf.gz")
    runs = {}
    for threaded in (False, True):
        monkeypatch.setattr(outputs, "LARGE_INPUT_BYTES", 0 if threaded else 1 << 60)
        out = tmp_path / str(threaded)
        annotate(AnnotateConfig(inputs=[str(src)], outdir=out))
        prov = json.loads((out / "provenance.json").read_text())
        texts = {}
        for o in prov["outputs"]:
            data = (out / o["file"]).read_bytes()
            if o["file"].endswith(".gz"):
                data = gzip.decompress(data)
            if not o["file"].endswith((".tbi", ".parquet")):
                texts[o["file"]] = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[^\"\s,>]*", b"T", data)
        runs[threaded] = ([o["file"] for o in prov["outputs"]], texts)
    assert runs[True][0] == runs[False][0]
    assert runs[True][1] == runs[False][1]


def test_large_inputs_annotated_vcf_is_listed_unhashed(tmp_path, monkeypatch):
    """The annotated VCF of a large input (its bytes mostly the input's, copied) is listed with
    its size and no digest; every other output, and its index, with its true SHA-256."""
    from annotator.annotation import outputs
    from annotator.api import AnnotateConfig, annotate
    from annotator.core.provenance import sha256_file

    monkeypatch.setattr(outputs, "LARGE_INPUT_BYTES", 0)
    src = datapath("demo", "demo_tumour.grch38.vcf.gz")
    out = tmp_path / "o"
    annotate(AnnotateConfig(inputs=[str(src)], outdir=out))
    prov = json.loads((out / "provenance.json").read_text())
    listed = {o["file"]: o for o in prov["outputs"]}
    vcf = "DEMO_TUMOUR.resmark.vcf.gz"
    assert listed[vcf]["sha256"] is None and listed[vcf]["bytes"] == (out / vcf).stat().st_size
    others = [o for name, o in listed.items() if name != vcf]
    assert f"{vcf}.tbi" in {o["file"] for o in others} and len(others) >= 5
    for o in others:
        assert o["sha256"] == sha256_file(out / o["file"]), o["file"]
