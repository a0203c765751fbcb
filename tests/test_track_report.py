"""What the analyst sees of ``resmark track``: the patient HTML and the VAF plot.

A constructed patient document with every field ``track`` writes (dates,
therapy, tumour fraction with its interval, MRD call, per-site LoD, alerts),
and one from an older run without MRD/LoD/TF (they are simply not drawn).
"""

from __future__ import annotations

import copy
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from annotator.report import html
from annotator.report.trajectory import draw, from_track, pct2
from annotator.track import plots

TPS = (("T0", "2024-01-08", "none (baseline)", 0.12, "positive", 1e-6, 0.0004, "baseline"),
       ("T1", "2024-03-18", "fulvestrant + palbociclib", 0.004, "positive", 0.003, 0.0006, "response"),
       ("T2", "2024-06-03", "fulvestrant + palbociclib", 0.0, "negative", 0.41, 0.0005, "clearance"),
       ("T3", "2024-08-26", "fulvestrant + palbociclib", 0.06, "positive", 1e-9, 0.0004, "progression"))
# variant_key, gene, protein, VAF per timepoint, status per timepoint
VARIANTS = (
    ("chr3:179234297:A>G", "PIK3CA", "p.H1047R", (0.061, 0.0021, 0.0, 0.033),
     ("detected", "detected", "not_detected", "detected")),
    ("chr6:152098788:A>C", "ESR1", "p.Y537S", (0.0, 0.0, 0.0004, 0.0123),
     ("not_detected", "not_detected", "low_level", "detected")),
    ("chr17:7675088:C>T", "TP53", "p.R175H", (0.058, None, 0.0, 0.031),
     ("detected", "not_assessed", "not_detected", "detected")),
)


def track_document(full: bool = True) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    timepoints, rows = [], []
    for label, date, therapy, tf, mrd, p, lod, response in TPS:
        t: dict[str, Any] = {"label": label, "date": date, "therapy": therapy, "tumor_fraction": None,
                             "vcf": f"{label}.vcf", "vcf_sample": None, "reads": None}
        if full:
            t.update({"tf": tf, "tf_ci_low": tf * 0.7, "tf_ci_high": tf * 1.3 + 1e-4, "tf_source": "estimate",
                      "mrd_call": mrd, "mrd_p_value": p, "mrd_lod_vaf": lod, "molecular_response": response})
        timepoints.append(t)
    variants = []
    for key, gene, prot, vafs, statuses in VARIANTS:
        traj = []
        for (label, date, therapy, *_rest), vaf, status in zip(TPS, vafs, statuses, strict=True):
            depth = 3000
            alt = None if vaf is None else round(vaf * depth)
            o = {"timepoint": label, "status": status, "vaf": vaf, "alt_count": alt,
                 "depth": None if vaf is None else depth, "change": None, "lod_vaf": 0.0008 if full else None}
            traj.append(o)
            rows.append({"patient": "PT-9", "timepoint": label, "date": date, "variant_key": key, "gene": gene,
                         "hgvsp_short": prot, "hgvsc": None, "vaf": vaf, "alt_count": alt,
                         "depth": o["depth"], "vaf_ci_low": None if vaf is None else vaf * 0.6,
                         "vaf_ci_high": None if vaf is None else vaf * 1.5 + 0.0005, "status": status,
                         "change": "baseline" if label == "T0" else "stable", "therapy": therapy,
                         "mechanism": "ESR1 LBD mutation" if gene == "ESR1" else None,
                         "evidence_level": "A" if gene == "ESR1" else None, "tumor_fraction": None,
                         **({"lod_vaf": 0.0008} if full else {})})
        variants.append({"variant_key": key, "label": f"{gene} {prot}", "gene": gene, "hgvsp_short": prot,
                         "trajectory": traj})
    alerts = [{"kind": "emerging", "timepoint": "T3", "gene": "ESR1", "alterations": ["ESR1 p.Y537S"],
               "variant_keys": ["chr6:152098788:A>C"], "message": "ESR1 p.Y537S emerging vs T2",
               "confidence": "supported"}]
    doc = {"patient": "PT-9", "genome_build": "GRCh38", "baseline": "T0", "timepoints": timepoints,
           "variants": variants, "alerts": alerts}
    return doc, rows


def report_kwargs(full: bool = True) -> dict[str, Any]:
    doc, rows = track_document(full)
    tps = [{"timepoint": t["label"], "date": t["date"], "sample": None, "tumor_fraction": None,
            "input": t["vcf"]} for t in doc["timepoints"]]
    alerts = [{"severity": "high", "title": "emerging: ESR1 p.Y537S at T3", "message": "vs T2"}]
    return {"patient": "PT-9", "timepoints": tps, "rows": rows, "alerts": alerts,
            "trajectory_svg_text": plots.svg_text(doc, rows), "provenance": {}, "document": doc}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)


def _text(page: str) -> str:
    p = _Text()
    p.feed(page)
    return " ".join(p.chunks)


def test_pct2_two_significant_figures() -> None:
    assert [pct2(v) for v in (0.18, 0.0123, 0.00056, 0.061, 1.0, 0.0, None)] == \
        ["18%", "1.2%", "0.056%", "6.1%", "100%", "0%", "\u2013"]


def test_plot_log_axis_dates_bands_markers() -> None:
    doc, rows = track_document()
    svg = draw(from_track(doc, rows))
    # decades of a log axis, never a linear 0 % tick
    assert ">0.01%<" in svg and ">0.1%<" in svg and ">1%<" in svg and ">10%<" in svg
    assert ">0%<" not in svg
    for date in ("2024-01-08", "2024-03-18", "2024-06-03", "2024-08-26"):
        assert date in svg
    assert svg.count('class="therapy-band"') == 2  # baseline, then one therapy over T1-T3
    assert 'class="lod-band"' in svg and 'class="tf-line"' in svg
    assert svg.count('class="alert-marker"') == 1 and "emerging: ESR1 p.Y537S (T3, 2024-08-26)" in svg
    assert svg.count('class="mrd-call"') == 4 and "MRD\u2212" in svg
    assert svg.count('class="whisker"') >= 10
    assert "ESR1 p.Y537S at T3, 2024-08-26: detected, VAF 1.2%" in svg
    assert "not assessed" not in re.sub(r"gap: not assessed", "", svg)  # TP53 at T1 is a gap
    # x follows the calendar: T0-T1 (70 days) is shorter than T1-T2 (77 days)
    xs = [float(m) for m in re.findall(r'<text x="([0-9.]+)" y="[0-9.]+" text-anchor="middle" class="tick date"', svg)]
    assert len(xs) == 4 and xs[1] - xs[0] < xs[2] - xs[1]


def test_patient_html_shows_mrd_tf_protein_and_no_none() -> None:
    page = html.render_patient_report(**report_kwargs())
    text = _text(page)
    assert "None" not in text and "nan" not in text.split()
    assert "p.Y537S" in text and "p.H1047R" in text
    assert "1.2%" in text and "0.061" not in text  # VAF to two significant figures
    tp = page[page.index('id="tp-table"'):]
    tp = tp[: tp.index("</table>")]
    assert tp.count("mrd-pos") == 3 and tp.count("mrd-neg") == 1
    assert "LoD 0.050%" in tp and "p = 0.41" in tp
    assert "0.40% (95% CI 0.28%\u20130.53%), estimate" in _text(tp)
    assert "clearance" in tp and "fulvestrant + palbociclib" in tp
    assert "emerging: ESR1 p.Y537S at T3 (2024-08-26)" in text  # dated alert


def test_older_document_without_mrd_or_lod() -> None:
    kw = report_kwargs(full=False)
    page = html.render_patient_report(**kw)
    text = _text(page)
    assert "None" not in text
    assert "mrd-call" not in page and 'class="lod-band"' not in page and 'class="tf-line"' not in page
    assert "MRD" not in page[page.index('id="tp-table"'):page.index("</table>", page.index('id="tp-table"'))]


def test_plot_drawn_from_document_when_no_svg_given() -> None:
    kw = report_kwargs()
    kw["trajectory_svg_text"] = None
    page = html.render_patient_report(**kw)
    assert 'class="lod-band"' in page and 'class="alert-marker"' in page


@pytest.mark.parametrize("full", [True, False])
def test_png_when_matplotlib(tmp_path: Any, full: bool) -> None:
    if not plots.matplotlib_available():
        pytest.skip("matplotlib not installed (pip install resmark[plot])")
    doc, rows = track_document(full)
    out = tmp_path / "p.png"
    assert plots.write_png(out, copy.deepcopy(doc), rows)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
