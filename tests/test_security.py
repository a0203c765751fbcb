"""Issue #9.5: no code execution from panels/configs, no path steering, escaped HTML, no shell."""

from __future__ import annotations

import ast
import gzip
from pathlib import Path

import pytest

from annotator.errors import ResmarkError
from tests.conftest import REPO, datapath
from tests.corpus_harness import run_cli

DEMO = datapath("demo", "demo_tumour.grch38.vcf.gz")
PACKAGE = REPO / "annotator"


def _sources() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_yaml_is_only_read_with_the_safe_loader() -> None:
    unsafe = []
    for f in _sources():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in (
                "load", "load_all", "unsafe_load", "full_load", "full_load_all", "unsafe_load_all"
            ) and isinstance(node.value, ast.Name) and node.value.id == "yaml":
                unsafe.append(f"{f.relative_to(REPO)}:{node.lineno} yaml.{node.attr}")  # noqa: PERF401
    assert not unsafe, unsafe


def test_python_tags_in_a_panel_do_not_run(tmp_path: Path) -> None:
    from annotator.knowledge import load_panel

    marker = tmp_path / "pwned"
    panel = tmp_path / "evil.yaml"
    panel.write_text(
        f"genes: !!python/object/apply:os.system ['touch {marker}']\n"
        f"rules:\n  - !!python/object/apply:subprocess.check_call [['touch', '{marker}']]\n",
        encoding="utf-8",
    )
    with pytest.raises(ResmarkError):
        load_panel(panel)
    assert not marker.exists()
    code, err = run_cli(["annotate", str(DEMO), "-o", str(tmp_path / "o"), "--panel", str(panel)])
    assert code == 1 and "internal error" not in err and not marker.exists(), err


def test_no_shell_and_no_eval_in_the_package() -> None:
    found = []
    for f in _sources():
        tree = ast.parse(f.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
                if name in ("system", "popen", "eval", "exec", "getoutput", "getstatusoutput"):
                    found.append(f"{f.relative_to(REPO)}:{node.lineno} {name}()")
                for kw in node.keywords:
                    if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                        found.append(f"{f.relative_to(REPO)}:{node.lineno} shell=")  # noqa: PERF401
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if "pickle" in names or "marshal" in names:
                    found.append(f"{f.relative_to(REPO)}:{node.lineno} imports pickle/marshal")
    assert not found, found


def _with_sample(tmp_path: Path, sample: str) -> Path:
    text = gzip.decompress(DEMO.read_bytes()).decode()
    text = text.replace("##tumor_sample=DEMO_TUMOUR\n", f"##tumor_sample={sample}\n")
    text = text.replace("\tDEMO_TUMOUR\tDEMO_NORMAL", f"\t{sample}\tDEMO_NORMAL")
    p = tmp_path / "in.vcf"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize("sample", ["../../escaped", "/tmp/absolute_escape", "..", "a/../../b", "~root"])
def test_sample_names_cannot_steer_output_paths(tmp_path: Path, sample: str) -> None:
    vcf = _with_sample(tmp_path, sample)
    out = tmp_path / "run" / "out"
    code, err = run_cli(["-q", "annotate", str(vcf), "-o", str(out), "--formats", "tsv,json"])
    assert code == 0, err
    everything = {p.resolve() for p in (tmp_path / "run").rglob("*")}
    assert all(p == out.resolve() or out.resolve() in p.parents for p in everything), everything
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/absolute_escape.resmark.tsv").exists()


def test_html_report_escapes_input_values(tmp_path: Path) -> None:
    sample = "<script>alert(1)</script>"
    vcf = _with_sample(tmp_path, sample)
    text = vcf.read_text(encoding="utf-8").replace(
        "NOTE=PIK3CA_H1047R", "NOTE=<img src=x onerror=alert(2)>"
    ).replace("COSV55873195", "<b>id</b>")
    vcf.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    code, err = run_cli(["-q", "annotate", str(vcf), "-o", str(out), "--formats", "tsv,html",
                         "--sample", sample])
    assert code == 0, err
    pages = list(out.glob("*.html"))
    assert pages
    html = pages[0].read_text(encoding="utf-8")
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>id</b>" not in html
    assert "&lt;script&gt;alert(1)" in html
