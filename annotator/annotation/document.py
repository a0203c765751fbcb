"""The sample document: what ``<sample>.resmark.json`` holds and every report renders from.

Keys (all present; lists may be empty):

- ``resmark``: provenance (tool and panel version, panel checksum, build,
  inputs with sha256, samples, command; see ``annotator.core.provenance``);
- ``sample``, ``input``, ``genome_build``, ``tumour_sample_chosen_by``;
- ``accounting``: every input record's bucket (``Accounting.as_dict``);
- ``flags``: per-sample flags (polyclonal, convergent, conflicts);
- ``rows``: one object per output row, the TSV columns (``Row.as_dict``);
- ``explanations``: per listed variant, the alteration and every rule match
  (mechanism, strategies with levels, evidence with citations);
- ``upstream_disagreements``: where the caller's VEP/SnpEff annotation and
  resmark's own consequence disagree;
- ``non_dna_markers``: the panel's markers that a DNA assay cannot see;
- ``qc``: what the run could not interpret and why (``annotator.annotation.qc``):
  ``uninterpreted`` (per gene: variants without a transcript model or without
  sequence, with the option that fixes it), ``unreachable_rules`` (rules the
  reference cannot serve: gene not located, no model, no sequence) and
  ``messages`` (one line each, as logged).
- ``therapy_context``: the prior therapy the strategies were ranked for
  (``--prior-therapy`` / sheet ``prior_therapy``), with its drug classes.

``resmark report OUTDIR`` re-renders the HTML from this document alone, so the
run and the re-render share one path (``annotator.report.html``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from annotator.annotation.qc import sample_qc
from annotator.core.jsondoc import JsonObject
from annotator.report.plain import to_plain

if TYPE_CHECKING:
    from annotator.annotation.pipeline import SampleAnnotation
    from annotator.knowledge.model import Panel


def sample_document(s: SampleAnnotation, prov: JsonObject, panel: Panel) -> JsonObject:
    listed = {r.variant_key for r in s.rows}
    explanations = [
        {"variant_key": key, "alteration": alt, "matches": list(matches)}
        for key, alt, matches in s.alterations
        if key in listed and matches
    ]
    return {
        "resmark": prov,
        "sample": s.sample,
        "input": s.path,
        "genome_build": s.build.name,
        "tumour_sample_chosen_by": s.header.tumour_reason,
        "accounting": s.accounting.as_dict(),
        "flags": list(s.flags),
        "rows": [r.as_dict() for r in s.rows],
        "explanations": explanations,
        "upstream_disagreements": s.disagreements,
        "non_dna_markers": list(getattr(panel, "non_dna_markers", ())),
        "qc": sample_qc(s, prov, panel),
        "therapy_context": _therapy_context(s),
    }


def _therapy_context(s: SampleAnnotation) -> JsonObject:
    """What prior therapy the strategies were ranked for (None given: each states its setting)."""
    given = getattr(s, "prior_therapy", None)
    if given is None:
        return {"prior_therapy": None, "drug_classes": [],
                "note": "no prior therapy given: each strategy states the setting it was tested in"}
    return {"prior_therapy": list(given[0]), "drug_classes": list(given[1]),
            "note": "strategies tested only in another setting are marked and ranked last"}


def plain_document(document: JsonObject) -> JsonObject:
    """The document as JSON values (what a reader of ``<sample>.resmark.json`` gets)."""
    plain: JsonObject = to_plain(document)
    return plain
