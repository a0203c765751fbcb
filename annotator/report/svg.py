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
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence

from annotator.core.jsondoc import JsonValue

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


def trajectory_svg(
    timepoints: Sequence[object],
    series: Sequence[Mapping[str, JsonValue]],
    *,
    width: int = 900,
    title: str = "Variant allele fraction by timepoint",
) -> str:
    """Log-axis VAF plot per alteration across timepoints (``annotator.report.trajectory``).

    ``timepoints``: labels, or dicts with ``label``/``timepoint`` and optional ``date``,
    ``therapy``, ``tumor_fraction``; ``series``: ``{"label": "PIK3CA p.H1047R",
    "values": [0.12, None, 0.3], "emphasis": bool}`` with one VAF (0..1, None = not
    measured) per timepoint.
    """
    from annotator.report.trajectory import draw, from_values

    return draw(from_values(timepoints, series, title), width=width)
