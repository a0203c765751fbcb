"""Every rule fires on a fixture alteration and not on its near misses.

Positive fixtures are derived from each rule's own definition (so every rule
is covered); the hand-written cases below pin real-world alterations
(PIK3CA H1047R, ESR1 Y537S/D538G, AKT1 E17K, RB1 nonsense, ...) to the rules
a curator expects, independently of how the rules are written.
"""

from __future__ import annotations

import pytest

from annotator.core.models import ALTERATION_CLASSES, Alteration
from annotator.knowledge import MATCH_LEVEL_RANK, Rule, load_panel, match_alteration
from annotator.knowledge.matcher import GENE_LEVEL_CLASSES

PANEL = load_panel()
AMINO = "ACDEFGHIKLMNPQRSTVWY"


def _missense(gene: str, ref: str, pos: int, alt: str) -> Alteration:
    cls = "nonsense" if alt == "*" else "missense"
    return Alteration(
        gene=gene,
        alteration_class=cls,
        protein_start=pos,
        protein_end=pos,
        ref_aa=ref,
        alt_aa=alt,
        hgvsp_short=f"p.{ref}{pos}{alt}",
    )


def positives(rule: Rule) -> list[Alteration]:
    g = rule.gene
    if rule.type == "hotspot":
        return [_missense(g, r, p, a) for r, p, a in rule.changes]
    if rule.type == "codon":
        out = []
        for r, p in rule.codons:
            alt = next(a for a in AMINO if a != r)
            change = _missense(g, r, p, alt)
            if change.alteration_class not in rule.classes:  # e.g. exon 20 insertions
                change = Alteration(g, sorted(rule.classes)[0], protein_start=p, protein_end=p + 1,
                                    ref_aa=r, hgvsp_short=f"p.{r}{p}_X{p + 1}insYVMA")
            out.append(change)
        return out
    if rule.type == "domain":
        assert rule.domain_start is not None and rule.domain_end is not None
        mid = (rule.domain_start + rule.domain_end) // 2
        return [
            Alteration(g, "missense", protein_start=p, protein_end=p, ref_aa=None, alt_aa="A")
            for p in (rule.domain_start, mid, rule.domain_end)
        ]
    if rule.type == "fusion":
        return [Alteration(g, "fusion", partner_gene="BICC1", kinase_domain_retained=True)]
    if rule.type in ("loss_of_function", "amplification", "deep_deletion", "gene"):
        return [Alteration(g, cls, protein_start=100) for cls in sorted(rule.classes)]
    raise AssertionError(rule.type)


def near_misses(rule: Rule) -> list[Alteration]:
    g = rule.gene
    other_gene = "NOTAGENE"
    misses: list[Alteration] = []
    if rule.type == "hotspot":
        for r, p, a in rule.changes:
            listed = {x[2] for x in rule.changes if x[1] == p}
            wrong = next(x for x in AMINO if x not in listed and x != r)
            misses.append(_missense(g, r, p, wrong))  # same codon, unlisted change
            misses.append(Alteration(g, "synonymous", protein_start=p, ref_aa=r, alt_aa=r))
            misses.append(_missense(g, r, p + 1, a))  # neighbouring codon
            misses.append(_missense(other_gene, r, p, a))
    elif rule.type == "codon":
        for r, p in rule.codons:
            misses.append(Alteration(g, "synonymous", protein_start=p, ref_aa=r, alt_aa=r))
            wrong_ref = next(x for x in AMINO if x != r)
            misses.append(_missense(g, wrong_ref, p, r))  # another transcript's numbering
            misses.append(Alteration(g, "intergenic"))
    elif rule.type == "domain":
        assert rule.domain_start is not None and rule.domain_end is not None
        misses.extend(
            Alteration(g, "missense", protein_start=p, protein_end=p, alt_aa="A")
            for p in (rule.domain_start - 1, rule.domain_end + 1)
        )
        misses.append(Alteration(g, "synonymous", protein_start=rule.domain_start + 1))
    elif rule.type == "fusion":
        misses.append(Alteration(g, "fusion", partner_gene="BICC1", kinase_domain_retained=False))
        misses.append(Alteration(g, "amplification"))
    else:
        wrong = sorted(set(ALTERATION_CLASSES) - set(rule.classes))
        misses.extend(Alteration(g, cls, protein_start=100) for cls in wrong)
        misses.append(Alteration(other_gene, sorted(rule.classes)[0]))
    return misses


def _ids(alt: Alteration) -> list[str]:
    return [m.rule_id for m in match_alteration(PANEL, alt)]


@pytest.mark.parametrize("rule", PANEL.rules, ids=lambda r: r.id)
def test_rule_fires_on_its_fixture(rule: Rule) -> None:
    for alt in positives(rule):
        assert rule.id in _ids(alt), alt


@pytest.mark.parametrize("rule", PANEL.rules, ids=lambda r: r.id)
def test_rule_does_not_fire_on_near_miss(rule: Rule) -> None:
    misses = near_misses(rule)
    assert misses
    for alt in misses:
        assert rule.id not in _ids(alt), alt


# --- hand-written real-world cases --------------------------------------------------
REAL_WORLD = [
    # (alteration, rule expected first, evidence level, other rules also expected).
    # Levels on the panel-2.0 scale (L1 = FDA-labelled biomarker, R2 = clinical
    # resistance evidence, ...): PIK3CA alleles of the therascreen label, ESR1
    # hotspots (elacestrant / imlunestrant labels), AKT1 E17K and PTEN loss
    # (capivasertib label), germline BRCA (olaparib / talazoparib labels).
    (
        _missense("PIK3CA", "H", 1047, "R"),
        "RULE-PIK3CA-HS-CDX",
        "L1",
        {"RULE-PIK3CA-CODON", "RULE-PIK3CA-DOMAIN-KINASE", "RULE-PIK3CA-GENE"},
    ),
    (_missense("PIK3CA", "H", 1047, "L"), "RULE-PIK3CA-HS-CDX", "L1", set()),
    (_missense("PIK3CA", "H", 1047, "Y"), "RULE-PIK3CA-HS-CDX", "L1", set()),
    (
        _missense("PIK3CA", "E", 545, "K"),
        "RULE-PIK3CA-HS-CDX",
        "L1",
        {"RULE-PIK3CA-DOMAIN-HELICAL"},
    ),
    (_missense("PIK3CA", "E", 542, "K"), "RULE-PIK3CA-HS-CDX", "L1", set()),
    (_missense("PIK3CA", "C", 420, "R"), "RULE-PIK3CA-HS-CDX", "L1", set()),
    (_missense("PIK3CA", "Q", 546, "R"), "RULE-PIK3CA-HS-CDX", "L1", set()),
    (
        _missense("ESR1", "Y", 537, "S"),
        "RULE-ESR1-HS-LBD",
        "L1",
        {"RULE-ESR1-CODON", "RULE-ESR1-DOMAIN-LBD", "RULE-ESR1-GENE"},
    ),
    (_missense("ESR1", "D", 538, "G"), "RULE-ESR1-HS-LBD", "L1", {"RULE-ESR1-CODON"}),
    (_missense("ESR1", "E", 380, "Q"), "RULE-ESR1-HS-LBD", "L1", set()),
    (_missense("ESR1", "L", 536, "H"), "RULE-ESR1-HS-LBD", "L1", set()),
    (_missense("ESR1", "S", 463, "P"), "RULE-ESR1-HS-LBD", "L1", set()),
    (_missense("AKT1", "E", 17, "K"), "RULE-AKT1-HS-E17K", "L1", {"RULE-AKT1-GENE"}),
    (
        Alteration("RB1", "nonsense", protein_start=579, ref_aa="R", alt_aa="*"),
        "RULE-RB1-LOF",
        "R2",
        {"RULE-RB1-GENE"},
    ),
    (Alteration("RB1", "deep_deletion"), "RULE-RB1-LOF", "R2", set()),
    (
        Alteration("PTEN", "frameshift", protein_start=267, hgvsp_short="p.V267fs"),
        "RULE-PTEN-LOF",
        "L1",
        set(),
    ),
    (Alteration("PTEN", "splice_site"), "RULE-PTEN-LOF", "L1", set()),
    (_missense("PTEN", "C", 124, "S"), "RULE-PTEN-HS-LOF", "L1", {"RULE-PTEN-DOMAIN-PHOSPHATASE"}),
    (_missense("PTEN", "G", 129, "E"), "RULE-PTEN-HS-LOF", "L1", set()),
    (_missense("PTEN", "R", 173, "C"), "RULE-PTEN-HS-LOF", "L1", set()),
    (Alteration("FAT1", "start_lost", protein_start=1), "RULE-FAT1-LOF", "R2", set()),
    (Alteration("CCNE1", "amplification", copy_number=9.0), "RULE-CCNE1-AMP", "L4", set()),
    (Alteration("CCNE1", "gain", copy_number=3.0), "RULE-CCNE1-GAIN", "L4", set()),
    (Alteration("FGFR1", "amplification"), "RULE-FGFR1-AMP", "R2", set()),
    (
        Alteration("FGFR2", "fusion", partner_gene="BICC1", kinase_domain_retained=True),
        "RULE-FGFR2-FUSION",
        "L4",
        {"RULE-FGFR2-GENE"},
    ),
    (
        Alteration("FGFR3", "fusion", partner_gene="TACC3", kinase_domain_retained=True),
        "RULE-FGFR3-FUSION",
        "L4",
        set(),
    ),
    (Alteration("CDK6", "amplification"), "RULE-CDK6-AMP", "L4", set()),
    (Alteration("ERBB2", "amplification"), "RULE-ERBB2-AMP", "L1", set()),
    (_missense("ERBB2", "L", 755, "S"), "RULE-ERBB2-HS-ACT", "L3", {"RULE-ERBB2-CODON"}),
    (_missense("KRAS", "G", 12, "D"), "RULE-KRAS-CODON", "L4", set()),
    (Alteration("BRCA2", "frameshift"), "RULE-BRCA2-LOF", "L1", set()),
    (Alteration("BRCA1", "nonsense"), "RULE-BRCA1-LOF", "L1", set()),
    (Alteration("PALB2", "frameshift"), "RULE-PALB2-LOF", "L3", set()),
    (Alteration("MDM2", "amplification"), "RULE-MDM2-AMP", "L4", set()),
    (Alteration("CCND1", "amplification"), "RULE-CCND1-AMP", "L4", set()),
    # hgvsp_short alone is enough for protein-level rules
    (Alteration("ESR1", "missense", hgvsp_short="p.Y537N"), "RULE-ESR1-HS-LBD", "L1", set()),
]


@pytest.mark.parametrize(
    ("alt", "first", "level", "also"),
    REAL_WORLD,
    ids=lambda v: v.hgvsp_short or v.alteration_class if isinstance(v, Alteration) else None,
)
def test_real_world_cases(alt: Alteration, first: str, level: str, also: set[str]) -> None:
    matches = match_alteration(PANEL, alt)
    assert matches, alt
    assert matches[0].rule_id == first
    assert matches[0].evidence_level == level
    assert also <= {m.rule_id for m in matches}
    assert not matches[0].over_claim_guard


REAL_WORLD_MISSES = [
    # PIK3CA H1047Q is not a companion-diagnostic allele: codon rule only (capped at L2)
    (_missense("PIK3CA", "H", 1047, "Q"), "RULE-PIK3CA-HS-CDX", "RULE-PIK3CA-CODON"),
    # ESR1 Y537 synonymous: nothing at all
    (
        Alteration("ESR1", "synonymous", protein_start=537, ref_aa="Y", alt_aa="Y"),
        "RULE-ESR1-HS-LBD",
        None,
    ),
    # RB1 missense is not loss of function: gene level only
    (_missense("RB1", "R", 661, "W"), "RULE-RB1-LOF", "RULE-RB1-GENE"),
    # FGFR2 fusion that lost the kinase domain: gene level only
    (
        Alteration("FGFR2", "fusion", partner_gene="X", kinase_domain_retained=False),
        "RULE-FGFR2-FUSION",
        "RULE-FGFR2-GENE",
    ),
    # CCNE1 shallow loss is not an amplification
    (Alteration("CCNE1", "loss"), "RULE-CCNE1-AMP", "RULE-CCNE1-GENE"),
    # AKT1 E17 other change
    (_missense("AKT1", "E", 17, "D"), "RULE-AKT1-HS-E17K", "RULE-AKT1-GENE"),
    # ESR1 outside the LBD
    (_missense("ESR1", "S", 118, "A"), "RULE-ESR1-DOMAIN-LBD", "RULE-ESR1-GENE"),
]


@pytest.mark.parametrize(("alt", "not_rule", "first"), REAL_WORLD_MISSES)
def test_real_world_near_misses(alt: Alteration, not_rule: str, first: str | None) -> None:
    ids = _ids(alt)
    assert not_rule not in ids
    assert (ids[0] if ids else None) == first


def test_codon_match_is_capped() -> None:
    (codon,) = [
        m for m in match_alteration(PANEL, _missense("PIK3CA", "H", 1047, "Q")) if m.match_level == "codon"
    ]
    assert codon.evidence_level == "L2"
    assert codon.significance == "likely"
    assert all(PANEL.tier(s.evidence_level) >= 2 for s in codon.strategies)


@pytest.mark.parametrize("cls", ["synonymous", "noncoding", "intergenic", "splice_region"])
def test_silent_changes_never_match(cls: str) -> None:
    for gene in PANEL.gene_symbols():
        assert match_alteration(PANEL, Alteration(gene, cls, protein_start=10)) == ()


def test_gene_level_rule_is_guarded_and_protein_altering_only() -> None:
    for rule in PANEL.rules:
        if rule.type == "gene":
            assert rule.over_claim_guard
            assert rule.strategies == ()
            assert rule.classes == GENE_LEVEL_CLASSES
    (m,) = match_alteration(PANEL, _missense("FAT1", "A", 10, "T"))
    assert m.match_level == "gene" and m.over_claim_guard and m.evidence_level == "U"
    assert m.strategies == ()
    assert m.note and "not claimed" in m.note


def test_gene_not_in_panel_matches_nothing() -> None:
    assert match_alteration(PANEL, Alteration("ARID1A", "nonsense")) == ()
    assert match_alteration(PANEL, _missense("TTN", "A", 10, "T")) == ()


def test_order_most_specific_first() -> None:
    for alt, *_ in REAL_WORLD:
        ranks = [MATCH_LEVEL_RANK[m.match_level] for m in match_alteration(PANEL, alt)]
        assert ranks == sorted(ranks)
    levels = [m.match_level for m in match_alteration(PANEL, _missense("ESR1", "Y", 537, "S"))]
    assert levels == ["hotspot", "codon", "domain", "gene"]


def test_strategies_are_ranked() -> None:
    m = match_alteration(PANEL, _missense("PIK3CA", "H", 1047, "R"))[0]
    assert [s.rank for s in m.strategies] == list(range(1, len(m.strategies) + 1))
    assert m.strategies[0].id == "STRAT-CAPIVASERTIB-FULV"
    alpelisib = next(s for s in m.strategies if s.id == "STRAT-ALPELISIB-FULV")
    solar = [e for e in alpelisib.evidence if e.study == "SOLAR-1"]
    assert any("0.65 (0.50–0.85)" in e.figures for e in solar)


def test_rule_specific_strategy_level_override() -> None:
    m = match_alteration(PANEL, Alteration("CCNE1", "amplification"))[0]
    chemo = m.strategies[0]
    # PEARL's CCNE1-high subgroup was mRNA-defined: indirect (L4) for DNA amplification
    assert chemo.id == "STRAT-CHEMOTHERAPY" and chemo.evidence_level == "L4"
    assert chemo.note and "PEARL" in chemo.note and "mRNA" in chemo.note
    assert PANEL.strategies["STRAT-CHEMOTHERAPY"].evidence_level == "L3"


def test_fusion_without_kinase_information_matches_with_note() -> None:
    m = match_alteration(PANEL, Alteration("FGFR3", "fusion", partner_gene="TACC3"))[0]
    assert m.rule_id == "RULE-FGFR3-FUSION"
    assert m.note and "kinase-domain retention not reported" in m.note


def test_mechanism_fields() -> None:
    m = match_alteration(PANEL, Alteration("RB1", "nonsense", protein_start=10))[0].mechanism
    assert m.category == "cell_cycle_specific"
    assert "CDK4/6 inhibitor" in m.drug_classes
    assert any(s.startswith("seed003") for s in m.sources)
    pik = PANEL.mechanisms["MECH-PIK3CA"]
    assert pik.category == "cell_cycle_non_specific"
    assert set(pik.drug_classes) >= {"CDK4/6 inhibitor", "endocrine therapy"}
    assert {c.drug_class for c in pik.claims if c.effect == "sensitivity"} == {
        "PI3Kα inhibitor", "AKT inhibitor"}
