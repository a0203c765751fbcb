"""GTF / GFF3 transcript models: formats, the MANE choice, bad input (annotator.reference.gtf).

Truth for the round trips is the embedded MANE Select model (from the MANE /
LRG records in scripts/build_reference.py), written out in each format's
published layout (tests/gtf_helpers.py) and read back.
"""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest

from annotator.errors import ReferenceError_
from annotator.reference import Transcript, load_reference
from annotator.reference.gtf import read_gtf
from tests.gtf_helpers import (
    Model,
    bgzip_tabix,
    ensembl_gff3_text,
    gtf_text,
    refseq_gff3_text,
)

EMB38 = load_reference("GRCh38")


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("RESMARK_FASTA", "RESMARK_GTF", "RESMARK_GTF_ONLY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RESMARK_CONFIG", str(tmp_path / "absent.toml"))


def model_of(t: Transcript, tid: str | None = None, tags: tuple[str, ...] = ("MANE_Select",),
             chrom: str | None = None) -> Model:
    return Model(t.gene, chrom or t.chrom, t.strand, tid or t.ensembl, list(t.exons),
                 (t.cds_start, t.cds_end), tags, refseq=t.refseq)


def same_structure(a: Transcript, b: Transcript) -> None:
    assert (a.gene, a.chrom, a.strand) == (b.gene, b.chrom, b.strand)
    assert sorted(a.exons) == sorted(b.exons)
    assert (a.cds_start, a.cds_end, a.cds_length) == (b.cds_start, b.cds_end, b.cds_length)


TP53, PIK3CA = EMB38.transcripts["TP53"], EMB38.transcripts["PIK3CA"]


@pytest.mark.parametrize("flavour", ["gencode", "ensembl", "refseq", "ensembl_gff3", "gencode_gz",
                                     "gencode_tabix"])
def test_every_flavour_gives_the_embedded_model(tmp_path: Path, flavour: str) -> None:
    models = [model_of(TP53), model_of(PIK3CA)]
    if flavour in ("gencode", "gencode_gz", "gencode_tabix"):
        text, name = gtf_text(models), "a.gtf"
    elif flavour == "ensembl":
        text, name = gtf_text(models, flavour="ensembl"), "a.gtf"
    elif flavour == "refseq":
        text, name = refseq_gff3_text([dataclasses.replace(m, chrom="chr17") for m in models[:1]]), "a.gff3"
    else:
        text, name = ensembl_gff3_text(models), "a.gff3"
    path = tmp_path / name
    path.write_text(text)
    if flavour == "gencode_gz":
        path = tmp_path / "a.gtf.gz"
        path.write_bytes(gzip.compress(text.encode()))
    elif flavour == "gencode_tabix":
        path = bgzip_tabix(path)
    got = read_gtf(path, {"TP53", "PIK3CA"}, "GRCh38", known=dict(EMB38._coordinates),
                   mane_refseq={"TP53": TP53.refseq, "PIK3CA": PIK3CA.refseq})
    assert got.tabix == (flavour == "gencode_tabix")
    genes = ("TP53",) if flavour == "refseq" else ("TP53", "PIK3CA")
    for g in genes:
        same_structure(got.transcripts[g], EMB38.transcripts[g])
        assert got.chosen_by[g] == "MANE Select tag"
    t = got.transcripts["TP53"]
    if flavour == "refseq":
        assert got.flavour == "refseq" and t.refseq == "NM_000546.6" and t.refseq_protein
    else:
        assert t.ensembl == "ENST00000269305.9"  # Ensembl: id + transcript_version
        assert t.refseq == "NM_000546.6"  # the MANE pair, from the MANE table
    assert got.sha256 and got.describe()["transcripts"]["TP53"]["chosen_by"] == "MANE Select tag"


def _longer_cds(t: Transcript) -> Model:
    """The same exons with the start codon moved 3 bases upstream (a longer, untagged CDS)."""
    lo, hi = t.cds_start, t.cds_end
    if t.strand == "+":
        exon = next(e for e in t.exons if e[0] <= lo <= e[1])
        assert lo - exon[0] >= 3
        lo -= 3
    else:
        exon = next(e for e in t.exons if e[0] <= hi <= e[1])
        assert exon[1] - hi >= 3
        hi += 3
    return Model(t.gene, t.chrom, t.strand, "ENST99999999901.1", list(t.exons), (lo, hi), ("basic",))


def test_choice_mane_then_canonical_then_longest_cds(tmp_path: Path) -> None:
    longer = _longer_cds(PIK3CA)
    cases = [
        ([model_of(PIK3CA), longer], "MANE Select tag", PIK3CA.cds_length),
        ([model_of(PIK3CA, tags=("Ensembl_canonical",)), longer], "Ensembl_canonical tag",
         PIK3CA.cds_length),
        ([model_of(PIK3CA, tags=()), longer], "longest CDS", PIK3CA.cds_length + 3),
    ]
    for i, (models, label, length) in enumerate(cases):
        path = tmp_path / f"c{i}.gtf"
        path.write_text(gtf_text(models))
        got = read_gtf(path, {"PIK3CA"}, "GRCh38")
        assert (got.chosen_by["PIK3CA"], got.transcripts["PIK3CA"].cds_length) == (label, length)


def test_mane_record_off_the_primary_assembly_is_replaced_by_the_primary_copy(tmp_path: Path) -> None:
    # MUC16's MANE record sits on a GRCh38 fix-patch contig; the GTF's primary copy locates it.
    muc16 = Model("MUC16", "chr19", "-", "ENST00000397910.8",
                  [(8981000, 8981342), (8960000, 8960300), (8848844, 8849500)], (8849000, 8981100),
                  ("basic",))
    patch = dataclasses.replace(muc16, chrom="HG2334_PATCH", tid="ENST00000999999.1",
                                tags=("MANE_Select",))
    path = tmp_path / "muc16.gtf"
    path.write_text(gtf_text([muc16, patch]))
    assert EMB38.gene_region("MUC16") is None
    ref = load_reference("GRCh38", gtf=path, genes={"MUC16", "TP53"})
    region = ref.gene_region("MUC16")
    assert region is not None and (region.chrom, region.start, region.end) == ("chr19", 8848844, 8981342)
    assert ref.transcripts["MUC16"].ensembl == "ENST00000397910.8"
    info = ref.describe()
    assert info["panel_genes_unlocated"] == [] and info["models"]["MUC16"] == "gtf"
    assert info["gtf"]["transcripts"]["MUC16"]["chosen_by"] == "longest CDS"
    assert ref.genes_at("chr19", 8900000, 8900000) == ("MUC16",)


# ------------------------------------------------------------------ bad input


def _err(path: Path, genes: set[str] | None = None) -> str:
    with pytest.raises(ReferenceError_) as err:
        load_reference("GRCh38", gtf=path, gtf_only=True, genes=genes or {"FZR1", "TP53"})
    msg = err.value.one_line()
    assert msg.startswith(str(path)) and "\n" not in msg
    return msg


def test_gtf_of_the_other_build(tmp_path: Path) -> None:
    fzr1 = Model("FZR1", "chr19", "+", "ENST00000313639.13", [(3506311, 3506400), (3538000, 3538334)],
                 (3506350, 3538100), ("MANE_Select",))
    said = tmp_path / "header37.gtf"
    said.write_text(gtf_text([fzr1], build="GRCh37"))
    assert "annotation is GRCh37 (its header says GRCh37)" in _err(said) and "line 1" in _err(said)
    # no header: FZR1 and HDAC5 sit where GRCh37 has them (the lifted MANE spans)
    emb37 = load_reference("GRCh37")
    models = []
    for gene in ("FZR1", "HDAC5"):
        r = emb37.gene_region(gene)
        assert r is not None
        models.append(Model(gene, r.chrom, r.strand, f"ENST0000{len(models)}.1",
                            [(r.start, r.start + 299), (r.end - 299, r.end)],
                            (r.start + 100, r.end - 101), ("MANE_Select",)))
    quiet = tmp_path / "coords37.gtf"
    quiet.write_text("\n".join(x for x in gtf_text(models).splitlines() if not x.startswith("#")) + "\n")
    msg = _err(quiet, {"FZR1", "HDAC5"})
    assert "looks like GRCh37" in msg and "line " in msg
    refseq37 = tmp_path / "refseq37.gff3"
    refseq37.write_text(refseq_gff3_text([model_of(TP53)], build="GRCh37").replace(
        "#!genome-build GRCh37.p14\n", ""))
    assert "NC_000017.10 is a GRCh37 accession" in _err(refseq37, {"TP53"})


def test_gtf_without_any_requested_gene(tmp_path: Path) -> None:
    other = Model("FOO1", "chr1", "+", "ENST1.1", [(100, 400)], (150, 302), ("MANE_Select",))
    path = tmp_path / "foo.gtf"
    path.write_text(gtf_text([other]))
    msg = _err(path)
    assert "no protein-coding transcript of any requested gene (AKT1, " in msg
    assert "(end of file)" in msg


def test_truncated_gtf(tmp_path: Path) -> None:
    text = gtf_text([model_of(TP53), model_of(PIK3CA)]).encode()
    gz = tmp_path / "cut.gtf.gz"
    gz.write_bytes(gzip.compress(text)[: len(gzip.compress(text)) // 2])
    assert "truncated or corrupt compressed file" in _err(gz, {"TP53"})
    plain = tmp_path / "cut.gtf"
    plain.write_bytes(text[: text.rindex(b"\tHAVANA\t") + 5])
    msg = _err(plain, {"TP53"})
    n = text[: text.rindex(b"\tHAVANA\t")].count(b"\n") + 1
    assert f"line {n}: truncated: the last line is cut short" in msg


def test_unsorted_and_malformed_gtf(tmp_path: Path) -> None:
    decoy = _longer_cds(PIK3CA)
    lines = gtf_text([model_of(PIK3CA), decoy, model_of(TP53)]).splitlines(keepends=True)
    genes = [i for i, x in enumerate(lines) if "\tgene\t" in x]
    txs = [i for i, x in enumerate(lines) if "\ttranscript\t" in x]
    tp53_block = lines[genes[1]:]
    # PIK3CA's second transcript (chr3) after TP53 (chr17): chr3 comes back
    swapped = lines[: txs[1]] + tp53_block + lines[txs[1] : genes[1]]
    path = tmp_path / "unsorted.gtf"
    path.write_text("".join(swapped))
    msg = _err(path, {"TP53"})
    assert f"line {txs[1] + len(tp53_block) + 1}: not sorted: contig chr3 appears again after chr17" in msg
    spaces = tmp_path / "spaces.gtf"
    spaces.write_text("".join(lines[:2]) + lines[2].replace("\t", " ") + "".join(lines[3:]))
    assert "line 3: not a GTF/GFF3 line: 1 tab-separated columns, expected 9" in _err(spaces, {"TP53"})


def test_gene_lines_out_of_order_on_one_contig(tmp_path: Path) -> None:
    a = Model("TP53", "chr17", "-", "ENST1.1", [(7668421, 7669000)], (7668500, 7668700), ("MANE_Select",))
    b = dataclasses.replace(a, gene="NCOR1", tid="ENST2.1", exons=[(16029157, 16030000)],
                            cds=(16029200, 16029202 + 299))
    text = gtf_text([a, b])
    lines = text.splitlines(keepends=True)
    starts = [i for i, x in enumerate(lines) if "\tgene\t" in x]
    out = lines[:2] + lines[starts[1]:] + lines[starts[0]:starts[1]]
    path = tmp_path / "order.gtf"
    path.write_text("".join(out))
    msg = _err(path, {"TP53"})
    assert f"line {2 + len(lines) - starts[1] + 1}: not sorted: gene at chr17:7668421" in msg


def test_tabix_queries_find_muc16_without_a_streaming_pass(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    muc16 = Model("MUC16", "chr19", "-", "ENST00000397910.8",
                  [(8981000, 8981342), (8960000, 8960300), (8848844, 8849500)], (8849000, 8981100),
                  ("basic", "MANE_Select"))
    fzr1 = Model("FZR1", "chr19", "+", "ENST00000313639.13", [(3506311, 3506400), (3538000, 3538334)],
                 (3506350, 3538098), ("MANE_Select",))
    plain = tmp_path / "two.gtf"
    plain.write_text(gtf_text([fzr1, muc16]))
    gz = bgzip_tabix(plain)
    with caplog.at_level("INFO", logger="annotator.reference.gtf"):
        ref = load_reference("GRCh38", gtf=gz, genes={"MUC16", "FZR1"})
    assert "streaming the file" not in caplog.text
    assert ref.describe()["gtf"]["tabix_queries"] is True
    assert set(ref.describe()["gtf"]["transcripts"]) == {"MUC16", "FZR1"}
