"""Inline SVG: a sanitiser for SVG handed in by other modules, and the VAF plot.

SVG handed to the report (``resmark track`` draws its own trajectory plot) is
parsed and re-serialised through an allow-list of elements and attributes:
scripts, event handlers, foreign objects and any reference outside the
document are dropped, and all text is re-escaped.  So labels built from
sample or timepoint names cannot inject markup into the page.
"""

from __future__ import annotations

import html
import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

_ELEMENTS = frozenset({
    "svg", "g", "path", "line", "polyline", "polygon", "rect", "circle", "ellipse", "text",
    "tspan", "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop",
    "marker", "pattern", "mask", "symbol", "use",
})
_ATTRS = frozenset({
    "id", "class", "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "width",
    "height", "d", "points", "transform", "fill", "fill-opacity", "fill-rule", "stroke",
    "stroke-width", "stroke-dasharray", "stroke-linecap", "stroke-linejoin", "stroke-opacity",
    "opacity", "font-size", "font-family", "font-weight", "font-style", "text-anchor",
    "dominant-baseline", "alignment-baseline", "viewBox", "preserveAspectRatio", "role",
    "aria-label", "aria-hidden", "offset", "stop-color", "stop-opacity", "clip-path", "mask",
    "marker-start", "marker-mid", "marker-end", "markerWidth", "markerHeight", "refX", "refY",
    "orient", "markerUnits", "patternUnits", "gradientUnits", "dx", "dy", "rotate",
    "textLength", "lengthAdjust", "vector-effect", "shape-rendering", "style", "href",
    "data-series", "data-label", "focusable", "version", "xmlns",
})
_BAD_VALUE = re.compile(r"javascript:|expression\s*\(|url\s*\(\s*['\"]?(?!#)|@import|<", re.I)
_SVG_NS = "{http://www.w3.org/2000/svg}"
MAX_SVG_CHARS = 5_000_000  # refuse absurd input instead of building a huge page


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1] if name.startswith("{") else name


def _attr_ok(name: str, value: str) -> bool:
    if name not in _ATTRS or name.lower().startswith("on"):
        return False
    if name == "href" and not value.startswith("#"):
        return False
    return not _BAD_VALUE.search(value)


def sanitize_svg(svg: str | None) -> str:
    """Allow-listed re-serialisation of an SVG document; '' when it cannot be parsed."""
    if not svg or not svg.strip():
        return ""
    if len(svg) > MAX_SVG_CHARS:
        log.warning("SVG of %d characters not embedded (limit %d)", len(svg), MAX_SVG_CHARS)
        return ""
    text = svg.strip()
    if text.startswith("<?xml"):
        text = text[text.index("?>") + 2:]
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        log.warning("SVG with a DOCTYPE/ENTITY declaration not embedded")
        return ""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        log.warning("SVG could not be parsed and is not embedded (%s)", e)
        return ""
    if _local(root.tag) != "svg":
        return ""
    out: list[str] = []
    _write(root, out, top=True)
    return "".join(out)


def _write(el: ET.Element, out: list[str], top: bool = False) -> None:
    tag = _local(el.tag)
    if tag not in _ELEMENTS:
        return
    attrs = []
    for raw_name, value in el.attrib.items():
        name = _local(raw_name)
        if _attr_ok(name, value) and name != "xmlns":
            attrs.append(f' {name}="{html.escape(value, quote=True)}"')
    if top:
        attrs.insert(0, ' xmlns="http://www.w3.org/2000/svg"')
    out.append(f"<{tag}{''.join(attrs)}>")
    if el.text:
        out.append(html.escape(el.text, quote=False))
    for child in el:
        _write(child, out)
        if child.tail:
            out.append(html.escape(child.tail, quote=False))
    out.append(f"</{tag}>")


# ----------------------------------------------------------------- VAF trajectory

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207",
           "#be185d", "#4d7c0f", "#334155")


def trajectory_svg(
    timepoints: Sequence[str],
    series: Sequence[Mapping[str, Any]],
    *,
    width: int = 760,
    height: int = 320,
    title: str = "Variant allele fraction by timepoint",
) -> str:
    """Line plot of VAF per alteration across timepoints (inline SVG, escaped).

    ``series``: ``{"label": "PIK3CA p.H1047R", "values": [0.12, None, 0.3], "emphasis": bool}``
    with one value (a fraction 0..1, or None when not measured) per timepoint.
    """
    e = html.escape
    left, right, top, bottom = 56, 190, 34, 44
    pw, ph = width - left - right, height - top - bottom
    n = max(len(timepoints), 1)
    vals = [v for s in series for v in s.get("values", []) if isinstance(v, (int, float))]
    vmax = max([0.05, *vals])
    ymax = _nice_ceiling(vmax)

    def x(i: int) -> float:
        return left + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return top + ph - ph * (v / ymax)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'role="img" aria-label="{e(title)}" class="trajectory">',
             f"<title>{e(title)}</title>"]
    for k in range(5):
        v = ymax * k / 4
        yy = y(v)
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{yy:.1f}" y2="{yy:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" text-anchor="end" class="tick">'
                     f"{e(_pct(v))}</text>")
    for i, tp in enumerate(timepoints):
        parts.append(f'<line x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top}" y2="{top + ph}" class="grid v"/>')
        parts.append(f'<text x="{x(i):.1f}" y="{top + ph + 18}" text-anchor="middle" class="tick">'
                     f"{e(str(tp))}</text>")
    parts.append(f'<text x="{left - 44}" y="{top - 14}" class="axis">VAF</text>')
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        values = list(s.get("values", []))[: len(timepoints)]
        pts = [(x(i), y(float(v))) for i, v in enumerate(values) if isinstance(v, (int, float))
               and not math.isnan(float(v))]
        cls = "series emphasis" if s.get("emphasis") else "series"
        if len(pts) > 1:
            d = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
            parts.append(f'<polyline points="{d}" fill="none" stroke="{colour}" class="{cls}"/>')
        for px, py in pts:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{colour}" class="dot"/>')
        ly = top + 6 + j * 18
        if ly < top + ph:
            parts.append(f'<rect x="{left + pw + 16}" y="{ly - 8}" width="12" height="12" rx="2" fill="{colour}"/>')
            label = str(s.get("label", ""))
            parts.append(f'<text x="{left + pw + 34}" y="{ly + 2}" class="legend">'
                         f"{e(label[:28] + ('…' if len(label) > 28 else ''))}<title>{e(label)}</title></text>")
    parts.append("</svg>")
    return "".join(parts)


def _nice_ceiling(v: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0):
        if v <= step:
            return step
    return math.ceil(v)


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%" if v == 0 or v * 100 >= 1 else f"{v * 100:.1f}%"
