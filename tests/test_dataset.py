"""The cohort Parquet dataset: layout, schema, Parquet settings, idempotent reruns,
and the DuckDB/Polars queries of docs/cohorts.md (run as written)."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from annotator.api import AnnotateConfig, annotate
from annotator.core.rows import COLUMNS, Row, arrow_schema
from annotator.errors import InputError, OutputError, UsageError
from annotator.io import dataset
from annotator.io.parquetout import ROW_GROUP_SIZE
from tests.conftest import REPO, datapath

COHORT = datapath("cohort")
DOC = REPO / "docs" / "cohorts.md"


def _row(sample: str, pos: int, gene: str = "PIK3CA") -> Row:
    values: dict[str, object] = {c: None for c in COLUMNS}
    values.update(
        sample=sample, chrom="chr3", pos=pos, id=".", ref="A", alt="G", gene=gene, filter="PASS",
        variant_key=f"chr3:{pos}:A>G", build="GRCh38", input_chrom="chr3", input_pos=pos,
        input_ref="A", input_alt="G", record_index=0, allele_index=1, left_aligned=False,
        over_claim_guard=False,
    )
    return Row(**values)  # type: ignore[arg-type]


def _write(root: Path, sample: str, positions: list[int]) -> Path:
    rows = [_row(sample, p) for p in positions]
    return dataset.write_samples(root, [dataset.SampleRows(sample, rows, {"tool": "resmark",
                                                                          "samples": [sample]})])[0]


def test_partition_layout_and_schema(tmp_path: Path) -> None:
    path = _write(tmp_path, "S1", [179234297, 179234298])
    assert path == tmp_path / "sample=S1" / "part-0.parquet"
    assert pq.read_schema(path).remove_metadata().equals(arrow_schema())


def test_parquet_settings(tmp_path: Path) -> None:
    path = _write(tmp_path, "S1", list(range(1, 200)))
    meta = pq.ParquetFile(path).metadata
    rg = meta.row_group(0)
    for i in range(rg.num_columns):
        col = rg.column(i)
        assert col.compression == "ZSTD"
        name = col.path_in_schema
        if name in dataset.STRING_COLUMNS:
            assert any("DICTIONARY" in e for e in col.encodings), name
    assert dataset.writer_options()["row_group_size"] == ROW_GROUP_SIZE
    prov = json.loads(meta.metadata[b"resmark"])
    assert prov == {"tool": "resmark", "samples": ["S1"]}


def test_rerun_replaces_a_sample_without_duplicates(tmp_path: Path) -> None:
    _write(tmp_path, "S1", [1, 2, 3])
    _write(tmp_path, "S2", [4])
    _write(tmp_path, "S1", [5, 6])
    table = dataset.read_dataset(tmp_path)
    got = sorted(zip(table["sample"].to_pylist(), table["pos"].to_pylist(), strict=True))
    assert got == [("S1", 5), ("S1", 6), ("S2", 4)]
    assert dataset.samples_in(tmp_path) == ["S1", "S2"]


def test_sample_without_rows_clears_old_rows(tmp_path: Path) -> None:
    _write(tmp_path, "S1", [1, 2])
    _write(tmp_path, "S1", [])
    assert dataset.read_dataset(tmp_path).num_rows == 0
    assert dataset.samples_in(tmp_path) == ["S1"]


def test_unsafe_sample_names_are_percent_encoded(tmp_path: Path) -> None:
    path = _write(tmp_path, "P 1/T0", [7])
    assert path.parent.name == "sample=P%201%2FT0"
    assert dataset.read_dataset(tmp_path)["sample"].to_pylist() == ["P 1/T0"]


def test_refuses_a_directory_of_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a resmark dataset"):
        _write(tmp_path, "S1", [1])


def test_refuses_a_dataset_with_another_schema(tmp_path: Path) -> None:
    import pyarrow as pa

    part = tmp_path / "sample=old"
    part.mkdir()
    pq.write_table(pa.table({"sample": ["old"], "pos": [1]}), part / "part-0.parquet")
    with pytest.raises(OutputError, match="different column schema"):
        _write(tmp_path, "S1", [1])


def test_failed_run_leaves_the_dataset_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "ds"
    _write(root, "P002_T0", [1])
    copy = tmp_path / "copy.vcf"
    shutil.copy(COHORT / "P002_T0.vcf", copy)
    with pytest.raises(UsageError):  # both staged, then the duplicate sample name fails the run
        annotate(AnnotateConfig(inputs=[str(COHORT / "P002_T0.vcf"), str(copy)],
                                outdir=tmp_path / "out", formats=("tsv",), dataset=root))
    with pytest.raises(InputError):
        annotate(AnnotateConfig(inputs=[str(COHORT / "not_a_vcf.vcf")], outdir=tmp_path / "out",
                                formats=("tsv",), dataset=root))
    assert dataset.read_dataset(root)["pos"].to_pylist() == [1]
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


@pytest.fixture(scope="module")
def cohort_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("cohort")
    for run in range(2):  # the second run must not duplicate anything
        annotate(AnnotateConfig(
            inputs=(), samplesheet=COHORT / "samplesheet.tsv", outdir=base / f"out{run}",
            formats=("tsv",), dataset=base / "cohort_dataset", jobs=1,
        ))
    return base


def test_annotate_rerun_keeps_one_copy(cohort_dataset: Path) -> None:
    table = dataset.read_dataset(cohort_dataset / "cohort_dataset")
    keys = list(zip(table["sample"].to_pylist(), table["variant_key"].to_pylist(), strict=True))
    assert len(keys) == len(set(keys)) == 7
    prov = json.loads(pq.read_schema(
        dataset.partition_dir(cohort_dataset / "cohort_dataset", "P001_T1") / dataset.PART_FILE
    ).metadata[b"resmark"])
    assert prov["samples"] == ["P001_T1"]
    assert [i["path"] for i in prov["inputs"] if i["role"] == "vcf"] == [str(COHORT / "P001_T1.vcf.gz")]
    assert prov["panel"]["checksum_sha256"] and prov["accounting"]["records_read"] == 4


def _doc_block(heading: str) -> str:
    text = DOC.read_text()
    section = text.split(f"### {heading}\n", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, heading
    return match.group(1)


def test_docs_duckdb_queries(cohort_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("duckdb")
    monkeypatch.chdir(cohort_dataset)
    ns: dict[str, object] = {}
    exec(_doc_block("DuckDB"), ns)  # noqa: S102 - the documented queries, as written
    markers = ns["markers"]
    assert [(m[0], m[1], m[2]) for m in markers] == [  # type: ignore[attr-defined]
        ("P001_T0", "PIK3CA", "p.H1047R"),
        ("P001_T1", "ESR1", "p.D538G"), ("P001_T1", "ESR1", "p.Y537S"),
        ("P001_T1", "KRAS", "p.G12D"), ("P001_T1", "PIK3CA", "p.H1047R"),
        ("P002_T0", "AKT1", "p.E17K"), ("P002_T0", "TP53", "p.R175H"),
    ]
    counts = dict(ns["by_mechanism"])  # type: ignore[call-overload]
    assert sum(counts.values()) >= 5 and max(counts.values()) == 2  # PIK3CA in both P001 samples
    assert json.loads(ns["provenance"])["samples"] == ["P001_T1"]  # type: ignore[arg-type]


def test_docs_polars_queries(cohort_dataset: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("polars")
    monkeypatch.chdir(cohort_dataset)
    ns: dict[str, object] = {}
    exec(_doc_block("Polars"), ns)  # noqa: S102 - the documented queries, as written
    esr1 = ns["esr1"]
    rows = esr1.rows()  # type: ignore[attr-defined]
    assert [r[:2] for r in rows] == [("P001_T1", "p.D538G"), ("P001_T1", "p.Y537S")]
    assert [r[2] for r in rows] == pytest.approx([40 / 950, 80 / 1000], abs=1e-3)  # FORMAT AF
    per_sample = ns["per_sample"]
    assert per_sample["sample"].to_list() == ["P001_T0", "P001_T1", "P002_T0"]  # type: ignore[index]
    assert per_sample["rows"].to_list() == [1, 4, 2]  # type: ignore[index]
    import polars as pl

    assert pl.scan_parquet(os.path.join("cohort_dataset", "")).collect().height == 7
