"""VAF-trajectory plots: a self-contained SVG written by hand (no dependency),
plus a PNG when matplotlib (``resmark[plot]``) is installed.

Markers: filled circle = detected, open circle = not detected (measured, with
power), cross = not assessable, nothing = not assessed (the line breaks).
Alerted variants are drawn with a thicker line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from annotator.track.model import Observation

log = logging.getLogger(__name__)

PALETTE = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#666666", "#1f78b4", "#b2df8a", "#fb9a99", "#cab2d6",
)
WIDTH, HEIGHT = 760, 420
MARGIN_L, MARGIN_R, MARGIN_T, MARGIN_B = 70, 230, 50, 70


def _attr(text: str) -> str:
    return escape(text, {'"': "&quot;", "'": "&apos;"})


def _series(by_variant: dict[str, list[Observation]]) -> list[tuple[str, list[Observation]]]:
    return [
        (obs[0].variant.label, obs) for obs in by_variant.values()
        if not obs[0].variant.is_copy_number and any(o.vaf is not None for o in obs)
    ]


def svg_text(
    patient: str,
    labels: Sequence[str],
    by_variant: dict[str, list[Observation]],
    alerted: set[str],
) -> str:
    series = _series(by_variant)
    vmax = max([o.vaf or 0.0 for _, obs in series for o in obs] + [0.01])
    ymax = min(1.0, vmax * 1.15)
    pw, ph = WIDTH - MARGIN_L - MARGIN_R, HEIGHT - MARGIN_T - MARGIN_B
    n = len(labels)

    def x(i: int) -> float:
        return MARGIN_L + (pw * i / (n - 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return MARGIN_T + ph * (1 - v / ymax)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f"<title>{escape(f'VAF trajectories: {patient}')}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{MARGIN_L}" y="28" font-size="16" font-weight="bold">'
        f"{escape(f'{patient}: variant allele fraction over time')}</text>",
        f'<line x1="{MARGIN_L}" y1="{MARGIN_T + ph}" x2="{MARGIN_L + pw}" y2="{MARGIN_T + ph}" stroke="black"/>',
        f'<line x1="{MARGIN_L}" y1="{MARGIN_T}" x2="{MARGIN_L}" y2="{MARGIN_T + ph}" stroke="black"/>',
    ]
    for k in range(6):
        v = ymax * k / 5
        out.append(f'<line x1="{MARGIN_L - 4}" y1="{y(v):.1f}" x2="{MARGIN_L + pw}" y2="{y(v):.1f}" '
                   'stroke="#dddddd"/>')
        out.append(f'<text x="{MARGIN_L - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{100 * v:.1f}%</text>')
    for i, lab in enumerate(labels):
        out.append(f'<text x="{x(i):.1f}" y="{MARGIN_T + ph + 20}" text-anchor="middle">{escape(lab)}</text>')
    out.append(f'<text x="{MARGIN_L + pw / 2:.1f}" y="{HEIGHT - 20}" text-anchor="middle">timepoint</text>')
    out.append(f'<text x="18" y="{MARGIN_T + ph / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 18 {MARGIN_T + ph / 2:.1f})">VAF</text>')
    for j, (label, obs) in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        key = obs[0].variant.variant_key
        width = 3.5 if key in alerted else 1.5
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, o in enumerate(obs):
            if o.vaf is None or o.status == "not_assessed":
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{x(i):.1f},{y(o.vaf):.1f}")
        if segment:
            segments.append(segment)
        out.append(f'<g><title>{escape(label)} ({escape(key)})</title>')
        out.extend(
            f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" stroke-width="{width}"/>'
            for seg in segments if len(seg) > 1
        )
        for i, o in enumerate(obs):
            if o.vaf is None or o.status == "not_assessed":
                continue
            cx, cy = x(i), y(o.vaf)
            tip = f"{label} {o.timepoint}: {o.status}, VAF {100 * o.vaf:.2f}%"
            if o.status == "detected":
                shape = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="{colour}">'
            elif o.status == "not_detected":
                shape = f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4.5" fill="white" stroke="{colour}" stroke-width="1.5">'
            else:
                shape = (f'<path d="M{cx - 4:.1f},{cy - 4:.1f}L{cx + 4:.1f},{cy + 4:.1f}M{cx - 4:.1f},{cy + 4:.1f}'
                         f'L{cx + 4:.1f},{cy - 4:.1f}" stroke="{colour}" stroke-width="1.5">')
            closing = "</circle>" if shape.startswith("<circle") else "</path>"
            out.append(f"{shape}<title>{escape(tip)}</title>{closing}")
        ly = MARGIN_T + 16 * j + 6
        lx = MARGIN_L + pw + 16
        suffix = " (alert)" if key in alerted else ""
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 18}" y2="{ly}" stroke="{colour}" stroke-width="{width}"/>')
        out.append(f'<text x="{lx + 24}" y="{ly + 4}">{escape(_short(label + suffix))}</text>')
        out.append("</g>")
    legend_y = MARGIN_T + 16 * len(series) + 20
    out.append(f'<text x="{MARGIN_L + pw + 16}" y="{legend_y}" fill="#555555" font-size="10">'
               "filled: detected; open: not detected;</text>")
    out.append(f'<text x="{MARGIN_L + pw + 16}" y="{legend_y + 13}" fill="#555555" font-size="10">'
               "x: not assessable; gap: not assessed</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _short(text: str, limit: int = 34) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def write_svg(path: Path, patient: str, labels: Sequence[str],
              by_variant: dict[str, list[Observation]], alerted: set[str]) -> None:
    path.write_text(svg_text(patient, labels, by_variant, alerted), encoding="utf-8")


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_png(path: Path, patient: str, labels: Sequence[str],
              by_variant: dict[str, list[Observation]], alerted: set[str]) -> bool:
    """PNG via matplotlib's object API (no pyplot global state); False when unavailable."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    fig = Figure(figsize=(8, 4.5), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for j, (label, obs) in enumerate(_series(by_variant)):
        colour = PALETTE[j % len(PALETTE)]
        key = obs[0].variant.variant_key
        xs = [i for i, o in enumerate(obs) if o.vaf is not None and o.status != "not_assessed"]
        ys = [100 * (obs[i].vaf or 0.0) for i in xs]
        ax.plot(xs, ys, color=colour, linewidth=3 if key in alerted else 1.5,
                label=label + (" (alert)" if key in alerted else ""))
        for i in xs:
            o = obs[i]
            face = colour if o.status == "detected" else "white"
            marker = "x" if o.status == "not_assessable" else "o"
            ax.scatter([i], [100 * (o.vaf or 0.0)], color=colour, facecolors=face if marker == "o" else None,
                       marker=marker, zorder=3)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(list(labels))
    ax.set_ylabel("VAF (%)")
    ax.set_xlabel("timepoint")
    ax.set_title(f"{patient}: variant allele fraction over time")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(str(path), format="png")
    return True
