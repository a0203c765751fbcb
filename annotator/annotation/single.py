"""Annotate one VCF/BCF in memory: ``annotate_file(path, ctx) -> SampleAnnotation``.

The file is read by one reader (``VcfSource.open``) in one pass over the
panel regions of both builds: the records in the chosen build's regions are
annotated, and the REF alleles of all of them are the build evidence
(``annotator.reference.buildguess``):

* header silent (no ``##contig`` lengths, no ``##reference``) and ``--build
  auto``: the REF alleles decide; when no record falls in a panel gene region
  of either build there is nothing to annotate (a warning, not an error);
* ``--build`` or the header names a build that the REF alleles contradict
  (most checked alleles disagree with it and agree with the other build):
  an error naming both counts.

Only a silent header reads the file twice: with ``--report all`` (once for the
panel regions, to decide the build, then every record), and when more than
``KEPT_RECORDS`` panel records would have to be held until the build is decided
(then the chosen build's regions are read again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.annotation.config import RunContext
from annotator.annotation.pipeline import (
    AnnotateOptions,
    SampleAnnotation,
    SampleAnnotator,
)
from annotator.annotation.sampleflags import apply_flags
from annotator.core import genome
from annotator.core.genome import GenomeBuild
from annotator.errors import InputError
from annotator.io.vcfin import InputRecord, VcfSource
from annotator.reference import Reference
from annotator.reference.buildguess import (
    BuildGuess,
    Evidence,
    contradiction,
    fallback_build,
    guess_build,
)

if TYPE_CHECKING:
    from annotator.cnv.sv import SvHandler

log = logging.getLogger(__name__)

BUILD_CHECK_ALLELES = 50_000  # REF alleles compared with a stated build (the first ones read)
# records held while a silent header's build is decided; a file with more is read again for
# the chosen build's regions (memory stays bounded; the REF evidence is bounded by its own limit)
KEPT_RECORDS = 20_000


def annotate_file(
    path: str | Path,
    ctx: RunContext,
    sample: str | None = None,
) -> SampleAnnotation:
    """Annotate one VCF/BCF in memory (no files written)."""
    cfg = ctx.config
    source = VcfSource.open(path, sample, ctx.spool)
    source.index_wanted = "vcf" in cfg.formats  # only the annotated VCF's block copy needs it
    try:
        header = source.header
        evidence = genome.infer_build(header.contigs, header.reference_line, header.assembly_hints)
        use_index = cfg.report != "all"  # unindexed files: annotator.io.regionscan
        silent = evidence.build is None and not evidence.reasons and cfg.build.lower() == "auto"
        # the build check of a stated build needs a sample of REF alleles, not all of a
        # dense file's (each kept allele costs ~150 bytes and a lookup at the end)
        seen = Evidence() if silent else Evidence(limit=BUILD_CHECK_ALLELES)
        if silent:
            build, records = _build_from_alleles(source, ctx, seen, use_index)
        else:
            build = genome.resolve_build(cfg.build, evidence, str(path))
            records = _records(source, ctx, build, seen, use_index)
        annotator = _annotator(ctx, source, build)
        for n, rec in enumerate(records, start=1):
            annotator.add(rec)
            if ctx.progress is not None and n % 10_000 == 0:
                ctx.progress(10_000)
        if not silent:
            _check_build(seen, build, ctx, path, explicit=cfg.build.lower() != "auto",
                         header_reasons=evidence.reasons)
        result = annotator.finish(str(path))
        result.input_sha256 = source.sha256()
        result.input_index = source.built_index
        if use_index and source.total_records is not None:
            result.accounting.off_panel_by_index = max(
                0, source.total_records - result.accounting.records_read
            )
        _add_segment_calls(ctx, result, build, ctx.reference(build.name))
        apply_flags(result, ctx.panel, getattr(cfg, "prior_therapy", None))
        return result
    finally:
        source.close()


def _annotator(ctx: RunContext, source: VcfSource, build: GenomeBuild) -> SampleAnnotator:
    from annotator.consequence.upstream import UpstreamParser

    cfg = ctx.config
    header = source.header
    reference = ctx.reference(build.name)
    sample_name = header.tumour_sample or Path(source.path).name.split(".")[0]
    return SampleAnnotator(
        sample=sample_name,
        header=header,
        build=build,
        panel=ctx.panel,
        reference=reference,
        engine=ctx.engine(build.name),
        upstream=UpstreamParser.from_header(header.lines),
        regions=ctx.panel_regions(build.name),
        options=AnnotateOptions(cfg.include_filtered, cfg.report, cfg.keep_not_carried),
        sv_handler=_sv_handler(ctx, build, reference, sample_name),
    )


def _other(build: str) -> str:
    return next(b for b in genome.BUILDS if b != build)


def _records(
    source: VcfSource, ctx: RunContext, build: GenomeBuild, seen: Evidence, use_index: bool
) -> Iterable[InputRecord]:
    """The records to annotate in ``build``; every record read also feeds ``seen``."""
    if not use_index:
        for rec in source.records():
            seen.add(rec)
            yield rec
        return
    sets = [ctx.panel_regions(build.name).query_regions(),
            ctx.panel_regions(_other(build.name), consulted_only=True).query_regions()]
    for k, rec in source.records_in_sets(sets):
        seen.add(rec)
        if k == 0:
            yield rec


def _fetch(ctx: RunContext, consulted_only: bool = False) -> Callable[[str, str, int, int], str | None]:
    return lambda b, c, s, e: ctx.reference(b, consulted_only=consulted_only).sequence(c, s, e)


def _build_from_alleles(
    source: VcfSource, ctx: RunContext, seen: Evidence, use_index: bool
) -> tuple[GenomeBuild, Iterable[InputRecord]]:
    """No header evidence: compare REF alleles with both builds' embedded sequence."""
    path = source.path
    sets = [ctx.panel_regions(b).query_regions() for b in genome.BUILDS]
    per_build: list[list[InputRecord]] = [[] for _ in genome.BUILDS]
    read = [0 for _ in genome.BUILDS]
    keep = True  # records are held until the build is known, up to KEPT_RECORDS of them
    for k, rec in source.records_in_sets(sets):
        seen.add(rec)
        read[k] += 1
        if keep:
            per_build[k].append(rec)
            if read[0] + read[1] > KEPT_RECORDS:  # a dense file: read the chosen build's again
                keep = False
                per_build = [[] for _ in genome.BUILDS]

    def chosen_records(build: GenomeBuild) -> Iterable[InputRecord]:
        i = genome.BUILDS.index(build.name)
        if keep or not use_index:
            return _all_or(source, per_build[i], use_index)
        source.rewind()
        return (rec for _, rec in source.records_in_sets([sets[i]]))

    guess = guess_build(seen.alleles(), _fetch(ctx))
    if guess.build is None:
        counts = {b: read[k] for k, b in enumerate(genome.BUILDS)}
        chosen, why = fallback_build(guess, counts, Path(path).name, source.header.lines)
        if chosen is not None:
            log.warning("%s: no build in the header and too few REF alleles to be sure; "
                        "taking %s from %s (pass --build to state it)", path, chosen, why)
            build = genome.get(chosen)
            return build, chosen_records(build)
        if not any(read):
            build = genome.get(genome.BUILDS[-1])
            log.warning(
                "%s: nothing to annotate: no record falls in a panel gene region of either build, "
                "and the header names no build (outputs say %s; pass --build to state it)",
                path, build.name,
            )
            return build, chosen_records(build)
        raise InputError(
            "cannot tell the genome build: the header has no ##contig lengths or ##reference "
            f"and too few REF alleles fall in resmark's embedded sequence to decide ({guess.explain()}); "
            "pass --build GRCh37 or --build GRCh38",
            path=path,
        )
    log.warning("%s: no build in the header; REF alleles say %s (%s)", path, guess.build, guess.explain())
    build = genome.get(guess.build)
    return build, chosen_records(build)


def _all_or(source: VcfSource, kept: list[InputRecord], use_index: bool) -> Iterable[InputRecord]:
    if use_index:
        return kept
    source.rewind()  # --report all: every record, read again from the start
    return source.records()


def _check_build(
    seen: Evidence, build: GenomeBuild, ctx: RunContext, path: str | Path, *, explicit: bool,
    header_reasons: tuple[str, ...],
) -> None:
    """An explicit or header build that the REF alleles contradict is an error."""
    fetch = _fetch(ctx, consulted_only=True)
    if seen.consistent_with(build.name, fetch):
        return
    guess: BuildGuess = guess_build(seen.alleles(), fetch)
    said = "--build" if explicit else "the header (" + "; ".join(header_reasons[:2]) + ")"
    verdict = contradiction(guess, build.name)
    if verdict == "decisive":
        raise InputError(
            f"{said} says {build.name}, but the REF alleles say {guess.build} ({guess.explain()}); "
            f"pass --build {guess.build}" + (" or fix the header" if not explicit else ""),
            path=path,
        )
    if verdict == "suspect":
        log.warning("%s: %s says %s, but many REF alleles disagree (%s)", path, said, build.name,
                    guess.explain())


def _sv_handler(
    ctx: RunContext, build: GenomeBuild, reference: Reference, sample: str
) -> SvHandler | None:
    try:
        from annotator.cnv.handler import make_vcf_sv_handler
    except ImportError:
        return None
    handler: SvHandler = make_vcf_sv_handler(ctx, build, reference, sample)
    return handler


def _add_segment_calls(
    ctx: RunContext, result: SampleAnnotation, build: GenomeBuild, reference: Reference
) -> None:
    cfg = ctx.config
    if cfg.cnv is None and cfg.sv is None:
        return
    from annotator.cnv.handler import add_external_calls

    add_external_calls(ctx, result, build, reference)
