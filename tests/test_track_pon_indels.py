"""PON format version 2: insertion/deletion counts per anchor position, their backgrounds in
track, and version 1 PONs still read (issue 16).

Truth: the number of reads written with each CIGAR (constructed BAMs), and rates computed
by hand from those numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.core.genome import GRCH38
from annotator.core.models import VariantKey
from annotator.track import TrackConfig, track
from annotator.track.pon import PonBuildConfig, build_pon, load
from annotator.track.regenotype import repeat_end
from tests.test_track_e2e import write_vcf

START = 152098778  # chr6, ESR1 exon 8 (reads cover START .. START + 49)
DEL_POS = 152098805  # A, then TG deleted: ATG>A (no repeat: the deletion cannot move)
INS_POS = 152098812  # A>AT
HOMO_POS = 152098780  # G, then CCCC: GC>G can sit anywhere in the run of C
LEN = 50


def _ref() -> str:
    from annotator.reference import load_reference

    seq = load_reference("GRCh38", None).sequence("chr6", START, START + LEN + 10)
    assert seq is not None and seq[DEL_POS - START : DEL_POS - START + 3] == "ATG"
    assert seq[HOMO_POS - START : HOMO_POS - START + 6] == "GCCCCT"
    return seq


def _read(ref: str, kind: str, anchor: int, length: int = 1) -> tuple[str, list[tuple[int, int]]]:
    """(query sequence, CIGAR) of a read starting at START: all M, or one indel after ``anchor``."""
    k = anchor - START + 1  # aligned bases up to and including the anchor
    if kind == "M":
        return ref[:LEN], [(0, LEN)]
    if kind == "D":
        return ref[:k] + ref[k + length : LEN + length], [(0, k), (2, length), (0, LEN - k)]
    return ref[:k] + "T" * length + ref[k : LEN - length], [(0, k), (1, length), (0, LEN - k - length)]


def write_indel_bam(path: Path, ref: str, reads: list[tuple[str, int, int, int]], umi: bool = False) -> Path:
    """``reads``: (kind M/D/I, anchor, count, flag/MAPQ code: 0 kept, 1 duplicate, 2 MAPQ 0).

    Deletions after DEL_POS delete TG (ATG>A), all other indels one base.  ``umi``: every
    read its own UMI family (``MI`` tag), so track counts molecules."""
    import pysam

    names = [c for c in GRCH38.lengths if c != "chrM"]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": c, "LN": GRCH38.lengths[c]} for c in names],
              "RG": [{"ID": "rg1", "SM": path.name.split(".")[0]}]}
    unsorted = path.with_suffix(".unsorted.bam")
    n = 0
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for kind, anchor, count, code in reads:
            seq, cigar = _read(ref, kind, anchor, 2 if (kind, anchor) == ("D", DEL_POS) else 1)
            for _ in range(count):
                a = pysam.AlignedSegment()
                a.query_name = f"r{n}"
                n += 1
                a.query_sequence = seq
                a.flag = 0x400 if code == 1 else 0
                a.reference_id = names.index("chr6")
                a.reference_start = START - 1
                a.mapping_quality = 0 if code == 2 else 60
                a.cigar = cigar
                a.query_qualities = pysam.qualitystring_to_array("?" * len(seq))
                a.set_tag("RG", "rg1")
                if umi:
                    a.set_tag("MI", f"m{n}")
                out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path


# per normal: (deletions ATG>A, insertions A>AT, GC>G deletions at the run's first / third base)
NORMALS = [(2, 1, 1, 1), (0, 3, 2, 0), (1, 0, 0, 2), (3, 1, 1, 1)]
PLAIN = 1000  # reads without an indel in each normal


def _build(tmp: Path, umi: bool) -> Path:
    ref = _ref()
    bams = []
    for i, (d, ins, h1, h3) in enumerate(NORMALS):
        bams.append(write_indel_bam(tmp / f"n{i}.bam", ref, [
            ("M", 0, PLAIN, 0), ("D", DEL_POS, d, 0), ("I", INS_POS, ins, 0),
            ("D", HOMO_POS, h1, 0), ("D", HOMO_POS + 2, h3, 0),
            ("D", DEL_POS, 5, 1), ("D", DEL_POS, 7, 2),  # duplicates and MAPQ 0: not counted
        ], umi=umi))
    bed = tmp / "r.bed"
    bed.write_text(f"chr6\t{START - 1}\t{START + LEN - 1}\n")
    build_pon(PonBuildConfig(bams, tmp / "pon", regions=bed))
    return tmp / "pon"


@pytest.fixture(scope="module")
def pon_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("pon_indels"), umi=False)


def _kept(i: int) -> int:
    return PLAIN + sum(NORMALS[i])


def test_indel_counts_equal_the_reads_written(pon_dir: Path) -> None:
    pon = load(pon_dir, build="GRCh38")
    assert pon.has_indels and json.loads((pon_dir / "pon.json").read_text())["version"] == 2
    depths = [_kept(i) for i in range(len(NORMALS))]
    assert pon.counts("chr6", DEL_POS, "del") == ([n[0] for n in NORMALS], depths)
    assert pon.counts("chr6", INS_POS, "ins") == ([n[1] for n in NORMALS], depths)
    assert pon.counts("chr6", INS_POS, "del") == ([0] * len(NORMALS), depths)
    # the deletions placed at the run's first and third base, summed over the repeat
    span = repeat_end(VariantKey("chr6", HOMO_POS, "GC", "G"), load_ref_fetch())
    assert span == HOMO_POS + 4  # the last C of GCCCC
    got = pon.counts("chr6", HOMO_POS, "del", span)
    assert got == ([n[2] + n[3] for n in NORMALS], depths)
    assert pon.counts("chr6", HOMO_POS, "del") == ([n[2] for n in NORMALS], depths)  # anchor only


def load_ref_fetch():  # type: ignore[no-untyped-def]
    from annotator.reference import load_reference

    return load_reference("GRCh38", None).sequence


def test_indel_backgrounds_are_fitted_from_those_counts(pon_dir: Path) -> None:
    pon = load(pon_dir, build="GRCh38")
    total = sum(_kept(i) for i in range(len(NORMALS)))
    d = pon.background(VariantKey("chr6", DEL_POS, "ATG", "A"))
    assert d is not None and d.source == "pon" and d.rate == pytest.approx(6 / total)
    i = pon.background(VariantKey("chr6", INS_POS, "A", "AT"))
    assert i is not None and i.rate == pytest.approx(5 / total)
    h = pon.background(VariantKey("chr6", HOMO_POS, "GC", "G"), span_end=HOMO_POS + 4)
    assert h is not None and h.rate == pytest.approx(8 / total)
    assert pon.background(VariantKey("chr6", DEL_POS, "ATG", "CC")) is None  # complex allele: not counted


def test_version_1_pon_is_still_read_without_indel_backgrounds(pon_dir: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    v1 = tmp_path / "v1"
    v1.mkdir()
    table = pq.read_table(pon_dir / "pon.parquet").drop(["ins", "del"])
    pq.write_table(table, v1 / "pon.parquet")
    m = json.loads((pon_dir / "pon.json").read_text())
    m["version"] = 1
    (v1 / "pon.json").write_text(json.dumps(m))
    pon = load(v1, build="GRCh38")
    assert not pon.has_indels
    assert pon.background(VariantKey("chr6", DEL_POS, "ATG", "A")) is None
    snv = pon.background(VariantKey("chr6", DEL_POS, "A", "C"))
    assert snv is not None and snv.rate == pytest.approx(1e-4)  # no C read: the floor


def _sheet(tmp: Path, umi: bool) -> Path:
    ref = _ref()
    rows = []
    for t in range(2):
        bam = write_indel_bam(tmp / f"T{t}.bam", ref, [("M", 0, 1794, 0), ("D", DEL_POS, 6, 0)], umi=umi)
        vcf = write_vcf(tmp / f"T{t}.vcf", [f"chr6\t{DEL_POS}\t.\tATG\tA\t.\tPASS\t.\tGT:AD:DP\t0/1:1794,6:1800"])
        rows.append(f"P1\tT{t}\t2024-0{t + 1}-01\t{vcf.name}\t{bam.name}")
    sheet = tmp / "sheet.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\tbam\n" + "\n".join(rows) + "\n")
    return sheet


def test_molecule_counts_get_the_normals_indel_molecules(tmp_path: Path) -> None:
    """UMI reads: the PON's normals are re-genotyped at the deletion itself, in molecules (one
    read per family here, so 6 ATG>A molecules of 4 019; the other indels are elsewhere)."""
    (tmp_path / "normals").mkdir()
    pon = _build(tmp_path / "normals", umi=True)
    sheet = _sheet(tmp_path, umi=True)
    r = track(TrackConfig(outdir=tmp_path / "out", samplesheet=sheet, pon=pon, plots=False, html=False))
    obs = [o for o in r.observations if o.variant.ref == "ATG"]
    assert [o.evidence.unit for o in obs] == ["umi_families"] * 2
    d = [o.detection for o in obs]
    assert all(x is not None and x.background_source == "pon_molecules" for x in d)
    assert sum(_kept(i) for i in range(len(NORMALS))) == 4019
    assert d[0] is not None and d[0].background_rate == pytest.approx(6 / 4019)


def test_track_uses_the_indel_background(pon_dir: Path, tmp_path: Path) -> None:
    """An ATG>A deletion in 6 of 1 800 reads against the PON's deletion background (6 of 4 019
    normal reads, 0.15 %: 2.7 expected) is not detected; without the PON (the samples' own other
    alleles: none, so the 1e-4 floor) it is."""
    from scipy.stats import binom

    assert binom.sf(5, 1800, 6 / 4019) > 0.05  # binomial at the PON rate; the beta-binomial is wider
    assert binom.sf(5, 1800, 1e-4) < 1e-6
    sheet = _sheet(tmp_path, umi=False)
    with_pon = track(TrackConfig(outdir=tmp_path / "a", samplesheet=sheet, pon=pon_dir, plots=False, html=False))
    obs = [o for o in with_pon.observations if o.variant.ref == "ATG"]
    assert len(obs) == 2 and all(o.evidence.alt_count == 6 for o in obs)
    assert [o.detection.background_source for o in obs if o.detection] == ["pon", "pon"]
    assert all(o.status != "detected" for o in obs)
    without = track(TrackConfig(outdir=tmp_path / "b", samplesheet=sheet, plots=False, html=False))
    obs = [o for o in without.observations if o.variant.ref == "ATG"]
    assert [o.detection.background_source for o in obs if o.detection] != ["pon", "pon"]
    assert all(o.status == "detected" for o in obs)
