"""``resmark report OUTDIR`` re-renders HTML and MAF from the annotate JSON documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from annotator.report.rerender import rerender
from tests.conftest import datapath


@pytest.fixture(scope="module")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from annotator import AnnotateConfig, annotate

    out = tmp_path_factory.mktemp("ann") / "out"
    annotate(AnnotateConfig(inputs=[datapath("report", "xss_script_in_sample_and_info.vcf")],
                            outdir=out, formats=("json", "html", "maf")))
    return out


def test_rerender_matches_annotate(annotated: Path, tmp_path: Path) -> None:
    result = rerender(annotated, ("html", "maf"), tmp_path)
    assert result.panel_matched
    names = sorted(p.name for p in result.written)
    assert names == sorted(p.name for p in annotated.glob("*.report.html")) + sorted(
        p.name for p in annotated.glob("*.resmark.maf"))
    (html_new,) = tmp_path.glob("*.report.html")
    (html_old,) = annotated.glob("*.report.html")
    new, old = html_new.read_text(), html_old.read_text()
    assert new.count("<script") == 1 and "PIK3CA" in new
    assert new.split('id="alerts"')[1].split('id="provenance"')[0] == \
        old.split('id="alerts"')[1].split('id="provenance"')[0]
    (maf_new,) = tmp_path.glob("*.maf")
    (maf_old,) = annotated.glob("*.maf")
    body = [x for x in maf_new.read_text().splitlines() if not x.startswith("#")]
    assert body == [x for x in maf_old.read_text().splitlines() if not x.startswith("#")]


def test_cli_report(annotated: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from annotator.cli import cli

    res = CliRunner().invoke(cli, ["report", str(annotated), "--formats", "html", "-o", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert list(tmp_path.glob("*.report.html"))
    bad = CliRunner().invoke(cli, ["report", str(tmp_path / "missing")])
    assert bad.exit_code != 0
