"""Entry points called by ``annotator.annotation.run``.

* ``make_vcf_sv_handler(ctx, build, reference, sample)``: the pipeline's
  ``SvHandler`` for symbolic / breakend ALT alleles of the main VCF.
* ``add_external_calls(ctx, result, build, reference)``: ``--cnv`` (segments
  or gene table) and ``--sv`` (SV VCF or fusion table) appended to a sample.

Thresholds: ``ctx.config.cnv_thresholds`` (a ``CnThresholds``) when the
config has it, else the defaults of ``annotator.cnv.thresholds``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from annotator.cnv import fusion
from annotator.cnv.breakends import Breakend
from annotator.cnv.genecall import GeneCnCall, call_genes
from annotator.cnv.genetable import DISCRETE_CLASSES
from annotator.cnv.readers import read_cnv
from annotator.cnv.rowbuild import CN_TERMS, SV_TERMS, make_row
from annotator.cnv.segment import CnvInput, overlap_filter
from annotator.cnv.sv import SvInterpreter
from annotator.cnv.svvcf import FusionRecord, SvFile
from annotator.cnv.thresholds import DEFAULT_THRESHOLDS, CnThresholds
from annotator.core import chromnames
from annotator.core.accounting import Accounting
from annotator.core.genome import GenomeBuild
from annotator.core.models import Alteration
from annotator.core.provenance import InputFile
from annotator.core.rows import Row, match_columns
from annotator.io.vcfmodel import InputRecord
from annotator.knowledge.matcher import match_alteration
from annotator.knowledge.model import Panel, RuleMatch
from annotator.reference import Reference
from annotator.reference.transcripts import GeneRegion

log = logging.getLogger(__name__)



# The annotate run's context and per-sample result as this module uses them (the run's
# classes live in a higher layer: annotation.config.RunContext, annotation.pipeline.SampleAnnotation).
class _Options(Protocol):
    @property
    def cnv(self) -> str | Path | None: ...
    @property
    def sv(self) -> str | Path | None: ...
    @property
    def report(self) -> str: ...
    @property
    def include_filtered(self) -> bool: ...
    @property
    def tumor_fraction(self) -> float | None: ...
    @property
    def ploidy(self) -> float: ...


class RunState(Protocol):
    @property
    def config(self) -> _Options: ...
    @property
    def panel(self) -> Panel: ...


class SampleCalls(Protocol):
    @property
    def sample(self) -> str: ...
    @property
    def accounting(self) -> Accounting: ...
    @property
    def rows(self) -> list[Row]: ...
    @property
    def alterations(self) -> list[tuple[str, Alteration, tuple[RuleMatch, ...]]]: ...


_ALT = {"amplification": "<DUP>", "gain": "<DUP>", "loss": "<DEL>", "deep_deletion": "<DEL>"}


def _thresholds(ctx: RunState) -> CnThresholds:
    th = getattr(ctx.config, "cnv_thresholds", None)
    return th if isinstance(th, CnThresholds) else DEFAULT_THRESHOLDS


def _regions(reference: Reference, panel: Panel, everything: bool = False) -> dict[str, GeneRegion]:
    """gene -> GeneRegion for the panel genes (all known genes with ``everything``)."""
    from annotator.reference import DEFAULT_EXTRA_GENES

    panel_genes = set(panel.gene_symbols())
    extra = sorted(panel_genes | set(DEFAULT_EXTRA_GENES))
    out: dict[str, GeneRegion] = {}
    for r in reference.gene_regions(extra_genes=extra):
        if everything or r.gene in panel_genes:
            out[r.gene] = r
    return out


def _interpreter(
    ctx: RunState, build: GenomeBuild, reference: Reference, sample: str, source: str,
    regions: Mapping[str, GeneRegion] | None = None,
) -> SvInterpreter:
    cfg = ctx.config
    return SvInterpreter(
        sample=sample,
        build=build.name,
        reference=reference,
        panel=ctx.panel,
        regions=regions if regions is not None else _regions(reference, ctx.panel),
        source=source,
        purity=cfg.tumor_fraction,
        ploidy=cfg.ploidy,
        thresholds=_thresholds(ctx),
    )


def make_vcf_sv_handler(ctx: RunState, build: GenomeBuild, reference: Reference, sample: str) -> SvInterpreter:
    """The pipeline's handler for symbolic/breakend alleles of the main VCF."""
    return _interpreter(ctx, build, reference, sample, "vcf-sv")


def add_external_calls(ctx: RunState, result: SampleCalls, build: GenomeBuild, reference: Reference) -> None:
    """Append ``--cnv`` and ``--sv`` calls to ``result`` (rows, alterations, accounting)."""
    cfg = ctx.config
    regions = _regions(reference, ctx.panel, everything=cfg.report == "all")
    panel_genes = ctx.panel.gene_symbols()
    panel_regions = {g: r for g, r in regions.items() if g in panel_genes}
    measured: set[str] = set()
    if cfg.cnv is not None:
        # segments outside every gene called are counted, not kept (genome-wide bin files)
        keep = overlap_filter((r.chrom, r.start, r.end) for r in regions.values())
        cnv = read_cnv(cfg.cnv, result.sample, keep)
        _record_input(result, InputFile("cnv", str(cfg.cnv), cnv.sha256 or ""))
        measured = _add_cnv(ctx, result, build, reference, cnv, regions)
    if cfg.sv is not None:
        with SvFile(cfg.sv) as sv:  # read once: the fusion-table test peeks at its first line
            if sv.is_fusion_table:
                _add_fusion_table(ctx, result, build, reference, sv.fusions())
            else:
                _add_sv_vcf(ctx, result, build, reference, sv.records(result.sample),
                            panel_regions)
            _record_input(result, sv.input_file("sv"))
    if measured:
        defer_to_measured_copy_number(ctx, result, measured)


def _record_input(result: SampleCalls, item: InputFile) -> None:
    """Provenance of a side input, with the digest computed while it was read."""
    inputs = getattr(result, "side_inputs", None)
    if inputs is not None and item not in inputs:
        inputs.append(item)


_UNMEASURED_CN = frozenset({"loss", "gain"})


def defer_to_measured_copy_number(ctx: RunState, result: SampleCalls, measured: set[str]) -> None:
    """An SV without copy number does not overrule a measured copy number.

    A caller's ``<DEL>``/``<DUP>`` without CN is called loss/gain of every gene it
    spans (flag ``no_copy_number``).  When ``--cnv`` measured the same gene, that
    call stands and the SV becomes a ``rearrangement`` of the gene (flag
    ``cn_from_segments``); e.g. in HCC2218, Manta deletions spanning the ERBB2
    amplicon would otherwise read as an ERBB2 loss next to CN 16.
    """
    changed: dict[str, tuple[Alteration, tuple[RuleMatch, ...]]] = {}
    for i, (key, alt, matches) in enumerate(result.alterations):
        unmeasured = alt.copy_number is None and alt.alteration_class in _UNMEASURED_CN
        if not (unmeasured and alt.gene in measured and key.startswith("SV:")):
            continue
        new_alt = replace(alt, alteration_class="rearrangement")
        new_matches = tuple(match_alteration(ctx.panel, new_alt))
        result.alterations[i] = (key, new_alt, new_matches)
        changed[key] = (new_alt, new_matches)
        if bool(matches) != bool(new_matches):
            result.accounting.matched += 1 if new_matches else -1
    if changed:
        result.rows[:] = [
            replace(
                r, alteration_class="rearrangement",
                flags="; ".join(filter(None, [r.flags, "cn_from_segments"])),
                **match_columns(changed[r.variant_key][1]),
            )
            if r.variant_key in changed else r
            for r in result.rows
        ]


def _list(ctx: RunState, result: SampleCalls, key: str, row: Row, alteration: Alteration,
          matches: tuple[RuleMatch, ...]) -> None:
    acc = result.accounting
    result.alterations.append((key, alteration, matches))
    if matches:
        acc.matched += 1
    if ctx.config.report != "matched" or matches:
        result.rows.append(row)
        acc.listed += 1


# -- copy number ------------------------------------------------------------------
def _add_cnv(
    ctx: RunState, result: SampleCalls, build: GenomeBuild, reference: Reference, cnv: CnvInput, regions: Mapping[str, GeneRegion]
) -> set[str]:
    """Add the gene-level calls; returns every gene whose copy number was measured (neutral too)."""
    cfg = ctx.config
    acc = result.accounting
    acc.cn_records_read += cnv.n_records
    acc.cn_records_skipped += cnv.skipped
    panel_genes = set(ctx.panel.gene_symbols())
    everything = cfg.report == "all"
    if cnv.genes:
        calls = _gene_table_calls(
            cnv, regions, panel_genes, everything, _thresholds(ctx), cfg.ploidy
        )
    else:
        exons = {g: t.exons for g, t in getattr(reference, "transcripts", {}).items()}
        calls = call_genes(
            cnv,
            [(g, r.chrom, r.start, r.end) for g, r in regions.items()],
            exons,
            _thresholds(ctx),
            cfg.tumor_fraction,
            cfg.ploidy,
        )
    measured = {c.gene for c in calls if c.copy_number is not None}
    for call in calls:
        if call.call == "neutral":
            continue
        acc.cn_genes_called += 1
        tx = getattr(reference, "transcripts", {}).get(call.gene)
        alteration = Alteration(
            gene=call.gene,
            alteration_class=call.call,
            consequence=(CN_TERMS[call.call],),
            copy_number=call.copy_number,
        )
        matches = tuple(match_alteration(ctx.panel, alteration)) if call.gene in panel_genes else ()
        key = f"CNV:{call.chrom}:{call.gene}:{call.call}"
        first = call.segments[0] if call.segments else None
        flags = []
        if call.segments and call.partial:
            flags.append(f"partial_gene:{call.fraction:.2f}")
        if call.purity_adjusted:
            flags.append(f"purity_adjusted:{cfg.tumor_fraction:g}")
        row = make_row(
            sample=result.sample,
            build=build.name,
            chrom=call.chrom,
            pos=call.start,
            gene=call.gene,
            alteration_class=call.call,
            variant_key=key,
            matches=matches,
            annotation_source=cnv.source,
            alt=_ALT[call.call],
            transcript=getattr(tx, "refseq", None),
            consequence=CN_TERMS[call.call],
            input_chrom=first.chrom if first else call.chrom,
            input_pos=first.start if first else call.start,
            input_alt=cnv.fmt,
            record_index=(first.line - 1) if first and first.line else -1,
            flags="; ".join(flags) or None,
            copy_number=call.copy_number,
            log2=call.log2,
            segment=call.segment_text(),
            sv_type="CNV",
        )
        _list(ctx, result, key, row, alteration, matches)
    log.info(
        "%s: %d %s records, %d gene-level copy-number calls",
        cnv.path, cnv.n_records, cnv.fmt, acc.cn_genes_called,
    )
    return measured


def _gene_table_calls(
    cnv: CnvInput,
    regions: Mapping[str, GeneRegion],
    panel_genes: set[str],
    everything: bool,
    th: CnThresholds,
    ploidy: float,
) -> list[GeneCnCall]:
    out: list[GeneCnCall] = []
    for g in cnv.genes:
        if not everything and g.gene not in panel_genes:
            continue
        region = regions.get(g.gene)
        chrom, start, end = (region.chrom, region.start, region.end) if region else (".", 0, 0)
        if g.discrete is not None:
            call = DISCRETE_CLASSES[g.discrete]
        elif g.copy_number is not None:
            call = th.classify(g.copy_number, ploidy)
        else:
            continue
        out.append(GeneCnCall(g.gene, chrom, start, end, call, g.copy_number, None, 1.0, (), False))
    return out


# -- structural variants ------------------------------------------------------------
def _add_sv_vcf(
    ctx: RunState, result: SampleCalls, build: GenomeBuild, reference: Reference, records: Iterable[InputRecord],
    regions: Mapping[str, GeneRegion],
) -> None:
    cfg = ctx.config
    acc = result.accounting
    interp = _interpreter(ctx, build, reference, result.sample, "sv-vcf", regions)
    for rec in records:
        acc.sv_records_read += 1
        acc.alleles_read += len(rec.alts)
        filt = ";".join(rec.filters) if rec.filters else "PASS"
        if filt not in ("PASS", ".") and not cfg.include_filtered:
            acc.add_record("filtered", filt, rec.where())
            continue
        if not rec.alts:
            acc.add_record("rejected", "no ALT allele (reference-only record)", rec.where())
            continue
        buckets: list[str] = []
        reasons: list[str] = []
        for i, alt in enumerate(rec.alts, start=1):
            if not _structural(alt) and "SVTYPE" in rec.info:
                alt = f"<{rec.info['SVTYPE']}>"  # sequence-resolved SV (Manta, Delly INS)
            if not _structural(alt):
                buckets.append("rejected")
                reasons.append("not a structural-variant allele (no SVTYPE)")
                continue
            produced = interp(rec, i, alt)
            if produced is None:
                if interp.last_error:
                    buckets.append("rejected")
                    reasons.append(f"invalid structural-variant allele ({interp.last_error})")
                else:
                    buckets.append("off_panel")
                continue
            buckets.append("annotated")
            for item in produced:
                _list(ctx, result, item["row"].variant_key, item["row"], item["alteration"],
                      item["matches"])
        bucket = min(buckets, key=("annotated", "off_panel", "rejected").index)
        acc.add_record(bucket, reasons[0] if bucket == "rejected" else None, rec.where())


def _structural(alt: str) -> bool:
    return alt.startswith("<") or "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith(".")


def _add_fusion_table(
    ctx: RunState, result: SampleCalls, build: GenomeBuild, reference: Reference, records: Sequence[FusionRecord]
) -> None:
    acc = result.accounting
    panel_genes = set(ctx.panel.gene_symbols())
    for fr in records:
        acc.sv_records_read += 1
        where = f"line {fr.line} ({fr.text})"
        five = _named_hit(reference, fr.five_gene, fr.five_chrom, fr.five_pos, "5p")
        three = _named_hit(reference, fr.three_gene, fr.three_chrom, fr.three_pos, "3p")
        genes = [g for g in (fr.five_gene, fr.three_gene) if g is not None and g in panel_genes]
        if not genes:
            acc.add_record("off_panel", None, where)
            continue
        acc.add_record("annotated", None, where)
        fc = fusion.fusion_call(five, three)
        for gene in genes:
            hit = five if gene == fr.five_gene else three
            partner = fr.three_gene if gene == fr.five_gene else fr.five_gene
            named_ok = five is not None and three is not None
            cls = "fusion" if named_ok and fusion.is_fusion(fc, gene) else "rearrangement"
            alteration = Alteration(
                gene=gene, alteration_class=cls, consequence=(SV_TERMS[cls],),
                partner_gene=partner, kinase_domain_retained=fc.kinase_retained.get(gene),
                exon=_exon(hit),
            )
            matches = tuple(match_alteration(ctx.panel, alteration))
            c5, c3 = chromnames.canonical(fr.five_chrom), chromnames.canonical(fr.three_chrom)
            own = (c5, fr.five_pos) if gene == fr.five_gene else (c3, fr.three_pos)
            key = f"SV:{c5}:{fr.five_pos}-{c3}:{fr.three_pos}:{gene}"
            flags = []
            if gene in fc.kinase_retained and fc.kinase_retained[gene] is not None:
                flags.append("kinase_domain_retained" if fc.kinase_retained[gene] else "kinase_domain_lost")
            if hit is None:
                flags.append("breakpoint_outside_named_gene")
            if fc.in_frame is not None:
                flags.append("in_frame" if fc.in_frame else "out_of_frame")
            row = make_row(
                sample=result.sample, build=build.name,
                chrom=hit.breakpoint.split(":")[0] if hit else own[0], pos=own[1], gene=gene,
                alteration_class=cls, variant_key=key, matches=matches,
                annotation_source="fusion-table", alt=fr.text,
                transcript=hit.transcript if hit else None, consequence=SV_TERMS[cls],
                exon=hit.exon if hit else None, intron=hit.intron if hit else None,
                input_chrom=own[0], input_pos=own[1], input_alt=fr.text,
                record_index=fr.line - 1, flags="; ".join(flags) or None,
                partner_gene=partner,
                breakpoint=hit.breakpoint if hit else f"{own[0]}:{own[1]}", sv_type="FUSION",
            )
            _list(ctx, result, key, row, alteration, matches)


def _named_hit(
    reference: Reference, gene: str | None, chrom: str, pos: int, role: str
) -> fusion.GeneHit | None:
    """The breakpoint in the named gene, the kept side following from its role and strand."""
    if not gene:
        return None
    region = reference.gene_region(gene)
    if region is None:
        return None
    forward = region.strand != "-"
    keeps = "left" if (role == "5p") == forward else "right"
    be = Breakend(chromnames.canonical(chrom), pos, keeps)
    hits = fusion.locate(reference, be, [gene])
    return hits[0] if hits else None


def _exon(hit: fusion.GeneHit | None) -> int | None:
    if hit is None:
        return None
    text = hit.exon or hit.intron
    head = text.split("/")[0] if text else ""
    return int(head) if head.isdigit() else None
