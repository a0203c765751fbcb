"""Interpret one symbolic / breakend ALT allele: genes, copy-number class, fusion.

Per panel gene touched by the event, one call, in this order of preference:

1. ``fusion``: a junction of the event joins this gene to another gene in
   sense orientation (``fusion.is_fusion``; FGFR2/FGFR3 must keep the kinase
   domain);
2. a copy-number class for genes inside a ``<DEL>``/``<DUP>``/``<CNV>``
   interval: from the record's copy number (INFO CN, FORMAT CN, ``<CNn>``),
   fold change (FOLD_CHANGE, purity-corrected) or log2 (FOLD_CHANGE_LOG,
   LOG2R) when present; otherwise ``<DEL>`` = loss and a ``<DUP>`` spanning
   the whole gene = gain;
3. ``rearrangement``: a breakpoint falls inside the gene without making a
   fusion (including a partner that is not a gene, and single breakends).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from annotator.cnv import fusion
from annotator.cnv.breakends import BreakendError, Junction, SvEvent, parse
from annotator.cnv.rowbuild import SV_TERMS, make_row
from annotator.cnv.thresholds import (
    DEFAULT_THRESHOLDS,
    NORMAL_PLOIDY,
    CnThresholds,
    cn_from_fold_change,
    cn_from_log2,
    log2_from_cn,
)
from annotator.core import chromnames
from annotator.core.models import Alteration
from annotator.core.rows import Row
from annotator.io.vcfin import InputRecord
from annotator.knowledge.matcher import match_alteration
from annotator.knowledge.model import Panel, RuleMatch
from annotator.reference import Reference
from annotator.reference.transcripts import GeneRegion

log = logging.getLogger(__name__)


class SvItem(TypedDict):
    """One gene-level result of a structural-variant allele: its row, alteration and matches."""

    row: Row
    alteration: Alteration
    matches: tuple[RuleMatch, ...]


# handler(record, allele_index, alt) -> one item per gene, or None (not interpreted);
# the pipeline calls it for symbolic and breakend ALT alleles
SvHandler = Callable[[InputRecord, int, str], "Sequence[SvItem] | None"]


@dataclass
class _GeneCall:
    gene: str
    cls: str
    hit: fusion.GeneHit | None = None
    partner: str | None = None
    partner_bp: str | None = None
    own_bp: str | None = None
    kinase: bool | None = None
    frame: bool | None = None
    partial: bool = False
    no_cn: bool = False  # class from the SV type alone: the caller gave no copy number


@dataclass
class SvInterpreter:
    """Per sample: turns symbolic/breakend alleles into row-ready items."""

    sample: str
    build: str
    reference: Reference
    panel: Panel
    regions: Mapping[str, GeneRegion]  # panel gene -> its region
    source: str = "vcf-sv"
    purity: float | None = None
    ploidy: float = NORMAL_PLOIDY
    thresholds: CnThresholds = DEFAULT_THRESHOLDS
    seen: set[tuple[tuple[str, int, str], ...]] = field(default_factory=set)
    invalid: int = 0
    last_error: str | None = None  # why the last allele could not be interpreted

    def __call__(self, rec: InputRecord, allele_index: int, alt: str) -> list[SvItem] | None:
        self.last_error = None
        try:
            event = parse(rec.chrom, rec.pos, alt, rec.info, rec.format_cn)
        except BreakendError as e:
            self.invalid += 1
            self.last_error = str(e)
            log.warning("%s: %s; not interpreted", rec.where(), e)
            return None
        calls = self._calls(event)
        if not calls:
            return None
        if event.kind == "BND" and all(j.key() in self.seen for j in event.junctions):
            return []  # the mate record already reported this junction
        for j in event.junctions:
            self.seen.add(j.key())
        return [self._item(rec, allele_index, alt, event, c) for c in calls]

    # -- interpretation -------------------------------------------------------
    def _calls(self, event: SvEvent) -> list[_GeneCall]:
        by_gene: dict[str, _GeneCall] = {}
        for j in event.junctions:
            for five, three in fusion.analyse(self.reference, j):
                fc = fusion.fusion_call(five, three)
                for hit in (five, three):
                    if hit is None or hit.gene not in self.regions:
                        continue
                    cls = "fusion" if fusion.is_fusion(fc, hit.gene) else "rearrangement"
                    call = _GeneCall(
                        hit.gene, cls, hit, fc.partner_of(hit.gene), _other_end(j, hit),
                        hit.breakpoint, fc.kinase_retained.get(hit.gene), fc.in_frame,
                    )
                    prev = by_gene.get(hit.gene)
                    if prev is None or (prev.cls != "fusion" and cls == "fusion"):
                        by_gene[hit.gene] = call
        if event.is_interval:
            cn = self._event_cn(event)
            for gene, region in self.regions.items():
                if region.chrom != event.chrom or region.end < event.start or region.start > event.end:
                    continue
                whole = event.start <= region.start and region.end <= event.end
                interval_cls = self._interval_class(event, cn, whole)
                if interval_cls is None:
                    continue
                prev = by_gene.get(gene)
                if prev is None or prev.cls == "rearrangement":
                    by_gene[gene] = _GeneCall(gene, interval_cls, prev.hit if prev else None,
                                              own_bp=prev.own_bp if prev else None,
                                              partial=not whole, no_cn=cn is None)
        if event.kind in ("INS",):
            for gene, region in self.regions.items():
                if region.chrom == event.chrom and region.start <= event.pos <= region.end:
                    by_gene.setdefault(gene, _GeneCall(gene, "rearrangement",
                                                       own_bp=f"{event.chrom}:{event.pos}"))
        return [by_gene[g] for g in sorted(by_gene)]

    def _event_cn(self, event: SvEvent) -> float | None:
        if event.copy_number is not None:
            return event.copy_number
        if event.fold_change is not None:
            return cn_from_fold_change(event.fold_change, self.purity, self.ploidy)
        if event.log2 is not None:
            return cn_from_log2(event.log2, self.purity, self.ploidy)
        return None

    def _interval_class(self, event: SvEvent, cn: float | None, whole: bool) -> str | None:
        if cn is not None:
            cls = self.thresholds.classify(cn, self.ploidy)
            if cls == "neutral":
                return None
            if cls in ("gain", "amplification") and not whole:
                return None  # part of a gene duplicated: a breakpoint, not a gene-level gain
            return cls
        if event.kind == "DEL":
            return "loss"
        if event.kind == "DUP" and whole:
            return "gain"
        return None

    # -- output -----------------------------------------------------------------
    def _item(
        self, rec: InputRecord, allele_index: int, alt: str, event: SvEvent, call: _GeneCall
    ) -> SvItem:
        cn = self._event_cn(event)
        cls = call.cls
        alteration = Alteration(
            gene=call.gene,
            alteration_class=cls,
            consequence=(SV_TERMS[cls],),
            exon=_exon_number(call.hit),
            partner_gene=call.partner,
            copy_number=cn if cls not in ("fusion", "rearrangement") else None,
            kinase_domain_retained=call.kinase,
        )
        matches = tuple(match_alteration(self.panel, alteration))
        ends = sorted({be.text() for j in event.junctions for be in (j.a, j.b) if be is not None})
        if event.is_interval:
            where = f"{event.chrom}:{event.start}-{event.end}:{event.kind}"
        else:
            where = "-".join(ends) if ends else f"{event.chrom}:{event.pos}"
        support = rec.support[allele_index - 1] if len(rec.support) >= allele_index else None
        region = self.regions.get(call.gene)
        tx = getattr(self.reference, "transcripts", {}).get(call.gene)
        row = make_row(
            sample=self.sample,
            build=self.build,
            chrom=chromnames.canonical(rec.chrom),
            pos=rec.pos,
            id=rec.id,
            ref=rec.ref,
            alt=alt,
            gene=call.gene,
            alteration_class=cls,
            transcript=(call.hit.transcript if call.hit and call.hit.transcript else
                        getattr(tx, "refseq", None)),
            consequence=SV_TERMS[cls],
            exon=call.hit.exon if call.hit else None,
            intron=call.hit.intron if call.hit else None,
            filter=";".join(rec.filters) if rec.filters else "PASS",
            vaf=support.vaf if support else None,
            depth=support.depth if support else None,
            alt_count=support.alt_count if support else None,
            support_source=support.source if support else None,
            variant_key=f"SV:{where}:{call.gene}",
            matches=matches,
            annotation_source=self.source,
            input_chrom=rec.chrom,
            input_pos=rec.pos,
            input_ref=rec.ref,
            input_alt=alt,
            record_index=rec.index,
            allele_index=allele_index,
            qual=rec.qual,
            flags=_flags(call),
            copy_number=alteration.copy_number,
            log2=(event.log2 if event.log2 is not None else
                  (log2_from_cn(cn, self.ploidy) if cn is not None and alteration.copy_number
                   is not None else None)),
            segment=(f"{event.chrom}:{event.start}-{event.end}"
                     if event.is_interval and region is not None else None),
            partner_gene=call.partner,
            breakpoint=call.own_bp,
            sv_type=event.sv_type or event.kind,
        )
        return {"row": row, "alteration": alteration, "matches": matches}


def _other_end(j: Junction, hit: fusion.GeneHit) -> str | None:
    texts = [be.text() for be in (j.a, j.b) if be is not None]
    others = [t for t in texts if t != hit.breakpoint]
    return others[0] if others else None


def _exon_number(hit: fusion.GeneHit | None) -> int | None:
    if hit is None:
        return None
    text = hit.exon or hit.intron
    if not text:
        return None
    head = text.split("/")[0]
    return int(head) if head.isdigit() else None


def _flags(call: _GeneCall) -> str | None:
    parts: list[str] = []
    if call.kinase is not None:
        parts.append("kinase_domain_retained" if call.kinase else "kinase_domain_lost")
    if call.cls in ("fusion", "rearrangement") and call.hit is not None:
        parts.append(f"{'5' if call.hit.role == '5p' else '3'}_prime_partner")
        if call.frame is not None:
            parts.append("in_frame" if call.frame else "out_of_frame")
    if call.partial:
        parts.append("partial_gene")
    if call.no_cn:
        parts.append("no_copy_number")
    return "; ".join(parts) or None
