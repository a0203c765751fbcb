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

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from annotator.annotation.qc import sample_qc
from annotator.core.jsondoc import JsonItems, JsonObject, JsonValue
from annotator.core.rows import RowObject
from annotator.io.jsonindent import Fragments
from annotator.report.plain import to_plain

if TYPE_CHECKING:
    from annotator.annotation.pipeline import SampleAnnotation
    from annotator.core.models import Alteration
    from annotator.knowledge.model import Panel, RuleMatch
    from annotator.report.views import PanelInfo


def sample_document(s: SampleAnnotation, prov: JsonObject, panel: Panel) -> JsonObject:
    """The document with the run's own objects in it (``to_plain`` gives its JSON values)."""
    return _document(s, prov, panel, [r.as_dict() for r in s.rows],
                     [_explanation(key, alt, matches) for key, alt, matches in _explained(s)])


@dataclasses.dataclass(frozen=True)
class PlainDocument:
    """A sample document in JSON values, and the fragments its JSON text is written with."""

    value: JsonObject
    fragments: Fragments


def plain_sample_document(s: SampleAnnotation, prov: JsonObject, panel: Panel, cache: DocumentCache) -> PlainDocument:
    """``cache.plain(sample_document(s, prov, panel))``, its rows and explanations made
    when read (``JsonItems``): a dense sample's tens of thousands of them are not held as
    JSON values while every format is written, only encoded (or read by the report) one
    by one.  The same JSON text and report as the whole document's; its fragments are
    ``cache.fragments`` and the sample's own."""
    plain = cache.plain
    # the pass shares each RuleMatch among the alterations it matched (knowledge.matcher
    # BuiltMatches): its JSON value is made, and its text encoded, once for the document
    fragments = cache.fragments.layer()
    matches: dict[int, tuple[RuleMatch, JsonValue]] = {}

    def plain_match(m: RuleMatch) -> JsonValue:
        hit = matches.get(id(m))
        if hit is None:
            # both kept for as long as the document is read: their ids stay their own
            hit = matches[id(m)] = (m, plain(m))
            fragments.constant.add(id(hit[1]))
        return hit[1]

    def explanation(e: _Explained) -> JsonValue:
        key, alt, ms = e
        return _explanation(key, plain(alt), [plain_match(m) for m in ms])

    doc = _document(s, prov, panel, JsonItems(s.rows, RowObject), JsonItems(_explained(s), explanation))
    return PlainDocument({k: v if isinstance(v, JsonItems) else plain(v) for k, v in doc.items()}, fragments)


_Explained = tuple[str, "Alteration", "tuple[RuleMatch, ...]"]


def _explained(s: SampleAnnotation) -> list[_Explained]:
    """The alterations with a rule match that a row lists (the document's explanations)."""
    listed = {r.variant_key for r in s.rows}
    return [(key, alt, matches) for key, alt, matches in s.alterations if key in listed and matches]


def _explanation(key: str, alt: Alteration | JsonValue, matches: Sequence[RuleMatch | JsonValue]) -> JsonObject:
    return {"variant_key": key, "alteration": alt, "matches": list(matches)}


def _document(s: SampleAnnotation, prov: JsonObject, panel: Panel, rows: JsonValue,
              explanations: JsonValue) -> JsonObject:
    return {
        "resmark": prov,
        "sample": s.sample,
        "input": s.path,
        "genome_build": s.build.name,
        "tumour_sample_chosen_by": s.header.tumour_reason,
        "accounting": s.accounting.as_dict(),
        "flags": list(s.flags),
        "rows": rows,
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


class DocumentCache:
    """The plain (JSON) form of one panel's objects, made once per process.

    Most of a sample document is the panel speaking (each match's mechanism,
    strategies and evidence, the non-DNA markers), identical from sample to
    sample.  ``plain(document)`` equals ``to_plain(document)``, but converts
    each object reachable from the panel only once and hands out the same
    plain value afterwards; ``fragments`` then lets the JSON writer encode
    each of those values once (``annotator.io.jsonindent``).  The shared
    values are read, never changed, by the writers and the report.

    Only objects reachable from the panel are remembered (the panel lives as
    long as the run), so memory does not grow with the samples.
    """

    def __init__(self, panel: Panel) -> None:
        self.panel = panel
        self._owned = _reachable(panel)
        self._plain: dict[int, tuple[object, JsonValue]] = {}  # id(panel object) -> (object, plain)
        self._fields: dict[type, tuple[str, ...]] = {}
        self.fragments = Fragments()
        self._panel_info: PanelInfo | None = None

    def plain(self, obj: object) -> JsonValue:
        """``to_plain(obj)``, with the panel's objects converted once."""
        if obj is None or isinstance(obj, (str, int, bool)):
            return obj
        key = id(obj)
        hit = self._plain.get(key)
        if hit is not None:
            return hit[1]
        cls = type(obj)
        names = self._fields.get(cls)
        if names is None and dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            names = self._fields[cls] = tuple(f.name for f in dataclasses.fields(obj))
        value: JsonValue
        if names is not None:
            value = {n: self.plain(getattr(obj, n)) for n in names}
        elif isinstance(obj, Mapping):
            value = {str(k): self.plain(v) for k, v in obj.items()}
        elif isinstance(obj, (list, tuple)):
            value = [self.plain(v) for v in obj]
        else:
            return to_plain(obj)  # floats, enums, paths, sets, other objects: the shared rules
        if key in self._owned:
            self._plain[key] = (obj, value)  # the object is kept, so its id stays its own
            self.fragments.constant.add(id(value))
        return value

    def panel_info(self) -> PanelInfo:
        """``report.context.panel_info(panel)``, made once."""
        if self._panel_info is None:
            from annotator.report.context import panel_info

            self._panel_info = panel_info(self.panel)
        return self._panel_info


def _reachable(panel: Panel) -> set[int]:
    """Ids of the non-empty containers and dataclass instances the panel holds."""
    seen: set[int] = set()
    stack: list[object] = [panel]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            seen.add(id(obj))
            stack.extend(getattr(obj, f.name) for f in dataclasses.fields(obj))
        elif isinstance(obj, Mapping) and obj:
            seen.add(id(obj))
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple)) and obj:
            seen.add(id(obj))
            stack.extend(obj)
    return seen
