"""One reader per input: pipes, hashing while reading, build evidence from the same pass.

Truth: sha256 of the bytes written (hashlib), the genome coordinates of well-known
hotspots (PIK3CA E542K/E545K/H1047R, KRAS G12D, AKT1 E17K, TP53 R248Q on GRCh37,
COSMIC/ClinVar), the record counts of the files written here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import threading
from pathlib import Path

import pytest

from annotator.api import AnnotateConfig, RunContext, annotate, annotate_file
from annotator.cli import main
from annotator.errors import InputError
from annotator.io import vcfcheck
from annotator.io.vcfin import VcfSource
from tests.conftest import datapath

DEMO = datapath("demo", "demo_tumour.grch38.vcf.gz")
HEADER = (
    "##fileformat=VCFv4.2\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">\n'
)
# GRCh37 positions and REF bases of six hotspots (COSMIC / ClinVar, GRCh37)
GRCH37_BODY = (
    "3\t178936082\t.\tG\tA\t.\tPASS\t.\tGT:AD\t0/1:60,40\n"  # PIK3CA E542K
    "3\t178936091\t.\tG\tA\t.\tPASS\t.\tGT:AD\t0/1:70,30\n"  # PIK3CA E545K
    "3\t178952085\t.\tA\tG\t.\tPASS\t.\tGT:AD\t0/1:80,20\n"  # PIK3CA H1047R
    "12\t25398284\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:90,10\n"  # KRAS G12D
    "14\t105246551\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:75,25\n"  # AKT1 E17K
    "17\t7577538\t.\tC\tT\t.\tPASS\t.\tGT:AD\t0/1:50,50\n"  # TP53 R248Q
)


@pytest.fixture(scope="module")
def ctx() -> RunContext:
    from annotator.knowledge import load_panel

    return RunContext(config=AnnotateConfig(inputs=(), outdir="unused"), panel=load_panel(None))


def _grch37(tmp_path: Path, header_extra: str = "") -> Path:
    p = tmp_path / "b37.vcf"
    p.write_text(HEADER + header_extra
                 + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR\n" + GRCH37_BODY)
    return p


def test_fifo_input_is_read_once_and_hashed(tmp_path: Path) -> None:
    data = gzip.decompress(DEMO.read_bytes())
    fifo = tmp_path / "calls.vcf"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    res = annotate(AnnotateConfig(inputs=[str(fifo)], outdir=tmp_path / "o",
                                  formats=("tsv", "json", "vcf")))
    writer.join(timeout=10)
    regular = annotate(AnnotateConfig(inputs=[str(DEMO)], outdir=tmp_path / "r", formats=("tsv",)))
    assert [r.variant_key for r in res.rows] == [r.variant_key for r in regular.rows]
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    vcf_input = next(i for i in prov["inputs"] if i["role"] == "vcf")
    assert vcf_input["path"] == str(fifo)
    assert vcf_input["sha256"] == hashlib.sha256(data).hexdigest()
    assert (tmp_path / "o" / "DEMO_TUMOUR.resmark.vcf.gz").stat().st_size > 0


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_text_vcf_is_hashed_while_read_not_reread(
    compress: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = gzip.decompress(DEMO.read_bytes())
    path = tmp_path / ("calls.vcf.gz" if compress else "calls.vcf")
    path.write_bytes(gzip.compress(text) if compress else text)
    from annotator.core import provenance
    from annotator.io import inputbytes

    def no_second_read(p: object) -> str:
        raise AssertionError(f"{p} read a second time for its sha256")

    monkeypatch.setattr(provenance, "sha256_file", no_second_read)
    monkeypatch.setattr(inputbytes, "sha256_of", no_second_read)
    monkeypatch.setattr("annotator.io.vcfin.sha256_of", no_second_read)
    annotate(AnnotateConfig(inputs=[str(path)], outdir=tmp_path / "o", formats=("json",)))
    prov = json.loads((tmp_path / "o" / "provenance.json").read_text())
    got = next(i["sha256"] for i in prov["inputs"] if i["role"] == "vcf")
    assert got == hashlib.sha256(path.read_bytes()).hexdigest()


def test_one_reader_per_file_also_for_build_guessing(
    ctx: RunContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    original = VcfSource.__init__

    def counting(self: VcfSource, *args: object, **kwargs: object) -> None:
        opened.append(str(args[0]))
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(VcfSource, "__init__", counting)
    res = annotate_file(_grch37(tmp_path), ctx)  # header silent: REF alleles decide
    assert res.build.name == "GRCh37"
    assert len(opened) == 1
    assert {r.hgvsp_short for r in res.rows} >= {"p.E542K", "p.E545K", "p.H1047R", "p.G12D",
                                                 "p.E17K", "p.R248Q"}


def test_explicit_build_contradicted_by_ref_alleles_is_an_error(tmp_path: Path, capsys) -> None:
    vcf = _grch37(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(vcf), "-o", str(tmp_path / "o"), "--build", "GRCh38"])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "GRCh37: 6/6 REF alleles match" in err and "GRCh38:" in err
    assert not (tmp_path / "o" / "provenance.json").exists()


def test_header_contigs_contradicted_by_ref_alleles_is_an_error(tmp_path: Path, capsys) -> None:
    # GRCh38 contig lengths (chr3 198295559, ...) over records with GRCh37 positions and bases
    lengths = {"3": 198295559, "12": 133275309, "14": 107043718, "17": 83257441}
    contigs = "".join(f"##contig=<ID={c},length={n}>\n" for c, n in lengths.items())
    vcf = _grch37(tmp_path, contigs)
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(vcf), "-o", str(tmp_path / "o")])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "the header" in err and "REF alleles say GRCh37" in err


def test_repeated_sample_names_are_read_disambiguated(tmp_path: Path, capsys) -> None:
    # Strelka-style file whose two columns carry one name: htslib refuses the header
    vcf = tmp_path / "dup.vcf"
    vcf.write_text(HEADER + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS1\n"
                   + "".join(line + "\t0/0:50,0\n" for line in GRCH37_BODY.splitlines()))
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(vcf), "-o", str(tmp_path / "o"), "--build", "GRCh37",
              "--sample", "S1", "--formats", "tsv,json,vcf"])
    assert e.value.code == 0
    assert "repeats sample names" in capsys.readouterr().err
    doc = json.loads((tmp_path / "o" / "S1.resmark.json").read_text())
    assert doc["accounting"]["records_read"] == 6
    assert {r["hgvsp_short"] for r in doc["rows"]} >= {"p.E542K", "p.G12D"}


def test_overlong_line_is_refused_naming_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vcf = _grch37(tmp_path)
    monkeypatch.setattr(vcfcheck, "MAX_LINE", 40)
    with pytest.raises(InputError, match=r"b37\.vcf: line 2: line longer than"):
        VcfSource(vcf)


def test_truncated_gzip_vcf_is_exit_1_naming_the_file(tmp_path: Path, capsys) -> None:
    whole = gzip.compress(gzip.decompress(DEMO.read_bytes()))
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(whole[:-100])
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(cut), "-o", str(tmp_path / "o")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip()
    assert str(cut) in err and "truncated" in err and len(err.splitlines()) == 1


def test_empty_pipe_is_named_empty(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "empty.vcf"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: open(fifo, "wb").close(), daemon=True)
    writer.start()
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(fifo), "-o", str(tmp_path / "o")])
    writer.join(timeout=10)
    assert e.value.code == 1
    assert "empty" in capsys.readouterr().err
