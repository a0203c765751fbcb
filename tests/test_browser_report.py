"""The HTML reports in a real headless Chromium (Debian ``chromium``).

Driven by Playwright with ``executable_path`` (never ``playwright install``),
else by Selenium with ``chromedriver``; ``.ci/install_browser.sh`` installs
them.  Checks: key elements visible, sorting and filtering work, no console
errors, no page errors, no dialogs (escaped ``<script>`` never runs) and no
network request other than the report file itself.  Screenshots go to
``$RESMARK_SCREENSHOT_DIR`` (default: the test's tmp directory).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from annotator.annotation.document import plain_document, sample_document
from annotator.report import context, html
from tests.test_report_data import HOSTILE, demo_sample

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _shots(tmp_path: Path) -> Path:
    target = Path(os.environ.get("RESMARK_SCREENSHOT_DIR") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Any:
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium: run .ci/install_browser.sh (apt-get install -y chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("Playwright not importable: run .ci/install_browser.sh (pip install playwright)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile), executable_path=exe, args=CHROMIUM_ARGS, headless=True,
            viewport={"width": 1366, "height": 900},
        )
        try:
            yield ctx
        finally:
            ctx.close()


class PageLog:
    def __init__(self, page: Any, url: str) -> None:
        self.url = url
        self.console: list[str] = []
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", self._dialog)

    def _dialog(self, d: Any) -> None:
        self.dialogs.append(d.message)
        d.dismiss()

    def check_clean(self) -> None:
        assert not self.errors, self.errors
        assert not [c for c in self.console if c.startswith(("error", "warning"))], self.console
        assert not self.dialogs, f"script from input ran: {self.dialogs}"
        assert [u for u in self.requests if u != self.url] == [], self.requests


def _open(browser: Any, path: Path) -> tuple[Any, PageLog]:
    page = browser.new_page()
    url = path.resolve().as_uri()
    log = PageLog(page, url)
    page.goto(url)
    page.wait_for_selector("html[data-ready='1']")
    return page, log


def test_sample_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    sa, prov, panel = demo_sample(sample=HOSTILE, hostile=HOSTILE)
    report = tmp_path / "sample.report.html"
    html.write_sample_report(
        report, plain_document(sample_document(sa, prov.as_dict(), panel)), context.panel_info(panel)
    )
    page, log = _open(browser, report)
    for sel in ("#alerts", "#sample-name", "#alt-table", "#evidence", "#markers", "#qc",
                "#provenance", "#ruo-top"):
        assert page.is_visible(sel), sel
    assert page.inner_text("#sample-name") == HOSTILE  # shown as text, never run
    assert "Polyclonal: ESR1" in page.inner_text("#alerts")
    page.screenshot(path=str(_shots(tmp_path) / "sample_report.png"), full_page=False)
    page.screenshot(path=str(_shots(tmp_path) / "sample_report_full.png"), full_page=True)

    rows = "#alt-table tbody tr"
    n = page.locator(rows).count()
    assert n == 5
    page.click("#alt-table thead th:nth-child(4)")  # VAF ascending
    vafs = [float(x) for x in page.eval_on_selector_all(
        rows, "rs => rs.map(r => r.cells[3].getAttribute('data-sort'))")]
    assert vafs == sorted(vafs)
    page.click("#alt-table thead th:nth-child(4)")  # descending
    vafs = [float(x) for x in page.eval_on_selector_all(
        rows, "rs => rs.map(r => r.cells[3].getAttribute('data-sort'))")]
    assert vafs == sorted(vafs, reverse=True)
    page.fill("#flt-text", "ESR1")
    assert page.locator(f"{rows}:visible").count() == 2
    assert "2 of 5 shown" in page.inner_text("#row-count")
    page.fill("#flt-text", "")
    page.select_option("#flt-level", "L1")
    assert 0 < page.locator(f"{rows}:visible").count() < n
    page.emulate_media(media="print")
    assert not page.is_visible(".toolbar")
    page.screenshot(path=str(_shots(tmp_path) / "sample_report_print.png"), full_page=False)
    log.check_clean()
    page.close()


def test_patient_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    from tests.test_report_html import _patient_kwargs

    report = tmp_path / "patient.report.html"
    html.write_patient_report(report, **_patient_kwargs())  # type: ignore[arg-type]
    page, log = _open(browser, report)
    for sel in ("#alerts", "#patient-name", "#trajectory svg", "#alt-table", "#provenance"):
        assert page.is_visible(sel), sel
    assert page.locator("#trajectory svg circle").count() == 5
    page.screenshot(path=str(_shots(tmp_path) / "patient_report.png"), full_page=True)
    log.check_clean()
    page.close()


def test_annotate_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    from annotator import AnnotateConfig, annotate
    from tests.conftest import datapath

    src = tmp_path / "<img src=x onerror=alert(4)>.vcf"
    shutil.copy(datapath("report", "xss_script_in_sample_and_info.vcf"), src)
    annotate(AnnotateConfig(inputs=[src], outdir=tmp_path / "out", formats=("html",)))
    (report,) = (tmp_path / "out").glob("*.report.html")
    page, log = _open(browser, report)
    assert page.inner_text("#sample-name") == "<script>alert('sample')</script>"
    assert page.is_visible("#alt-table")
    page.screenshot(path=str(_shots(tmp_path) / "annotate_xss_report.png"), full_page=True)
    log.check_clean()
    page.close()


def test_track_patient_report_in_chromium(browser: Any, tmp_path: Path) -> None:
    """The ``resmark track`` patient page with MRD, tumour fraction, LoD, therapy and alerts."""
    from tests.test_track_report import report_kwargs

    report = tmp_path / "track_patient.report.html"
    html.write_patient_report(report, **report_kwargs())
    page, log = _open(browser, report)
    for sel in ("#alerts", "#trajectory svg", "#tp-table", "#alt-table", ".lod-band", ".tf-line",
                ".alert-marker", ".therapy-band"):
        assert page.locator(sel).first.is_visible(), sel
    body = page.inner_text("body")
    assert "None" not in body and "NaN" not in body
    assert page.locator("#trajectory .mrd-call").count() == 4
    assert page.locator("#tp-table .mrd-pos").count() == 3
    assert "2024-08-26" in page.inner_text("#alerts")
    # the plot is laid out (non-zero size) and its decades are on a log axis
    box = page.locator("#trajectory svg").bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 250
    ticks = page.eval_on_selector_all("#trajectory svg text.tick", "ts => ts.map(t => t.textContent)")
    assert {"0.1%", "1%", "10%"} <= set(ticks)
    page.fill("#flt-text", "ESR1")
    assert page.locator("#alt-table tbody tr:visible").count() == 1
    page.screenshot(path=str(_shots(tmp_path) / "track_patient_report.png"), full_page=True)
    log.check_clean()
    page.close()
