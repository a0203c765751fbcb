"""The shapes of the HTML reports' template data (built in ``context``, ``markers``, ``html``).

The report reads plain JSON documents (``annotator.annotation.document``, the
track's patient document) and hands the templates these dicts; their keys are
the templates' contract.  Values the templates only show are ``object``; rows the
code reads by key stay JSON objects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypedDict

from annotator.core.jsondoc import JsonObject

if TYPE_CHECKING:
    from typing_extensions import NotRequired


class PanelInfo(TypedDict, total=False):
    """What the report shows of the panel (``context.panel_info``)."""

    name: str | None
    version: str | None
    release_date: str | None
    checksum: str | None
    evidence_levels: list[Mapping[str, object]]
    non_dna_markers: list[object]


class TableRow(TypedDict):
    """One line of the sample report's alteration table."""

    anchor: str
    gene: str
    change: str
    hgvsc: str
    transcript: str
    alteration_class: str
    consequence: str
    vaf: float | None
    vaf_text: str
    depth: int | None
    alt_count: int | None
    filter: str
    mechanism: str
    category: str
    strategies: str
    level: str
    level_rank: int
    level_class: str
    rule_id: str
    match_level: str
    variant_key: str
    position: str
    pos: int
    support_source: str
    flags: str
    over_claim_guard: bool
    significance: str
    claims: str
    matched: bool
    disagreement: str
    evidence_anchor: str


class FigureView(TypedDict):
    measure: str
    text: str


class EvidenceView(TypedDict):
    publications: list[str]
    beyond_seeds: bool
    id: str
    study: str
    identifier: str
    phase: str
    population: str
    intervention: str
    endpoint: str
    figures: list[FigureView]
    source: str
    references: list[str]
    note: str
    refs: list[str]


class SettingView(TypedDict):
    label: str
    level: str
    level_class: str


class StrategyView(TypedDict):
    name: str
    approach: str
    rank: object  # an int in panel data; sorted last when not
    kind: str
    level: str
    level_class: str
    evidence: list[EvidenceView]
    note: str
    requires_wildtype: str
    settings: list[SettingView]
    setting_status: str
    level_before_gating: str


class StrategySummary(StrategyView):
    """A strategy across all alterations (``context.summarise_strategies``)."""

    alterations: list[str]
    n_evidence: int


class ClaimView(TypedDict):
    text: str
    level: str
    level_class: str
    note: str


class MechanismView(TypedDict):
    id: str
    name: str
    category: str
    pathway: str
    description: str
    drug_classes: str
    sources: list[str]


class MatchView(TypedDict):
    rule_id: str
    match_level: str
    level: str
    level_class: str
    over_claim_guard: bool
    uncertain: bool
    significance: str
    claims: list[ClaimView]
    mechanism: MechanismView
    note: str
    strategies: list[StrategyView]


class AlsoMatched(TypedDict):
    rule_id: str
    match_level: str
    level: str
    level_class: str


class AlterationEvidence(TypedDict):
    """Evidence and citations of one alteration: its most specific rule, then the others."""

    anchor: str
    gene: str
    change: str
    variant_key: str
    vaf_text: str
    matches: list[MatchView]
    also_matched: list[AlsoMatched]


class MechanismSummary(TypedDict):
    """A mechanism found in the sample (``context.summarise_mechanisms``)."""

    id: str
    name: str
    category: str
    pathway: str
    description: str
    drug_classes: str
    claims: str
    alterations: list[str]
    level: str
    guard_only: bool
    level_class: NotRequired[str]


class Alert(TypedDict):
    severity: str
    title: str
    message: str
    gene: str


class Bucket(TypedDict):
    name: str
    label: str
    n: int
    pct: float


class QcView(TypedDict):
    accounting: dict[str, object]  # the document's accounting block
    buckets: list[Bucket]
    total: int
    support_sources: list[tuple[str, int]]
    median_depth: int | None
    disagreements: list[str]
    filters: list[tuple[str, object]]
    rejected_reasons: list[tuple[str, object]]
    rejected_examples: object


class ReferenceView(TypedDict):
    build: str
    entries: list[tuple[str, str | int | float]]


class ProvenanceView(TypedDict):
    tool: object
    tool_version: object
    python: object
    created: object
    command: object
    panel: Mapping[str, object]
    genome_build: object
    samples: object
    inputs: list[Mapping[str, object]]
    reference: list[ReferenceView]
    research_use_only: object


class MarkerView(TypedDict):
    id: str
    name: str
    what: str
    genes: str
    assay: str
    why: str
    note: str
    mechanism: str
    links: list[str]
    relevant: bool
    evidence_level: str
    level_class: str


class MarkersView(TypedDict):
    entries: list[MarkerView]
    all_shown: bool
    total: int


class SampleContext(TypedDict):
    """The sample report's template data (``context.sample_context``)."""

    kind: str
    title: str
    sample: object
    input: object
    genome_build: object
    tumour_sample_chosen_by: object
    alerts: list[dict[str, object]]
    mechanisms: list[MechanismSummary]
    strategies: list[StrategySummary]
    table: list[TableRow]
    levels_present: list[str]
    genes_present: list[str]
    evidence: list[AlterationEvidence]
    markers: MarkersView
    qc: QcView
    interpretation: object
    provenance: ProvenanceView
    panel: PanelInfo
    n_matched: int
    n_uncertain: int
    therapy_context: object


class AlterationLine(TypedDict):
    """One alteration across a patient's timepoints (``html.patient_context``)."""

    key: str
    gene: str
    change: str
    mechanism: str
    level: str
    strategies: str
    cells: dict[str, JsonObject]  # timepoint label -> its long-table row
    status: str
    vafs: NotRequired[list[object]]
    tp_cells: NotRequired[list[JsonObject]]
    level_class: NotRequired[str]
    level_rank: NotRequired[int]


class NamedLevel(TypedDict):
    """A mechanism or strategy of the patient report with its alterations."""

    name: str
    level: str
    alterations: list[str]


class LevelledName(NamedLevel):
    level_class: str


class PatientContext(TypedDict):
    """The patient report's template data (``html.patient_context``)."""

    kind: str
    title: str
    patient: str
    timepoints: list[JsonObject]
    has_mrd: bool
    has_tf: bool
    has_therapy: bool
    has_sample: bool
    has_response: bool
    has_lod: bool
    labels: list[str]
    alterations: list[AlterationLine]
    long_rows: list[JsonObject]
    extra_columns: list[str]
    alerts: list[dict[str, object]]
    svg: str
    mechanisms: list[LevelledName]
    strategies: list[LevelledName]
    markers: MarkersView
    provenance: ProvenanceView
    panel: PanelInfo
    notes: list[str]
    level_class: Callable[[object], str]
