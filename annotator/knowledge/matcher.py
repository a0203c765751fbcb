"""Rule matching and multi-alteration flags.

Semantics (documented in docs/knowledge_base.md):

* ``hotspot``: the exact protein change (ref residue, position, alt residue).
* ``codon``: any change of an allowed class (default missense) at a listed
  codon; when the alteration carries a reference residue it must agree with
  the rule's, so a different transcript's numbering cannot match by accident.
* ``domain``: a change of an allowed class (default missense / in-frame /
  protein_altering) overlapping the domain.
* ``loss_of_function``: nonsense, frameshift, canonical splice, start loss,
  deep deletion (``annotator.core.models.LOSS_OF_FUNCTION_CLASSES``).
* ``amplification`` / ``deep_deletion`` / ``fusion``: the copy-number or
  structural class; fusions may require a retained kinase domain.
* ``gene``: any other protein-altering alteration; never synonymous,
  non-coding, intergenic or splice-region changes.

All matching rules are returned, most specific first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from annotator.core.models import (
    CNV_SV_CLASSES,
    LOSS_OF_FUNCTION_CLASSES,
    SMALL_VARIANT_CLASSES,
    Alteration,
)
from annotator.knowledge.model import (
    MATCH_LEVEL_RANK,
    SIGNIFICANCE_MIN_TIER,
    UNCERTAIN_NOTE,
    Claim,
    Flag,
    Panel,
    Rule,
    RuleMatch,
    Strategy,
)

NOT_PROTEIN_ALTERING = frozenset({"synonymous", "noncoding", "intergenic", "splice_region"})
COPY_NUMBER_OR_SV = frozenset(CNV_SV_CLASSES)
# gene-level rules: protein-altering small variants and every copy-number/SV class;
# never silent, non-coding, splice-region or unclassified changes
GENE_LEVEL_CLASSES = (
    frozenset(SMALL_VARIANT_CLASSES) - NOT_PROTEIN_ALTERING - {"unclassified"}
) | COPY_NUMBER_OR_SV
DEFAULT_CLASSES: dict[str, frozenset[str]] = {
    "hotspot": frozenset({"missense", "nonsense", "protein_altering"}),
    "codon": frozenset({"missense"}),
    "domain": frozenset({"missense", "inframe_insertion", "inframe_deletion", "protein_altering"}),
    "loss_of_function": LOSS_OF_FUNCTION_CLASSES,
    "amplification": frozenset({"amplification"}),
    "deep_deletion": frozenset({"deep_deletion"}),
    "fusion": frozenset({"fusion"}),
    "gene": GENE_LEVEL_CLASSES,
}

_HGVSP_SHORT = re.compile(r"^(?:p\.)?\(?([A-Z*])(\d+)([A-Z*]|=)?")


def protein_change(alt: Alteration) -> tuple[str | None, int | None, str | None]:
    """(ref_aa, position, alt_aa) from the structured fields, else from hgvsp_short."""
    ref, pos, new = alt.ref_aa, alt.protein_start, alt.alt_aa
    if (ref is None or pos is None) and alt.hgvsp_short:
        m = _HGVSP_SHORT.match(alt.hgvsp_short.strip())
        if m:
            ref = ref or m.group(1)
            pos = pos or int(m.group(2))
            if new is None and m.group(3):
                new = ref if m.group(3) == "=" else m.group(3)
    return ref, pos, new


def _match_rule(rule: Rule, alt: Alteration) -> tuple[bool, str | None]:
    cls = alt.alteration_class
    if cls not in rule.classes:
        return False, None
    if rule.type == "hotspot":
        ref, pos, new = protein_change(alt)
        return (ref, pos, new) in rule.changes, None
    if rule.type == "codon":
        ref, pos, _ = protein_change(alt)
        for cref, cpos in rule.codons:
            if pos == cpos and (ref is None or len(ref) != 1 or ref == cref):
                return True, None
        return False, None
    if rule.type == "domain":
        _, pos, _ = protein_change(alt)
        if pos is None or rule.domain_start is None or rule.domain_end is None:
            return False, None
        end = alt.protein_end if alt.protein_end is not None else pos
        return pos <= rule.domain_end and end >= rule.domain_start, None
    if rule.type == "fusion":
        if rule.partners and (alt.partner_gene or "") not in rule.partners:
            return False, None
        if rule.requires_kinase_domain:
            if alt.kinase_domain_retained is False:
                return False, None
            if alt.kinase_domain_retained is None:
                return True, "kinase-domain retention not reported by the caller; assumed"
        return True, None
    # loss_of_function, amplification, deep_deletion, gene: the class decides.
    return True, None


def _best(panel: Panel, levels: Sequence[str]) -> str | None:
    order = panel.level_order()
    known = [lv for lv in levels if lv in order]
    if not known:
        return None
    return min(known, key=lambda lv: (panel.tier(lv), order.index(lv)))


def _uncertain_level(panel: Panel) -> str:
    for lv in panel.evidence_levels:
        if lv.axis == "uncertain":
            return lv.level
    order = panel.level_order()
    return "U" if "U" in order else order[-1]


def cap_level(panel: Panel, level: str, min_tier: int) -> str:
    """The level itself if it is no stronger than ``min_tier``, else the strongest level
    of the same axis that is (the last level of that axis when none is)."""
    if panel.tier(level) >= min_tier:
        return level
    info = panel.level_info(level)
    axis = info.axis if info is not None else "any"
    same = [lv for lv in panel.evidence_levels if lv.axis == axis and lv.axis != "uncertain"]
    weaker = [lv.level for lv in same if panel.tier(lv.level) >= min_tier]
    if weaker:
        return min(weaker, key=lambda x: panel.tier(x))
    return same[-1].level if same else level


def _gate_strategy(panel: Panel, s: Strategy, significance: str, cap: str | None) -> Strategy:
    min_tier = SIGNIFICANCE_MIN_TIER[significance]
    if cap is not None:
        min_tier = max(min_tier, panel.tier(cap))
    settings = tuple(
        replace(st, evidence_level=cap_level(panel, st.evidence_level, min_tier)) for st in s.settings
    )
    level = cap_level(panel, s.evidence_level, min_tier)
    changed = level != s.evidence_level
    return replace(s, evidence_level=level, settings=settings,
                   level_before_gating=s.evidence_level if changed else None)


def _in_context(panel: Panel, s: Strategy, prior: frozenset[str] | None) -> Strategy:
    """Strategy level and status for this patient's prior therapy (None: not given)."""
    if prior is None or not s.settings:
        return s
    fitting = [st for st in s.settings if st.applies(prior)]
    if not fitting:
        return replace(s, setting_status="other setting")
    best = _best(panel, [st.evidence_level for st in fitting]) or s.evidence_level
    return replace(s, setting_status="matches", evidence_level=best)


_STATUS_ORDER = {"matches": 0, "not assessed": 1, "other setting": 2}


def rule_strategies(
    panel: Panel, rule: Rule, prior: frozenset[str] | None = None
) -> tuple[Strategy, ...]:
    """The rule's strategies, gated by what its match supports, in this therapy context;
    those tested only in another setting are ranked after the others."""
    gated = [
        _in_context(panel, _gate_strategy(panel, s, rule.significance, rule.evidence_level_cap), prior)
        for s in rule.strategies
    ]
    gated.sort(key=lambda s: (_STATUS_ORDER[s.setting_status], s.rank))
    return tuple(gated)


def rule_claims(panel: Panel, rule: Rule) -> tuple[Claim, ...]:
    claims = rule.claims or rule.mechanism.claims
    if not rule.claimed:
        return ()  # a variant of uncertain significance claims nothing
    min_tier = SIGNIFICANCE_MIN_TIER[rule.significance]
    if rule.evidence_level_cap is not None:
        min_tier = max(min_tier, panel.tier(rule.evidence_level_cap))
    return tuple(replace(c, level=cap_level(panel, c.level, min_tier)) for c in claims)


def rule_evidence_level(
    panel: Panel, rule: Rule, strategies: Sequence[Strategy] | None = None
) -> str:
    """Best level over the rule's claims and strategies (in context), gated; U when uncertain."""
    if not rule.claimed:
        return _uncertain_level(panel)
    strategies = rule_strategies(panel, rule) if strategies is None else strategies
    levels = [c.level for c in rule_claims(panel, rule)]
    levels += [s.evidence_level for s in strategies if s.setting_status != "other setting"]
    if not levels:
        levels = [rule.mechanism.evidence_level]
    best = _best(panel, levels) or rule.mechanism.evidence_level
    if rule.evidence_level_cap is not None and panel.tier(best) < panel.tier(rule.evidence_level_cap):
        best = cap_level(panel, best, panel.tier(rule.evidence_level_cap))
    return best


def _join_notes(*notes: str | None) -> str | None:
    kept = [n for n in notes if n]
    return " ".join(kept) if kept else None


def build_match(
    panel: Panel, rule: Rule, match_note: str | None, prior: frozenset[str] | None = None
) -> RuleMatch:
    strategies = rule_strategies(panel, rule, prior)
    guard_note = (
        "Gene-level match: reported, not claimed to cause resistance."
        if rule.over_claim_guard
        else None
    )
    uncertain_note = UNCERTAIN_NOTE if not rule.claimed else None
    return RuleMatch(
        rule_id=rule.id,
        gene=rule.gene,
        match_level=rule.type,
        mechanism=rule.mechanism,
        strategies=strategies,
        evidence_level=rule_evidence_level(panel, rule, strategies),
        note=_join_notes(rule.note, match_note, guard_note, uncertain_note),
        over_claim_guard=rule.over_claim_guard,
        significance=rule.significance,
        claims=rule_claims(panel, rule),
        match_note=match_note,
        domain_name=rule.domain_name,
    )


# matches already built, by what a match depends on: (rule id, the matcher's note, prior therapy)
BuiltMatches = dict[tuple[str, "str | None", "frozenset[str] | None"], RuleMatch]


def match_alteration(
    panel: Panel, alt: Alteration, prior: frozenset[str] | None = None, built: BuiltMatches | None = None
) -> tuple[RuleMatch, ...]:
    """The rules ``alt`` matches, most specific first.  ``built``: a pass's matches so far,
    reused (a dense file matches the same few rules thousands of times; one object each
    keeps the rows' and documents' memory from growing with them)."""
    rules = panel.rules_for(alt.gene)
    if not rules:
        return ()
    found: list[RuleMatch] = []
    for rule in rules:
        ok, match_note = _match_rule(rule, alt)
        if not ok:
            continue
        key = (rule.id, match_note, prior)
        match = built.get(key) if built is not None else None
        if match is None:
            match = build_match(panel, rule, match_note, prior)
            if built is not None:
                built[key] = match
        found.append(match)
    found.sort(key=lambda m: MATCH_LEVEL_RANK[m.match_level])
    return tuple(found)


def in_context(
    panel: Panel, matches: Sequence[RuleMatch], prior: frozenset[str] | None
) -> tuple[RuleMatch, ...]:
    """The same matches re-ranked for a patient's prior therapy (``therapy.resolve``)."""
    out = []
    for m in matches:
        rule = panel.rule(m.rule_id)
        out.append(m if rule is None else build_match(panel, rule, m.match_note, prior))
    return tuple(out)


def _unique(ids: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(ids))


def compute_flags(
    panel: Panel, items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]]
) -> tuple[Flag, ...]:
    flags: list[Flag] = []
    by_gene: dict[str, list[tuple[str, Alteration, tuple[RuleMatch, ...]]]] = {}
    for item in items:
        by_gene.setdefault(item[1].gene, []).append(item)

    for gene_symbol, gene_items in by_gene.items():
        gene = panel.genes.get(gene_symbol)
        if gene is None:
            continue
        if gene.role == "tumour_suppressor":
            flag = _biallelic(gene_symbol, gene_items)
            if flag:
                flags.append(flag)
        if gene.polyclonal_flag:
            flag = _polyclonal(gene_symbol, gene_items)
            if flag:
                flags.append(flag)

    flags.extend(_convergent(items))
    flags.extend(_strategy_caveats(items))
    flags.extend(_interactions(panel, items))
    return tuple(flags)


def alteration_label(alt: Alteration) -> str:
    """'PIK3CA p.H1047R', 'RB1 deep deletion', 'FGFR2::BICC1 fusion'."""
    if alt.hgvsp_short:
        change = alt.hgvsp_short
    elif alt.partner_gene:
        change = f"::{alt.partner_gene} {alt.alteration_class.replace('_', ' ')}"
        return f"{alt.gene}{change}"
    elif alt.hgvsc:
        change = alt.hgvsc
    else:
        change = alt.alteration_class.replace("_", " ")
    return f"{alt.gene} {change}"


def _interactions(
    panel: Panel, items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]]
) -> list[Flag]:
    """Conflicts and caveats: an alteration that undermines a strategy offered for another.

    Only claimed matches take part (a variant of uncertain significance neither
    triggers nor receives one); each flag names both alterations.
    """
    from annotator.knowledge.therapy import strategy_classes

    if not panel.interactions:
        return []
    tops = [(aid, alt, matches[0]) for aid, alt, matches in items if matches and matches[0].claimed]
    flags: list[Flag] = []
    for inter in panel.interactions:
        # the alterations that trigger it, grouped by gene (polyclonal ESR1 makes one flag)
        by_gene: dict[str, list[tuple[str, Alteration]]] = {}
        for aid, alt, m in tops:
            if inter.mechanisms and m.mechanism.id not in inter.mechanisms:
                continue
            if inter.rule_types and m.match_level not in inter.rule_types:
                continue
            if inter.genes and alt.gene not in inter.genes:
                continue
            by_gene.setdefault(alt.gene, []).append((aid, alt))
        for gene, triggers in by_gene.items():
            ids = {aid for aid, _ in triggers}
            # the alterations the strategies are offered for, grouped by gene as well
            targets: dict[str, list[tuple[str, Alteration, list[str]]]] = {}
            for bid, balt, bm in tops:
                if bid in ids or balt.gene == gene or bm.mechanism.id in inter.mechanisms:
                    continue
                hit = [
                    s.name for s in bm.strategies
                    if s.kind == "treat" and s.setting_status != "other setting"
                    and inter.against_class in strategy_classes(panel, s.drug_classes)
                ]
                if hit:
                    targets.setdefault(balt.gene, []).append((bid, balt, hit))
            for group in targets.values():
                a_label = ", ".join(alteration_label(a) for _, a in triggers)
                b_label = ", ".join(alteration_label(b) for _, b, _ in group)
                names = ", ".join(_unique([n for _, _, hit in group for n in hit]))
                flags.append(
                    Flag(
                        kind=inter.kind,
                        gene=gene,
                        mechanism_id=inter.id,
                        members=_unique([*(aid for aid, _ in triggers), *(bid for bid, _, _ in group)]),
                        message=f"{a_label} vs {names} (offered for {b_label}): {inter.message}",
                        label=f"{inter.id}[{a_label} x {b_label}]",
                    )
                )
    return flags


def _biallelic(
    gene: str, items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]]
) -> Flag | None:
    lof = [
        (aid, m)
        for aid, _, matches in items
        for m in matches
        if m.match_level in ("loss_of_function", "deep_deletion")
    ]
    lof_ids = _unique([aid for aid, _ in lof])
    shallow = _unique([aid for aid, alt, _ in items if alt.alteration_class == "loss"])
    if len(lof_ids) >= 2 or (lof_ids and [s for s in shallow if s not in lof_ids]):
        members = _unique(list(lof_ids) + list(shallow))
        mech = lof[0][1].mechanism.id
        return Flag(
            kind="biallelic_loss",
            gene=gene,
            mechanism_id=mech,
            members=members,
            message=(
                f"{gene}: {len(members)} inactivating events ({', '.join(members)}) are "
                "consistent with biallelic loss; whether they hit both alleles of one clone "
                "or separate subclones cannot be told from the calls alone."
            ),
        )
    return None


def _polyclonal(
    gene: str, items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]]
) -> Flag | None:
    hits = [
        (aid, m)
        for aid, alt, matches in items
        if alt.alteration_class not in COPY_NUMBER_OR_SV
        for m in matches
        if m.claimed
    ]
    members = _unique([aid for aid, _ in hits])
    if len(members) < 2:
        return None
    mech = hits[0][1].mechanism.id
    return Flag(
        kind="polyclonal",
        gene=gene,
        mechanism_id=mech,
        members=members,
        message=(
            f"{gene}: {len(members)} distinct resistance alterations ({', '.join(members)}); "
            "the sources describe polyclonal acquired alterations of this gene at "
            "progression, so several subclones may carry them (compare allele fractions)."
        ),
    )


def _convergent(items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]]) -> list[Flag]:
    per_mech: dict[str, list[tuple[str, str]]] = {}
    for aid, _, matches in items:
        for m in matches:
            if m.claimed:
                per_mech.setdefault(m.mechanism.id, []).append((m.gene, aid))
    flags = []
    for mech_id, pairs in per_mech.items():
        genes = _unique([g for g, _ in pairs])
        if len(genes) < 2:
            continue
        members = _unique([a for _, a in pairs])
        flags.append(
            Flag(
                kind="convergent_mechanism",
                gene=None,
                mechanism_id=mech_id,
                members=members,
                message=(
                    f"{mech_id}: alterations in {len(genes)} genes ({', '.join(genes)}) "
                    f"act through the same mechanism ({', '.join(members)})."
                ),
            )
        )
    return flags


def _strategy_caveats(
    items: Sequence[tuple[str, Alteration, tuple[RuleMatch, ...]]],
) -> list[Flag]:
    altered: dict[str, list[str]] = {}
    for aid, alt, matches in items:
        if matches:
            altered.setdefault(alt.gene, []).append(aid)
    flags = []
    seen: set[tuple[str, str]] = set()
    for aid, _, matches in items:
        for m in matches:
            for s in m.strategies:
                for wt_gene in s.requires_wildtype:
                    if wt_gene not in altered or (s.id, wt_gene) in seen:
                        continue
                    seen.add((s.id, wt_gene))
                    members = _unique([aid, *altered[wt_gene]])
                    flags.append(
                        Flag(
                            kind="strategy_caveat",
                            gene=wt_gene,
                            mechanism_id=m.mechanism.id,
                            members=members,
                            message=(
                                f"{s.name} ({s.id}) needs {wt_gene}-wild-type tumours, "
                                f"but {wt_gene} is altered ({', '.join(altered[wt_gene])})."
                            ),
                        )
                    )
    return flags
