"""The built wheel carries the panels, schema and embedded reference it needs.

Builds the wheel without network (hatchling from the test extras), unpacks it
into a temporary directory and loads the panel and reference from there, in a
subprocess whose working directory is outside the source tree.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO


@pytest.mark.skipif(importlib.util.find_spec("hatchling") is None, reason="hatchling not installed")
def test_wheel_ships_panels_and_reference(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
    )
    (wheel,) = tmp_path.glob("resmark-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        z.extractall(tmp_path / "site")
    for required in (
        "annotator/_panels/resmark_core/rules.yaml",
        "annotator/_panels/resmark_core/panel.yaml",
        "annotator/knowledge/schema/panel.schema.json",
        "annotator/data/reference/regions_GRCh38.fa.gz",
        "annotator/data/reference/regions_GRCh38.fa.gz.fai",
        "annotator/data/reference/regions_GRCh38.fa.gz.gzi",
        "annotator/data/reference/transcripts_GRCh37.json",
    ):
        assert required in names, required
    code = (
        "import annotator, sys; from annotator.knowledge import load_panel; "
        "from annotator.reference import load_reference; "
        "assert 'site' in annotator.__file__, annotator.__file__; "
        "p = load_panel(); r = load_reference('GRCh38'); "
        "print(p.version, len(p.rules), r.sequence('chr3', 179234296, 179234298))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site")},
        capture_output=True, text=True, check=True,
    )
    version, n_rules, codon = out.stdout.split()
    assert int(n_rules) > 50 and codon == "CAT"  # PIK3CA H1047 codon (hotspot_codons.tsv)
