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
from typing import TYPE_CHECKING, Protocol

from annotator.annotation.pipeline import REPORT_MODES, PanelRegions, SampleAnnotation
from annotator.cnv.thresholds import CnThresholds, option_problems
from annotator.consequence.engine import ConsequenceEngine
from annotator.core import genome
from annotator.core.jsondoc import JsonObject
from annotator.core.rows import Row
from annotator.errors import ResmarkError, UsageError, raise_collected
from annotator.io.atomic import OutputDir
from annotator.io.inputbytes import Spool, is_regular
from annotator.knowledge.model import Panel
from annotator.reference import Reference

if TYPE_CHECKING:
    from annotator.annotation.document import DocumentCache

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
    # transcript models from a GTF/GFF3 (annotator.reference.gtf); unset: RESMARK_* / config
    # file (annotator.core.settings); gtf_only: every model from the GTF, none embedded
    gtf: str | Path | None = None
    gtf_only: bool = False
    include_filtered: bool = False
    keep_not_carried: bool = False  # track: a force-called 0/0 column is a measured absence
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


class Failure(Protocol):
    """An input that could not be annotated (``cohort.SampleFailure``; cohort imports this module)."""

    @property
    def path(self) -> str: ...
    @property
    def sample(self) -> str | None: ...
    @property
    def message(self) -> str: ...
    @property
    def exit_code(self) -> int: ...
    def one_line(self) -> str: ...


@dataclass
class AnnotateResult:
    samples: list[SampleAnnotation]
    outdir: Path
    outputs: list[Path] = field(default_factory=list)
    provenance: JsonObject = field(default_factory=dict)  # the provenance JSON document
    failures: list[Failure] = field(default_factory=list)  # one per input that failed
    dataset: list[Path] = field(default_factory=list)  # partition files written

    @property
    def rows(self) -> list[Row]:
        return [r for s in self.samples for r in s.rows]


@dataclass
class RunContext:
    """Per-run state: the loaded panel and a cache of references per build.

    ``spool`` holds the run's copies of inputs that cannot be read twice
    (pipes): the reader and the annotated-VCF writer both read the copy.
    """

    config: AnnotateConfig
    panel: Panel
    references: dict[str, Reference] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None
    engines: dict[str, ConsequenceEngine] = field(default_factory=dict)
    regions: dict[str, PanelRegions] = field(default_factory=dict)
    spool: Spool = field(default_factory=Spool)
    documents: DocumentCache | None = field(default=None, repr=False)  # see document_cache()
    _consulted: dict[str, Reference] = field(default_factory=dict, repr=False)
    _consulted_regions: dict[str, PanelRegions] = field(default_factory=dict, repr=False)

    def document_cache(self) -> DocumentCache:
        """The panel's plain forms for the sample documents, made once per run (per process)."""
        if self.documents is None or self.documents.panel is not self.panel:
            from annotator.annotation.document import DocumentCache

            self.documents = DocumentCache(self.panel)
        return self.documents

    def readable(self, path: str | Path) -> Path:
        """Where the bytes of input ``path`` can be read (a pipe's copy, else the path)."""
        return self.spool.readable(path)

    def reference(self, build: str, *, consulted_only: bool = False) -> Reference:
        """The reference of ``build``, loaded once per run.

        ``consulted_only``: looked at only to check the build of a file against
        the other build's embedded sequence; that one is loaded without the
        user's --fasta/--gtf (which belong to the build being annotated) and is
        not listed in the provenance.
        """
        if consulted_only and build not in self.references:
            if build not in self._consulted:
                from annotator.reference import load_reference

                self._consulted[build] = load_reference(build, None)
            return self._consulted[build]
        if build not in self.references:
            from annotator.core.settings import reference_files
            from annotator.reference import load_reference

            cfg = self.config
            files = reference_files(build, fasta=cfg.fasta, gtf=getattr(cfg, "gtf", None),
                                    gtf_only=getattr(cfg, "gtf_only", False) or None)
            ref = load_reference(build, files.fasta, gtf=files.gtf, gtf_only=files.gtf_only,
                                 genes=self.panel.gene_symbols())
            ref.note_settings(files.describe())
            from annotator.annotation.qc import panel_reach

            for item in panel_reach(self.panel, ref.describe()):
                log.info("%s: %s", build, item["message"])
            self.references[build] = ref
        return self.references[build]

    def engine(self, build: str) -> ConsequenceEngine:
        """One consequence engine per build for the whole run (its caches are per transcript)."""
        if build not in self.engines:
            from annotator.consequence import ConsequenceEngine

            self.engines[build] = ConsequenceEngine(self.reference(build))
        return self.engines[build]

    def panel_regions(self, build: str, *, consulted_only: bool = False) -> PanelRegions:
        """Merged regions of every panel gene in ``build`` (index queries, off-panel test)."""
        consulted = consulted_only and build not in self.references
        cache = self._consulted_regions if consulted else self.regions
        if build not in cache:
            genes = self.panel.gene_symbols()
            cache[build] = PanelRegions.build(
                (r.chrom, r.start, r.end, r.gene)
                for r in self.reference(build, consulted_only=consulted).gene_regions(
                    extra_genes=genes)
                if r.gene in genes
            )
        return cache[build]


def input_paths(config: AnnotateConfig) -> list[str | Path]:
    """Every input file of the run (an output may never replace one)."""
    side = (config.cnv, config.sv, config.fasta, config.gtf, config.samplesheet)
    return [*config.inputs, *(p for p in side if p is not None)]


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
        elif not is_regular(path):
            pass  # a pipe: read once, by the reader (sniffing here would consume it)
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
    if config.gtf is not None and not Path(config.gtf).exists():
        problems.append(UsageError("--gtf file not found", path=config.gtf))
    try:
        from annotator.core.settings import reference_files

        reference_files(None, fasta=config.fasta, gtf=config.gtf, gtf_only=config.gtf_only or None)
    except ResmarkError as e:
        if "(set by --" not in e.message:  # an option's own path is reported above
            problems.append(e)
    problems += [UsageError(p) for p in option_problems(config.tumor_fraction, config.ploidy)]
    for opt, side in (("--cnv", config.cnv), ("--sv", config.sv)):
        if side is not None and len(config.inputs) > 1 and Path(side).exists() and not is_regular(side):
            problems.append(UsageError(  # each sample reads it: a pipe would be empty the second time
                f"{opt} is a pipe, which can be read only once, and there are "
                f"{len(config.inputs)} inputs; give it as a file", path=side))
    if config.jobs < 1:
        problems.append(UsageError(f"--jobs must be at least 1, not {config.jobs}"))
    if config.sample is not None and len(config.inputs) > 1:
        problems.append(UsageError("--sample applies to one input; for cohorts use a sample sheet"))
    try:
        OutputDir(config.outdir, config.force, protect=input_paths(config)).check()
    except ResmarkError as e:
        problems.append(e)
    raise_collected(problems)


