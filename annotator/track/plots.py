"""VAF-trajectory plots of one patient: a self-contained SVG (no dependency), plus a PNG
when matplotlib (``resmark[plot]``) is installed.

Both are drawn from the patient document (``outputs.patient_document``) and the
patient's long-table rows, joined by ``annotator.report.trajectory.from_track``:
log VAF axis with 95 % CI whiskers and the limit-of-detection band, real dates
on the x-axis, therapy bands, dated alert markers, the tumour-fraction trend
and the patient-level MRD call per timepoint (whatever the document carries).

Markers: filled circle = detected, diamond = low-level evidence, open circle =
not detected, cross = not assessable, nothing = not assessed (the line
breaks).  Variants with an alert are drawn thicker.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonValue
from annotator.report.trajectory import PALETTE, THERAPY_FILLS, Point, Trajectory, draw, from_track

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter

log = logging.getLogger(__name__)


def svg_text(document: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]] = ()) -> str:
    return draw(from_track(document, rows)) + "\n"


def write_svg(path: Path, document: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]] = ()) -> None:
    path.write_text(svg_text(document, rows), encoding="utf-8")


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def write_png(path: Path, document: Mapping[str, JsonValue], rows: Sequence[Mapping[str, JsonValue]] = ()) -> bool:
    """PNG via matplotlib's object API (no pyplot global state); False when unavailable."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return False
    t = from_track(document, rows)
    fig = Figure(figsize=(9, 4.8), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    xs = _x_values(t)
    floor = _floor(t)
    _draw_context(ax, t, xs, floor)
    for j, s in enumerate(t.series):
        colour = PALETTE[j % len(PALETTE)]
        pts = [(xs[i], max(p.vaf, floor), p) for i, p in enumerate(s.points) if p.vaf is not None]
        if not pts:
            continue
        label = s.label + (" (alert)" if s.emphasis else "")
        for seg in _segments(s.points, xs, floor):  # a gap where the variant was not assessed
            ax.plot([a for a, _ in seg], [b for _, b in seg], color=colour,
                    linewidth=3 if s.emphasis else 1.5, label=label)
            label = "_nolegend_"
        for xv, yv, p in pts:
            if p.ci_low is not None and p.ci_high is not None:
                ax.vlines(xv, max(p.ci_low, floor), max(p.ci_high, floor), color=colour, linewidth=0.9)
            marker = {"detected": "o", "low_level": "D", "not_detected": "o"}.get(p.status or "", "x")
            face = colour if p.status == "detected" else "white"
            ax.scatter([xv], [yv], color=colour, facecolors=face if marker != "x" else None, marker=marker,
                       zorder=3, s=28)
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_ylabel("VAF (log scale)")
    ax.set_title(t.title)
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(str(path), format="png")
    return True


def _segments(points: Sequence[Point], xs: list[float], floor: float) -> list[list[tuple[float, float]]]:
    out: list[list[tuple[float, float]]] = [[]]
    for i, p in enumerate(points):
        if p.vaf is None:
            out.append([])
        else:
            out[-1].append((xs[i], max(p.vaf, floor)))
    return [seg for seg in out if seg]


def _x_values(t: Trajectory) -> list[float]:
    """Draw dates as matplotlib's day numbers (spaced as the dates are; the ticks are labelled
    with the dates themselves, ``_draw_context``), else the timepoints' order."""
    if t.timepoints and all(tp.date for tp in t.timepoints):
        from matplotlib.dates import date2num

        return [float(date2num(tp.date)) for tp in t.timepoints if tp.date is not None]  # all are
    return [float(i) for i in range(len(t.timepoints))]


def _floor(t: Trajectory) -> float:
    vals = [v for s in t.series for p in s.points for v in (p.vaf, p.ci_low, p.lod) if v]
    vals += [tp.tf for tp in t.timepoints if tp.tf]
    return 10.0 ** math.floor(math.log10(min(vals))) if vals else 1e-3


def _draw_context(ax: Axes, t: Trajectory, xs: list[float], floor: float) -> None:
    """Therapy bands, LoD band, tumour fraction, alert lines, MRD calls and x labels."""
    colours: dict[str, str] = {}
    for i, tp in enumerate(t.timepoints):
        if tp.therapy:
            c = colours.setdefault(tp.therapy, THERAPY_FILLS[len(colours) % len(THERAPY_FILLS)])
            end = xs[i + 1] if i + 1 < len(xs) else xs[i]
            if end != xs[i]:
                ax.axvspan(xs[i], end, color=c, alpha=0.6, zorder=0, linewidth=0)
    lods = []
    for i in range(len(t.timepoints)):
        vals = sorted(s.points[i].lod for s in t.series if s.points[i].lod is not None)  # type: ignore[type-var]
        lods.append(vals[len(vals) // 2] if vals else None)
    band = [(xs[i], v) for i, v in enumerate(lods) if v is not None]
    if band:
        ax.fill_between([a for a, _ in band], [floor] * len(band), [max(b, floor) for _, b in band],
                        color="#8a8a8a", alpha=0.18, label="below limit of detection", step=None)
    tf = [(xs[i], max(tp.tf, floor)) for i, tp in enumerate(t.timepoints) if tp.tf is not None]
    if tf:
        ax.plot([a for a, _ in tf], [b for _, b in tf], color="#111", linestyle="--", marker="s",
                markersize=4, label="tumour fraction")
    index = {tp.label: i for i, tp in enumerate(t.timepoints)}
    for a in t.alerts:
        if a.timepoint in index:
            ax.axvline(xs[index[a.timepoint]], color="#b91c1c", linestyle=":", linewidth=0.9)
    labels = []
    for tp in t.timepoints:
        bits = [tp.date.isoformat() if tp.date else tp.label]
        if tp.date:
            bits.append(tp.label)
        if tp.mrd_call:
            bits.append({"positive": "MRD+", "negative": "MRD-"}.get(tp.mrd_call, "MRD n/a"))
        labels.append("\n".join(bits))
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, fontsize=7)


def _percent_formatter() -> FuncFormatter:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{100 * v:g}%")
