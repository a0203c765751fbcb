"""Panel of normals end to end: build from BAMs, track --pon, artefact sites, white cells, bad input.

BAMs are written with pysam (tests/track_bams.py) over the real GRCh38 bases of
ESR1 exon 8 (chr6:152098778-152098827, Y537 at 152098788, D538 at 152098791),
so the known counts are the truth: what the PON and track report must equal them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.errors import InputError
from annotator.track import Thresholds, TrackConfig, track
from annotator.track.pon import PonBuildConfig, build_pon, load
from tests.test_track_e2e import write_vcf
from tests.track_bams import write_bam

START = 152098778
Y537 = 152098788  # A>C (p.Y537S)
D538 = 152098791  # A>G (p.D538G)
P800 = 152098800  # white-cell test sites
P805 = 152098805


def _ref() -> str:
    from annotator.reference import load_reference

    seq = load_reference("GRCh38", None).sequence("chr6", START, START + 49)
    assert seq is not None and seq[Y537 - START] == "A" and seq[D538 - START] == "A"
    return seq


def _alt(ref: str, pos: int) -> str:
    return next(b for b in "ACGT" if b != ref[pos - START])


def _normals(tmp: Path, ref: str) -> list[Path]:
    # Y537S alt base in 1-2 of 1000 reads (0.15 %); D538G alt base in 2 % of reads: an artefact
    return [write_bam(tmp / f"normal{i}.bam", "chr6", START, ref, 1000,
                      {Y537: ("C", 1 + i % 2), D538: ("G", 20)}) for i in range(5)]


def _record(pos: int, ref: str, alt: str, a: int, d: int, filt: str = "PASS") -> str:
    return f"chr6\t{pos}\t.\t{ref}\t{alt}\t.\t{filt}\t.\tGT:AD:DP\t0/1:{d - a},{a}:{d}"


@pytest.fixture(scope="module")
def pon_case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("pon")
    ref = _ref()
    normals = _normals(tmp, ref)
    bed = tmp / "esr1.bed"
    bed.write_text(f"chr6\t{START - 1}\t{START + 49}\n")
    build_pon(PonBuildConfig(normals, tmp / "pon", regions=bed))
    depth = 3000
    y537 = (0, 6, 60)  # T2: 2 % emerging; T1: 6/3000 is above the 0.14 % background, not significant
    rows = []
    for t, a in enumerate(y537):
        bam = write_bam(tmp / f"T{t}.bam", "chr6", START, ref, depth, {Y537: ("C", a), D538: ("G", 60)})
        recs = [_record(D538, "A", "G", 60, depth)]
        if a:
            recs.insert(0, _record(Y537, "A", "C", a, depth))
        vcf = write_vcf(tmp / f"T{t}.vcf", recs)
        rows.append(f"P1\tT{t}\t2024-0{t + 1}-01\t{vcf.name}\t{bam.name}")
    sheet = tmp / "sheet.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\tbam\n" + "\n".join(rows) + "\n")
    return {"tmp": tmp, "sheet": sheet, "pon": tmp / "pon", "bed": bed, "normal0": normals[0]}


def test_pon_counts_equal_what_the_bams_hold(pon_case: dict[str, Path]) -> None:
    pon = load(pon_case["pon"], build="GRCh38")
    assert pon.n_normals == 5
    assert pon.counts("chr6", Y537, "C") == ([1, 2, 1, 2, 1], [1000] * 5)
    assert pon.counts("6", D538, "G") == ([20] * 5, [1000] * 5)
    assert pon.counts("chr6", START + 200, "C") is None  # outside the regions
    m = json.loads((pon_case["pon"] / "pon.json").read_text())
    assert m["format"] == "resmark-pon" and m["version"] == 2 and m["build"] == "GRCh38"
    assert m["regions"]["source"] == "bed" and len(m["regions"]["sha256"]) == 64
    assert all(len(n["sha256"]) == 64 for n in m["normals"]) and m["filters"]["min_mapping_quality"] == 20
    assert (pon_case["pon"] / "provenance.json").exists()


def test_track_with_pon(pon_case: dict[str, Path]) -> None:
    tmp = pon_case["tmp"]
    r = track(TrackConfig(outdir=tmp / "with_pon", samplesheet=pon_case["sheet"], pon=pon_case["pon"],
                          plots=False, html=False))
    y = [o for o in r.observations if o.variant.hgvsp_short == "p.Y537S"]
    assert [o.detection.background_source for o in y if o.detection] == ["pon"] * 3
    assert y[0].detection is not None and y[0].detection.background_rate == pytest.approx(7 / 5000)
    # 6/3000 against a 0.14 % background (4.2 expected) is low-level evidence, not a detection
    assert [o.status for o in y] == ["not_assessable", "low_level", "detected"]
    assert y[2].vs_previous is not None and y[2].vs_previous.change == "emerging"
    d = [o for o in r.observations if o.variant.hgvsp_short == "p.D538G"]
    assert all(not o.monitorable for o in d)  # 2 % background in every normal: artefact
    assert not any("p.D538G" in " ".join(a.alterations) for a in r.alerts)
    assert any(a.kind == "emerging" and a.alterations == ("ESR1 p.Y537S",) for a in r.alerts)
    summary = json.loads((tmp / "with_pon" / "track_summary.json").read_text())
    assert summary["patients"][0]["artefact_sites"] == ["chr6:152098791:A>G"]
    assert summary["pon"]["build"] == "GRCh38"
    prov = json.loads((tmp / "with_pon" / "provenance.json").read_text())
    assert "pon" in {i["role"] for i in prov["inputs"]}


def test_track_without_pon_says_so_and_cannot_see_the_artefact(pon_case: dict[str, Path]) -> None:
    r = track(TrackConfig(outdir=pon_case["tmp"] / "no_pon", samplesheet=pon_case["sheet"],
                          plots=False, html=False))
    d = [o for o in r.observations if o.variant.hgvsp_short == "p.D538G"]
    assert all(o.detection and o.detection.background_source == "sheet_site" for o in d)
    assert any("no panel of normals" in n and "alt-specific artefact" in n for n in r.patients[0].notes)


def test_pon_of_another_build_is_an_error(pon_case: dict[str, Path], tmp_path: Path) -> None:
    m = json.loads((pon_case["pon"] / "pon.json").read_text())
    other = tmp_path / "pon37"
    other.mkdir()
    (other / "pon.parquet").write_bytes((pon_case["pon"] / "pon.parquet").read_bytes())
    (other / "pon.json").write_text(json.dumps({**m, "build": "GRCh37"}))
    with pytest.raises(InputError, match="PON is GRCh37 but the samples are GRCh38") as e:
        track(TrackConfig(outdir=tmp_path / "o", samplesheet=pon_case["sheet"], pon=other))
    assert "pon.json" in e.value.one_line()
    assert not (tmp_path / "o").exists()


def test_pon_of_another_panel_is_an_error(pon_case: dict[str, Path], tmp_path: Path) -> None:
    m = json.loads((pon_case["pon"] / "pon.json").read_text())
    other = tmp_path / "ponx"
    other.mkdir()
    (other / "pon.parquet").write_bytes((pon_case["pon"] / "pon.parquet").read_bytes())
    regions = {**m["regions"], "source": "panel", "panel_checksum": "0" * 64, "panel_name": "other"}
    (other / "pon.json").write_text(json.dumps({**m, "regions": regions}))
    with pytest.raises(InputError, match="PON was built for panel other"):
        track(TrackConfig(outdir=tmp_path / "o", samplesheet=pon_case["sheet"], pon=other))
    assert not (tmp_path / "o").exists()


def test_pon_build_errors(pon_case: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        build_pon(PonBuildConfig([tmp_path / "missing.bam"], tmp_path / "p"))
    nochr = write_bam(tmp_path / "nochr.bam", "chr6", START, _ref(), 10, prefix=True)
    bed = tmp_path / "chrx.bed"
    bed.write_text("chrUn_xyz\t0\t100\n")
    with pytest.raises(InputError, match="match"):
        build_pon(PonBuildConfig([nochr], tmp_path / "p", regions=bed))
    bad = tmp_path / "bad.bed"
    bad.write_text("chr6\tx\t100\n")
    with pytest.raises(InputError, match=r"bad\.bed.*line 1"):
        build_pon(PonBuildConfig([nochr], tmp_path / "p", regions=bad))
    assert not (tmp_path / "p").exists()


def test_pon_cli(pon_case: dict[str, Path], tmp_path: Path) -> None:
    from click.testing import CliRunner

    from annotator.cli import cli

    res = CliRunner().invoke(cli, ["pon", "build", str(pon_case["normal0"]), "-o", str(tmp_path / "p"),
                                   "--regions", str(pon_case["bed"])])
    assert res.exit_code == 0, res.output
    assert load(tmp_path / "p").n_normals == 1


def test_bam_whose_contigs_match_nothing(pon_case: dict[str, Path], tmp_path: Path) -> None:
    ref = _ref()
    # a BAM whose only contigs are GRCh38 lengths under other names: nothing matches chr6
    import pysam

    odd = tmp_path / "odd.bam"
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "contig_A", "LN": 200_000_000}]}
    with pysam.AlignmentFile(str(odd), "wb", header=header):
        pass
    pysam.index(str(odd))
    write_vcf(tmp_path / "t0.vcf", [_record(Y537, "A", "C", 60, 3000)])
    write_vcf(tmp_path / "t1.vcf", [_record(Y537, "A", "C", 60, 3000)])
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tvcf\tbam\nP\tT0\tt0.vcf\todd.bam\nP\tT1\tt1.vcf\t\n")
    assert ref
    with pytest.raises(Exception, match="odd.bam") as e:
        track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet))
    assert "contigs" in str(e.value) or "match" in str(e.value)
    assert not (tmp_path / "o").exists()


def _wbc_case(tmp: Path, wbc_counts: dict[int, tuple[str, int]]) -> Path:
    ref = _ref()
    a800, a805 = _alt(ref, P800), _alt(ref, P805)
    rows = []
    for t, (x, y) in enumerate(((60, 1500), (30, 1500))):
        bam = write_bam(tmp / f"T{t}.bam", "chr6", START, ref, 3000, {P800: (a800, x), P805: (a805, y)})
        vcf = write_vcf(tmp / f"T{t}.vcf", [_record(P800, ref[P800 - START], a800, x, 3000),
                                            _record(P805, ref[P805 - START], a805, y, 3000)])
        rows.append(f"P\tT{t}\t2024-0{t + 1}-01\t{vcf.name}\t{bam.name}\twbc.bam")
    write_bam(tmp / "wbc.bam", "chr6", START, ref, 2000,
              {P800: (a800, wbc_counts.get(P800, ("", 0))[1]), P805: (a805, wbc_counts.get(P805, ("", 0))[1])})
    sheet = tmp / "s.tsv"
    sheet.write_text("patient\ttimepoint\tdate\tvcf\tbam\twbc_bam\n" + "\n".join(rows) + "\n")
    return sheet


def test_white_cells_label_chip_and_germline(tmp_path: Path) -> None:
    # P800 at 2 % -> 1 % in plasma and 1 % (20/2000) in white cells: CHIP;
    # P805 at 50 % in plasma and 50 % in white cells: germline
    sheet = _wbc_case(tmp_path, {P800: ("", 20), P805: ("", 1000)})
    r = track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet, plots=False, html=False))
    by = {o.variant.pos: o for o in r.observations if o.timepoint == "T1"}
    assert by[P800].origin == "chip" and "white cells" in (by[P800].origin_reason or "")
    assert by[P805].origin == "germline" and by[P805].possible_germline
    s = r.patients[0].summaries[1]
    assert s.n_excluded == 2 and s.mrd_sites == 0 and s.mrd_call == "not_assessable"
    assert s.molecular_response == "not_evaluable"  # nothing tumour-derived left to judge
    table = (tmp_path / "o" / "track_long.tsv").read_text()
    assert "chip" in table and "germline" in table


def test_missing_white_cell_bam_is_an_error(tmp_path: Path) -> None:
    sheet = _wbc_case(tmp_path, {})
    (tmp_path / "wbc.bam").unlink()
    with pytest.raises(InputError, match=r"white-cell BAM/CRAM file 'wbc.bam' not found") as e:
        track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet))
    assert "line 2" in e.value.one_line() and "s.tsv" in e.value.one_line()


def test_clearance_default_is_not_assessable_at_modest_depth(tmp_path: Path) -> None:
    sheet = _wbc_case(tmp_path, {})
    r = track(TrackConfig(outdir=tmp_path / "o", samplesheet=sheet, plots=False, html=False,
                          thresholds=Thresholds()))
    assert all(o.origin == "tumour" for o in r.observations)
    assert all(o.power_vaf == 0.001 for o in r.observations)


def test_without_pon_other_patients_reveal_an_artefact(pon_case: dict[str, Path]) -> None:
    tmp = pon_case["tmp"]
    # a second patient whose two draws carry the same 2 % D538G artefact (the normals' BAMs)
    for i in range(2):
        write_vcf(tmp / f"Q{i}.vcf", [_record(D538, "A", "G", 20, 1000)])
    rows = pon_case["sheet"].read_text().rstrip("\n").splitlines()
    rows += [f"P2\tT{i}\t2024-0{i + 1}-01\tQ{i}.vcf\tnormal{i}.bam" for i in range(2)]
    sheet = tmp / "two_patients.tsv"
    sheet.write_text("\n".join(rows) + "\n")
    r = track(TrackConfig(outdir=tmp / "two", samplesheet=sheet, plots=False, html=False))
    d = [o for o in r.patient("P1").observations if o.variant.hgvsp_short == "p.D538G"]
    assert d[0].detection is not None and d[0].detection.background_source == "sheet_patients"
    assert d[0].detection.background_rate == pytest.approx(0.02)
    assert all(not o.monitorable for o in d)
    # Y537S is tracked in P1 only: P2's reads (1-2 alt reads in 1000) are its background there
    y = [o for o in r.patient("P1").observations if o.variant.hgvsp_short == "p.Y537S"]
    assert y[0].detection is not None and y[0].detection.background_rate == pytest.approx(0.0015, abs=0.0006)
    assert y[2].status == "detected"


def _dup_bam(path: Path, copies: int, alt_fragments: int, fragments: int = 40) -> Path:
    """Single-end 50 bp reads at distinct starts over Y537, each fragment written ``copies`` times."""
    import pysam

    from annotator.core.genome import GRCH38
    from annotator.reference import load_reference

    lo = Y537 - 45
    ref = load_reference("GRCh38", None).sequence("chr6", lo, lo + 100)
    assert ref is not None
    names = [c for c in GRCH38.lengths if c != "chrM"]
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": c, "LN": GRCH38.lengths[c]} for c in names]}
    unsorted = path.with_suffix(".u.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for f in range(fragments):
            off = f  # starts lo .. lo + 39: every read covers Y537 (offset 45)
            seq = list(ref[off:off + 50])
            if f < alt_fragments:
                seq[45 - off] = "C"
            for c in range(copies):
                a = pysam.AlignedSegment()
                a.query_name = f"f{f}_{c}"
                a.query_sequence = "".join(seq)
                a.flag = 0
                a.reference_id = names.index("chr6")
                a.reference_start = lo + off - 1
                a.mapping_quality = 60
                a.cigar = ((0, 50),)
                a.query_qualities = pysam.qualitystring_to_array("?" * 50)
                out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path


def test_unmarked_pcr_copies_are_collapsed_by_position(tmp_path: Path) -> None:
    for t, alt in enumerate((4, 8)):
        _dup_bam(tmp_path / f"T{t}.bam", 3, alt)
        write_vcf(tmp_path / f"T{t}.vcf", [_record(Y537, "A", "C", 3 * alt, 120)])
    sheet = tmp_path / "s.tsv"
    sheet.write_text("patient\ttimepoint\tvcf\tbam\n" + "".join(f"P\tT{t}\tT{t}.vcf\tT{t}.bam\n" for t in range(2)))
    auto = track(TrackConfig(outdir=tmp_path / "auto", samplesheet=sheet, plots=False, html=False))
    o = auto.observations[0]
    # 40 fragments written 3 times, no duplicate flags, no UMIs: 40 molecules, 4 ALT
    assert (o.evidence.alt_count, o.evidence.depth, o.evidence.unit) == (4, 40, "position_families")
    assert (o.evidence.read_alt_count, o.evidence.read_depth) == (12, 120)
    off = track(TrackConfig(outdir=tmp_path / "off", samplesheet=sheet, plots=False, html=False,
                            by_position=False))
    assert (off.observations[0].evidence.alt_count, off.observations[0].evidence.unit) == (12, "reads")
