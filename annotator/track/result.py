"""What a track run holds and returns: per-patient tracks, the run context, the result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonObject
from annotator.track.alerts import Alert, TimepointSummary
from annotator.track.identity import TimepointCalls, read_timepoint
from annotator.track.model import Observation, Thresholds, TimepointSpec, TrackConfig

if TYPE_CHECKING:
    from annotator.annotation.config import RunContext
    from annotator.track.background import Background
    from annotator.track.pon import Pon
    from annotator.track.regenotype import AlleleCounts


@dataclass
class PatientTrack:
    patient: str
    build: str
    baseline: str
    timepoints: list[TimepointSpec]
    observations: list[Observation]  # variant-major, timepoint order within a variant
    summaries: list[TimepointSummary]
    alerts: list[Alert]
    samples: list[str] = field(default_factory=list)  # VCF column read per timepoint
    backgrounds: dict[str, Background] = field(default_factory=dict)  # variant_key -> its background
    notes: list[str] = field(default_factory=list)  # what the statistics rest on (no PON, artefacts)

    def by_variant(self) -> dict[str, list[Observation]]:
        out: dict[str, list[Observation]] = {}
        for o in self.observations:
            out.setdefault(o.variant.variant_key, []).append(o)
        return out


@dataclass
class TrackResult:
    patients: list[PatientTrack]
    outdir: Path
    outputs: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    provenance: JsonObject = field(default_factory=dict)  # the provenance JSON document

    @property
    def alerts(self) -> list[Alert]:
        return [a for p in self.patients for a in p.alerts]

    @property
    def observations(self) -> list[Observation]:
        return [o for p in self.patients for o in p.observations]

    def patient(self, name: str) -> PatientTrack:
        for p in self.patients:
            if p.patient == name:
                return p
        raise KeyError(name)


# reader(spec, run) -> TimepointCalls; replaceable so tests can feed calls without a panel
Reader = Callable[[TimepointSpec, "RunContext"], TimepointCalls]


@dataclass
class TrackContext:
    """Per-run state: configuration, annotate's run context, warnings, the reader."""

    config: TrackConfig
    run: RunContext
    warnings: list[str] = field(default_factory=list)
    reader: Reader = read_timepoint
    pon: Pon | None = None  # when --pon is given
    calls_cache: dict[tuple[str, str], TimepointCalls] = field(default_factory=dict)
    # without a PON: variant_key -> (patient, alt, depth) in other patients' reads
    sheet_counts: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict)
    # with a PON and molecule counts: (normal path, variant_key) -> the normal's counts there
    normal_counts: dict[tuple[str, str], AlleleCounts] = field(default_factory=dict)

    @property
    def thresholds(self) -> Thresholds:
        return self.config.thresholds
