"""The output row: one interpreted ALT allele (or CNV/SV call) per row.

``COLUMNS`` is the contract shared by TSV, Parquet and the cohort dataset;
the first block is the documented core set that users' scripts rely on.
``ARROW_TYPES`` gives each column its Arrow type (documented in the README).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Protocol, TypedDict

if TYPE_CHECKING:
    import pyarrow as pa

# a row value: what TSV, Parquet and JSON hold per column
Cell = str | int | float | bool | None

CORE_COLUMNS = (
    "sample", "chrom", "pos", "id", "ref", "alt", "gene", "transcript", "consequence",
    "hgvsc", "hgvsp", "hgvsp_short", "exon", "filter", "vaf", "depth", "alt_count",
    "alteration_class", "rule_id", "mechanism", "mechanism_category", "strategies",
    "evidence_level",
)


@dataclass(frozen=True, slots=True)
class Row:
    sample: str
    chrom: str  # canonical (chr1..chrX); input_chrom keeps the file's spelling
    pos: int
    id: str
    ref: str
    alt: str
    gene: str | None
    transcript: str | None
    consequence: str | None  # SO terms joined with "&" (VEP style)
    hgvsc: str | None
    hgvsp: str | None
    hgvsp_short: str | None
    exon: str | None
    filter: str
    vaf: float | None
    depth: int | None
    alt_count: int | None
    alteration_class: str | None
    rule_id: str | None
    mechanism: str | None
    mechanism_category: str | None
    strategies: str | None  # ranked strategy names joined with "; "
    evidence_level: str | None
    # --- extended columns ---
    variant_key: str
    build: str
    input_chrom: str
    input_pos: int
    input_ref: str
    input_alt: str
    record_index: int
    allele_index: int
    qual: float | None
    support_source: str | None
    intron: str | None
    protein_start: int | None
    impact: str | None
    annotation_source: str | None
    upstream_disagreement: str | None
    left_aligned: bool
    match_level: str | None
    rule_ids: str | None  # every matching rule, most specific first, "; "
    mechanism_id: str | None
    pathway: str | None
    drug_classes: str | None
    over_claim_guard: bool
    flags: str | None
    copy_number: float | None = None
    log2: float | None = None
    segment: str | None = None  # chrom:start-end of the segment(s) behind a CN call
    partner_gene: str | None = None
    breakpoint: str | None = None
    sv_type: str | None = None
    transcript_ensembl: str | None = None
    # --- knowledge-base columns added in panel 2.0 (docs/knowledge_base.md) ---
    significance: str | None = None  # known | likely | uncertain
    claims: str | None = None  # "resistance to CDK4/6 inhibitor [R2]; ..."
    strategy_settings: str | None = None  # "Name: tested setting [LEVEL] {matches|other setting}; ..."
    # read support as the caller counted it (annotator.io.readsupport)
    ref_count: int | None = None  # REF reads (AD[0], RO, RD, TAR ...); never depth - alt
    support_fields: str | None = None  # which field gave which value ("alt=FORMAT/AO; depth=...")
    normal_sample: str | None = None  # the matched normal's column (##normal_sample, ...)
    normal_depth: int | None = None
    normal_ref_count: int | None = None
    normal_alt_count: int | None = None
    normal_vaf: float | None = None

    def as_dict(self) -> dict[str, Cell]:
        # every column is a scalar: getattr gives what dataclasses.asdict's deep copy gave
        return {c: getattr(self, c) for c in COLUMNS}


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Row))
_COLUMN_SET = frozenset(COLUMNS)
_INF = float("inf")


class RowObject(Mapping[str, Cell]):
    """A row as its JSON object (``Row.as_dict`` with NaN and infinities as null, what the
    sample document holds), read from the row itself: no dict of 60-odd cells per row,
    which for a dense sample's tens of thousands of rows was tens of MB while the report
    and the JSON were written.  Read-only; ``dict(view)`` is the plain object."""

    __slots__ = ("_row",)

    def __init__(self, row: Row) -> None:
        self._row = row

    def __getitem__(self, key: str) -> Cell:
        if key not in _COLUMN_SET:
            raise KeyError(key)
        return _json_cell(getattr(self._row, key))

    def get(self, key: str, default: Cell = None) -> Cell:  # type: ignore[override]
        return _json_cell(getattr(self._row, key)) if key in _COLUMN_SET else default

    def __contains__(self, key: object) -> bool:
        return key in _COLUMN_SET

    def __iter__(self) -> Iterator[str]:
        return iter(COLUMNS)

    def __len__(self) -> int:
        return len(COLUMNS)

    def __repr__(self) -> str:
        return f"RowObject({self._row.variant_key})"


def _json_cell(v: Cell) -> Cell:
    # the document's rule for floats (report.plain.to_plain): JSON has no NaN or infinity
    if isinstance(v, float) and (v != v or v in (_INF, -_INF)):
        return None
    return v


# What the row columns read of knowledge.model's Strategy, Mechanism and RuleMatch
# (a higher layer: these protocols keep core free of its imports).
class _Setting(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def evidence_level(self) -> str: ...


class _Strategy(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def evidence_level(self) -> str: ...
    @property
    def settings(self) -> Sequence[_Setting]: ...


class _Mechanism(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def pathway(self) -> str: ...
    @property
    def drug_classes(self) -> Sequence[str]: ...


class _Match(Protocol):
    @property
    def rule_id(self) -> str: ...
    @property
    def mechanism(self) -> _Mechanism: ...
    @property
    def strategies(self) -> Sequence[_Strategy]: ...
    @property
    def evidence_level(self) -> str: ...
    @property
    def match_level(self) -> str: ...
    @property
    def over_claim_guard(self) -> object: ...


class MatchColumns(TypedDict):
    """The knowledge-base columns of a row (``match_columns``)."""

    rule_id: str | None
    mechanism: str | None
    mechanism_category: str | None
    strategies: str | None
    evidence_level: str | None
    match_level: str | None
    rule_ids: str | None
    mechanism_id: str | None
    pathway: str | None
    drug_classes: str | None
    over_claim_guard: bool
    significance: str | None
    claims: str | None
    strategy_settings: str | None


def strategy_text(strategies: Sequence[_Strategy]) -> str:
    """Ranked strategies with their evidence level; 'avoid' strategies say so."""
    parts = []
    for st in strategies:
        prefix = "avoid: " if getattr(st, "kind", "treat") == "avoid" else ""
        parts.append(f"{prefix}{st.name} [{st.evidence_level}]")
    return "; ".join(parts)


def settings_text(strategies: Sequence[_Strategy]) -> str | None:
    """Each strategy's tested setting(s); with prior therapy given, whether it fits."""
    parts = []
    for st in strategies:
        settings = getattr(st, "settings", ())
        if not settings:
            continue
        status = getattr(st, "setting_status", "not assessed")
        tail = "" if status == "not assessed" else f" {{{status}}}"
        where = " | ".join(f"{s.label} [{s.evidence_level}]" for s in settings)
        parts.append(f"{st.name}: {where}{tail}")
    return "; ".join(parts) or None


def match_columns(matches: Sequence[_Match]) -> MatchColumns:
    """The knowledge-base columns of a row, from its matches (most specific first).

    A variant of uncertain significance (domain or gene-level match) keeps its
    rule ids and level U but no mechanism, pathway or drug-class label: the
    match does not support them (ESR1 S118P is not an activating
    ligand-binding-domain mutation; PTEN gain is not PTEN loss).
    """
    top = matches[0] if matches else None
    claimed = top is not None and getattr(top, "significance", "known") != "uncertain"
    mech = top.mechanism if claimed and top is not None else None
    return {
        "rule_id": top.rule_id if top else None,
        "mechanism": mech.name if mech else None,
        "mechanism_category": mech.category if mech else None,
        "strategies": strategy_text(top.strategies) if top else None,
        "evidence_level": top.evidence_level if top else None,
        "match_level": top.match_level if top else None,
        "rule_ids": "; ".join(m.rule_id for m in matches) if matches else None,
        "mechanism_id": mech.id if mech else None,
        "pathway": mech.pathway if mech else None,
        "drug_classes": "; ".join(mech.drug_classes) if mech else None,
        "over_claim_guard": bool(top.over_claim_guard) if top else False,
        "significance": getattr(top, "significance", None) if top else None,
        "claims": "; ".join(c.text() for c in getattr(top, "claims", ())) or None if top else None,
        "strategy_settings": settings_text(top.strategies) if top else None,
    }

_INT = ("pos", "depth", "alt_count", "input_pos", "record_index", "allele_index", "protein_start",
        "ref_count", "normal_depth", "normal_ref_count", "normal_alt_count")
_FLOAT = ("vaf", "qual", "copy_number", "log2", "normal_vaf")
_BOOL = ("left_aligned", "over_claim_guard")


def arrow_type_name(column: str) -> str:
    if column in _INT:
        return "int64"
    if column in _FLOAT:
        return "float64"
    if column in _BOOL:
        return "bool"
    return "string"


def arrow_schema(extra_metadata: dict[bytes, bytes] | None = None) -> pa.Schema:
    import pyarrow as pa

    mapping = {"int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_(), "string": pa.string()}
    return pa.schema(
        [pa.field(c, mapping[arrow_type_name(c)]) for c in COLUMNS], metadata=extra_metadata
    )
