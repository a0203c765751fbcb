"""Typed, immutable view of a loaded knowledge-base panel.

The YAML files are the source of truth; these classes are what the rest of
resmark sees after ``annotator.knowledge.loader`` has validated and
cross-checked them.  Matching lives in ``annotator.knowledge.matcher``;
``Panel.match`` and ``Panel.flags`` delegate to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# Specificity of each match level: lower is more specific.  Class-level
# CNV/SV rules rank with loss of function (brief: "class-level CNV/SV rules
# rank with LoF").
MATCH_LEVEL_RANK: Mapping[str, int] = {
    "hotspot": 0,
    "codon": 1,
    "domain": 2,
    "loss_of_function": 3,
    "amplification": 3,
    "deep_deletion": 3,
    "fusion": 3,
    "gene": 4,
}
MATCH_LEVELS = tuple(MATCH_LEVEL_RANK)


# Significance of a match, from its rule type (a rule may lower it): what the
# match supports decides the best level its strategies may carry.
SIGNIFICANCE_BY_TYPE: Mapping[str, str] = {
    "hotspot": "known",
    "codon": "likely",
    "domain": "uncertain",
    "loss_of_function": "known",
    "amplification": "known",
    "deep_deletion": "known",
    "fusion": "known",
    "gene": "uncertain",
}
SIGNIFICANCES = ("known", "likely", "uncertain")
# Best tier a strategy may reach for a match of this significance (1 = best).
SIGNIFICANCE_MIN_TIER: Mapping[str, int] = {"known": 1, "likely": 2, "uncertain": 4}
UNCERTAIN_NOTE = "Functional significance unknown; consider confirmatory testing."


@dataclass(frozen=True)
class EvidenceLevel:
    level: str
    label: str
    description: str
    axis: str = "any"  # therapy | resistance | uncertain | any (user scales without axes)
    tier: int = 0  # 1 = strongest; 0: the position on the scale decides
    oncokb: str | None = None
    amp_asco_cap: str | None = None
    civic: str | None = None


@dataclass(frozen=True)
class Publication:
    """A primary reference (trial report, FDA label, guideline)."""

    citation: str  # "André F et al. N Engl J Med 2019 (SOLAR-1)"
    year: int | None = None
    journal: str | None = None
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None

    def text(self) -> str:
        ids = [f"PMID {self.pmid}" if self.pmid else "", f"doi:{self.doi}" if self.doi else "",
               self.url or ""]
        extra = "; ".join(i for i in ids if i)
        return f"{self.citation}" + (f"; {extra}" if extra else "")


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    file: str | None
    sha256: str | None
    references: Mapping[str, str]
    citation_style: str = "numbered"


@dataclass(frozen=True)
class Figure:
    measure: str
    text: str


@dataclass(frozen=True)
class EvidenceItem:
    id: str
    study: str
    identifier: str | None
    phase: str | None
    population: str
    endpoint: str
    figures: tuple[str, ...]  # verbatim strings from the cited seed
    source: str  # source id (sources.yaml), e.g. "seed001"
    reference: str  # citation text as the seed gives it
    note: str | None = None
    refs: tuple[str, ...] = ()
    intervention: str | None = None
    labelled_figures: tuple[Figure, ...] = ()
    publications: tuple[Publication, ...] = ()
    beyond_seeds: bool = False  # knowledge not in the five seeds (primary citation given)


@dataclass(frozen=True)
class Gene:
    symbol: str
    role: str  # tumour_suppressor | oncogene | other
    core: bool
    uniprot: str | None = None
    polyclonal_flag: bool = False
    why: str | None = None


@dataclass(frozen=True)
class Mechanism:
    id: str
    name: str
    category: str  # cell_cycle_specific | cell_cycle_non_specific
    pathway: str
    description: str
    drug_classes: tuple[str, ...]
    sources: tuple[str, ...]  # "seed003: Condorelli et al., 2018; O'Leary et al., 2018"
    effect: str = "resistance"  # resistance | actionable | context
    evidence_level: str = "E"
    evidence: tuple[EvidenceItem, ...] = ()
    claims: tuple[Claim, ...] = ()


@dataclass(frozen=True)
class Claim:
    """Axis (a): how established it is that the alteration changes response to a drug class."""

    effect: str  # resistance | sensitivity
    drug_class: str
    level: str
    note: str | None = None

    def text(self) -> str:
        return f"{self.effect} to {self.drug_class} [{self.level}]"


@dataclass(frozen=True)
class Setting:
    """Axis (b): where a strategy was tested, and its level there."""

    label: str  # "first line, endocrine-resistant, CDK4/6-inhibitor-naive (INAVO120)"
    evidence_level: str
    line: str | None = None
    prior_cdk46: str = "any"  # yes | no | any
    endocrine_partner: str | None = None
    requires_prior: tuple[str, ...] = ()  # drug classes the patient must have had (all of)
    excludes_prior: tuple[str, ...] = ()  # drug classes the patient must not have had
    evidence: tuple[str, ...] = ()  # evidence-item ids (the items travel with the strategy)

    def applies(self, prior_classes: frozenset[str]) -> bool:
        if not set(self.requires_prior) <= prior_classes:
            return False
        return not set(self.excludes_prior) & prior_classes


@dataclass(frozen=True)
class Strategy:
    id: str
    name: str
    approach: str
    rank: int  # 1 = first choice within the rule; 0 in the panel-wide catalogue
    evidence_level: str
    evidence: tuple[EvidenceItem, ...]
    kind: str = "treat"  # treat | avoid
    note: str | None = None  # rule-specific comment (e.g. why the level differs)
    sources: tuple[str, ...] = ()
    requires_wildtype: tuple[str, ...] = ()
    drug_classes: tuple[str, ...] = ()
    settings: tuple[Setting, ...] = ()
    # filled per match: "not assessed" (no prior therapy given), "matches" or
    # "other setting" (every tested setting excludes the patient's prior therapy)
    setting_status: str = "not assessed"
    level_before_gating: str | None = None  # set when the match's significance lowered the level

    def setting_text(self) -> str:
        return " | ".join(f"{s.label} [{s.evidence_level}]" for s in self.settings)


@dataclass(frozen=True)
class Rule:
    id: str
    gene: str
    type: str  # one of MATCH_LEVELS
    mechanism: Mechanism
    strategies: tuple[Strategy, ...]  # ranked
    classes: frozenset[str]
    changes: tuple[tuple[str, int, str], ...] = ()  # (ref_aa, position, alt_aa)
    codons: tuple[tuple[str, int], ...] = ()  # (ref_aa, position)
    domain_name: str | None = None
    domain_start: int | None = None
    domain_end: int | None = None
    uniprot: str | None = None
    partners: frozenset[str] = frozenset()
    requires_kinase_domain: bool = False
    evidence_level_cap: str | None = None
    basis: str | None = None
    note: str | None = None
    significance: str = "known"  # known | likely | uncertain (SIGNIFICANCE_BY_TYPE, may be lowered)
    claims: tuple[Claim, ...] = ()  # empty: the mechanism's claims

    @property
    def over_claim_guard(self) -> bool:
        return self.type == "gene"

    @property
    def claimed(self) -> bool:
        """False for variants of uncertain significance (domain and gene-level matches)."""
        return self.significance != "uncertain"

    def spec(self) -> str:
        """Short human-readable description of what the rule matches."""
        if self.type == "hotspot":
            return ",".join(f"{r}{p}{a}" for r, p, a in self.changes)
        if self.type == "codon":
            return ",".join(f"{r}{p}" for r, p in self.codons)
        if self.type == "domain":
            return f"{self.domain_name} {self.domain_start}-{self.domain_end}"
        if self.type == "fusion":
            partners = ",".join(sorted(self.partners)) or "any partner"
            kd = "; kinase domain retained" if self.requires_kinase_domain else ""
            return f"fusion ({partners}{kd})"
        return ",".join(sorted(self.classes))


@dataclass(frozen=True)
class NonDnaMarker:
    id: str
    name: str
    genes: tuple[str, ...]
    assay: str
    why_not_dna: str
    mechanism: Mechanism | None
    strategies: tuple[Strategy, ...]
    sources: tuple[str, ...]
    note: str | None = None


@dataclass(frozen=True)
class RuleMatch:
    rule_id: str
    gene: str
    match_level: str
    mechanism: Mechanism
    strategies: tuple[Strategy, ...]
    evidence_level: str
    note: str | None
    over_claim_guard: bool
    significance: str = "known"
    claims: tuple[Claim, ...] = ()
    match_note: str | None = None  # what the matcher itself noted (e.g. kinase domain assumed)
    domain_name: str | None = None

    @property
    def claimed(self) -> bool:
        return self.significance != "uncertain"


@dataclass(frozen=True)
class Interaction:
    """A conflict or caveat between one alteration and a strategy offered for another."""

    id: str
    kind: str  # conflict | caveat
    mechanisms: tuple[str, ...]
    rule_types: tuple[str, ...]
    genes: tuple[str, ...]
    against_class: str
    message: str
    evidence: tuple[EvidenceItem, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Flag:
    kind: str  # biallelic_loss | polyclonal | convergent_mechanism | strategy_caveat | conflict | caveat
    gene: str | None
    mechanism_id: str | None
    members: tuple[str, ...]
    message: str
    label: str | None = None  # short text for the TSV ``flags`` column (names both alterations)


@dataclass(frozen=True, eq=False)
class Panel:
    name: str
    version: str
    release_date: str
    checksum: str
    source_path: Path
    description: str
    genes: Mapping[str, Gene]
    mechanisms: Mapping[str, Mechanism]
    strategies: Mapping[str, Strategy]
    evidence: Mapping[str, EvidenceItem]
    rules: tuple[Rule, ...]
    non_dna_markers: tuple[NonDnaMarker, ...]
    evidence_levels: tuple[EvidenceLevel, ...]
    sources: Mapping[str, Source]
    components: tuple[tuple[str, str, str], ...] = ()  # (name, version, checksum) when extended
    rules_by_gene: Mapping[str, tuple[Rule, ...]] | None = None
    interactions: tuple[Interaction, ...] = ()
    # drug class -> (member drugs, parent classes), for --prior-therapy and interactions
    therapy_classes: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] | None = None

    def gene_symbols(self) -> frozenset[str]:
        return frozenset(self.genes)

    def level_order(self) -> tuple[str, ...]:
        return tuple(e.level for e in self.evidence_levels)

    def level_info(self, level: str) -> EvidenceLevel | None:
        for e in self.evidence_levels:
            if e.level == level:
                return e
        return None

    def tier(self, level: str) -> int:
        """Strength of a level (1 strongest); scales without tiers use their order."""
        for i, e in enumerate(self.evidence_levels):
            if e.level == level:
                return e.tier or i + 1
        return len(self.evidence_levels) + 1

    def rule(self, rule_id: str) -> Rule | None:
        for r in self.rules:
            if r.id == rule_id:
                return r
        return None

    def provenance(self) -> dict[str, str]:
        """Panel identity to copy into every output."""
        return {
            "panel_name": self.name,
            "panel_version": self.version,
            "panel_release_date": self.release_date,
            "panel_checksum": self.checksum,
        }

    def rules_for(self, gene: str) -> tuple[Rule, ...]:
        if self.rules_by_gene is not None:
            return self.rules_by_gene.get(gene, ())
        return tuple(r for r in self.rules if r.gene == gene)
