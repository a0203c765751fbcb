"""Sample sheets and timepoint ordering for resmark track."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from annotator.errors import InputError, TimepointError, UsageError
from annotator.track.samplesheet import (
    from_vcfs,
    group_patients,
    order_timepoints,
    read_samplesheet,
)

VCF_BODY = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{s}\n"


def _vcfs(tmp: Path, *names: str) -> None:
    for n in names:
        (tmp / n).write_text(VCF_BODY.format(s=n.split(".")[0]))


def test_tsv_relative_paths_and_optional_columns(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf")
    (tmp_path / "a.bam").write_bytes(b"")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(
        "patient\ttimepoint\tcollection_date\tvcf\tbam\ttumour_fraction\ttherapy\n"
        "P1\tT0\t2024-01-05\ta.vcf\ta.bam\t0.12\tletrozole\n"
        "P1\tT1\t2024-03-05\tb.vcf\t\t4%\tletrozole + palbociclib\n"
    )
    specs = read_samplesheet(sheet)
    assert [s.label for s in specs] == ["T0", "T1"]
    assert specs[0].vcf == tmp_path / "a.vcf" and specs[0].reads == tmp_path / "a.bam"
    assert specs[1].reads is None
    assert specs[0].date == dt.date(2024, 1, 5)
    assert specs[1].tumor_fraction == pytest.approx(0.04)
    assert specs[1].therapy == "letrozole + palbociclib"


def test_csv_and_several_patients(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf", "c.vcf")
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("patient,timepoint,date,vcf\nP1,T0,2024-01-01,a.vcf\nP2,T0,2024-01-01,b.vcf\n"
                     "P1,T1,2024-02-01,c.vcf\n")
    groups = group_patients(read_samplesheet(sheet))
    assert {k: [s.label for s in v] for k, v in groups.items()} == {"P1": ["T0", "T1"], "P2": ["T0"]}


def test_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\nP1\tT0\t2024-01-01\ta.vcf\nP1\tT1\t2024-02-01\tgone.vcf\n")
    with pytest.raises(InputError) as e:
        read_samplesheet(sheet)
    msg = e.value.one_line()
    assert "gone.vcf" in msg and "line 3" in msg and str(sheet) in msg


def test_missing_required_column(tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("patient\tdate\tvcf\nP1\t2024-01-01\ta.vcf\n")
    with pytest.raises(InputError, match="missing column"):
        read_samplesheet(sheet)


def test_bad_date(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("timepoint\tdate\tvcf\nT0\t05/01/2024\ta.vcf\n")
    with pytest.raises(InputError, match="ISO date"):
        read_samplesheet(sheet)


def test_duplicate_labels_are_an_error(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\nP1\tT0\t2024-01-01\ta.vcf\nP1\tT0\t2024-02-01\tb.vcf\n")
    with pytest.raises(TimepointError, match="'T0' appears twice"):
        order_timepoints(read_samplesheet(sheet), [])


def test_out_of_order_dates_are_sorted_with_a_warning(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf", "c.vcf")
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\nP1\tPROG\t2024-09-01\tc.vcf\n"
                     "P1\tBASE\t2024-01-01\ta.vcf\nP1\tC3\t2024-04-01\tb.vcf\n")
    warnings: list[str] = []
    ordered = order_timepoints(read_samplesheet(sheet), warnings)
    assert [s.label for s in ordered] == ["BASE", "C3", "PROG"]
    assert len(warnings) == 1 and "not in date order" in warnings[0]


def test_positional_vcfs_need_matching_labels(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf")
    paths = [tmp_path / "a.vcf", tmp_path / "b.vcf"]
    specs = from_vcfs(paths, labels=["T0", "T1"], dates=None, reads=None, patient="P", therapy=None)
    assert [s.label for s in specs] == ["T0", "T1"]
    with pytest.raises(UsageError, match="--timepoints has 1 values for 2 timepoints"):
        from_vcfs(paths, labels=["T0"], dates=None, reads=None, patient="P", therapy=None)
    with pytest.raises(InputError, match="not found"):
        from_vcfs([tmp_path / "nope.vcf"], labels=None, dates=None, reads=None, patient="P", therapy=None)


def test_one_multisample_vcf_gives_one_timepoint_per_column(tmp_path: Path) -> None:
    vcf = tmp_path / "serial.vcf"
    vcf.write_text("##fileformat=VCFv4.2\n##normal_sample=GERMLINE\n"
                   "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tGERMLINE\tD0\tD90\tD180\n")
    specs = from_vcfs([vcf], labels=["T0", "T1", "T2"], dates=None, reads=None, patient="P", therapy=None)
    assert [(s.label, s.sample) for s in specs] == [("T0", "D0"), ("T1", "D90"), ("T2", "D180")]


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("P\tT0\ta.vcf\t1.5\n", "tumour fraction '1.5' is outside 0-1", "line 2"),
        ("P\tT0\ta.vcf\t-3%\n", "tumour fraction '-3%' is outside 0-1", "line 2"),
        ("P\tT0\ta.vcf\t0.2\nP\tT1\t\"b\nc.vcf\"\t0.1\n", "unbalanced quote", "line 3"),
        ("P\tT0\ta.vcf\t" + "9" * 5000 + "\n", "field 'tumor_fraction' is 5000 characters", "line 2"),
        ("P\tT0\ta.vcf\t" + "9" * 70_000 + "\n", "characters (limit 65536)", "line 2"),
    ],
)
def test_bad_sheets_are_one_line_errors_naming_file_and_row(
    tmp_path: Path, body: str, message: str, line: str
) -> None:
    _vcfs(tmp_path, "a.vcf", "b.vcf")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tvcf\ttumor_fraction\n" + body)
    with pytest.raises(InputError) as e:
        read_samplesheet(sheet)
    text = e.value.one_line()
    assert message in text and line in text and "s.tsv" in text and "\n" not in text


def test_quoted_newline_in_a_csv_sheet(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf")
    sheet = tmp_path / "s.csv"
    sheet.write_text('patient,timepoint,vcf,therapy\nP,T0,a.vcf,"letrozole\n+ palbociclib"\n')
    with pytest.raises(InputError, match=r"s\.csv.*line 2.*unbalanced quote"):
        read_samplesheet(sheet)


def test_huge_sheet_is_refused_before_reading(tmp_path: Path) -> None:
    sheet = tmp_path / "s.tsv"
    with open(sheet, "wb") as fh:
        fh.truncate(17 << 20)  # sparse: 17 MiB of zeros
    with pytest.raises(InputError, match="bytes"):
        read_samplesheet(sheet)


def test_white_cell_columns(tmp_path: Path) -> None:
    _vcfs(tmp_path, "a.vcf", "wbc.vcf")
    (tmp_path / "wbc.bam").write_bytes(b"")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tvcf\twbc_bam\twbc_vcf\nP\tT0\ta.vcf\twbc.bam\twbc.vcf\n")
    spec = read_samplesheet(sheet)[0]
    assert spec.wbc_reads == tmp_path / "wbc.bam" and spec.wbc_vcf == tmp_path / "wbc.vcf"
    sheet.write_text("patient\ttimepoint\tvcf\twbc_vcf\nP\tT0\ta.vcf\tnope.vcf\n")
    with pytest.raises(InputError, match="white-cell VCF file 'nope.vcf' not found"):
        read_samplesheet(sheet)


def test_cli_bad_sheet_exit_1_one_line_nothing_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from annotator.cli import main

    _vcfs(tmp_path, "a.vcf")
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tvcf\ttumor_fraction\nP\tT0\ta.vcf\t140%\n")
    with pytest.raises(SystemExit) as e:
        main(["track", str(sheet), "-o", str(tmp_path / "out")])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "s.tsv" in err[0] and "line 2" in err[0] and "outside 0-1" in err[0]
    assert not (tmp_path / "out").exists()
