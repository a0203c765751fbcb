"""Python API: ``annotate(AnnotateConfig(...)) -> AnnotateResult``.

The CLI only turns options into an ``AnnotateConfig`` and calls ``annotate``;
everything here raises ``ResmarkError`` subclasses and never exits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator import genome
from annotator.cnv.thresholds import CnThresholds
from annotator.errors import InputError, MultipleErrors, ResmarkError, UsageError, raise_collected
from annotator.io.atomic import OutputDir, safe_name
from annotator.io.vcfin import VcfSource
from annotator.pipeline import (
    REPORT_MODES,
    AnnotateOptions,
    PanelRegions,
    SampleAnnotation,
    SampleAnnotator,
    apply_flags,
)

log = logging.getLogger(__name__)

FORMATS = ("tsv", "json", "parquet", "vcf", "maf", "html")
DEFAULT_FORMATS = ("tsv", "json", "parquet", "vcf", "html")


@dataclass(frozen=True)
class AnnotateConfig:
    inputs: Sequence[str | Path]
    outdir: str | Path
    sample: str | None = None
    build: str = "auto"
    panel: str | Path | None = None
    panel_extend: bool = False
    fasta: str | Path | None = None
    include_filtered: bool = False
    report: str = "matched"
    formats: Sequence[str] = DEFAULT_FORMATS
    force: bool = False
    cnv: str | Path | None = None
    sv: str | Path | None = None
    tumor_fraction: float | None = None
    ploidy: float = 2.0
    cnv_thresholds: CnThresholds | None = None  # None: documented defaults (docs/cnv_sv.md)
    jobs: int = 1
    command: Sequence[str] | None = None
    # called with the number of records read since the last call (progress bars)
    progress: Callable[[int], None] | None = None
    # log lines collected by the caller during the run, written to OUTDIR/resmark.log
    run_log: Sequence[str] | None = None
    samplesheet: str | Path | None = None  # cohort: TSV/CSV of VCFs (annotator.cohort)
    dataset: str | Path | None = None  # cohort: hive-partitioned Parquet dataset to update


@dataclass
class AnnotateResult:
    samples: list[SampleAnnotation]
    outdir: Path
    outputs: list[Path] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    failures: list[Any] = field(default_factory=list)  # cohort.SampleFailure per failed input
    dataset: list[Path] = field(default_factory=list)  # partition files written

    @property
    def rows(self) -> list[Any]:
        return [r for s in self.samples for r in s.rows]


@dataclass
class RunContext:
    """Per-run state: the loaded panel and a cache of references per build."""

    config: AnnotateConfig
    panel: Any
    references: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None
    engines: dict[str, Any] = field(default_factory=dict)
    regions: dict[str, PanelRegions] = field(default_factory=dict)

    def reference(self, build: str) -> Any:
        if build not in self.references:
            from annotator.reference import load_reference

            self.references[build] = load_reference(build, self.config.fasta)
        return self.references[build]

    def engine(self, build: str) -> Any:
        """One consequence engine per build for the whole run (its caches are per transcript)."""
        if build not in self.engines:
            from annotator.consequence import ConsequenceEngine

            self.engines[build] = ConsequenceEngine(self.reference(build))
        return self.engines[build]

    def panel_regions(self, build: str) -> PanelRegions:
        """Merged regions of every panel gene in ``build`` (index queries, off-panel test)."""
        if build not in self.regions:
            genes = self.panel.gene_symbols()
            self.regions[build] = PanelRegions.build(
                (r.chrom, r.start, r.end, r.gene)
                for r in self.reference(build).gene_regions(extra_genes=genes)
                if r.gene in genes
            )
        return self.regions[build]


def check_config(config: AnnotateConfig) -> None:
    """Collect every problem with the options before doing any work."""
    problems: list[ResmarkError] = []
    if not config.inputs:
        problems.append(UsageError("no input VCF/BCF given"))
    for p in config.inputs:
        path = Path(p)
        if not path.exists():
            problems.append(UsageError("input file not found", path=path))
        elif path.is_dir():
            problems.append(UsageError("is a directory, not a VCF/BCF file", path=path))
        elif len(config.inputs) == 1 and getattr(config, "samplesheet", None) is None:
            # one input: its container faults join the other problems (a cohort reports
            # each failing input separately instead)
            from annotator.io.vcfcheck import sniff

            try:
                sniff(path)  # empty, truncated bgzip, bzip2/xz/zip, not a VCF: before any work
            except ResmarkError as e:
                problems.append(e)
    if config.report not in REPORT_MODES:
        problems.append(UsageError(f"--report must be one of {', '.join(REPORT_MODES)}, not {config.report!r}"))
    bad = [f for f in config.formats if f not in FORMATS]
    if bad:
        problems.append(UsageError(f"unknown format(s) {', '.join(bad)}; choose from {', '.join(FORMATS)}"))
    if config.build.lower() != "auto":
        try:
            genome.get(config.build)
        except UsageError as e:
            problems.append(e)
    if config.fasta is not None and not Path(config.fasta).exists():
        problems.append(UsageError("--fasta file not found", path=config.fasta))
    if config.tumor_fraction is not None and not 0 < config.tumor_fraction <= 1:
        problems.append(UsageError(f"--tumor-fraction must be in (0, 1], not {config.tumor_fraction}"))
    if config.jobs < 1:
        problems.append(UsageError(f"--jobs must be at least 1, not {config.jobs}"))
    if config.sample is not None and len(config.inputs) > 1:
        problems.append(UsageError("--sample applies to one input; for cohorts use a sample sheet"))
    try:
        OutputDir(config.outdir, config.force).check()
    except ResmarkError as e:
        problems.append(e)
    raise_collected(problems)


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
        apply_flags(result, ctx.panel)
        return result
    finally:
        source.close()


def _build_from_alleles(path: str | Path, ctx: RunContext) -> genome.BuildEvidence:
    """No header evidence: compare REF alleles with both builds' embedded sequence."""
    from annotator.buildguess import guess_build

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


def annotate(config: AnnotateConfig) -> AnnotateResult:
    """Annotate every input and write the requested outputs atomically.

    Inputs are paths, globs and/or the rows of ``config.samplesheet``.  With
    one input its error is raised; with several (a cohort) a sample that
    fails is listed in ``result.failures`` and the others are written (the
    run fails only if none succeeds).  ``config.jobs > 1`` annotates in
    worker processes; ``config.dataset`` also updates a Parquet dataset.
    """
    from dataclasses import replace

    from annotator import cohort
    from annotator.knowledge import load_panel

    items = cohort.resolve_items(config, config.samplesheet)
    config = replace(config, inputs=tuple(str(i.path) for i in items))
    check_config(config)
    stage = None
    if config.dataset is not None:
        from annotator.io.dataset import DatasetStage

        stage = DatasetStage(config.dataset)
    try:
        panel = load_panel(config.panel, extend=config.panel_extend)
        ctx = RunContext(config=config, panel=panel, progress=config.progress)
        staged = stage.path if stage is not None else None
        if len(items) == 1:
            first = cohort.annotate_item(items[0], ctx, strict=True, stage=staged)
            run = cohort.CohortRun([first], [])
        else:
            run = cohort.run_cohort(items, ctx, stage=staged)
        if not run.samples:
            raise MultipleErrors([ResmarkError(f.one_line()) for f in run.failures])
        _check_unique_samples(run.samples)
        from annotator.outputs import write_outputs

        result = write_outputs(config, ctx, run.samples)
        result.failures = list(run.failures)
        if stage is not None:
            result.dataset = stage.commit(s.sample for s in run.samples)
        return result
    finally:
        if stage is not None:
            stage.discard()


def _check_unique_samples(samples: list[SampleAnnotation]) -> None:
    seen: dict[str, str] = {}
    for s in samples:
        safe = safe_name(s.sample)
        if safe in seen:
            raise UsageError(
                f"sample {s.sample!r} appears in two inputs ({seen[safe]} and {s.path}); "
                "sample names must be unique in one run"
            )
        seen[safe] = s.path
