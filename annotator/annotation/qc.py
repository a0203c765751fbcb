"""What a run could not interpret, and why: the sample document's ``qc`` section.

Two views, both from the reference's ``describe()`` (which the provenance
carries) and the panel, so the JSON, the log and the HTML say the same:

* ``panel_reach(panel, ref_info)``: rules that cannot fire with this reference,
  per reason: the gene cannot be located on the primary assembly (``--gtf``);
  it has no transcript model, so small variants get no consequence
  (``--gtf``); its model has no sequence, so substitutions get no amino-acid
  change and only frameshifts and splice variants reach its rules (``--fasta``);
* ``uninterpreted(alterations, ...)``: this sample's variants that met one of
  those gaps, counted per gene ("3 variants in FAT1 lack sequence: give --fasta").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonObject, JsonValue

if TYPE_CHECKING:
    from annotator.annotation.pipeline import SampleAnnotation
    from annotator.core.models import Alteration
    from annotator.knowledge.model import Panel, RuleMatch

log = logging.getLogger(__name__)

# rule types that small variants (SNV/indel) reach; the others need only a gene span
SMALL_VARIANT_RULES = frozenset({"hotspot", "codon", "domain", "loss_of_function", "gene"})
# rule types a substitution reaches only with an amino-acid change (sequence)
SEQUENCE_RULES = frozenset({"hotspot", "codon", "domain", "loss_of_function", "gene"})
NO_MODEL = ("gene_variant",)  # the pipeline's consequence for a gene known only by its span
NO_SEQUENCE = "coding_sequence_variant"  # a coding substitution without reference sequence


def _genes_text(genes: Sequence[str]) -> str:
    return ", ".join(genes[:8]) + (f" and {len(genes) - 8} more" if len(genes) > 8 else "")


def panel_reach(panel: Panel, ref_info: Mapping[str, JsonValue]) -> list[JsonObject]:
    """Rules of ``panel`` that this reference cannot serve, grouped by reason (may be empty)."""
    build = ref_info.get("build", "")
    unlocated = set(ref_info.get("panel_genes_unlocated") or ())
    models = set(ref_info.get("models") or ())
    with_seq = set(ref_info.get("genes_with_sequence") or ())
    by_reason: dict[str, dict[str, list[str]]] = {"unlocatable": {}, "no_model": {}, "no_sequence": {}}
    for rule in getattr(panel, "rules", ()):
        gene = rule.gene
        if gene in unlocated:
            by_reason["unlocatable"].setdefault(gene, []).append(rule.id)
        elif rule.type in SMALL_VARIANT_RULES and gene not in models:
            by_reason["no_model"].setdefault(gene, []).append(rule.id)
        elif rule.type in SEQUENCE_RULES and gene in models and gene not in with_seq:
            by_reason["no_sequence"].setdefault(gene, []).append(rule.id)
    out: list[JsonObject] = []
    texts = {
        "unlocatable": (f"cannot be located: no span on the {build} primary assembly in the "
                        "embedded MANE table: "
                        "give --gtf", "--gtf"),
        "no_model": ("need a transcript model for small variants: give --gtf", "--gtf"),
        "no_sequence": ("need reference sequence for substitutions (only frameshift and splice "
                        "variants reach them): give --fasta", "--fasta"),
    }
    gtf = ref_info.get("gtf") or {}
    absent = set(gtf.get("not_found") or ())
    for reason, genes in by_reason.items():
        if not genes:
            continue
        names = sorted(genes)
        text, fix = texts[reason]
        if reason in ("unlocatable", "no_model") and absent and set(names) <= absent:
            # a GTF was read and lacks them: another --gtf will not help unless it has them
            text = (f"{text.rsplit(':', 1)[0]}: the GTF given ({gtf.get('path')}) has no "
                    "protein-coding transcript for them on the primary assembly")
        subject = (f"{_genes_text(names)}" if reason == "unlocatable"
                   else f"rules on {_genes_text(names)}")
        out.append({
            "reason": reason, "genes": names, "rules": sorted(r for g in names for r in genes[g]),
            "fix": fix, "message": f"{subject} {text}",
        })
    return out


def uninterpreted(
    alterations: Iterable[tuple[str, Alteration, tuple[RuleMatch, ...]]], ref_info: Mapping[str, JsonValue]
) -> list[JsonObject]:
    """This sample's small variants in panel genes that lacked a model or sequence, per gene."""
    models = set(ref_info.get("models") or ())
    counts: dict[tuple[str, str], int] = {}
    for _key, alt, _matches in alterations:
        consequence = tuple(getattr(alt, "consequence", ()) or ())
        gene = getattr(alt, "gene", None)
        if not gene:
            continue
        if consequence == NO_MODEL and gene not in models:
            counts[(gene, "no_model")] = counts.get((gene, "no_model"), 0) + 1
        elif NO_SEQUENCE in consequence and getattr(alt, "alteration_class", "") == "unclassified":
            counts[(gene, "no_sequence")] = counts.get((gene, "no_sequence"), 0) + 1
    out = []
    for (gene, reason), n in sorted(counts.items()):
        noun, has, lack = ("variant", "has", "lacks") if n == 1 else ("variants", "have", "lack")
        if reason == "no_model":
            msg, fix = f"{n} {noun} in {gene} {has} no transcript model: give --gtf", "--gtf"
        else:
            msg, fix = f"{n} {noun} in {gene} {lack} sequence: give --fasta", "--fasta"
        out.append({"gene": gene, "variants": n, "reason": reason, "fix": fix, "message": msg})
    return out


def sample_qc(s: SampleAnnotation, prov: Mapping[str, JsonValue], panel: Panel) -> JsonObject:
    """The document's ``qc`` section: ``uninterpreted`` variants and ``unreachable_rules``."""
    info = (prov.get("reference") or {}).get(s.build.name) or {}
    if not info:
        return {"uninterpreted": [], "unreachable_rules": [], "messages": []}
    variants = uninterpreted(s.alterations, info)
    rules = panel_reach(panel, info)
    return {
        "uninterpreted": variants,
        "unreachable_rules": rules,
        "messages": [x["message"] for x in variants] + [x["message"] for x in rules],
    }


def log_messages(where: str, qc: Mapping[str, JsonValue]) -> None:
    """Warn about this sample's uninterpreted variants (the panel-wide gaps are logged at load)."""
    for item in qc.get("uninterpreted") or ():
        log.warning("%s: %s", where, item["message"])
