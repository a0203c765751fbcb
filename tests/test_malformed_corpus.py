"""Issue #9.1: `resmark annotate` over every file of the VCF conformance corpora.

Corpora (../shared/external/malformed): EBI vcf-validator v4.1-4.4 passed and
failed suites, hts-specs test/vcf, htslib test VCFs.  Each file is annotated
in-process (``annotator.cli.main``) with ``--formats tsv,json --build GRCh38``
(GRCh37 when the header says so; the corpus files carry no build hints, and
without --build every one would stop at the build check) and ``--sample``
set to the first sample of multi-sample files.  The contract (see
tests/corpus_harness.py): exit 0 with a complete result, or exit 1 with one
line naming the file; never exit 2, an internal error, a traceback, a hang or
partial output.  Counts are in docs/robustness.md.
"""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

import pytest

from tests.corpus_harness import annotate_one, speed_up

pytestmark = pytest.mark.shared

CHUNKS = 6


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def suite_of(path: Path, root: Path) -> tuple[str, str]:
    rel = path.relative_to(root).as_posix()
    suite = rel.split("/")[0]
    status = "failed" if ("/failed/" in rel or "non_readable" in rel) else (
        "passed" if "/passed/" in rel else "other")
    return suite, status


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_corpus_read_or_refused(chunk: int, shared_dir: Path, tmp_path: Path, monkeypatch) -> None:
    root = shared_dir / "external" / "malformed"
    if not root.is_dir():
        pytest.skip("../shared/external/malformed is absent")
    speed_up(monkeypatch)
    files = _files(root)[chunk::CHUNKS]
    failures = []
    counts: collections.Counter[tuple[str, str, str]] = collections.Counter()
    for i, f in enumerate(files):
        outcome = annotate_one(f, tmp_path / f"out{i}")
        counts[(*suite_of(f, root), outcome.kind)] += 1
        if outcome.problem:
            failures.append(f"{f.relative_to(root)}: {outcome.problem}: {outcome.message}")
    report = os.environ.get("RESMARK_CORPUS_REPORT")
    if report:
        with open(report, "a", encoding="utf-8") as fh:
            for (suite, status, kind), n in sorted(counts.items()):
                fh.write(json.dumps({"suite": suite, "status": status, "kind": kind, "n": n}) + "\n")
    assert not failures, "\n".join(failures[:30])


def test_failed_files_that_stop_name_a_line(shared_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """Spot checks: the one-line message names file, line and fault."""
    root = shared_dir / "external" / "malformed" / "ebi-vcf-validator" / "v4.3"
    if not root.is_dir():
        pytest.skip("../shared/external/malformed is absent")
    speed_up(monkeypatch)
    cases = {
        "failed/failed_body_pos_000.vcf": "line 4: POS '.' is not a whole number",
        "failed/failed_body_sample_007.vcf": "line 5: htslib cannot parse this record: Invalid character 'm'",
        "failed/failed_header_000.vcf": "the #CHROM line must start with",
        "compressed_files/non_readable/compressed.vcf.tar.xz": "compressed with xz",
    }
    for rel, expected in cases.items():
        outcome = annotate_one(root / rel, tmp_path / rel.replace("/", "_"))
        assert outcome.code == 1 and outcome.problem is None, outcome
        assert expected in outcome.message, outcome.message
        assert str(root / rel) in outcome.message


def test_passed_file_with_trailing_blank_line_is_read(shared_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """passed_meta_pedigree.vcf ends with a blank line, on which cyvcf2 used to segfault."""
    f = shared_dir / "external/malformed/ebi-vcf-validator/v4.3/passed/passed_meta_pedigree.vcf"
    if not f.exists():
        pytest.skip("corpus absent")
    speed_up(monkeypatch)
    outcome = annotate_one(f, tmp_path / "out")
    assert outcome.kind == "read", outcome
