"""Values of a tracking run: configuration, thresholds, vocabularies, observations.

Status of a variant at one timepoint (``STATUSES``) and change between two
timepoints (``CHANGES``) are fixed vocabularies; docs/track.md defines each.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from annotator.track.regenotype import MIN_BASE_QUALITY, MIN_MAPPING_QUALITY

STATUSES = ("detected", "low_level", "not_detected", "not_assessable", "not_assessed")
STATUS_REASONS = (
    "significant",  # alt count significant against the site's background (p <= detection_alpha)
    "below_significance",  # alt count above the background mean but not significant (low level)
    "called_without_counts",  # PASS record whose caller gave no read counts (low level)
    "powered",  # not significant, power at clearance_vaf >= min_power
    "low_power",  # not significant, power at clearance_vaf < min_power
    "no_coverage",  # reads given but no informative read at the site
    "no_evidence",  # no reads and no record at this timepoint
    "copy_number_call",  # copy-number call present
    "copy_number_absent",  # copy-number file given, gene not called
)
CHANGES = (
    "baseline",  # the reference timepoint itself
    "emerging",  # significant big increase to detected (vs the previous draw or the pooled run), no level before
    "rising",  # significant big increase to detected from an established level
    "stable",  # no significant big change; established level before and alt evidence now
    "falling",  # significant big decrease from an established level (absence not powered)
    "cleared",  # significant decrease from an established level to not detected (with power)
    "inconclusive",  # no significant change, evidence on one side only
    "absent",  # not shown present at either draw (below detection at both; docs/track.md)
    "not_evaluable",  # read counts missing at one of the two timepoints
)
CHANGE_REASONS = (  # which rule of status.change_and_reason decided (docs/track.md)
    "baseline", "copy_number", "missing_counts",
    "increase",  # significant big increase vs the previous draw (emerging / rising)
    "increase_vs_pooled_run",  # emerging: significant big increase vs the pooled earlier draws
    "powered_absence", "decrease",  # cleared / falling
    "level_persists",  # stable: no change from the established level, variant shown now
    "low_level_together",  # stable: two low-level draws shown present together
    "nothing_shown_now",  # inconclusive: established before, nothing (or one count) now
    "differs_from_pooled_level",  # inconclusive: agrees with the previous draw, not with the pooled run
    "no_level_before",  # inconclusive: detected now, no level established before
    "not_shown_present",  # absent
)
RESPONSES = (
    "baseline", "clearance", "response", "stable", "progression", "emerging_resistance",
    "not_evaluable",
)
MRD_CALLS = ("positive", "negative", "not_assessable")
ORIGINS = (
    "tumour",  # presumed tumour-derived (default)
    "possible_chip",  # known CHIP gene, no white-cell data: flagged, not excluded
    "chip",  # present in the matched white cells at a non-germline VAF: excluded
    "germline",  # ~50 %/100 % in white cells, or at every timepoint: excluded
)
EXCLUDED_ORIGINS = frozenset({"chip", "germline"})
CHIP_GENES = frozenset({"DNMT3A", "TET2", "ASXL1", "PPM1D", "TP53", "JAK2", "SF3B1", "SRSF2", "CBL",
                        "GNB1", "GNAS", "IDH2", "CHEK2"})
INCREASES = frozenset({"emerging", "rising"})

DEFAULT_MIN_ALT_READS = 2
DEFAULT_MIN_POWER = 0.8
DEFAULT_ALPHA = 0.05
DEFAULT_DETECTION_ALPHA = 0.01
DEFAULT_LOD_POWER = 0.95
DEFAULT_CLEARANCE_VAF = 0.001
DEFAULT_MAX_BACKGROUND = 0.005
DEFAULT_CHANGE_RHO = 1e-4
DEFAULT_MRD_ALPHA = 0.01
DEFAULT_MIN_FOLD_CHANGE = 1.5
DEFAULT_RESPONSE_FALL = 0.5
DEFAULT_PROGRESSION_RISE = 0.5
DEFAULT_CN_DELTA = 1.0
GERMLINE_VAF_BAND = (0.35, 0.65)  # heterozygous-looking at every assessed timepoint
GERMLINE_MIN_DEPTH = 20


@dataclass(frozen=True)
class Thresholds:
    """Every number that turns counts into a status; all are CLI options."""

    min_base_quality: int = MIN_BASE_QUALITY
    min_mapping_quality: int = MIN_MAPPING_QUALITY
    min_alt_reads: int = DEFAULT_MIN_ALT_READS  # needed as well as significance
    min_vaf: float = 0.0
    min_power: float = DEFAULT_MIN_POWER  # power at clearance_vaf for "not_detected"
    power_vaf: float | None = None  # deprecated alias of clearance_vaf (never the peak VAF)
    clearance_vaf: float = DEFAULT_CLEARANCE_VAF  # VAF that non-detection and clearance are stated at
    detection_alpha: float = DEFAULT_DETECTION_ALPHA  # per-observation test against background
    lod_power: float = DEFAULT_LOD_POWER  # LoD = VAF detected with this probability
    background_floor: float = 1e-4  # background rate never assumed lower
    background_cv: float = 0.5  # between-sample CV of the background when not estimable
    max_background: float = DEFAULT_MAX_BACKGROUND  # higher: artefact site, not monitored
    change_rho: float = DEFAULT_CHANGE_RHO  # beta-binomial overdispersion of the change test
    alpha: float = DEFAULT_ALPHA  # on change-test p-values (q-values with adjust="bh")
    adjust: str = "none"  # none | bh: classify changes on p or on BH q-values
    mrd_alpha: float = DEFAULT_MRD_ALPHA  # patient-level pooled test
    min_fold_change: float = DEFAULT_MIN_FOLD_CHANGE  # emerging / rising / falling need this VAF ratio
    ci_level: float = 0.95
    ci_method: str = "clopper-pearson"
    response_fall: float = DEFAULT_RESPONSE_FALL  # mean VAF fall for "response"
    progression_rise: float = DEFAULT_PROGRESSION_RISE  # mean VAF rise for "progression"
    cn_delta: float = DEFAULT_CN_DELTA  # copy-number change for rising / falling CN calls

    def problems(self) -> list[str]:
        out = []
        if self.min_alt_reads < 1:
            out.append(f"--min-alt-reads must be >= 1, not {self.min_alt_reads}")
        for name in ("min_vaf", "min_power", "alpha", "ci_level", "response_fall", "detection_alpha",
                     "lod_power", "background_floor", "max_background", "mrd_alpha", "change_rho"):
            v = getattr(self, name)
            if not 0 <= v <= 1:
                out.append(f"--{name.replace('_', '-')} must be in [0, 1], not {v}")
        if self.power_vaf is not None and not 0 < self.power_vaf <= 1:
            out.append(f"--power-vaf must be in (0, 1], not {self.power_vaf}")
        if not self.background_floor > 0:
            out.append(f"--background-floor must be > 0, not {self.background_floor}")
        if not 0 < self.clearance_vaf <= 1:
            out.append(f"--clearance-vaf must be in (0, 1], not {self.clearance_vaf}")
        if self.background_cv < 0:
            out.append(f"--background-cv must be >= 0, not {self.background_cv}")
        if self.adjust not in ("none", "bh"):
            out.append(f"--adjust must be none or bh, not {self.adjust!r}")
        if self.min_fold_change < 1:
            out.append(f"--min-fold-change must be >= 1, not {self.min_fold_change}")
        if self.progression_rise < 0:
            out.append(f"--progression-rise must be >= 0, not {self.progression_rise}")
        if self.min_base_quality < 0 or self.min_mapping_quality < 0:
            out.append("base and mapping quality thresholds must be >= 0")
        if self.ci_method not in ("clopper-pearson", "wilson"):
            out.append(f"--ci-method must be clopper-pearson or wilson, not {self.ci_method!r}")
        return out

    @property
    def statement_vaf(self) -> float:
        """The VAF non-detection and clearance are stated at."""
        return self.power_vaf if self.power_vaf is not None else self.clearance_vaf


@dataclass(frozen=True)
class TrackConfig:
    """Inputs and options of ``annotator.track.track``.

    Either ``samplesheet`` or ``vcfs`` (one VCF per timepoint, or one
    multi-sample VCF with a column per timepoint) must be given.
    """

    outdir: str | Path
    samplesheet: str | Path | None = None
    vcfs: Sequence[str | Path] = ()
    timepoints: Sequence[str] | None = None  # labels for ``vcfs`` (or the sample columns)
    dates: Sequence[str] | None = None  # ISO dates for ``vcfs``
    bams: Sequence[str | Path] | None = None  # BAM/CRAM per timepoint for ``vcfs``
    patient: str = "patient"
    therapy: str | None = None  # applies to every timepoint given by ``vcfs``
    baseline: str | None = None  # timepoint label; default: the earliest
    build: str = "auto"
    fasta: str | Path | None = None
    gtf: str | Path | None = None  # transcript models (annotator.reference.gtf)
    gtf_only: bool = False
    panel: str | Path | None = None
    panel_extend: bool = False
    report: str = "panel"  # annotate --report mode used to read each VCF (panel | all)
    thresholds: Thresholds = field(default_factory=Thresholds)
    plots: bool = True
    png: bool = True  # also PNG when matplotlib is installed
    html: bool = True  # self-contained <patient>.report.html
    force: bool = False
    command: Sequence[str] | None = None
    pon: str | Path | None = None  # panel-of-normals directory (``resmark pon build``)
    # without UMIs, count fragments with the same outer ends once (unflagged PCR duplicates);
    # None: automatically when no read carries a UMI tag or a duplicate flag
    by_position: bool | None = None


@dataclass(frozen=True)
class TimepointSpec:
    """One row of the sample sheet (or one positional VCF)."""

    patient: str
    label: str
    vcf: Path
    date: _dt.date | None = None
    sample: str | None = None  # VCF column; None: annotate's tumour-column choice
    reads: Path | None = None  # BAM/CRAM
    tumor_fraction: float | None = None
    therapy: str | None = None
    cnv: Path | None = None
    wbc_reads: Path | None = None  # matched white-cell BAM/CRAM (CHIP / germline)
    wbc_vcf: Path | None = None  # matched white-cell VCF
    where: str = ""  # "line 3" in the sample sheet, for messages
    order: int = 0  # position in the sheet


@dataclass(frozen=True, slots=True)
class Evidence:
    """What is known about one tracked variant at one timepoint."""

    alt_count: int | None
    depth: int | None
    source: str  # reads | vcf_call | vcf_filtered | cn_call | cn_file | none
    called: bool = False  # a PASS record at this key in this timepoint's VCF
    filter: str | None = None  # FILTER of the record at this key, if any
    vcf_alt_count: int | None = None
    vcf_depth: int | None = None
    vcf_vaf: float | None = None
    ref_count: int | None = None  # re-genotyping only
    other_count: int | None = None
    discordant_pairs: int | None = None
    copy_number: float | None = None
    unit: str = "reads"  # what alt_count/depth count: reads | molecules | duplex_molecules
    read_alt_count: int | None = None  # reads, when the counts are molecules
    read_depth: int | None = None

    @property
    def vaf(self) -> float | None:
        if self.alt_count is None or not self.depth:
            return self.vcf_vaf if self.source == "vcf_call" else None
        return self.alt_count / self.depth


@dataclass(frozen=True, slots=True)
class TrackedVariant:
    """A variant called (PASS) at one or more timepoints, with its annotation.

    ``tracked_by``: ``pass`` (a PASS record with alt reads somewhere), or ``filtered``
    (only filtered records with alt reads, tracked when reads decide the status; such
    variants are not tumour-informed MRD / tumour-fraction sites).
    """

    variant_key: str
    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str | None
    hgvsc: str | None
    hgvsp_short: str | None
    consequence: str | None
    alteration_class: str | None
    rule_id: str | None
    mechanism: str | None
    mechanism_id: str | None
    mechanism_category: str | None
    strategies: str | None
    drug_classes: str | None
    evidence_level: str | None
    is_copy_number: bool = False
    tracked_by: str = "pass"

    @property
    def label(self) -> str:
        what = self.hgvsp_short or self.hgvsc or self.alteration_class or self.variant_key
        return f"{self.gene} {what}" if self.gene else what


@dataclass(frozen=True, slots=True)
class Comparison:
    change: str
    p_value: float | None = None
    q_value: float | None = None
    vaf_delta: float | None = None
    log2_fc: float | None = None
    against: str | None = None  # label of the earlier timepoint
    # vs previous only: the earlier draws consistent with ``against``, pooled to show presence (issue 16)
    pooled_from: str | None = None  # earliest timepoint of the pooled run (None: the pair alone)
    pooled_alt: int | None = None
    pooled_depth: int | None = None
    # cur against the pooled run, when no level was established before (the run's draws all
    # below detection): the emergence test after several shallow draws (docs/track.md)
    pooled_p_value: float | None = None
    pooled_q_value: float | None = None
    reason: str | None = None  # CHANGE_REASONS: which rule decided the change


@dataclass(frozen=True, slots=True)
class Observation:
    """One tracked variant at one timepoint: the long table's row."""

    patient: str
    timepoint: str
    timepoint_index: int
    date: str | None
    variant: TrackedVariant
    evidence: Evidence
    status: str
    status_reason: str
    detection_power: float | None
    power_vaf: float | None
    vaf: float | None
    vaf_ci_low: float | None
    vaf_ci_high: float | None
    vs_previous: Comparison | None = None
    vs_baseline: Comparison | None = None
    possible_germline: bool = False
    detection: Detection | None = None  # test against the site's background
    origin: str = "tumour"  # ORIGINS
    origin_reason: str | None = None
    tumor_fraction: float | None = None  # used at this timepoint (sheet or estimate)
    vaf_tf: float | None = None  # background-corrected VAF / tumour fraction

    @property
    def excluded(self) -> bool:
        """Germline or CHIP: left out of response, clearance and resistance alerts."""
        return self.origin in EXCLUDED_ORIGINS

    @property
    def monitorable(self) -> bool:
        return self.detection is None or not self.detection.artefact


@dataclass(frozen=True, slots=True)
class Detection:
    """One observation tested against its site's background (annotator/track/background.py)."""

    background_rate: float
    background_rho: float
    background_source: str
    background_samples: int
    p_value: float | None  # P(X >= alt) under the background
    lob: int | None  # limit of blank (counts) at this depth
    lob_vaf: float | None  # lob / depth
    lod_vaf: float | None  # VAF detected with probability lod_power at this depth
    artefact: bool = False  # background >= max_background: site not monitored
