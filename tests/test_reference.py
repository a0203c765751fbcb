"""Embedded reference: transcript models, gene spans, sequence, user FASTA."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.errors import ReferenceError_
from annotator.reference import FLANK, load_reference

# hotspot_codons.tsv of ../shared/reference (LRG + assembly checked): codon, build, c1..c3
HOTSPOT_CODONS = [
    ("PIK3CA", "GRCh38", "chr3", "+", "CAT", (179234296, 179234297, 179234298)),
    ("PIK3CA", "GRCh37", "chr3", "+", "CAT", (178952084, 178952085, 178952086)),
    ("ESR1", "GRCh38", "chr6", "+", "TAT", (152098787, 152098788, 152098789)),
    ("FGFR2", "GRCh38", "chr10", "-", "TCG", (121520164, 121520163, 121520162)),
    ("TP53", "GRCh37", "chr17", "-", "CGC", (7578407, 7578406, 7578405)),
    ("FGFR3", "GRCh38", "chr4", "+", "TCC", (1801840, 1801841, 1801842)),
]
_COMP = {"A": "T", "C": "G", "G": "C", "T": "A"}


@pytest.fixture(scope="module")
def ref38():  # type: ignore[no-untyped-def]
    return load_reference("GRCh38")


@pytest.mark.parametrize("gene,build,chrom,strand,codon,positions", HOTSPOT_CODONS)
def test_embedded_sequence_matches_hotspot_codons(
    gene: str, build: str, chrom: str, strand: str, codon: str, positions: tuple[int, int, int]
) -> None:
    ref = load_reference(build)
    bases = "".join(ref.sequence(chrom, p, p) or "?" for p in positions)
    expected = codon if strand == "+" else "".join(_COMP[b] for b in codon)
    assert bases == expected
    assert ref.has_sequence(gene)


def test_models_and_ids(ref38) -> None:  # type: ignore[no-untyped-def]
    assert len(ref38.transcripts) == 25
    pik = ref38.transcripts["PIK3CA"]
    assert (pik.refseq, pik.ensembl, pik.strand, pik.chrom) == (
        "NM_006218.4", "ENST00000263967.4", "+", "chr3")
    assert ref38.transcripts["FGFR2"].strand == "-"
    assert not ref38.has_sequence("CCNE1")
    assert ref38.sequence("chr19", 29812556, 29812560) is None  # CCNE1: not embedded
    assert ref38.sequence("3", 179234297, 179234297) == "A"  # Ensembl-style name accepted


def test_gene_regions_cover_models_and_extra_genes(ref38) -> None:  # type: ignore[no-untyped-def]
    regions = {r.gene: r for r in ref38.gene_regions()}
    for gene in list(ref38.transcripts) + ["EGFR", "FZR1", "E2F1", "PLK1", "AURKA", "CDK7",
                                            "SRC", "STAT1", "MTOR", "TSC2", "MAP2K1", "BRAF"]:
        assert gene in regions, gene
        assert regions[gene].chrom.startswith("chr")
    egfr = regions["EGFR"]
    assert (egfr.chrom, egfr.strand) == ("chr7", "+")
    assert 55_000_000 < egfr.start < egfr.end < 55_300_000  # GRCh38 EGFR, chr7p11.2
    only = ref38.gene_regions(extra_genes=["RPTOR"])
    assert "RPTOR" in {r.gene for r in only} and "EGFR" not in {r.gene for r in only}
    egfr37 = {r.gene: r for r in load_reference("GRCh37").gene_regions()}["EGFR"]
    assert 55_080_000 < egfr37.start < 55_090_000  # lifted: GRCh37 EGFR starts ~55.087 Mb


def test_genes_at_includes_flank(ref38) -> None:  # type: ignore[no-untyped-def]
    pik = ref38.transcripts["PIK3CA"]
    assert ref38.genes_at("chr3", 179234297, 179234297) == ("PIK3CA",)
    assert "PIK3CA" in ref38.genes_at("chr3", pik.start - FLANK + 10, pik.start - FLANK + 10)
    assert "PIK3CA" not in ref38.genes_at("chr3", pik.start - FLANK - 10, pik.start - FLANK - 10)
    assert "EGFR" in ref38.genes_at("chr7", 55_191_822, 55_191_822)  # L858R region
    assert ref38.genes_at("chr1", 1, 2) == ()


def test_describe_records_provenance(ref38) -> None:  # type: ignore[no-untyped-def]
    info = ref38.describe()
    assert info["build"] == "GRCh38"
    assert len(info["inputs_sha256"]["transcript_models.json"]) == 64
    assert "regions_GRCh38.fa.gz" in info["files_sha256"]


def _write_fasta(path: Path, contig: str, offset: int, seq: str, pad: bool = True) -> Path:
    import pysam

    plain = path.with_suffix("")
    body = "N" * (offset - 1) + seq if pad else seq
    with plain.open("w") as fh:
        fh.write(f">{contig}\n")
        for i in range(0, len(body), 80):
            fh.write(body[i : i + 80] + "\n")
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.faidx(str(path))
    return path


def test_user_fasta_with_ensembl_names(tmp_path: Path, ref38) -> None:  # type: ignore[no-untyped-def]
    # a region contig named the way `samtools faidx genome.fa 4:S-E` names it
    start, end = 1788312, 1810872  # FGFR3
    seq = ref38.sequence("chr4", start, end)
    fa = _write_fasta(tmp_path / "mini.fa.gz", f"4:{start}-{end}", start, seq, pad=False)
    user = load_reference("GRCh38", fasta=fa)
    assert user.sequence("chr4", 1801840, 1801842) == "TCC"  # FGFR3 S249 codon
    assert user.sequence("chr4", 1, 3) is None
    assert user.sequence("chr5", 1, 3) is None
    assert user.describe()["user_fasta"] == str(fa)


def test_fasta_of_another_assembly_is_refused(tmp_path: Path) -> None:
    # chr4 is 190,214,555 bp in GRCh38: a chr4 of any other length is not the variants' chr4
    fa = _write_fasta(tmp_path / "short_chr4.fa.gz", "chr4", 1000, "A")
    with pytest.raises(ReferenceError_) as err:
        load_reference("GRCh38", fasta=fa)
    msg = err.value.one_line()
    assert str(fa) in msg and "line 1 of the .fai index" in msg and "another assembly" in msg
    other = _write_fasta(tmp_path / "mouse.fa.gz", "NC_000067.7", 10, "A")
    with pytest.raises(ReferenceError_, match="no contig matches a GRCh38 chromosome"):
        load_reference("GRCh38", fasta=other)


def test_bad_fasta_is_a_reference_error(tmp_path: Path) -> None:
    bad = tmp_path / "x.fa"
    bad.write_text("not a fasta")
    with pytest.raises(ReferenceError_):
        load_reference("GRCh38", fasta=tmp_path / "missing.fa")


def test_manifest_matches_shipped_files() -> None:
    import hashlib
    import json

    from annotator.core.resources import reference_dir

    root = reference_dir()
    manifest = json.loads((root / "MANIFEST.json").read_text())
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest, name
    total = sum(p.stat().st_size for p in root.iterdir() if p.is_file())
    assert total < 5_000_000


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_gene_table_is_the_files_rows_and_genes_at_finds_every_overlap(build: str) -> None:
    """Truth: the shipped TSV read with the csv module (first row of a gene wins), and a
    scan of every span for the genes at a position."""
    import csv
    import random

    import annotator.reference as refmod
    from annotator.reference.genetable import load_gene_coordinates

    path = Path(refmod.__file__).parent.parent / "data" / "reference" / f"gene_coordinates_{build}.tsv"
    truth: dict[str, tuple[str, int, int, str, str | None]] = {}
    with path.open(newline="") as fh:
        for row in csv.reader((x for x in fh if not x.startswith("#")), delimiter="\t"):
            truth.setdefault(row[0], (row[1], int(row[2]), int(row[3]), row[4], row[5] or None))
    table = load_gene_coordinates(path)
    assert len(table) == len(truth) > 15_000 and set(table) == set(truth)
    rng = random.Random(3)
    for gene in rng.sample(sorted(truth), 500):
        g = table[gene]
        assert (g.chrom, g.start, g.end, g.strand, g.refseq) == truth[gene]
    ref = load_reference(build)
    spans = [(t.chrom, t.start - FLANK, t.end + FLANK, t.gene) for t in ref.transcripts.values()]
    spans += [(c, s, e, gene) for gene, (c, s, e, _, _) in truth.items() if gene not in ref.transcripts]
    for chrom in ("chr17", "chr3", "chrX", "chr21"):
        on = [x for x in spans if x[0] == chrom]
        for _ in range(60):
            a, b = rng.choice(on)[1:3]
            pos = rng.randint(a - 5000, b + 5000)
            expect = {gene for c, s, e, gene in on if s <= pos + 10 and e >= pos}
            assert set(ref.genes_at(chrom, pos, pos + 10)) == expect
    assert ref.genes_at("chrUn_nothing", 1, 10) == ()


def test_a_malformed_gene_line_is_an_error_naming_the_file(tmp_path: Path) -> None:
    from annotator.reference.genetable import load_gene_coordinates

    bad = tmp_path / "gene_coordinates_GRCh38.tsv"
    bad.write_text("#gene\tchrom\tstart\tend\tstrand\trefseq\nA\tchr1\t10\t20\t+\t\nB\tchr1\tten\t20\t+\t\nC\n")
    with pytest.raises(ReferenceError_, match="fewer than 5 columns"):
        load_gene_coordinates(bad)
    bad.write_text("A\tchr1\t10\t20\t+\t\nB\tchr1\tten\t20\t+\t\n")
    table = load_gene_coordinates(bad)
    assert table["A"].end == 20 and table["A"].refseq is None
    with pytest.raises(ReferenceError_, match="gene coordinates of B") as e:
        table["B"]
    assert str(bad) in str(e.value) or str(bad) in e.value.one_line()
