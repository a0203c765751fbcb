"""The annotate run's typed configuration, per-run context and result.

``AnnotateConfig`` is what the CLI builds from its options; ``RunContext``
holds what a run loads once (panel, references, consequence engines, panel
regions); ``AnnotateResult`` is what ``annotate()`` returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotator.annotation.pipeline import REPORT_MODES, PanelRegions, SampleAnnotation
from annotator.cnv.thresholds import CnThresholds
from annotator.core import genome
from annotator.errors import ResmarkError, UsageError, raise_collected
from annotator.io.atomic import OutputDir

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
    samplesheet: str | Path | None = None  # cohort: TSV/CSV of VCFs (annotator.annotation.cohort)
    dataset: str | Path | None = None  # cohort: hive-partitioned Parquet dataset to update
    # drug or class names already given (None: not stated); ranks strategies by setting
    prior_therapy: Sequence[str] | None = None


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


