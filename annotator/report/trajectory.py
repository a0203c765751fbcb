"""The serial-sample VAF plot: data joined from a patient document, drawn as inline SVG.

``from_track(document, rows)`` joins ``resmark track``'s patient document
(timepoints with dates, therapy, tumour fraction and MRD call; variants;
alerts) with the long-table rows of that patient (VAF confidence intervals,
status, per-site limit of detection) into a ``Trajectory``; ``draw`` turns it
into SVG (escaped text, no scripts; the report re-sanitises it anyway):

* VAF on a log axis (decades), CI whiskers, the limit-of-detection band
  (median per-site LoD at each timepoint, shaded down to the axis floor);
  VAF 0 and points below the axis sit on the floor line;
* x = real dates when every timepoint has one (labels under the dates), else
  evenly spaced timepoints;
* therapy bands above the plot (consecutive timepoints with the same therapy),
  dated alert markers (triangle + dashed line, date in the tooltip), the
  tumour-fraction trend (dashed, squares, CI whiskers) and a row with the
  patient-level MRD call per timepoint under the axis.

Markers: filled circle = detected, diamond = low-level evidence, open circle
= not detected, cross = not assessable; a gap = not assessed.
Fields that a document lacks (older runs: no MRD, no LoD) are simply not drawn.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from annotator.core.jsondoc import JsonValue

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207",
           "#be185d", "#4d7c0f", "#334155", "#9333ea", "#0f766e")
THERAPY_FILLS = ("#e0ecf8", "#fdebd3", "#e3f4e1", "#efe4f8", "#f8e1e1", "#e0f2f4")
FLOOR = 1e-5  # lowest VAF the axis ever shows (0.001 %)
MRD_TEXT = {"positive": "MRD+", "negative": "MRD\u2212", "not_assessable": "MRD n/a"}
INCREASE_ALERTS = frozenset({"emerging", "rising", "polyclonal"})
_X = Callable[[int], float]  # timepoint index -> x
_Y = Callable[[float | None], float]  # VAF -> y


@dataclass(frozen=True, slots=True)
class Point:
    vaf: float | None  # None: not assessed (a gap)
    ci_low: float | None = None
    ci_high: float | None = None
    status: str | None = None
    lod: float | None = None
    alt: int | None = None
    depth: int | None = None


@dataclass(frozen=True, slots=True)
class Series:
    key: str
    label: str
    points: tuple[Point, ...]
    emphasis: bool = False


@dataclass(frozen=True, slots=True)
class TimepointInfo:
    label: str
    date: dt.date | None = None
    therapy: str | None = None
    tf: float | None = None
    tf_low: float | None = None
    tf_high: float | None = None
    tf_source: str | None = None
    mrd_call: str | None = None
    mrd_p: float | None = None
    mrd_lod: float | None = None


@dataclass(frozen=True, slots=True)
class AlertMark:
    timepoint: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Trajectory:
    title: str
    timepoints: tuple[TimepointInfo, ...]
    series: tuple[Series, ...]
    alerts: tuple[AlertMark, ...] = ()


# ----------------------------------------------------------------- joining


def _num(v: JsonValue) -> float | None:
    if isinstance(v, bool) or v is None or v == "":
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _int(v: JsonValue) -> int | None:
    f = _num(v)
    return None if f is None else int(f)


def _date(v: object) -> dt.date | None:
    if isinstance(v, dt.date):
        return v
    try:
        return dt.date.fromisoformat(str(v)[:10]) if v else None
    except ValueError:
        return None


def protein_label(gene: object, row: Mapping[str, JsonValue]) -> str:
    what = row.get("hgvsp_short") or row.get("hgvsc") or row.get("alteration_class") or row.get("label") \
        or row.get("variant_key") or ""
    return f"{gene} {what}".strip() if gene and not str(what).startswith(str(gene)) else str(what)


def from_track(document: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]] = ()) -> Trajectory:
    """A ``Trajectory`` from a track patient document (+ its long-table rows, for CIs and LoDs)."""
    tps = []
    for t in document.get("timepoints") or []:
        tf = _num(t.get("tf"))
        tf = tf if tf is not None else _num(t.get("tumor_fraction"))
        tps.append(TimepointInfo(
            label=str(t.get("label") or t.get("timepoint") or ""), date=_date(t.get("date")),
            therapy=(str(t["therapy"]) if t.get("therapy") else None), tf=tf,
            tf_low=_num(t.get("tf_ci_low")), tf_high=_num(t.get("tf_ci_high")),
            tf_source=t.get("tf_source") or ("sheet" if tf is not None else None),
            mrd_call=t.get("mrd_call") or ((t.get("mrd") or {}).get("call") if isinstance(t.get("mrd"), Mapping) else None),
            mrd_p=_num(t.get("mrd_p_value")), mrd_lod=_num(t.get("mrd_lod_vaf")),
        ))
    labels = [t.label for t in tps]
    by_cell = {(str(r.get("variant_key")), str(r.get("timepoint"))): r for r in rows}
    alerts = list(document.get("alerts") or [])
    alerted = {k for a in alerts for k in (a.get("variant_keys") or [])}
    series = []
    for v in document.get("variants") or []:
        key = str(v.get("variant_key"))
        traj = {str(o.get("timepoint")): o for o in v.get("trajectory") or []}
        points = []
        for lab in labels:
            o, r = traj.get(lab, {}), by_cell.get((key, lab), {})
            status = o.get("status") or r.get("status")
            vaf = _num(o.get("vaf")) if o.get("vaf") is not None else _num(r.get("vaf"))
            if status == "not_assessed":
                vaf = None
            lod = _num(r.get("lod_vaf")) if r.get("lod_vaf") is not None else _num(o.get("lod_vaf"))
            points.append(Point(vaf, _num(r.get("vaf_ci_low")), _num(r.get("vaf_ci_high")), status, lod,
                                _int(o.get("alt_count", r.get("alt_count"))), _int(o.get("depth", r.get("depth")))))
        if all(p.vaf is None for p in points):
            continue  # copy-number calls and never-measured variants: no VAF to draw
        first_row = next((by_cell[(key, lab)] for lab in labels if (key, lab) in by_cell), {})
        label = protein_label(v.get("gene"), {**first_row, **{k: x for k, x in v.items() if x}})
        series.append(Series(key, label, tuple(points), key in alerted))
    marks = []
    for a in alerts:
        what = ", ".join(a.get("alterations") or []) or str(a.get("gene") or "")
        marks.append(AlertMark(str(a.get("timepoint") or ""), str(a.get("kind") or "alert"), what))
    return Trajectory(f"{document.get('patient', '')}: VAF over time".strip(": "), tuple(tps), tuple(series),
                      tuple(marks))


def from_values(timepoints: Sequence[object], series: Sequence[Mapping[str, JsonValue]], title: str) -> Trajectory:
    """The simple form: timepoint labels (or dicts with label/date) and per-series VAF lists."""
    tps = []
    for t in timepoints:
        if isinstance(t, Mapping):
            tps.append(TimepointInfo(str(t.get("label") or t.get("timepoint") or ""), _date(t.get("date")),
                                     t.get("therapy"), _num(t.get("tumor_fraction"))))
        else:
            tps.append(TimepointInfo(str(t)))
    out = []
    for i, s in enumerate(series):
        vals = list(s.get("values") or [])[: len(tps)]
        vals += [None] * (len(tps) - len(vals))
        out.append(Series(str(s.get("key") or i), str(s.get("label") or ""),
                          tuple(Point(_num(v), status="detected" if _num(v) else None) for v in vals),
                          bool(s.get("emphasis"))))
    return Trajectory(title, tuple(tps), tuple(out))


# ----------------------------------------------------------------- formatting


def pct2(v: float | None) -> str:
    """A fraction as a percentage to two significant figures ('1.2%', '0.056%', '18%')."""
    if v is None:
        return "\u2013"
    x = 100 * v
    if x == 0:
        return "0%"
    digits = max(0, 1 - math.floor(math.log10(abs(x))))
    return f"{x:.{digits}f}%"


def _decade(v: float) -> str:
    x = 100 * v
    return f"{x:g}%" if x >= 1 else f"{x:.{-math.floor(math.log10(x) + 1e-9)}f}%"


def p_text(p: float) -> str:
    """A p-value for display; values below double precision's reach as '< 1e-15'."""
    return f"p = {p:.2g}" if p >= 1e-15 else "p < 1e-15"


# ----------------------------------------------------------------- drawing


def draw(t: Trajectory, *, width: int = 900) -> str:
    e = html.escape
    n = len(t.timepoints)
    left, right = 64, 230
    top = 34 + (20 if any(tp.therapy for tp in t.timepoints) else 0) + (18 if t.alerts else 0)
    ph = 280
    has_mrd = any(tp.mrd_call for tp in t.timepoints)
    legend_rows = len(t.series) + 5
    height = max(top + ph + 58 + (18 if has_mrd else 0), 34 + 16 * legend_rows + 10)
    pw = width - left - right
    dates = [tp.date for tp in t.timepoints]
    dated = n > 0 and all(d is not None for d in dates)

    def x(i: int) -> float:
        if n <= 1:
            return left + pw / 2
        if dated:
            d0, d1 = dates[0], dates[-1]
            span = (d1 - d0).days if d0 and d1 else 0
            if span > 0:
                return left + pw * ((dates[i] - d0).days / span)  # type: ignore[operator]
        return left + pw * i / (n - 1)

    values = [v for s in t.series for p in s.points for v in (p.vaf, p.ci_low, p.ci_high, p.lod)
              if v is not None and v > 0]
    values += [v for tp in t.timepoints for v in (tp.tf, tp.tf_low, tp.tf_high) if v is not None and v > 0]
    lo_exp = max(math.floor(math.log10(min(values))) if values else -3, math.floor(math.log10(FLOOR)))
    hi_exp = min(max(math.ceil(math.log10(max(values))) if values else -1, lo_exp + 1), 0)
    lo_exp = min(lo_exp, hi_exp - 1)

    def y(v: float | None) -> float:
        if v is None or v <= 10 ** lo_exp:
            return top + ph
        return top + ph * (1 - (math.log10(min(v, 1.0)) - lo_exp) / (hi_exp - lo_exp))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" aria-label="{e(t.title)}" class="trajectory" '
           'font-family="Helvetica, Arial, sans-serif" font-size="11">',
           f"<title>{e(t.title)}</title>",
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{left}" y="20" font-size="14" font-weight="bold">{e(t.title)}</text>']
    band_y = 30
    out += _therapy_bands(t, x, band_y, left, pw)
    # axes and decades
    for k in range(lo_exp, hi_exp + 1):
        yy = y(10.0 ** k)
        out.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="#e2e2e2" class="grid"/>')
        out.append(f'<text x="{left - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">{e(_decade(10.0 ** k))}</text>')
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#333"/>')
    out.append(f'<text x="14" y="{top + ph / 2:.1f}" text-anchor="middle" transform="rotate(-90 14 '
               f'{top + ph / 2:.1f})" class="axis">VAF (log scale)</text>')
    for i, tp in enumerate(t.timepoints):
        xx = x(i)
        out.append(f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{top}" y2="{top + ph}" stroke="#f0f0f0" class="grid v"/>')
        first = tp.date.isoformat() if tp.date else tp.label
        out.append(f'<text x="{xx:.1f}" y="{top + ph + 16}" text-anchor="middle" class="tick date">{e(first)}</text>')
        if tp.date:
            out.append(f'<text x="{xx:.1f}" y="{top + ph + 29}" text-anchor="middle" class="tick" '
                       f'fill="#555">{e(tp.label)}</text>')
    out += _lod_band(t, x, y, top + ph)
    out += _alert_marks(t, x, top, ph)
    out += _tumour_fraction(t, x, y)
    for j, s in enumerate(t.series):
        out += _series(s, PALETTE[j % len(PALETTE)], t, x, y)
    if has_mrd:
        out += _mrd_row(t, x, top + ph + 46)
    out += _legend(t, left + pw + 18, 34)
    out.append("</svg>")
    return "".join(out)


def _therapy_bands(t: Trajectory, x: _X, y0: float, left: float, pw: float) -> list[str]:
    out: list[str] = []
    groups: list[tuple[int, int, str]] = []
    for i, tp in enumerate(t.timepoints):
        if tp.therapy and groups and groups[-1][2] == tp.therapy and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i, tp.therapy)
        elif tp.therapy:
            groups.append((i, i, tp.therapy))
    colours: dict[str, str] = {}
    for a, b, text in groups:
        colour = colours.setdefault(text, THERAPY_FILLS[len(colours) % len(THERAPY_FILLS)])
        x0 = x(a) - (6 if a == 0 else 0)
        x1 = x(b + 1) if b + 1 < len(t.timepoints) else x(b) + 6
        w = max(x1 - x0, 8)
        chars = max(int(w / 6), 1)
        shown = text if len(text) <= chars else text[: max(chars - 1, 1)] + "\u2026"
        out.append(f'<g class="therapy-band"><title>{html.escape(f"therapy: {text}")}</title>'
                   f'<rect x="{x0:.1f}" y="{y0}" width="{w:.1f}" height="16" fill="{colour}" stroke="#bbb" '
                   'stroke-width="0.5"/>'
                   f'<text x="{x0 + 3:.1f}" y="{y0 + 12}" font-size="10" fill="#333">{html.escape(shown)}</text></g>')
    return out


def _lod_band(t: Trajectory, x: _X, y: _Y, floor_y: float) -> list[str]:
    lods = []
    for i in range(len(t.timepoints)):
        vals = [s.points[i].lod for s in t.series if s.points[i].lod is not None]
        lods.append(statistics.median(vals) if vals else None)  # type: ignore[type-var]
    pts = [(x(i), y(v), v) for i, v in enumerate(lods) if v is not None]
    if not pts:
        return []
    if len(pts) == 1:
        px, py, _v = pts[0]
        pts = [(px - 8, py, _v), (px + 8, py, _v)]
    poly = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in pts)
    poly += f" {pts[-1][0]:.1f},{floor_y:.1f} {pts[0][0]:.1f},{floor_y:.1f}"
    tip = "limit of detection (median over the sites): " + ", ".join(
        f"{tp.label} {pct2(v)}" for tp, v in zip(t.timepoints, lods, strict=True) if v is not None)
    return [f'<g class="lod-band"><title>{html.escape(tip)}</title><polygon points="{poly}" fill="#8a8a8a" '
            'fill-opacity="0.16" stroke="#8a8a8a" stroke-dasharray="3 3" stroke-width="0.8"/></g>']


def _alert_marks(t: Trajectory, x: _X, top: float, ph: float) -> list[str]:
    """One marker per timepoint with alerts (a count when several), every alert in its tooltip."""
    out: list[str] = []
    index = {tp.label: i for i, tp in enumerate(t.timepoints)}
    by_tp: dict[int, list[AlertMark]] = {}
    for a in t.alerts:
        if a.timepoint in index:
            by_tp.setdefault(index[a.timepoint], []).append(a)
    for i, marks in sorted(by_tp.items()):
        xx, yy = x(i), top - 12
        tp = t.timepoints[i]
        when = f"{tp.label}, {tp.date.isoformat()}" if tp.date else tp.label
        colour = "#b91c1c" if any(a.kind in INCREASE_ALERTS for a in marks) else "#a16207"
        tip = "; ".join(f"{a.kind.replace('_', ' ')}: {a.text}" for a in marks) + f" ({when})"
        count = (f'<text x="{xx + 7:.1f}" y="{yy + 7:.1f}" font-size="10" font-weight="bold" fill="{colour}">'
                 f"{len(marks)}</text>") if len(marks) > 1 else ""
        out.append(f'<g class="alert-marker"><title>{html.escape(tip)}</title>'
                   f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{yy + 8:.1f}" y2="{top + ph:.1f}" stroke="{colour}" '
                   'stroke-dasharray="2 3" stroke-width="0.8"/>'
                   f'<path d="M{xx - 5:.1f},{yy:.1f}L{xx + 5:.1f},{yy:.1f}L{xx:.1f},{yy + 8:.1f}Z" fill="{colour}"/>'
                   f"{count}</g>")
    return out


def _tumour_fraction(t: Trajectory, x: _X, y: _Y) -> list[str]:
    pts = [(i, tp) for i, tp in enumerate(t.timepoints) if tp.tf is not None]
    if not pts:
        return []
    out = ['<g class="tf-line">']
    line = " ".join(f"{x(i):.1f},{y(tp.tf):.1f}" for i, tp in pts)
    if len(pts) > 1:
        out.append(f'<polyline points="{line}" fill="none" stroke="#111" stroke-width="1.4" stroke-dasharray="6 4"/>')
    for i, tp in pts:
        xx, yy = x(i), y(tp.tf)
        if tp.tf_low is not None and tp.tf_high is not None:
            out.append(_whisker(xx, y(tp.tf_low), y(tp.tf_high), "#111"))
        src = f" ({tp.tf_source})" if tp.tf_source else ""
        ci = f", 95% CI {pct2(tp.tf_low)}-{pct2(tp.tf_high)}" if tp.tf_low is not None and tp.tf_high is not None else ""
        out.append(f'<rect x="{xx - 3.5:.1f}" y="{yy - 3.5:.1f}" width="7" height="7" fill="#111">'
                   f"<title>{html.escape(f'tumour fraction{src} at {tp.label}: {pct2(tp.tf)}{ci}')}</title></rect>")
    out.append("</g>")
    return out


def _whisker(xx: float, y_low: float, y_high: float, colour: str) -> str:
    return (f'<path d="M{xx:.1f},{y_low:.1f}L{xx:.1f},{y_high:.1f}M{xx - 3:.1f},{y_low:.1f}L{xx + 3:.1f},'
            f'{y_low:.1f}M{xx - 3:.1f},{y_high:.1f}L{xx + 3:.1f},{y_high:.1f}" stroke="{colour}" '
            'stroke-width="1" class="whisker"/>')


def _series(s: Series, colour: str, t: Trajectory, x: _X, y: _Y) -> list[str]:
    width = 3 if s.emphasis else 1.6
    out = [f'<g class="series{" emphasis" if s.emphasis else ""}"><title>{html.escape(s.label)}</title>']
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, p in enumerate(s.points):
        if p.vaf is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(p.vaf):.1f}")
    if segment:
        segments.append(segment)
    out += [f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="{width}"/>'
            for seg in segments if len(seg) > 1]
    for i, p in enumerate(s.points):
        if p.vaf is None:
            continue
        cx, cy = x(i), y(p.vaf)
        if p.ci_low is not None and p.ci_high is not None:
            out.append(_whisker(cx, y(p.ci_low), y(p.ci_high), colour))
        tp = t.timepoints[i]
        when = f"{tp.label}, {tp.date.isoformat()}" if tp.date else tp.label
        bits = [f"{s.label} at {when}: {(p.status or 'measured').replace('_', ' ')}", f"VAF {pct2(p.vaf)}"]
        if p.ci_low is not None and p.ci_high is not None:
            bits.append(f"95% CI {pct2(p.ci_low)}-{pct2(p.ci_high)}")
        if p.alt is not None and p.depth is not None:
            bits.append(f"{p.alt}/{p.depth} alt/depth")
        if p.lod is not None:
            bits.append(f"LoD {pct2(p.lod)}")
        tip = f"<title>{html.escape(', '.join(bits))}</title>"
        out.append(_marker(p.status, cx, cy, colour, tip))
    out.append("</g>")
    return out


def _marker(status: str | None, cx: float, cy: float, colour: str, tip: str) -> str:
    if status == "detected":
        return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{colour}" class="dot detected">{tip}</circle>'
    if status == "low_level":
        return (f'<path d="M{cx:.1f},{cy - 5:.1f}L{cx + 5:.1f},{cy:.1f}L{cx:.1f},{cy + 5:.1f}L{cx - 5:.1f},{cy:.1f}Z" '
                f'fill="white" stroke="{colour}" stroke-width="1.6" class="dot low-level">{tip}</path>')
    if status == "not_detected":
        return (f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="white" stroke="{colour}" stroke-width="1.6" '
                f'class="dot not-detected">{tip}</circle>')
    return (f'<path d="M{cx - 4:.1f},{cy - 4:.1f}L{cx + 4:.1f},{cy + 4:.1f}M{cx - 4:.1f},{cy + 4:.1f}L{cx + 4:.1f},'
            f'{cy - 4:.1f}" stroke="{colour}" stroke-width="1.6" class="dot not-assessable">{tip}</path>')


def _mrd_row(t: Trajectory, x: _X, yy: float) -> list[str]:
    out = ['<g class="mrd-row">', f'<text x="6" y="{yy:.1f}" font-size="10" fill="#555">MRD</text>']
    for i, tp in enumerate(t.timepoints):
        if not tp.mrd_call:
            continue
        colour = {"positive": "#b91c1c", "negative": "#15803d"}.get(tp.mrd_call, "#666")
        bits = [f"patient-level MRD at {tp.label}: {tp.mrd_call.replace('_', ' ')}"]
        if tp.mrd_p is not None:
            bits.append(p_text(tp.mrd_p))
        if tp.mrd_lod is not None:
            bits.append(f"LoD {pct2(tp.mrd_lod)}")
        out.append(f'<text x="{x(i):.1f}" y="{yy:.1f}" text-anchor="middle" font-weight="bold" fill="{colour}" '
                   f'class="mrd-call">{html.escape(MRD_TEXT.get(tp.mrd_call, tp.mrd_call))}'
                   f"<title>{html.escape(', '.join(bits))}</title></text>")
    out.append("</g>")
    return out


def _legend(t: Trajectory, lx: float, ly: float) -> list[str]:
    out = ['<g class="legend">']
    row = 0
    for j, s in enumerate(t.series):
        yy = ly + 16 * row
        colour = PALETTE[j % len(PALETTE)]
        label = s.label + (" (alert)" if s.emphasis else "")
        shown = label if len(label) <= 30 else label[:29] + "\u2026"
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{yy}" y2="{yy}" stroke="{colour}" '
                   f'stroke-width="{3 if s.emphasis else 1.6}"/>'
                   f'<text x="{lx + 24}" y="{yy + 4}" class="legend">{html.escape(shown)}'
                   f"<title>{html.escape(label)}</title></text>")
        row += 1
    if any(tp.tf is not None for tp in t.timepoints):
        yy = ly + 16 * row
        out.append(f'<line x1="{lx}" x2="{lx + 18}" y1="{yy}" y2="{yy}" stroke="#111" stroke-dasharray="6 4"/>'
                   f'<text x="{lx + 24}" y="{yy + 4}">tumour fraction</text>')
        row += 1
    if any(p.lod is not None for s in t.series for p in s.points):
        yy = ly + 16 * row
        out.append(f'<rect x="{lx}" y="{yy - 5}" width="18" height="10" fill="#8a8a8a" fill-opacity="0.16"/>'
                   f'<text x="{lx + 24}" y="{yy + 4}">below limit of detection</text>')
        row += 1
    yy = ly + 16 * row + 6
    out.append(f'<text x="{lx}" y="{yy}" font-size="9.5" fill="#555">\u25cf detected \u25c7 low level '
               "\u25cb not detected</text>"
               f'<text x="{lx}" y="{yy + 12}" font-size="9.5" fill="#555">\u00d7 not assessable; gap: not '
               "assessed; bars: 95% CI</text>")
    out.append("</g>")
    return out
