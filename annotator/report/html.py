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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from annotator.core.about import RESEARCH_USE_ONLY, __version__
from annotator.errors import OutputError
from annotator.report import context as ctxmod
from annotator.report.svg import sanitize_svg, trajectory_svg

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"


@functools.cache
def _environment() -> Any:
    # one environment per process: it caches the compiled templates (a cohort renders
    # hundreds of reports; compiling them again for each was most of the HTML cost)
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = _pct
    env.filters["num"] = _num
    return env


def _pct(v: Any) -> str:
    if v is None or v == "":
        return ""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return f"{f:.1f}%"


def _num(v: Any) -> str:
    if v is None or v == "":
        return ""
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _static(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _csp_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _render(template: str, data: Mapping[str, Any]) -> str:
    env = _environment()
    css = _static("report.css")
    js = _static("report.js")
    page = env.get_template(template).render(
        **data,
        css=css,
        js=js,
        csp_script=_csp_hash(js),
        research_use_only=RESEARCH_USE_ONLY,
        tool_version=__version__,
        level_order=ctxmod.LEVEL_ORDER,
    )
    return str(page)


def _write_text(path: str | Path, text: str) -> None:
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as e:
        raise OutputError(f"cannot write HTML report ({e.strerror})", path=path) from e


# ----------------------------------------------------------------- sample


def render_sample_document(document: Mapping[str, Any], panel: Mapping[str, Any] | None = None) -> str:
    """HTML for one sample from its JSON document; ``panel`` from ``context.panel_info``."""
    return _render("sample.html.j2", ctxmod.sample_context(document, panel))


def write_sample_report(
    path: str | Path, document: Mapping[str, Any], panel: Mapping[str, Any] | None = None
) -> None:
    """Write ``<sample>.report.html`` from the sample document (``annotator.annotation.document``)."""
    _write_text(path, render_sample_document(document, panel))


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
    timepoints: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]] = (),
    trajectory_svg_text: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    panel: Any = None,
    notes: Sequence[str] = (),
) -> str:
    """HTML for one patient across timepoints (see ``write_patient_report``)."""
    data = patient_context(
        patient=patient, timepoints=timepoints, rows=rows, alerts=alerts,
        trajectory_svg_text=trajectory_svg_text, provenance=provenance or {}, panel=panel,
        notes=notes,
    )
    return _render("patient.html.j2", data)


def write_patient_report(
    path: str | Path,
    *,
    patient: str,
    timepoints: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]] = (),
    trajectory_svg_text: str | None = None,
    provenance: Mapping[str, Any] | None = None,
    panel: Any = None,
    notes: Sequence[str] = (),
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
    """
    _write_text(path, render_patient_report(
        patient=patient, timepoints=timepoints, rows=rows, alerts=alerts,
        trajectory_svg_text=trajectory_svg_text, provenance=provenance, panel=panel, notes=notes,
    ))


_TP_KEYS = ("timepoint", "label", "name", "id")
_CORE_LONG = ("timepoint", "gene", "change", "vaf", "depth", "alt_count", "status", "mechanism",
              "evidence_level")


def _tp_label(tp: Any) -> str:
    if isinstance(tp, Mapping):
        for k in _TP_KEYS:
            if tp.get(k) not in (None, ""):
                return str(tp[k])
        return ""
    return str(tp)


def patient_context(
    *,
    patient: str,
    timepoints: Sequence[Any],
    rows: Sequence[Mapping[str, Any]],
    alerts: Sequence[Mapping[str, Any]],
    trajectory_svg_text: str | None,
    provenance: Mapping[str, Any],
    panel: Any,
    notes: Sequence[str],
) -> dict[str, Any]:
    tps = [ctxmod.to_plain(t) for t in timepoints]
    labels = [_tp_label(t) for t in tps]
    long_rows = [ctxmod.to_plain(dict(r)) for r in rows]
    for r in long_rows:
        r.setdefault("change", r.get("hgvsp_short") or r.get("hgvsc") or r.get("alteration_class") or "")
    # one line per alteration with its VAF at each timepoint
    matrix: dict[str, dict[str, Any]] = {}
    for r in long_rows:
        key = str(r.get("variant_key") or f"{r.get('gene', '')} {r.get('change', '')}")
        entry = matrix.setdefault(key, {
            "key": key, "gene": r.get("gene") or "", "change": r.get("change") or "",
            "mechanism": "", "level": "", "strategies": "", "cells": {}, "status": "",
        })
        entry["cells"][str(r.get("timepoint"))] = r
        for src, dst in (("mechanism", "mechanism"), ("evidence_level", "level"),
                         ("strategies", "strategies"), ("status", "status")):
            if r.get(src) and (dst != "level" or not entry[dst]
                               or ctxmod.level_rank(r[src]) < ctxmod.level_rank(entry[dst])):
                entry[dst] = str(r[src])
    alterations = []
    for entry in matrix.values():
        vafs = [entry["cells"].get(t, {}).get("vaf") for t in labels]
        entry["vafs"] = vafs
        entry["level_class"] = ctxmod.level_class(entry["level"])
        entry["level_rank"] = ctxmod.level_rank(entry["level"])
        alterations.append(entry)
    alterations.sort(key=lambda a: (a["level_rank"], a["gene"], a["change"]))
    svg = sanitize_svg(trajectory_svg_text) if trajectory_svg_text else ""
    if not svg and labels and alterations:
        series = [{"label": f"{a['gene']} {a['change']}".strip(), "values": a["vafs"],
                   "emphasis": bool(a["mechanism"])} for a in alterations[:10]]
        svg = trajectory_svg(labels, series)
    extra = sorted({k for r in long_rows for k in r} - set(_CORE_LONG)
                   - {"hgvsp_short", "hgvsc", "variant_key", "sample", "patient", "strategies",
                      "rule_id", "alteration_class"})[:6]
    mechanisms: dict[str, dict[str, Any]] = {}
    for a in alterations:
        if a["mechanism"]:
            label = f"{a['gene']} {a['change']}".strip()
            m = mechanisms.setdefault(a["mechanism"], {"name": a["mechanism"], "level": a["level"],
                                                       "alterations": []})
            if label not in m["alterations"]:
                m["alterations"].append(label)
            if ctxmod.level_rank(a["level"]) < ctxmod.level_rank(m["level"]):
                m["level"] = a["level"]
    strategies: dict[str, dict[str, Any]] = {}
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
        "timepoints": [{"label": lbl, **(t if isinstance(t, Mapping) else {})}
                       for lbl, t in zip(labels, tps, strict=True)],
        "labels": labels,
        "alterations": alterations,
        "long_rows": long_rows,
        "extra_columns": extra,
        "alerts": ctxmod.sort_alerts(alerts),
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
