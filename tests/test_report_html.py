"""HTML report rendered to a string: content, self-containment and escaping (no browser)."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from annotator import RESEARCH_USE_ONLY
from annotator.annotation.document import plain_document, sample_document
from annotator.report import context, html
from annotator.report.svg import sanitize_svg, trajectory_svg
from tests.conftest import datapath
from tests.test_report_data import HOSTILE, demo_sample


class _Collector(HTMLParser):
    """Tags, attributes and script bodies as a browser's tokenizer sees them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _render(sa: object, prov: dict, panel: object) -> str:
    doc = plain_document(sample_document(sa, prov, panel))  # type: ignore[arg-type]
    return html.render_sample_document(doc, context.panel_info(panel))


def _parse(page: str) -> _Collector:
    c = _Collector()
    c.feed(page)
    return c


@pytest.fixture(scope="module")
def demo_page() -> str:
    sa, prov, panel = demo_sample()
    return _render(sa, prov.as_dict(), panel)


def test_sample_report_has_every_section(demo_page: str) -> None:
    for anchor in ("alerts", "summary", "alterations", "evidence", "markers", "qc", "provenance", "ruo"):
        assert f'id="{anchor}"' in demo_page
    assert RESEARCH_USE_ONLY in demo_page
    assert demo_page.index('id="alerts"') < demo_page.index('id="summary"') < demo_page.index('id="alt-table"')


def test_alerts_come_first_and_name_the_flags(demo_page: str) -> None:
    alerts = demo_page[demo_page.index('id="alerts"'):demo_page.index('id="summary"')]
    assert "Polyclonal: ESR1" in alerts  # two ESR1 hotspot alterations
    # panel 2.0: ESR1 mutations call for an endocrine switch to an oral SERD, not "avoid"
    assert "Elacestrant (oral SERD)" in demo_page
    assert "endocrine switch unlikely to help" not in demo_page
    assert "alert-high" in alerts


def test_mechanisms_strategies_and_evidence_levels(demo_page: str) -> None:
    assert "PI3K/AKT/mTOR activation by PIK3CA mutation" in demo_page
    assert "Alpelisib + fulvestrant" in demo_page
    assert 'class="lvl lvl-a"' in demo_page
    # evidence and citations per alteration: trial names, figures and seed references
    assert "SOLAR-1" in demo_page and "5.5 months versus 1.8 months" in demo_page
    assert "seed003" in demo_page
    # gene-level FAT1 match is shown as uncertain, not as a resistance claim
    assert "not claimed to cause resistance" in demo_page


def test_provenance_and_qc(demo_page: str) -> None:
    sa, prov, panel = demo_sample()
    assert prov.tool_version in demo_page
    assert panel.checksum in demo_page and panel.version in demo_page
    assert "GRCh38" in demo_page
    assert "0" * 64 in demo_page  # input sha256
    assert "resmark annotate /data/pt017.vcf.gz -o out" in demo_page
    qc = demo_page[demo_page.index('id="qc"'):demo_page.index('id="provenance"')]
    assert "Records read" in qc and "weak_evidence" in qc and "overlapping deletion" in qc
    assert "FORMAT:AD/DP" in qc


def test_table_is_sortable_and_filterable_with_inline_js(demo_page: str) -> None:
    parsed = _parse(demo_page)
    tables = [a for t, a in parsed.tags if t == "table" and "sortable" in (a.get("class") or "")]
    assert tables
    assert parsed.scripts == 1
    assert 'id="flt-text"' in demo_page and 'id="flt-level"' in demo_page
    assert "addEventListener" in demo_page


def test_non_dna_markers_listed(demo_page: str) -> None:
    markers = demo_page[demo_page.index('id="markers"'):demo_page.index('id="qc"')]
    assert "Why not DNA" in markers


def test_self_contained_no_network(demo_page: str) -> None:
    parsed = _parse(demo_page)
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "action", "data", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith("#"), f"<{tag} {name}={value!r}> would load something"
        assert tag not in ("link", "iframe", "img", "object", "embed", "base")
    assert not re.search(r"(?i)url\(\s*['\"]?(?:https?:|//)", demo_page)
    assert "@import" not in demo_page
    csp = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")


def test_csp_hash_matches_the_inline_script(demo_page: str) -> None:
    import base64
    import hashlib

    body = demo_page.split("<script>", 1)[1].split("</script>", 1)[0]
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in demo_page


def test_hostile_values_are_escaped() -> None:
    sa, prov, panel = demo_sample(sample=HOSTILE, hostile=HOSTILE)
    page = _render(sa, prov.as_dict(), panel)
    parsed = _parse(page)
    assert parsed.scripts == 1  # only our own
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # the hostile text still reads as text to the user
    assert HOSTILE in "".join(parsed.text)


def test_render_from_json_document_matches(tmp_path: Path) -> None:
    sa, prov, panel = demo_sample()
    doc = plain_document(sample_document(sa, prov.as_dict(), panel))
    round_trip = json.loads(json.dumps(doc))
    page = html.render_sample_document(round_trip, context.panel_info(panel))
    assert "PI3K/AKT/mTOR activation by PIK3CA mutation" in page
    page_no_panel = html.render_sample_document(round_trip, None)
    assert "FDA-approved for this biomarker" in page_no_panel  # default legend (panel 2.0 scale)


def test_empty_sample_renders() -> None:
    doc = {"sample": "EMPTY", "rows": [], "explanations": [], "accounting": {"records_read": 0}}
    page = html.render_sample_document(doc)
    assert "No resistance marker matched" in page
    assert "No alteration was listed" in page


def test_write_sample_report(tmp_path: Path) -> None:
    sa, prov, panel = demo_sample()
    out = tmp_path / "r.html"
    html.write_sample_report(
        out, plain_document(sample_document(sa, prov.as_dict(), panel)), context.panel_info(panel)
    )
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ----------------------------------------------------------------- SVG


def test_sanitize_svg_drops_scripts_handlers_and_external_refs() -> None:
    bad = (
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script>'
        '<a href="https://example.org"><text>x</text></a>'
        '<foreignObject><div>hi</div></foreignObject>'
        '<image href="https://example.org/x.png"/>'
        '<use href="https://example.org/s.svg#a"/><use href="#ok"/>'
        '<rect style="fill:url(https://x/y)" width="2"/>'
        '<text x="1">&lt;script&gt;T0</text></svg>'
    )
    clean = sanitize_svg(bad)
    assert clean.startswith("<svg")
    for needle in ("onload", "<script", "alert(2)", "example.org", "foreignObject", "<image", "url("):
        assert needle not in clean
    assert '<use href="#ok">' in clean
    assert "&lt;script&gt;T0" in clean
    assert sanitize_svg("<svg><unclosed></svg>") == ""
    assert sanitize_svg('<!DOCTYPE svg [<!ENTITY x "y">]><svg/>') == ""


def test_trajectory_svg_escapes_labels() -> None:
    svg = trajectory_svg(["T0", HOSTILE], [{"label": HOSTILE, "values": [0.1, 0.2]}])
    assert "<script" not in svg
    assert sanitize_svg(svg)  # our own plot passes our own sanitiser


# ----------------------------------------------------------------- patient


def _patient_kwargs() -> dict[str, object]:
    tps = [{"timepoint": "T0", "sample": "PT-017-T0", "date": "2025-01-10", "tumor_fraction": 0.12},
           {"timepoint": "T1", "sample": "PT-017-T1", "date": "2025-04-02", "tumor_fraction": 0.2},
           {"timepoint": "T2", "sample": HOSTILE, "date": "2025-07-15"}]
    rows = []
    for tp, v1, v2 in (("T0", 0.10, None), ("T1", 0.18, 0.02), ("T2", 0.25, 0.09)):
        rows.append({"timepoint": tp, "gene": "PIK3CA", "hgvsp_short": "p.H1047R",
                     "variant_key": "chr3:179234297:A>G", "vaf": v1, "depth": 400,
                     "alt_count": int(v1 * 400), "mechanism": "PI3K/AKT/mTOR activation",
                     "evidence_level": "A", "strategies": "Alpelisib + fulvestrant",
                     "status": "rising" if tp != "T0" else "baseline"})
        if v2 is not None:
            rows.append({"timepoint": tp, "gene": "ESR1", "hgvsp_short": "p.Y537S",
                         "variant_key": "chr6:152098788:A>C", "vaf": v2, "depth": 500,
                         "alt_count": int(v2 * 500), "mechanism": "ESR1 LBD mutation",
                         "evidence_level": "A", "status": "new" if tp == "T1" else "rising",
                         "note": HOSTILE})
    alerts = [{"severity": "info", "title": "Tumour fraction low at T0", "message": "12%"},
              {"severity": "high", "title": "New ESR1 p.Y537S at T1", "message": HOSTILE}]
    return {"patient": "PT-017", "timepoints": tps, "rows": rows, "alerts": alerts,
            "provenance": {"tool": "resmark", "tool_version": "0.1.0", "command": "resmark track",
                           "panel": {"name": "resmark_core", "version": "1.0.0",
                                     "checksum_sha256": "ab" * 32},
                           "genome_build": "GRCh38",
                           "inputs": [{"role": "vcf", "path": "t0.vcf", "sha256": "cd" * 32}]}}


def test_patient_report_content_and_order() -> None:
    page = html.render_patient_report(**_patient_kwargs())  # type: ignore[arg-type]
    assert RESEARCH_USE_ONLY in page
    alerts = page[page.index('id="alerts"'):page.index('id="summary"')]
    assert alerts.index("New ESR1 p.Y537S at T1") < alerts.index("Tumour fraction low at T0")
    assert "<svg" in page and 'class="trajectory"' in page  # drawn from rows
    assert "18%" in page and "rising" in page  # VAF to two significant figures
    assert "ab" * 32 in page and "cd" * 32 in page
    parsed = _parse(page)
    assert parsed.scripts == 1 and "<script>alert" not in page


def test_patient_report_embeds_sanitised_svg(tmp_path: Path) -> None:
    kw = _patient_kwargs()
    kw["trajectory_svg_text"] = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                                 '<circle cx="5" cy="5" r="2" onclick="alert(1)"/><script>alert(1)</script></svg>')
    out = tmp_path / "p.html"
    html.write_patient_report(out, **kw)  # type: ignore[arg-type]
    page = out.read_text(encoding="utf-8")
    assert '<circle cx="5" cy="5" r="2">' in page
    assert "onclick" not in page and "alert(1)" not in page


# ----------------------------------------------------------------- end to end


def _annotate_available() -> bool:
    try:
        from annotator.consequence import ConsequenceEngine  # noqa: F401
        from annotator.knowledge import load_panel  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _annotate_available(), reason="annotate pipeline not importable")
def test_annotate_writes_escaped_report(tmp_path: Path) -> None:
    from annotator import AnnotateConfig, annotate

    src = tmp_path / "<img src=x onerror=alert(4)>.vcf"
    shutil.copy(datapath("report", "xss_script_in_sample_and_info.vcf"), src)
    result = annotate(AnnotateConfig(inputs=[src], outdir=tmp_path / "out",
                                     formats=("json", "html", "maf", "vcf")))
    reports = list((tmp_path / "out").glob("*.report.html"))
    assert len(reports) == 1
    page = reports[0].read_text(encoding="utf-8")
    parsed = _parse(page)
    assert parsed.scripts == 1
    assert not [t for t, _ in parsed.tags if t in ("img", "b")]
    assert "<script>alert" not in page and "onerror=alert(4)>" not in page
    text = "".join(parsed.text)
    assert "<script>alert('sample')</script>" in text  # shown, as text
    assert "<img src=x onerror=alert(4)>.vcf" in text  # the file name, as text
    assert "<script>alert(3)</script>" in text  # CSQ SYMBOL via the disagreement, as text
    assert result.samples[0].rows
