"""Built-in consequence engine on real coordinates (MANE Select transcripts).

Truth: hotspot_codons.tsv positions, published HGVS of well-known variants
(COSMIC / ClinVar / vcf2maf and genome-nexus expected MAFs), the MANE exon
structure and the HGVS recommendations.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from annotator.consequence import ConsequenceEngine
from annotator.core.models import TranscriptConsequence, VariantKey
from annotator.reference import Reference, load_reference


@pytest.fixture(scope="module")
def e38() -> ConsequenceEngine:
    return ConsequenceEngine(load_reference("GRCh38"))


@pytest.fixture(scope="module")
def e37() -> ConsequenceEngine:
    return ConsequenceEngine(load_reference("GRCh37"))


def one(engine: ConsequenceEngine, chrom: str, pos: int, ref: str, alt: str,
        gene: str | None = None) -> TranscriptConsequence:
    tcs = engine.annotate(VariantKey(chrom, pos, ref, alt))
    if gene is not None:
        tcs = tuple(t for t in tcs if t.gene == gene)
    assert len(tcs) == 1, tcs
    return tcs[0]


def test_pik3ca_h1047r_both_builds(e38: ConsequenceEngine, e37: ConsequenceEngine) -> None:
    for engine, pos in ((e38, 179234297), (e37, 178952085)):
        tc = one(engine, "chr3", pos, "A", "G")
        assert (tc.gene, tc.transcript, tc.transcript_ensembl) == (
            "PIK3CA", "NM_006218.4", "ENST00000263967.4")
        assert tc.consequence == ("missense_variant",)
        assert tc.impact == "MODERATE"
        assert (tc.hgvsc, tc.hgvsp, tc.hgvsp_short) == ("c.3140A>G", "p.His1047Arg", "p.H1047R")
        assert (tc.exon, tc.intron, tc.cds_position) == ("21/21", None, 3140)
        assert (tc.protein_start, tc.protein_end, tc.ref_aa, tc.alt_aa) == (1047, 1047, "H", "R")
        assert tc.source == "builtin" and tc.canonical


def test_plus_strand_esr1_y537s(e38: ConsequenceEngine) -> None:
    tc = one(e38, "6", 152098788, "A", "C")
    assert (tc.gene, tc.hgvsc, tc.hgvsp, tc.hgvsp_short) == (
        "ESR1", "c.1610A>C", "p.Tyr537Ser", "p.Y537S")


@pytest.mark.parametrize(
    "pos,ref,alt,hgvsc,short",
    [
        (121520163, "G", "C", "c.755C>G", "p.S252W"),  # Apert / endometrial hotspot
        (121498520, "A", "T", "c.1647T>A", "p.N549K"),  # kinase-domain hotspot
    ],
)
def test_minus_strand_fgfr2(e38: ConsequenceEngine, pos: int, ref: str, alt: str,
                            hgvsc: str, short: str) -> None:
    tc = one(e38, "chr10", pos, ref, alt)
    assert (tc.gene, tc.hgvsc, tc.hgvsp_short, tc.consequence) == (
        "FGFR2", hgvsc, short, ("missense_variant",))


def test_stop_gained_pten_r130(e38: ConsequenceEngine) -> None:
    tc = one(e38, "chr10", 87933147, "C", "T")  # CGA -> TGA
    assert (tc.hgvsc, tc.hgvsp, tc.hgvsp_short) == ("c.388C>T", "p.Arg130Ter", "p.R130*")
    assert tc.consequence == ("stop_gained",) and tc.impact == "HIGH"
    assert (tc.ref_aa, tc.alt_aa) == ("R", "*")


def test_synonymous_with_splice_region_vcf2maf(e37: ConsequenceEngine) -> None:
    # vcf2maf expected MAF: TP53 17:7579312 C>A c.375G>T p.T125= (last base of exon 4)
    tc = one(e37, "17", 7579312, "C", "A")
    assert tc.hgvsc == "c.375G>T" and tc.hgvsp_short == "p.T125=" and tc.hgvsp == "p.Thr125="
    assert tc.consequence == ("splice_region_variant", "synonymous_variant")


def test_splice_donor_and_acceptor_offsets(e37: ConsequenceEngine) -> None:
    donor = one(e37, "17", 7579311, "C", "T")  # TP53 intron 4 +1 (G on the transcript)
    assert donor.hgvsc == "c.375+1G>A"
    assert donor.consequence == ("splice_donor_variant",) and donor.impact == "HIGH"
    assert (donor.intron, donor.exon, donor.hgvsp) == ("4/10", None, None)
    acc1 = one(e37, "17", 7578555, "C", "T")
    assert acc1.hgvsc == "c.376-1G>A" and acc1.consequence == ("splice_acceptor_variant",)
    acc2 = one(e37, "17", 7578556, "T", "C")
    assert acc2.hgvsc == "c.376-2A>G" and acc2.consequence == ("splice_acceptor_variant",)
    region = one(e37, "17", 7579306, "C", "T")  # +6
    assert region.hgvsc == "c.375+6G>A"
    assert region.consequence == ("splice_region_variant", "intron_variant")
    deep = one(e37, "17", 7579200, "C", "T")
    assert deep.consequence == ("intron_variant",) and (deep.hgvsc or "").startswith("c.375+")


def test_codon_split_across_exons(e37: ConsequenceEngine) -> None:
    # TP53 codon 25 (CTA, Leu) = c.73_74 (exon 2) + c.75 (exon 3)
    last = one(e37, "17", 7579839, "A", "G")  # c.74T>C: CTA -> CCA
    assert (last.hgvsc, last.hgvsp) == ("c.74T>C", "p.Leu25Pro")
    assert last.consequence == ("missense_variant", "splice_region_variant")
    assert last.exon == "2/11"
    first = one(e37, "17", 7579721, "T", "A")  # c.75A>T: CTA -> CTT
    assert (first.hgvsc, first.hgvsp_short, first.exon) == ("c.75A>T", "p.L25=", "3/11")
    donor = one(e37, "17", 7579838, "C", "A")
    assert donor.hgvsc == "c.74+1G>T"
    acceptor = one(e37, "17", 7579722, "C", "T")
    assert acceptor.hgvsc == "c.75-1G>A"


def test_start_lost_and_utrs(e38: ConsequenceEngine) -> None:
    start = one(e38, "chr3", 179198826, "A", "G")  # PIK3CA c.1
    assert (start.hgvsc, start.hgvsp, start.hgvsp_short) == ("c.1A>G", "p.Met1?", "p.M1?")
    assert start.consequence == ("start_lost",) and start.impact == "HIGH"
    seq = e38.reference.sequence
    b = seq("chr3", 179198825, 179198825) or "N"
    utr5 = one(e38, "chr3", 179198825, b, "T" if b != "T" else "C")
    assert utr5.consequence == ("5_prime_UTR_variant",) and (utr5.hgvsc or "").startswith("c.-1")
    b = seq("chr3", 179234365, 179234365) or "N"
    utr3 = one(e38, "chr3", 179234365, b, "T" if b != "T" else "C")
    assert utr3.consequence == ("3_prime_UTR_variant",) and (utr3.hgvsc or "").startswith("c.*1")
    assert utr3.exon == "21/21"


def test_stop_lost_extension(e38: ConsequenceEngine) -> None:
    # PIK3CA stop TGA at chr3:179234362-4, 3'UTR AAA GAT AAC TGA -> 4th new codon is a stop
    tc = one(e38, "chr3", 179234362, "T", "C")
    assert tc.hgvsc == "c.3205T>C"
    assert tc.consequence == ("stop_lost",)
    assert (tc.hgvsp, tc.hgvsp_short) == ("p.Ter1069ArgextTer4", "p.*1069Rext*4")
    kept = one(e38, "chr3", 179234364, "A", "G")  # TGA -> TGG? no: TGA->TGG is Trp
    assert kept.consequence == ("stop_lost",)
    retained = one(e38, "chr3", 179234363, "G", "A")  # TGA -> TAA
    assert retained.consequence == ("stop_retained_variant",)
    assert retained.hgvsp == "p.Ter1069="


def test_frameshifts_genome_nexus(e37: ConsequenceEngine) -> None:
    # genome-nexus expected MAF (data_mutations_extended_100), MANE transcripts
    tp53 = one(e37, "17", 7578502, "ACAGGGCAGGTCTTGGC", "A")  # minus strand
    assert (tp53.hgvsc, tp53.hgvsp_short) == ("c.412_427del", "p.A138Cfs*27")
    assert tp53.hgvsp == "p.Ala138CysfsTer27" and tp53.consequence == ("frameshift_variant",)
    pten = one(e37, "10", 89720720, "T", "TA")
    assert (pten.hgvsc, pten.hgvsp_short) == ("c.875dup", "p.N292Kfs*6")
    arid = one(e37, "1", 27105877, "AAGCT", "A")
    assert (arid.hgvsc, arid.hgvsp_short) == ("c.5489_5492del", "p.K1830Mfs*52")


def test_delins_vcf2maf_and_genome_nexus(e37: ConsequenceEngine) -> None:
    # vcf2maf: PIK3CA 3:178928219 -/ATA c.1406_1407insTAA p.E469delinsDK
    b = e37.reference.sequence("chr3", 178928219, 178928219) or "N"
    tc = one(e37, "3", 178928219, b, b + "ATA")
    assert (tc.hgvsc, tc.hgvsp_short) == ("c.1406_1407insTAA", "p.E469delinsDK")
    assert tc.consequence == ("protein_altering_variant", "splice_region_variant")
    # genome-nexus: FGFR3 4:1806090 G>CACT c.1109delinsCACT p.G370delinsAL
    fg = one(e37, "4", 1806090, "G", "CACT")
    assert (fg.hgvsc, fg.hgvsp_short) == ("c.1109delinsCACT", "p.G370delinsAL")


def test_inframe_deletion_and_3prime_rule(e38: ConsequenceEngine) -> None:
    tc = one(e38, "chr3", 179218302, "TGAG", "T")  # PIK3CA E545del
    assert (tc.hgvsc, tc.hgvsp, tc.hgvsp_short) == ("c.1633_1635del", "p.Glu545del", "p.E545del")
    assert tc.consequence == ("inframe_deletion",)
    # one A of c.1625_1627 (AAA) deleted; VCF left-aligned, HGVS moves it 3'
    fs = one(e38, "chr3", 179218294, "GA", "G")
    assert fs.hgvsc == "c.1627del"
    assert e38.shift_3prime("PIK3CA", VariantKey("chr3", 179218294, "GA", "G"))[:2] == (
        179218297, 179218297)


def test_inframe_duplication_erbb2_exon20(e38: ConsequenceEngine) -> None:
    # COSMIC COSV54062232-style ERBB2 c.2313_2324dup p.Y772_A775dup, given 5' of the repeat
    dup = "ATACGTGATGGC"
    tc = one(e38, "chr17", 39724730, "C", "C" + dup)
    assert (tc.hgvsc, tc.hgvsp, tc.hgvsp_short) == (
        "c.2313_2324dup", "p.Tyr772_Ala775dup", "p.Y772_A775dup")
    assert tc.consequence == ("inframe_insertion",)


def test_upstream_downstream_and_intergenic(e38: ConsequenceEngine) -> None:
    pik = e38.reference.transcripts["PIK3CA"]
    up = one(e38, "chr3", pik.start - 100, "N", "A")
    assert up.consequence == ("upstream_gene_variant",) and up.hgvsc is None
    fgfr2 = e38.reference.transcripts["FGFR2"]  # minus strand: downstream is below start
    down = one(e38, "chr10", fgfr2.start - 100, "N", "A", gene="FGFR2")
    assert down.consequence == ("downstream_gene_variant",)
    assert e38.annotate(VariantKey("chr1", 1_000_000, "A", "G")) == ()


def test_gene_without_sequence_uses_coordinates(e37: ConsequenceEngine) -> None:
    # genome-nexus expected MAF: FGFR4 5:176518800 G>C c.718G>C p.D240H (plus strand),
    # FAT1 4:187540074 G>A c.7666C>T p.R2556* (minus strand); no embedded sequence.
    fg = one(e37, "5", 176518800, "G", "C")
    assert (fg.gene, fg.hgvsc, fg.protein_start, fg.hgvsp) == ("FGFR4", "c.718G>C", 240, None)
    assert fg.consequence == ("coding_sequence_variant",) and fg.source == "builtin-coordinates"
    fat = one(e37, "4", 187540074, "G", "A")
    assert (fat.gene, fat.hgvsc, fat.protein_start) == ("FAT1", "c.7666C>T", 2556)
    fs = one(e37, "4", 187540073, "NG", "N")
    assert fs.consequence == ("frameshift_variant",) and fs.protein_start == 2556
    ccne1 = one(e37, "19", 30303463, "A", "G")  # CCNE1 c.1 (ATG)
    assert ccne1.consequence == ("start_lost",) and ccne1.hgvsc == "c.1A>G"


def _padded_fasta(tmp_path: Path, contig: str, start: int, seq: str) -> Path:
    import pysam

    # a region contig as `samtools faidx genome.fa chr4:S-E` writes it (a whole chromosome
    # of the wrong length would be refused as another assembly)
    plain = tmp_path / "user.fa"
    body = seq
    name = f"{contig}:{start}-{start + len(seq) - 1}"
    plain.write_text(f">{name}\n" + "\n".join(body[i : i + 80] for i in range(0, len(body), 80)) + "\n")
    pysam.faidx(str(plain))
    return plain


def test_user_fasta_supplies_missing_sequence(tmp_path: Path) -> None:
    base = load_reference("GRCh38")
    start, end = 1788312, 1810872  # FGFR3 region
    fa = _padded_fasta(tmp_path, "chr4", start, base.sequence("chr4", start, end) or "")
    with_fasta = load_reference("GRCh38", fasta=fa)
    # The same reference, minus FGFR3's embedded CDS and region: only the FASTA can help.
    txs = dict(with_fasta.transcripts)
    txs["FGFR3"] = dataclasses.replace(txs["FGFR3"], cds_seq=None)
    stripped = Reference("GRCh38", txs, {}, None, with_fasta._user)
    tc = one(ConsequenceEngine(stripped), "chr4", 1801841, "C", "G")  # FGFR3 S249C
    assert (tc.hgvsc, tc.hgvsp_short, tc.source) == ("c.746C>G", "p.S249C", "builtin")
    nothing = Reference("GRCh38", txs, {}, None, None)
    tc2 = one(ConsequenceEngine(nothing), "chr4", 1801841, "C", "G")
    assert (tc2.hgvsp, tc2.protein_start, tc2.source) == (None, 249, "builtin-coordinates")


def test_most_severe_first_and_symbolic_alleles(e38: ConsequenceEngine) -> None:
    assert e38.annotate(VariantKey("chr3", 179234297, "A", "<DEL>")) == ()
    assert e38.annotate(VariantKey("chr3", 179234297, "A", "*")) == ()
