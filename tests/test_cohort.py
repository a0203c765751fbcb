"""Cohorts: inputs (paths, globs, sample sheets), serial and parallel executors, failures.

Truth: the fixture VCFs in test_vcfs/cohort carry published hotspots at their
GRCh38 codon coordinates (PIK3CA H1047R chr3:179234297 A>G, ESR1 Y537S
chr6:152098788 A>C, ESR1 D538G chr6:152098791 A>G, KRAS G12D chr12:25245350
C>T, AKT1 E17K chr14:104780214 C>T, TP53 R175H chr17:7675088 C>T).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from annotator.annotation import cohort
from annotator.api import AnnotateConfig, RunContext, annotate
from annotator.errors import InputError, MultipleErrors, UsageError
from tests.conftest import datapath

COHORT = datapath("cohort")
EXPECTED = {
    "P001_T0": {"p.H1047R"},  # ESR1 Y537S is FILTERed (weak_evidence)
    "P001_T1": {"p.H1047R", "p.Y537S", "p.D538G", "p.G12D"},
    "P002_T0": {"p.E17K", "p.R175H"},
}


@pytest.fixture(scope="module")
def ctx() -> RunContext:
    from annotator.knowledge import load_panel

    config = AnnotateConfig(inputs=(), outdir="unused", formats=("tsv",))
    return RunContext(config=config, panel=load_panel(None))


def _executor(kind: str, ctx: RunContext, stage: Path | None = None) -> cohort.Executor:
    if kind == "serial":
        return cohort.SerialExecutor(ctx, stage)
    return cohort.ProcessExecutor(ctx.config, 2, stage)


# ------------------------------------------------------------------ inputs


def test_glob_expands_sorted_and_skips_indexes(tmp_path: Path) -> None:
    for name in ("b.vcf.gz", "a.vcf.gz", "a.vcf.gz.tbi", "c.vcf"):
        (tmp_path / name).write_text("x")
    got = cohort.expand_inputs([str(tmp_path / "*.vcf*")])
    assert [p.name for p in got] == ["a.vcf.gz", "b.vcf.gz", "c.vcf"]


def test_glob_matching_nothing_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no file matches"):
        cohort.expand_inputs([str(tmp_path / "*.vcf")])


def test_same_file_twice_is_read_once(tmp_path: Path) -> None:
    vcf = COHORT / "P002_T0.vcf"
    assert cohort.expand_inputs([vcf, str(vcf), str(COHORT / "P002_*.vcf")]) == [vcf]


def test_samplesheet_paths_are_relative_to_the_sheet() -> None:
    items = cohort.read_samplesheet(COHORT / "samplesheet.tsv")
    assert [i.sample for i in items] == ["P001_T0", "P001_T1", "P002_T0"]
    assert [i.patient for i in items] == ["P001", "P001", "P002"]
    assert all(i.path.is_file() for i in items)
    assert items[1].path == COHORT / "P001_T1.vcf.gz"


def test_samplesheet_csv_with_aliases_and_comments(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "# cohort of two\nSample_ID,Path,Patient_ID,Purity\n"
        f"A,{COHORT / 'P002_T0.vcf'},P9,0.4\n\nB,sub/b.vcf,P9,\n"
    )
    a, b = cohort.read_samplesheet(sheet)
    assert (a.sample, a.patient, a.tumor_fraction) == ("A", "P9", 0.4)
    assert b.path == tmp_path / "sub" / "b.vcf" and b.tumor_fraction is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sample\tfile_name\nA\tx.vcf\n", "no 'vcf' column"),
        ("sample\tvcf\nA\tx.vcf\nA\ty.vcf\n", "line 3.*appears twice"),
        ("sample\tvcf\ttumor_fraction\nA\tx.vcf\thigh\n", "line 2.*not a number"),
        ("# nothing\n", "empty"),
    ],
)
def test_samplesheet_errors_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(text)
    with pytest.raises(InputError, match=message):
        cohort.read_samplesheet(sheet)


# ------------------------------------------------------------------ executors


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_executor_annotates_in_input_order(kind: str, ctx: RunContext) -> None:
    items = cohort.read_samplesheet(COHORT / "samplesheet.tsv")
    results = _executor(kind, ctx).run(items)
    assert [r.sample for r in results] == list(EXPECTED)
    for r in results:
        assert {row.hgvsp_short for row in r.rows} == EXPECTED[r.sample]
        assert {row.sample for row in r.rows} == {r.sample}


@pytest.mark.parametrize("kind", ["serial", "process"])
def test_executor_reports_failures_and_goes_on(kind: str, ctx: RunContext) -> None:
    items = [
        cohort.CohortItem(COHORT / "P002_T0.vcf"),
        cohort.CohortItem(COHORT / "not_a_vcf.vcf", sample="broken"),
        cohort.CohortItem(COHORT / "P001_T0.vcf"),
    ]
    run = cohort.run_cohort(items, ctx, _executor(kind, ctx))
    assert [s.sample for s in run.samples] == ["P002_T0", "P001_T0"]
    (failure,) = run.failures
    assert failure.sample == "broken"
    assert "not_a_vcf.vcf" in failure.message and failure.exit_code == 1


def test_serial_and_parallel_give_the_same_rows(ctx: RunContext) -> None:
    items = cohort.read_samplesheet(COHORT / "samplesheet.tsv")
    serial = cohort.SerialExecutor(ctx).run(items)
    parallel = cohort.ProcessExecutor(ctx.config, 2).run(items)
    assert [s.rows for s in serial] == [p.rows for p in parallel]
    assert [s.accounting.as_dict() for s in serial] == [p.accounting.as_dict() for p in parallel]


def test_sheet_sample_name_relabels_rows(ctx: RunContext, tmp_path: Path) -> None:
    item = cohort.CohortItem(COHORT / "P002_T0.vcf", sample="patient-2 baseline")
    result = cohort.annotate_item(item, ctx)
    assert result.sample == "patient-2 baseline"
    assert {r.sample for r in result.rows} == {"patient-2 baseline"}


# ------------------------------------------------------------------ api and cli


@pytest.mark.parametrize("jobs", [1, 2])
def test_annotate_cohort_with_a_failure(jobs: int, tmp_path: Path) -> None:
    config = AnnotateConfig(
        inputs=[str(COHORT / "not_a_vcf.vcf")], samplesheet=COHORT / "samplesheet.tsv",
        outdir=tmp_path / "out", formats=("tsv",), jobs=jobs, dataset=tmp_path / "ds",
    )
    result = annotate(config)
    assert [s.sample for s in result.samples] == list(EXPECTED)
    assert [f.path for f in result.failures] == [str(COHORT / "not_a_vcf.vcf")]
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {f"{s}.resmark.tsv" for s in EXPECTED}
    assert len(result.dataset) == 3


def test_annotate_single_input_raises_its_own_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not_a_vcf.vcf"):
        annotate(AnnotateConfig(inputs=[str(COHORT / "not_a_vcf.vcf")], outdir=tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_annotate_all_failing_raises(tmp_path: Path) -> None:
    bad = tmp_path / "bad2.vcf"
    shutil.copy(COHORT / "not_a_vcf.vcf", bad)
    with pytest.raises(MultipleErrors):
        annotate(AnnotateConfig(inputs=[str(COHORT / "not_a_vcf.vcf"), str(bad)],
                                outdir=tmp_path / "o", formats=("tsv",)))


def test_duplicate_header_sample_names_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.vcf"
    shutil.copy(COHORT / "P002_T0.vcf", copy)
    with pytest.raises(UsageError, match="sample names must be unique"):
        annotate(AnnotateConfig(inputs=[str(COHORT / "P002_T0.vcf"), str(copy)],
                                outdir=tmp_path / "o", formats=("tsv",)))


def test_cli_exit_code_is_non_zero_when_a_sample_fails(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from annotator.cli import main

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exc:
        main(["annotate", str(COHORT / "P002_T0.vcf"), str(COHORT / "not_a_vcf.vcf"),
              "-o", str(out), "--formats", "tsv", "--jobs", "1"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "failed: " in err and "not_a_vcf.vcf" in err and "1 of 2 inputs failed" in err
    assert (out / "P002_T0.resmark.tsv").is_file()


def test_cli_quoted_glob_and_dataset(tmp_path: Path) -> None:
    from annotator.cli import main
    from annotator.io import dataset

    with pytest.raises(SystemExit) as exc:
        main(["annotate", str(COHORT / "P00*_T0.vcf"), "-o", str(tmp_path / "out"),
              "--formats", "tsv", "--dataset", str(tmp_path / "ds"), "-j", "2"])
    assert exc.value.code == 0
    assert dataset.samples_in(tmp_path / "ds") == ["P001_T0", "P002_T0"]



def test_worker_warnings_reach_stderr_and_the_run_log(tmp_path: Path) -> None:
    """A warning raised inside a --jobs 2 worker is shown with the CLI's prefix and kept
    in resmark.log, like the same warning of a serial run."""
    import gzip
    import subprocess
    import sys

    demo = datapath("demo", "demo_tumour.grch38.vcf.gz")
    with gzip.open(demo, "rt") as fh:
        lines = fh.read().splitlines(keepends=True)
    # a second sample whose file lacks ##fileformat: the reader warns while reading it
    other = "".join(
        line.replace("DEMO_TUMOUR", "OTHER_TUMOUR") if line.startswith("#CHROM") else line
        for line in lines if not line.startswith("##fileformat")
    )
    (tmp_path / "other.vcf").write_text(other)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "annotator", "annotate", str(demo), str(tmp_path / "other.vcf"),
         "-o", str(out), "--formats", "tsv", "--jobs", "2"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    warning = "other.vcf: the file has no ##fileformat line"
    assert f"resmark: WARNING: {tmp_path / warning}" in proc.stderr
    assert warning in (out / "resmark.log").read_text()
