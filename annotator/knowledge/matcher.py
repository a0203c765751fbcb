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

from annotator.core.models import (
    CNV_SV_CLASSES,
    LOSS_OF_FUNCTION_CLASSES,
    SMALL_VARIANT_CLASSES,
    Alteration,
)
from annotator.knowledge.model import (
    MATCH_LEVEL_RANK,
    Flag,
    Panel,
    Rule,
    RuleMatch,
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


def rule_evidence_level(panel: Panel, rule: Rule) -> str:
    order = panel.level_order()
    if rule.type == "gene":
        return "U" if "U" in order else order[-1]
    levels = [rule.mechanism.evidence_level] + [s.evidence_level for s in rule.strategies]
    best = min(levels, key=order.index)
    if rule.evidence_level_cap is not None and order.index(best) < order.index(
        rule.evidence_level_cap
    ):
        best = rule.evidence_level_cap
    return best


def _join_notes(*notes: str | None) -> str | None:
    kept = [n for n in notes if n]
    return " ".join(kept) if kept else None


def match_alteration(panel: Panel, alt: Alteration) -> tuple[RuleMatch, ...]:
    rules = panel.rules_for(alt.gene)
    if not rules:
        return ()
    found: list[RuleMatch] = []
    for rule in rules:
        ok, match_note = _match_rule(rule, alt)
        if not ok:
            continue
        guard_note = (
            "Gene-level match: reported, not claimed to cause resistance."
            if rule.over_claim_guard
            else None
        )
        found.append(
            RuleMatch(
                rule_id=rule.id,
                gene=rule.gene,
                match_level=rule.type,
                mechanism=rule.mechanism,
                strategies=rule.strategies,
                evidence_level=rule_evidence_level(panel, rule),
                note=_join_notes(rule.note, match_note, guard_note),
                over_claim_guard=rule.over_claim_guard,
            )
        )
    found.sort(key=lambda m: MATCH_LEVEL_RANK[m.match_level])
    return tuple(found)


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
    return tuple(flags)


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
        if not m.over_claim_guard
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
            if not m.over_claim_guard:
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
