"""Regression tests for hard crashes found by the corpus survey and the fuzzer.

The segfault_* fixtures once killed the process (segmentation fault in cyvcf2):
a record whose contig the header does not declare and which htslib cannot
parse, or a blank line after the last record; the undeclared_contig_* ones are
neighbours of the same htslib path.  They run in a child process
so that a regression fails this test instead of killing pytest.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, datapath

CASES = {
    # fixture: (exit code, text expected in the one-line message or "" when read)
    "segfault_undeclared_contig_bad_pos.vcf": (1, "line 5: POS '179234297x' is not a whole number"),
    "segfault_blank_line_without_contigs.vcf": (0, ""),
    "undeclared_contig_empty_format_key.vcf": (None, ""),
    "undeclared_contig_bad_sample_value.vcf": (1, "line 5: htslib cannot parse this record"),
    "comment_line_in_body.grch38.vcf": (1, "after the first record"),
    # fuzz (seed 7, 480 s): a form feed inside a ##FORMAT line made str.splitlines() cut
    # the header line in two and the header parser raise ValueError (internal error)
    "fuzz_form_feed_in_header_line.vcf": (0, ""),
}

CHILD = """
import json, sys, tempfile
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from tests.corpus_harness import annotate_one
res = {}
for name in sys.argv[3:]:
    with tempfile.TemporaryDirectory() as d:
        o = annotate_one(Path(sys.argv[2]) / name, Path(d) / "out")
        res[name] = [o.code, o.problem, o.message]
print(json.dumps(res))
"""


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[object]]:
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(REPO), str(datapath("faults")), *CASES],
        capture_output=True, text=True, timeout=240,
    )
    assert p.returncode == 0, f"child died (signal {-p.returncode})" if p.returncode < 0 else p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", list(CASES))
def test_former_crash_is_read_or_refused(name: str, outcomes: dict[str, list[object]]) -> None:
    code, problem, message = outcomes[name]
    expected_code, needle = CASES[name]
    assert problem is None, (problem, message)
    if expected_code is not None:
        assert code == expected_code, message
    assert needle in str(message)
