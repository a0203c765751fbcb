"""Annotate one VCF/BCF in memory: ``annotate_file(path, ctx) -> SampleAnnotation``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from annotator.annotation.config import RunContext
from annotator.annotation.pipeline import (
    AnnotateOptions,
    SampleAnnotation,
    SampleAnnotator,
    apply_flags,
)
from annotator.core import genome
from annotator.errors import InputError
from annotator.io.vcfin import VcfSource

log = logging.getLogger(__name__)


def annotate_file(
    path: str | Path,
    ctx: RunContext,
    sample: str | None = None,
) -> SampleAnnotation:
    """Annotate one VCF/BCF in memory (no files written)."""
    from annotator.consequence.upstream import UpstreamParser

    cfg = ctx.config
    source = VcfSource(path, sample)
    try:
        header = source.header
        evidence = genome.infer_build(header.contigs, header.reference_line, header.assembly_hints)
        if evidence.build is None and not evidence.reasons and cfg.build.lower() == "auto":
            evidence = _build_from_alleles(path, ctx)
        build = genome.resolve_build(cfg.build, evidence, str(path))
        reference = ctx.reference(build.name)
        engine = ctx.engine(build.name)
        upstream = UpstreamParser.from_header(header.lines)
        regions = ctx.panel_regions(build.name)
        sample_name = header.tumour_sample or Path(path).name.split(".")[0]
        sv_handler = _sv_handler(ctx, build, reference, sample_name)
        annotator = SampleAnnotator(
            sample=sample_name,
            header=header,
            build=build,
            panel=ctx.panel,
            reference=reference,
            engine=engine,
            upstream=upstream,
            regions=regions,
            options=AnnotateOptions(cfg.include_filtered, cfg.report),
            sv_handler=sv_handler,
        )
        use_index = cfg.report != "all"  # unindexed files: annotator.io.regionscan
        query = regions.query_regions() if use_index else None
        for n, rec in enumerate(source.records(query), start=1):
            annotator.add(rec)
            if ctx.progress is not None and n % 10_000 == 0:
                ctx.progress(10_000)
        result = annotator.finish(str(path))
        if use_index and source.total_records is not None:
            result.accounting.off_panel_by_index = max(
                0, source.total_records - result.accounting.records_read
            )
        _add_segment_calls(ctx, result, build, reference)
        apply_flags(result, ctx.panel, getattr(cfg, "prior_therapy", None))
        return result
    finally:
        source.close()


def _build_from_alleles(path: str | Path, ctx: RunContext) -> genome.BuildEvidence:
    """No header evidence: compare REF alleles with both builds' embedded sequence."""
    from annotator.reference.buildguess import guess_build

    source = VcfSource(path, None if ctx.config.sample is None else ctx.config.sample)
    try:
        records = ((r.chrom, r.pos, r.ref) for r in source.records())
        guess = guess_build(records, lambda b, c, s, e: ctx.reference(b).sequence(c, s, e))
    finally:
        source.close()
    if guess.build is None:
        raise InputError(
            "cannot tell the genome build: the header has no ##contig lengths or ##reference "
            f"and too few REF alleles fall in resmark's embedded sequence to decide ({guess.explain()}); "
            "pass --build GRCh37 or --build GRCh38",
            path=path,
        )
    log.warning("%s: no build in the header; REF alleles say %s (%s)", path, guess.build, guess.explain())
    return genome.BuildEvidence(guess.build, (f"REF alleles ({guess.explain()})",))


def _sv_handler(ctx: RunContext, build: Any, reference: Any, sample: str) -> Any:
    try:
        from annotator.cnv.handler import make_vcf_sv_handler
    except ImportError:
        return None
    handler: Any = make_vcf_sv_handler(ctx, build, reference, sample)
    return handler


def _add_segment_calls(ctx: RunContext, result: SampleAnnotation, build: Any, reference: Any) -> None:
    cfg = ctx.config
    if cfg.cnv is None and cfg.sv is None:
        return
    from annotator.cnv.handler import add_external_calls

    add_external_calls(ctx, result, build, reference)


