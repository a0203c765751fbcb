"""Render the self-contained HTML reports.

* ``render_sample_document(document, panel_info)`` -> str: from the annotate
  JSON document (what ``resmark report`` re-renders from);
* ``render_sample_report(sample_annotation, provenance, panel)`` -> str;
* ``write_sample_report(path, sample_annotation, provenance, panel)``;
* ``render_patient_report(...)`` / ``write_patient_report(path, ...)`` for
  ``resmark track`` (plain data in, see the signature).

Autoescaping is on for every template; the only unescaped inserts are our own
CSS/JS files and SVG that went through ``svg.sanitize_svg``.  A Content
Security Policy allows no network access and only the one inline script
(by hash), so a value that escaped escaping still could not run or fetch.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from annotator.core.about import RESEARCH_USE_ONLY, __version__
from annotator.core.jsondoc import JsonObject, JsonValue
from annotator.errors import OutputError
from annotator.report import context as ctxmod
from annotator.report import views

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.cache
def _environment() -> jinja2.Environment:
    # one environment per process: it caches the compiled templates (a cohort renders
    # hundreds of reports; compiling them again for each was most of the HTML cost)
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # compiled once per process, rendered once per sample: the optimizer's constant folding
        # (same output) costs more while compiling (~5 ms of ~45) than it saves in rendering
        optimized=False,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def _pct(v: JsonValue) -> str:
    if v is None or v == "":
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.1f}%"


def _num(v: object) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


@functools.cache
def _static(name: str) -> str:
    # read once per process: a cohort inlines the same CSS/JS in every report
    return (TEMPLATES / name).read_text(encoding="utf-8")


@functools.cache
def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _render(template: str, data: Mapping[str, object]) -> str:
    return "".join(_pieces(template, data))


def _pieces(template: str, data: Mapping[str, object]) -> Iterator[str]:
    """The page as the template produces it, piece by piece (``render`` joins them)."""
    env = _environment()
    js = _static("report.js")
    return iter(env.get_template(template).generate(
        **data,
        css=_static("report.css"),
        js=js,
        csp_script=_csp_hash(js),
        research_use_only=RESEARCH_USE_ONLY,
        tool_version=__version__,
        level_order=ctxmod.LEVEL_ORDER,
    ))


def _write_pieces(path: str | Path, pieces: Iterator[str]) -> None:
    """Write the page as it is rendered, in ~1 MB batches: a dense sample's page is ~15 MB
    of text in a million small pieces, which ``render`` would hold all at once."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            batch: list[str] = []
            size = 0
            for piece in pieces:
                batch.append(piece)
                size += len(piece)
                if size >= 1 << 20:
                    fh.write("".join(batch))
                    batch, size = [], 0
            fh.write("".join(batch))
    except OSError as e:
        raise OutputError(f"cannot write HTML report ({e.strerror})", path=path) from e


def _write_text(path: str | Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise OutputError(f"cannot write HTML report ({e.strerror})", path=path) from e


# ----------------------------------------------------------------- sample


def render_sample_document(document: Mapping[str, JsonValue], panel: views.PanelInfo | None = None,
                           *, plain: bool = False) -> str:
    """HTML for one sample from its JSON document; ``panel`` from ``context.panel_info``.

    ``plain``: the document holds only JSON values already (as read from the JSON
    output, or from ``annotation.document.DocumentCache``), so it is not converted again.
    """
    return _render("sample.html.j2", ctxmod.sample_context(document, panel, plain=plain))


def write_sample_report(
    path: str | Path, document: Mapping[str, JsonValue], panel: views.PanelInfo | None = None,
    *, plain: bool = False,
) -> None:
    """Write ``<sample>.report.html`` from the sample document (``annotator.annotation.document``)."""
    _write_pieces(path, _pieces("sample.html.j2", ctxmod.sample_context(document, panel, plain=plain)))


# ----------------------------------------------------------------- patient


_LEVEL_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\[(?P<level>[A-EU])\]$")


def _strategy_name_level(text: str, default_level: str) -> tuple[str, str]:
    """'Alpelisib + fulvestrant [A]' -> ('Alpelisib + fulvestrant', 'A') (rows.strategy_text)."""
    m = _LEVEL_SUFFIX.match(text)
    if m:
        return m.group("name"), m.group("level")
    return text, default_level


def render_patient_report(
    *,
    patient: str,
    timepoints: Sequence[object],
    rows: Sequence[Mapping[str, JsonValue]],
    alerts: Sequence[Mapping[str, object]] = (),
    trajectory_svg_text: str | None = None,
    provenance: Mapping[str, JsonValue] | None = None,
    panel: object = None,
    notes: Sequence[str] = (),
    document: Mapping[str, JsonValue] | None = None,
) -> str:
    """HTML for one patient across timepoints (see ``write_patient_report``)."""
    data = patient_context(
        patient=patient, timepoints=timepoints, rows=rows, alerts=alerts,
        trajectory_svg_text=trajectory_svg_text, provenance=provenance or {}, panel=panel,
        notes=notes, document=document,
    )
    return _render("patient.html.j2", data)


def write_patient_report(
    path: str | Path,
    *,
    patient: str,
    timepoints: Sequence[object],
    rows: Sequence[Mapping[str, JsonValue]],
    alerts: Sequence[Mapping[str, object]] = (),
    trajectory_svg_text: str | None = None,
    provenance: Mapping[str, JsonValue] | None = None,
    panel: object = None,
    notes: Sequence[str] = (),
    document: Mapping[str, JsonValue] | None = None,
) -> None:
    """Write a patient's ``report.html``.

    * ``timepoints``: ordered labels (``"T0"``) or dicts with ``timepoint`` (or
      ``label``/``name``) and optional ``sample``, ``date``, ``tumor_fraction``,
      ``input``.
    * ``rows``: the long table, one dict per alteration and timepoint, with
      ``timepoint`` and any of ``gene``, ``hgvsp_short``/``hgvsc``,
      ``variant_key``, ``vaf``, ``depth``, ``alt_count``, ``status``
      (e.g. new/rising/falling/cleared), ``mechanism``, ``evidence_level``,
      ``rule_id``, ``strategies``; unknown keys are shown as extra columns.
    * ``alerts``: dicts with ``severity`` (high/warning/info), ``title``,
      ``message`` and optional ``gene``; shown first.
    * ``trajectory_svg_text``: an SVG document (sanitised before embedding);
      when None the VAF plot is drawn from ``rows``.
    * ``provenance``: ``Provenance.as_dict()``-shaped dict.
    * ``document``: ``resmark track``'s patient document (``track_summary.json``
      ``patients[]``): per-timepoint therapy, tumour fraction (``tf``,
      ``tf_ci_low``/``tf_ci_high``, ``tf_source``), MRD call (``mrd_call``,
      ``mrd_p_value``, ``mrd_lod_vaf``), molecular response, and the alerts'
      timepoints; shown when present, and the plot is drawn from it when no SVG
      is given.
    """
    _write_text(path, render_patient_report(
        patient=patient, timepoints=timepoints, rows=rows, alerts=alerts,
        trajectory_svg_text=trajectory_svg_text, provenance=provenance, panel=panel, notes=notes,
        document=document,
    ))


_TP_KEYS = ("timepoint", "label", "name", "id")
_CORE_LONG = ("timepoint", "gene", "change", "vaf", "depth", "alt_count", "status", "mechanism",
              "evidence_level")


def _tp_label(tp: object) -> str:
    if isinstance(tp, Mapping):
        for k in _TP_KEYS:
            if tp.get(k) not in (None, ""):
                return str(tp[k])
        return ""
    return str(tp)


def _protein(r: Mapping[str, JsonValue]) -> str:
    return str(r.get("hgvsp_short") or r.get("hgvsc") or r.get("alteration_class") or r.get("protein") or "")


def _vaf2(v: JsonValue) -> str:
    """A VAF fraction as a percentage to two significant figures; '' when unknown."""
    from annotator.report.trajectory import pct2

    try:
        return "" if v is None or v == "" or v != v else pct2(float(v))
    except (TypeError, ValueError):
        return str(v)


def _text(v: object) -> str:
    """Cell text: None/NaN empty, vocabulary underscores as spaces."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).replace("_", " ")


def _row_texts(r: JsonObject) -> None:
    """Pre-formatted cells of one long-table row (no 'None' ever reaches the page)."""
    r["vaf_text"] = _vaf2(r.get("vaf"))
    lo, hi = r.get("vaf_ci_low"), r.get("vaf_ci_high")
    r["ci_text"] = f"{_vaf2(lo)}–{_vaf2(hi)}" if lo is not None and hi is not None else ""
    r["lod_text"] = _vaf2(r.get("lod_vaf"))
    alt, depth = r.get("alt_count"), r.get("depth")
    r["counts_text"] = f"{_num(alt)}/{_num(depth)}" if alt is not None and depth is not None else ""
    r["status_text"] = _text(r.get("status"))
    r["trend_text"] = _text(r.get("change"))
    r["date_text"] = _text(r.get("date"))


def _timepoint_texts(t: JsonObject) -> None:
    sheet, used = t.get("tumor_fraction"), t.get("tf")
    t["sheet_tf_text"] = _vaf2(sheet) if isinstance(sheet, (int, float)) else _text(sheet)
    lo, hi = t.get("tf_ci_low"), t.get("tf_ci_high")
    ci = f" (95% CI {_vaf2(lo)}–{_vaf2(hi)})" if lo is not None and hi is not None else ""
    src = f", {_text(t.get('tf_source'))}" if t.get("tf_source") else ""
    t["tf_text"] = f"{_vaf2(used)}{ci}{src}" if isinstance(used, (int, float)) else t["sheet_tf_text"]
    call = t.get("mrd_call")
    bits = []
    if t.get("mrd_p_value") is not None:
        from annotator.report.trajectory import p_text

        bits.append(p_text(float(t["mrd_p_value"])))
    if t.get("mrd_lod_vaf") is not None:
        bits.append(f"LoD {_vaf2(t['mrd_lod_vaf'])}")
    t["mrd_text"] = _text(call)
    t["mrd_detail"] = ", ".join(bits)
    t["mrd_class"] = {"positive": "mrd-pos", "negative": "mrd-neg"}.get(str(call), "mrd-na")
    t["response_text"] = _text(t.get("molecular_response"))
    for k in ("sample", "date", "therapy"):
        t[f"{k}_text"] = _text(t.get(k))
    t["input_text"] = _text(t.get("input") or t.get("path") or t.get("vcf"))


def _timepoint_rows(tps: list[JsonValue], labels: list[str],
                    document: Mapping[str, JsonValue] | None) -> list[JsonObject]:
    """Timepoint table rows: what the caller gave, completed from the track document."""
    doc_tps = {str(t.get("label")): t for t in (document or {}).get("timepoints") or []}
    out = []
    for lbl, t in zip(labels, tps, strict=True):
        row = {"label": lbl, **(t if isinstance(t, Mapping) else {})}
        for k, v in ctxmod.to_plain(doc_tps.get(lbl, {})).items():
            if row.get(k) in (None, ""):
                row[k] = v
        _timepoint_texts(row)
        out.append(row)
    return out


def _dated_alerts(alerts: Sequence[Mapping[str, object]], document: Mapping[str, JsonValue] | None,
                  labels: list[str], rows: list[JsonObject]) -> Sequence[Mapping[str, object]]:
    """Add the draw date to alert titles (the track document says which timepoint each is)."""
    doc_alerts = list((document or {}).get("alerts") or [])
    dates = {r["label"]: r.get("date") for r in rows}
    if len(doc_alerts) != len(alerts):
        return list(alerts)
    out = []
    for a, d in zip(alerts, doc_alerts, strict=True):
        date = dates.get(str(d.get("timepoint")))
        title = str(a.get("title") or "")
        out.append({**a, "title": f"{title} ({date})" if date and str(date) not in title else title,
                    "date": date, "timepoint": d.get("timepoint")})
    return out


def patient_context(
    *,
    patient: str,
    timepoints: Sequence[object],
    rows: Sequence[Mapping[str, JsonValue]],
    alerts: Sequence[Mapping[str, object]],
    trajectory_svg_text: str | None,
    provenance: Mapping[str, JsonValue],
    panel: object,
    notes: Sequence[str],
    document: Mapping[str, JsonValue] | None = None,
) -> views.PatientContext:
    tps = [ctxmod.to_plain(t) for t in timepoints]
    labels = [_tp_label(t) for t in tps]
    long_rows = [ctxmod.to_plain(dict(r)) for r in rows]
    for r in long_rows:
        r["protein"] = _protein(r)
        _row_texts(r)
    # one line per alteration with its VAF at each timepoint
    matrix: dict[str, views.AlterationLine] = {}
    for r in long_rows:
        key = str(r.get("variant_key") or f"{r.get('gene', '')} {r['protein']}")
        entry = matrix.setdefault(key, {
            "key": key, "gene": r.get("gene") or "", "change": r["protein"],
            "mechanism": "", "level": "", "strategies": "", "cells": {}, "status": "",
        })
        entry["cells"][str(r.get("timepoint"))] = r
        dst: Literal["mechanism", "level", "strategies", "status"]
        for src, dst in (("mechanism", "mechanism"), ("evidence_level", "level"),
                         ("strategies", "strategies"), ("status", "status")):
            if r.get(src) and (dst != "level" or not entry[dst]
                               or ctxmod.level_rank(r[src]) < ctxmod.level_rank(entry[dst])):
                entry[dst] = str(r[src])
    alterations = []
    for entry in matrix.values():
        vafs = [entry["cells"].get(t, {}).get("vaf") for t in labels]
        entry["vafs"] = vafs
        entry["tp_cells"] = [entry["cells"].get(t, {}) for t in labels]
        last: JsonObject = next((c for c in reversed(entry["tp_cells"]) if c), {})
        entry["status"] = str(last.get("status") or entry["status"] or "")
        entry["level_class"] = ctxmod.level_class(entry["level"])
        entry["level_rank"] = ctxmod.level_rank(entry["level"])
        alterations.append(entry)
    alterations.sort(key=lambda a: (a["level_rank"], a["gene"], a["change"]))
    tp_rows = _timepoint_rows(tps, labels, document)
    # here, not at import: the sample report never draws (xml.etree is ~4 ms of every run)
    from annotator.report.svg import sanitize_svg, trajectory_svg

    svg = sanitize_svg(trajectory_svg_text) if trajectory_svg_text else ""
    if not svg and document is not None:
        from annotator.report.trajectory import draw, from_track

        svg = sanitize_svg(draw(from_track(document, long_rows)))
    if not svg and labels and alterations:
        series = [{"label": f"{a['gene']} {a['change']}".strip(), "values": a["vafs"],
                   "emphasis": bool(a["mechanism"])} for a in alterations[:10]]
        svg = trajectory_svg(tp_rows, series)
    extra = [] if document is not None else sorted(
        {k for r in long_rows for k in r} - set(_CORE_LONG)
        - {"hgvsp_short", "hgvsc", "variant_key", "sample", "patient", "strategies",
           "rule_id", "alteration_class", "protein"})[:6]
    mechanisms: dict[str, views.NamedLevel] = {}
    for a in alterations:
        if a["mechanism"]:
            label = f"{a['gene']} {a['change']}".strip()
            m = mechanisms.setdefault(a["mechanism"], {"name": a["mechanism"], "level": a["level"],
                                                       "alterations": []})
            if label not in m["alterations"]:
                m["alterations"].append(label)
            if ctxmod.level_rank(a["level"]) < ctxmod.level_rank(m["level"]):
                m["level"] = a["level"]
    strategies: dict[str, views.NamedLevel] = {}
    for a in alterations:
        for text in [s.strip() for s in a["strategies"].split(";") if s.strip()]:
            name, level = _strategy_name_level(text, a["level"])
            s = strategies.setdefault(name, {"name": name, "alterations": [], "level": level})
            label = f"{a['gene']} {a['change']}".strip()
            if label not in s["alterations"]:
                s["alterations"].append(label)
    info = ctxmod.panel_info(panel)
    return {
        "kind": "patient",
        "title": f"resmark patient report: {patient}",
        "patient": patient,
        "timepoints": tp_rows,
        "has_mrd": any(t.get("mrd_call") for t in tp_rows),
        "has_tf": any(t.get("tf") is not None or t.get("tumor_fraction") is not None for t in tp_rows),
        "has_therapy": any(t.get("therapy") for t in tp_rows),
        "has_sample": any(t.get("sample") for t in tp_rows),
        "has_response": any(t.get("molecular_response") for t in tp_rows),
        "has_lod": any(r.get("lod_vaf") is not None for r in long_rows),
        "labels": labels,
        "alterations": alterations,
        "long_rows": long_rows,
        "extra_columns": extra,
        "alerts": ctxmod.sort_alerts(_dated_alerts(alerts, document, labels, tp_rows)),
        "svg": svg,
        "mechanisms": sorted(({**m, "level_class": ctxmod.level_class(m["level"])}
                              for m in mechanisms.values()),
                             key=lambda m: ctxmod.level_rank(m["level"])),
        "strategies": sorted(
            ({**s, "level_class": ctxmod.level_class(s["level"])} for s in strategies.values()),
            key=lambda s: (s["name"].startswith("avoid:"), ctxmod.level_rank(s["level"])),
        ),
        "markers": ctxmod.relevant_markers(
            info.get("non_dna_markers") or [],
            [{"id": "", "name": m} for m in mechanisms],
            [{"gene": a["gene"]} for a in alterations],
        ),
        "provenance": ctxmod.provenance_context(provenance),
        "panel": info,
        "notes": [str(n) for n in notes],
        "level_class": ctxmod.level_class,
    }
