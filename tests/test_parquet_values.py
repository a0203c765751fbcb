"""Parquet float columns hold the VCF's decimals: ``WHERE vaf = 0.311`` finds the row.

htslib stores FORMAT/AF as float32; read back naively 0.311 becomes
0.31099998950958252, which no equality filter matches (issue 13).
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from annotator.api import AnnotateConfig, annotate
from tests.conftest import datapath


def test_parquet_vaf_equals_the_written_decimal(tmp_path: Path) -> None:
    # test_vcfs/callers/mutect2_multiallelic_ad.vcf: T1 FORMAT/AF 0.021,0.311
    res = annotate(AnnotateConfig(inputs=[str(datapath("callers", "mutect2_multiallelic_ad.vcf"))],
                                  outdir=str(tmp_path / "o"), report="panel", formats=("parquet",)))
    table = pq.read_table(tmp_path / "o" / f"{res.samples[0].sample}.resmark.parquet")
    assert table.schema.field("vaf").type == pa.float64()
    assert table.schema.field("normal_vaf").type == pa.float64()
    hits = table.filter(pc.equal(table["vaf"], 0.311))
    assert hits.num_rows == 1 and hits["alt"][0].as_py() == "T"
    assert table.filter(pc.equal(table["vaf"], 0.021)).num_rows == 1
    assert hits["ref_count"][0].as_py() == 400 and hits["support_fields"][0].as_py().endswith("vaf=FORMAT/AF")
