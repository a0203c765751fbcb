"""Read support on real caller VCFs from other projects (../shared/external/vcf).

Expected values are recomputed here from the raw text of each record with the
callers' documented field meanings, independently of annotator.io.readsupport.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from annotator.io.vcfin import VcfSource

CASES = [
    # (relative path, --sample, expected source label, field rule)
    ("umccr_vcf_stuff/data/test-mutect2.vcf.gz", None, "FORMAT:AD/DP/AF", "ad_af_dp"),
    ("umccr_vcf_stuff/data/test-strelka2.vcf.gz", "tumor_downsample", "Strelka2", "strelka"),
    ("umccr_vcf_stuff/data/test-vardict.vcf.gz", "tumor_downsample", "VarDict:AF/VD/DP", "vardict"),
    ("umccr_vcf_stuff/data/test-sage.vcf.gz", None, "FORMAT:AD/DP/AF", "ad_af_dp"),
    ("umccr_vcf_stuff/data/test-tso500-tumoronly.vcf.gz", None, "FORMAT:AD/DP/AF", "ad_vf_dp"),
    ("pcgr/T001-BRCA.grch38.vcf.gz", None, "PCGR:ADT/DPT", "pcgr"),
    ("vcf2maf/test_varscan.vcf", "TUMOR", "VarScan:FREQ/RD/AD", "varscan"),
    ("vcf2maf/test_strelka.vcf", "TUMOR", "Strelka2", "strelka"),
    ("vcf2maf/test_muse.vcf", "TUMOR", "FORMAT:AD/DP/AF", "ad_dp"),
    ("msk_access_ctdna/integration_test_variants.vcf", "C-U1MJT8-L001-d", "VarDict:AF/VD/DP", "vardict"),
]


def raw_records(path: Path, sample: str | None):
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as fh:
        samples: list[str] = []
        tumour_hint = None
        for line in fh:
            if line.startswith("##tumor_sample="):
                tumour_hint = line.strip().split("=", 1)[1]
            if line.startswith("#CHROM"):
                samples = line.rstrip("\n").split("\t")[9:]
                continue
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            name = sample or tumour_hint or samples[0]
            col = f[9 + samples.index(name)].split(":")
            fmt = dict(zip(f[8].split(":"), col, strict=False))  # trailing fields may be dropped
            info = dict(kv.split("=", 1) if "=" in kv else (kv, "") for kv in f[7].split(";"))
            yield f, fmt, info


def num(x: str) -> float | None:
    return None if x in (".", "") else float(x.rstrip("%")) / (100 if x.endswith("%") else 1)


def expected(rule: str, f, fmt, info) -> tuple[float | None, int | None, int | None]:
    ref, alt = f[3], f[4].split(",")[0]
    if rule == "ad_af_dp" or rule == "ad_vf_dp" or rule == "ad_dp":
        ad = [int(x) for x in fmt["AD"].split(",")]
        dp = int(fmt["DP"]) if "DP" in fmt and fmt["DP"] != "." else sum(ad)
        if rule == "ad_af_dp" and "AF" in fmt:
            vaf = num(fmt["AF"].split(",")[0])
        elif rule == "ad_vf_dp" and "VF" in fmt:
            vaf = num(fmt["VF"])
        else:
            vaf = ad[1] / sum(ad) if sum(ad) else None
        return vaf, dp, ad[1]
    if rule == "strelka":
        if "TIR" in fmt:
            a, r = int(fmt["TIR"].split(",")[0]), int(fmt["TAR"].split(",")[0])
        else:
            a, r = int(fmt[f"{alt}U"].split(",")[0]), int(fmt[f"{ref}U"].split(",")[0])
        return (a / (a + r) if a + r else None), a + r, a
    if rule == "vardict":
        return num(fmt["AF"]), int(fmt["DP"]), int(fmt["VD"])
    if rule == "varscan":
        return num(fmt["FREQ"]), int(fmt["DP"]), int(fmt["AD"])
    if rule == "pcgr":
        adt = [int(x) for x in fmt["ADT"].split(",")]
        dp = int(fmt["DPT"])
        return adt[1] / dp, dp, adt[1]
    raise AssertionError(rule)


@pytest.mark.parametrize(("rel", "sample", "source", "rule"), CASES, ids=[c[0] for c in CASES])
def test_real_caller_read_support(shared_dir, rel, sample, source, rule):
    path = shared_dir / "external" / "vcf" / rel
    src = VcfSource(path, sample)
    ours = list(src.records())
    src.close()
    raw = list(raw_records(path, sample))
    assert len(ours) == len(raw) > 0
    checked = 0
    for rec, (f, fmt, info) in zip(ours, raw, strict=True):
        assert (rec.pos, rec.ref) == (int(f[1]), f[3])
        if f[4] == ".":
            assert rec.alts == ()  # reference-only (gVCF-style) record: nothing to measure
            continue
        rs = rec.support[0]
        assert rs.source is not None and rs.source.startswith(source), rec.where()
        if any(fmt.get(k, "") in (".", "") for k in fmt if k in ("AD", "AF", "DP", "VD", "FREQ")):
            continue  # missing values are covered by tests/test_readsupport.py
        vaf, depth, alt = expected(rule, f, fmt, info)
        assert rs.depth == depth, rec.where()
        assert rs.alt_count == alt, rec.where()
        if vaf is None:
            assert rs.vaf is None
        else:
            assert rs.vaf == pytest.approx(vaf, abs=1e-4), rec.where()
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("build", ["grch37", "grch38"])
def test_pcgr_brca_tumour_end_to_end(shared_dir, tmp_path, build):
    """PCGR's TCGA breast tumour T001-BRCA carries PIK3CA H1047R and TP53 V272M
    (shared/external/README.md); both builds must give the same interpretation."""
    from annotator.api import AnnotateConfig, annotate

    path = shared_dir / "external" / "vcf" / "pcgr" / f"T001-BRCA.{build}.vcf.gz"
    res = annotate(AnnotateConfig(inputs=[str(path)], outdir=str(tmp_path / "o"),
                                  build="GRCh37" if build == "grch37" else "GRCh38",
                                  report="panel", formats=("tsv",)))
    (s,) = res.samples
    assert s.accounting.balanced and s.accounting.records_read + (s.accounting.off_panel_by_index or 0) >= 196
    changes = {(r.gene, r.hgvsp_short): r for r in s.rows}
    pik = changes[("PIK3CA", "p.H1047R")]
    assert pik.rule_id and pik.evidence_level == "L1" and pik.support_source == "PCGR:ADT/DPT"
    assert pik.ref_count is not None and pik.support_fields
    assert ("TP53", "p.V272M") in changes
