"""Breakpoints -> genes, exon/intron, strand; fusion and kinase-domain retention.

Partner role.  A breakend inside a gene keeps the gene's 5' part when it
keeps the side towards the gene's start (``left`` on the + strand, ``right``
on the - strand) and the 3' part otherwise.  A junction can make a sense
fusion transcript only when one side keeps a 5' part and the other a 3' part
(this also checks that the strands agree for each of the four breakend
orientations).

Frame.  With both breakpoints in introns inside the coding sequence, the
product is in frame when the 5' partner's retained CDS length and the 3'
partner's skipped CDS length have the same remainder modulo 3 (exon phase).
Breakpoints in exons, UTRs or genes without a transcript model leave the
frame unknown (None), which does not exclude a fusion.

Kinase domain.  The 5' FGFR part must reach the end of the kinase domain:
FGFR2 (UniProt P21802, NM_000141) aa 481-770 and FGFR3 (UniProt P22607,
NM_000142) aa 472-761.  The retained length comes from the CDS position of
the breakpoint.  Exon 17 of these MANE transcripts ends at c.2301 (FGFR2,
aa 767) and c.2274 (FGFR3, aa 758), so the recurrent breakpoints in intron 17
(exons 1-17 fused to a 3' partner; Wu et al. 2013 Cancer Discov 3:636) lose the
last three residues of UniProt's annotation; ``KINASE_END_TOLERANCE_AA`` (10)
accepts them while a breakpoint in intron 16 or earlier (which removes the
activation segment's C-lobe) is "not retained".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from annotator.cnv.breakends import Breakend, Junction
from annotator.reference import Reference, Transcript

KINASE_DOMAINS: dict[str, tuple[int, int, str]] = {
    "FGFR2": (481, 770, "UniProt P21802"),
    "FGFR3": (472, 761, "UniProt P22607"),
}
KINASE_END_TOLERANCE_AA = 10


@dataclass(frozen=True, slots=True)
class GeneHit:
    """Where one breakend falls in one gene."""

    gene: str
    strand: str
    role: str  # "5p" or "3p": which end of the gene the breakend keeps
    region: str  # "exon", "intron", "upstream", "downstream", "span" (no model)
    exon: str | None = None  # "17/18"
    intron: str | None = None  # "17/17"
    transcript: str | None = None
    retained_cds: int | None = None  # CDS bases kept on this side (None: no model)
    cds_length: int | None = None
    phase: int | None = None  # frame phase at an intronic coding breakpoint
    breakpoint: str = ""  # "chr10:121480000"

    @property
    def retained_aa(self) -> tuple[int, int] | None:
        """First and last residue of the protein part this side keeps."""
        if self.retained_cds is None or self.cds_length is None or self.retained_cds == 0:
            return None
        if self.role == "5p":
            return 1, self.retained_cds // 3
        first = self.cds_length - self.retained_cds + 1
        return (first + 2) // 3, self.cds_length // 3


@dataclass(frozen=True, slots=True)
class FusionCall:
    five: GeneHit | None
    three: GeneHit | None
    in_frame: bool | None
    kinase_retained: dict[str, bool | None]

    def partner_of(self, gene: str) -> str | None:
        others = [h.gene for h in (self.five, self.three) if h is not None and h.gene != gene]
        return others[0] if others else None


def _role(strand: str, keeps: str) -> str:
    forward = strand != "-"
    return "5p" if (keeps == "left") == forward else "3p"


def breaks_inside(be: Breakend, start: int, end: int) -> bool:
    """Whether the break falls between two bases of start..end (docs/cnv_sv.md, boundaries).

    A breakend keeping the left side breaks between ``pos`` and ``pos + 1``; keeping
    the right side, between ``pos - 1`` and ``pos``.  A break exactly at a gene's
    first or last base therefore leaves the gene whole and is not in it.
    """
    if be.keeps == "left":
        return start <= be.pos < end
    return start < be.pos <= end


def locate(reference: Reference, be: Breakend, genes: Sequence[str] | None = None) -> list[GeneHit]:
    """Genes whose exact span contains the breakend, with exon/intron and retained CDS."""
    names = genes if genes is not None else reference.genes_at(be.chrom, be.pos, be.pos)
    hits: list[GeneHit] = []
    for g in names:
        region = reference.gene_region(g)
        if region is None or region.chrom != be.chrom or not breaks_inside(be, region.start, region.end):
            continue
        tx = getattr(reference, "transcripts", {}).get(g)
        if tx is None:
            hits.append(GeneHit(g, region.strand, _role(region.strand, be.keeps), "span",
                                breakpoint=be.text()))
        else:
            hits.append(_in_transcript(tx, be))
    return hits


def _in_transcript(tx: Transcript, be: Breakend) -> GeneHit:
    role = _role(tx.strand, be.keeps)
    exons: Sequence[tuple[int, int]] = tx.exons  # transcript order
    n = len(exons)
    region, exon, intron = "span", None, None
    forward = tx.strand != "-"
    for i, (s, e) in enumerate(exons, start=1):
        if s <= be.pos <= e:
            region, exon = "exon", f"{i}/{n}"
            break
        if i < n:
            ns, ne = exons[i]
            lo, hi = (e, ns) if forward else (ne, s)
            if lo < be.pos < hi:
                region, intron = "intron", f"{i}/{n - 1}"
                break
    else:
        first = exons[0]
        before = be.pos < first[0] if forward else be.pos > first[1]
        region = "upstream" if before else "downstream"
    kept = 0
    for s, e in exons:
        lo, hi = max(s, tx.cds_start), min(e, tx.cds_end)
        if lo > hi:
            continue
        if be.keeps == "left":
            hi = min(hi, be.pos)
        else:
            lo = max(lo, be.pos)
        kept += max(0, hi - lo + 1)
    length = int(tx.cds_length)
    phase = None
    if region == "intron" and 0 < kept < length:
        phase = (kept if role == "5p" else length - kept) % 3
    return GeneHit(
        tx.gene, tx.strand, role, region, exon, intron, getattr(tx, "refseq", None), kept,
        length, phase, be.text(),
    )


def kinase_retained(hit: GeneHit) -> bool | None:
    """Does this side keep the kinase domain of an FGFR2/FGFR3 (None: no domain or model)?"""
    dom = KINASE_DOMAINS.get(hit.gene)
    if dom is None or hit.retained_cds is None:
        return None
    span = hit.retained_aa
    if span is None:
        return False
    first, last = span
    start, end, _ = dom
    return first <= start + KINASE_END_TOLERANCE_AA and last >= end - KINASE_END_TOLERANCE_AA


def analyse(reference: Reference, junction: Junction) -> list[tuple[GeneHit | None, GeneHit | None]]:
    """Candidate (5' side, 3' side) gene pairs of a junction; either may be None."""
    if junction.b is None:
        return [(h, None) if h.role == "5p" else (None, h) for h in locate(reference, junction.a)]
    a_hits = locate(reference, junction.a)
    b_hits = locate(reference, junction.b)
    pairs: list[tuple[GeneHit | None, GeneHit | None]] = [
        (ha, hb) if ha.role == "5p" else (hb, ha)
        for ha in a_hits
        for hb in b_hits
        if ha.gene != hb.gene and {ha.role, hb.role} == {"5p", "3p"}
    ]
    used = {id(h) for p in pairs for h in p if h is not None}
    pairs.extend(
        (h, None) if h.role == "5p" else (None, h) for h in a_hits + b_hits if id(h) not in used
    )
    return pairs


def fusion_call(five: GeneHit | None, three: GeneHit | None) -> FusionCall:
    in_frame: bool | None = None
    if five is not None and three is not None and five.phase is not None and three.phase is not None:
        in_frame = five.phase == three.phase
    kin: dict[str, bool | None] = {}
    for h in (five, three):
        if h is not None and h.gene in KINASE_DOMAINS:
            kin[h.gene] = kinase_retained(h)
    return FusionCall(five, three, in_frame, kin)


def is_fusion(call: FusionCall, gene: str) -> bool:
    """A fusion (not just a rearrangement) for ``gene``: two partners in sense, frame not
    excluded, and for FGFR2/FGFR3 the kinase domain kept."""
    if call.five is None or call.three is None or call.in_frame is False:
        return False
    if gene in call.kinase_retained:
        return call.kinase_retained[gene] is True
    return True
