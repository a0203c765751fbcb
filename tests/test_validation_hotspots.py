"""Built-in HGVS against external truth (runs when ../shared/external exists).

* Cancer Hotspots v2 (PoisonAlien/maftools inst/extdata/cancerhotspots_v2_GRCh3{7,8}.tsv):
  every SNV in a panel gene with embedded sequence must give the published
  protein change, except the explained cases in ``HOTSPOT_EXCEPTIONS``.
  Indel rows carry hotspot-level labels (e.g. every TP53 deletion near N131 is
  "N131del"), so they describe a residue, not the variant, and are not compared.
* vcf2maf expected MAFs (mskcc/vcf2maf) and genome-nexus expected MAFs
  (genome-nexus-annotation-pipeline): HGVSc and HGVSp_Short of rows whose
  transcript is the MANE one (same ENST, any version).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from annotator.consequence import ConsequenceEngine
from annotator.core.models import VariantKey
from annotator.reference import load_reference

pytestmark = pytest.mark.shared

# (gene, protein change in the truth file): why the built-in MANE answer differs
HOTSPOT_EXCEPTIONS: dict[tuple[str, str], str] = {
    # Cancer Hotspots numbers FGFR1 on the 853-aa isoform (ENST00000425967,
    # NM_001174067); MANE Select NM_023110.3 is 822 aa, 31 residues shorter.
    ("FGFR1", "K687N"): "isoform: MANE p.K656N",
    ("FGFR1", "K687*"): "isoform: MANE p.K656*",
    ("FGFR1", "K687E"): "isoform: MANE p.K656E",
    ("FGFR1", "N577K"): "isoform: MANE p.N546K",
    ("FGFR1", "N577D"): "isoform: MANE p.N546D",
}


def _norm(short: str | None) -> str | None:
    """Legacy MAF synonymous form 'D84D' equals HGVS 'p.D84='."""
    if short is None:
        return None
    short = short if short.startswith("p.") else "p." + short
    m = re.fullmatch(r"p\.([A-Z*])(\d+)\1", short)
    return f"p.{m.group(1)}{m.group(2)}=" if m else short


@pytest.mark.parametrize("build", ["GRCh37", "GRCh38"])
def test_cancer_hotspots_snvs(shared_dir: Path, build: str) -> None:
    path = shared_dir / "external" / "truth" / "cancerhotspots_v2" / f"cancerhotspots_v2_{build}.tsv"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    ref = load_reference(build)
    engine = ConsequenceEngine(ref)
    compared = agree = 0
    unexplained, explained = [], []
    with path.open() as fh:
        for row in csv.reader(fh, delimiter="\t"):
            chrom, pos, r, a, gene, _vc, change = row[:7]
            if gene not in ref.transcripts or not ref.has_sequence(gene):
                continue
            if len(r) != 1 or len(a) != 1 or "-" in (r, a):
                continue
            compared += 1
            tcs = [t for t in engine.annotate(VariantKey(chrom, int(pos), r, a)) if t.gene == gene]
            got = tcs[0].hgvsp_short if tcs else None
            if _norm(got) == _norm(change):
                agree += 1
            elif (gene, change) in HOTSPOT_EXCEPTIONS:
                assert HOTSPOT_EXCEPTIONS[(gene, change)].endswith(got or "?"), (gene, change, got)
                explained.append((gene, change, got))
            else:
                unexplained.append((gene, chrom, pos, r, a, change, got))
    print(f"\nCancer Hotspots v2 {build}: {compared} SNVs compared, {agree} agree, "
          f"{len(explained)} explained exceptions, {len(unexplained)} unexplained")
    assert compared > 900
    assert not unexplained, unexplained[:20]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _maf_key(row: dict[str, str], ref_seq: object) -> VariantKey:
    """MAF allele (with '-') -> VCF-style key with a padding base from the reference."""
    chrom, start = row["Chromosome"], int(row["Start_Position"])
    r, a = row["Reference_Allele"], row["Tumor_Seq_Allele2"]
    seq = ref_seq  # callable (chrom, start, end) -> str | None
    if r == "-":
        pad = seq(f"chr{chrom}", start, start) or "N"  # type: ignore[operator]
        return VariantKey(chrom, start, pad, pad + a)
    if a == "-":
        pad = seq(f"chr{chrom}", start - 1, start - 1) or "N"  # type: ignore[operator]
        return VariantKey(chrom, start - 1, pad + r, pad)
    return VariantKey(chrom, start, r, a)


# (gene, HGVSc in the truth file): why the built-in MANE answer differs
MAF_EXCEPTIONS: dict[tuple[str, str], str] = {
    # The uniprot variant names ENST00000258149.5 (GENCODE 19), whose CDS starts 183 nt
    # later than MANE ENST00000258149.11 / NM_002392.6; the same file's mskcc variant
    # (ENST00000462284) gives c.629A>T p.E210V, which is what MANE gives.
    ("MDM2", "c.446A>T"): "c.629A>T",
}

MAF_TRUTH = [
    "vcf2maf/test_output.vep_isoforms.maf",
    "vcf2maf/test_output.custom_isoforms.maf",
    "genome-nexus-annotation-pipeline/annotationPipeline/src/test/resources/expected/"
    "data_mutations_extended_100.mskcc.txt",
    "genome-nexus-annotation-pipeline/annotationPipeline/src/test/resources/expected/"
    "data_mutations_extended_100.uniprot.txt",
]


@pytest.mark.parametrize("relpath", MAF_TRUTH)
def test_expected_mafs_on_mane_transcripts(shared_dir: Path, relpath: str) -> None:
    path = shared_dir / "external" / "truth" / relpath
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    compared = agree = other_isoform = explained = 0
    problems = []
    engines: dict[str, ConsequenceEngine] = {}
    for row in _rows(path):
        gene, build = row["Hugo_Symbol"], row.get("NCBI_Build") or "GRCh37"
        engine = engines.setdefault(build, ConsequenceEngine(load_reference(build)))
        tx = engine.reference.transcripts.get(gene)
        if tx is None or not row.get("HGVSc"):
            continue
        if row["Transcript_ID"].split(".")[0] != tx.ensembl.split(".")[0]:
            other_isoform += 1  # e.g. AKT1 ENST00000349310, FGFR3 ENST00000260795
            continue
        key = _maf_key(row, engine.reference.sequence)
        tcs = [t for t in engine.annotate(key) if t.gene == gene]
        compared += 1
        want_c = row["HGVSc"].split(":")[-1]
        want_p = row["HGVSp_Short"]
        got = tcs[0] if tcs else None
        if got is not None and got.hgvsc == want_c and (
            not engine.reference.has_sequence(gene) or _norm(got.hgvsp_short) == _norm(want_p)
        ):
            agree += 1
        elif got is not None and MAF_EXCEPTIONS.get((gene, want_c)) == got.hgvsc:
            explained += 1
        else:
            problems.append((gene, str(key), want_c, want_p, got and got.hgvsc,
                             got and got.hgvsp_short))
    print(f"\n{relpath}: {compared} MANE rows compared, {agree} agree, {explained} explained, "
          f"{other_isoform} on other isoforms skipped")
    assert compared > 0
    assert not problems, problems
