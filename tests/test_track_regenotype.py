"""Re-genotyping from reads: BAMs synthesised from the embedded GRCh38 sequence."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from annotator.core.models import VariantKey
from annotator.errors import InputError, TimepointError
from annotator.reference import load_reference
from annotator.track.regenotype import ReadGenotyper, repeat_end
from tests.conftest import REPO


def _demo_module() -> ModuleType:
    name = "make_demo_bams"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "make_demo_bams.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def fetch() -> Any:
    return load_reference("GRCh38").sequence


# GRCh38 coordinates (shared/reference/hotspot_codons.tsv; RB1 NM_000321.3)
PIK3CA_H1047R = VariantKey("chr3", 179234297, "A", "G")
ESR1_Y537S = VariantKey("chr6", 152098788, "A", "C")
ESR1_D538G = VariantKey("chr6", 152098791, "A", "G")
RB1_DELA = VariantKey("chr13", 48342616, "GA", "G")  # A5 run at 48342617-48342621


def test_snv_counts_skip_filtered_reads_and_count_mates_once(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    locus = m.Locus("chr3", (m.Allele(179234297, "A", "G", 0.1),), depth=400, junk_alt_reads=3,
                    discordant_pairs=2)
    bam = m.write_bam(tmp_path / "snv.bam", [locus], fetch)
    with ReadGenotyper(bam, build="GRCh38", fetch=fetch) as g:
        c = g.count(PIK3CA_H1047R)
    # 400 fragments, 40 with ALT; duplicates, secondary, supplementary, QC-fail, MAPQ 5 and
    # base quality 5 reads carrying ALT are all ignored; discordant mates are not counted
    assert (c.alt, c.ref, c.other) == (40, 360, 0)
    assert c.discordant_pairs == 2
    assert c.filtered_reads == 3 * 5 and c.low_quality == 3
    assert c.vaf == pytest.approx(0.1)


def test_neighbouring_snvs_in_one_locus(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    locus = m.Locus("chr6", (m.Allele(152098788, "A", "C", 0.05), m.Allele(152098791, "A", "G", 0.02)),
                    depth=500)
    bam = m.write_bam(tmp_path / "esr1.bam", [locus], fetch)
    with ReadGenotyper(bam, build="GRCh38", fetch=fetch) as g:
        y, d = g.count(ESR1_Y537S), g.count(ESR1_D538G)
    assert (y.alt, y.depth) == (25, 500)
    assert (d.alt, d.depth) == (10, 500)


@pytest.mark.parametrize("placement", [None, (48342620, "AA", "A")], ids=["left", "right"])
def test_deletion_counted_wherever_the_aligner_placed_it(tmp_path: Path, fetch: Any, placement: Any) -> None:
    m = _demo_module()
    locus = m.Locus("chr13", (m.Allele(48342616, "GA", "G", 0.05, placement),), depth=300)
    bam = m.write_bam(tmp_path / "del.bam", [locus], fetch, style="ensembl")
    with ReadGenotyper(bam, build="GRCh38", fetch=fetch) as g:
        c = g.count(RB1_DELA)
        snv = g.count(VariantKey("chr13", 48342616, "G", "T"))
    assert (c.alt, c.ref, c.other) == (15, 285, 0)
    assert snv.alt == 0 and snv.depth == 300


def test_insertion_counted(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    # insertion of one A in the same A5 run, written 3' (after 48342621) in the reads
    locus = m.Locus("chr13", (m.Allele(48342616, "G", "GA", 0.1, (48342621, "A", "AA")),), depth=200)
    bam = m.write_bam(tmp_path / "ins.bam", [locus], fetch)
    with ReadGenotyper(bam, build="GRCh38", fetch=fetch) as g:
        c = g.count(VariantKey("chr13", 48342616, "G", "GA"))
        d = g.count(RB1_DELA)
    assert (c.alt, c.ref) == (20, 180)
    assert d.alt == 0 and d.other == 20  # another indel in the repeat is not REF


def test_repeat_end(fetch: Any) -> None:
    assert repeat_end(RB1_DELA, fetch) == 48342621
    assert repeat_end(PIK3CA_H1047R, fetch) == 179234297


def test_reads_of_another_build_are_an_error(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    from annotator.core.genome import GRCH37

    bam = m.write_bam(tmp_path / "b37.bam", [], fetch, lengths=dict(GRCH37.lengths))
    with pytest.raises(TimepointError, match="aligned to GRCh37"):
        ReadGenotyper(bam, build="GRCh38", fetch=fetch)


def test_absent_contig_gives_no_coverage(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    bam = m.write_bam(tmp_path / "empty.bam", [], fetch)
    with ReadGenotyper(bam, build="GRCh38", fetch=fetch) as g:
        assert g.count(PIK3CA_H1047R).depth == 0


# ----------------------------------------------------------------- molecules (UMI / duplex / duplicates)

PIK_SITE0 = 179234297 - 1  # 0-based


def _write_tagged(path: Path, fetch: Any, fragments: list[dict[str, Any]],
                  contigs: dict[str, int] | None = None) -> Path:
    """Paired fragments over PIK3CA H1047R; each dict: allele ('A'/'G'), start offset, tags."""
    import pysam

    from annotator.core.genome import GRCH38

    lengths = contigs or dict(GRCH38.lengths)
    header = {"HD": {"VN": "1.6", "SO": "coordinate"},
              "SQ": [{"SN": n, "LN": ln} for n, ln in lengths.items()]}
    unsorted = path.with_name(path.name + ".u.bam")
    tid = list(lengths).index("chr3") if "chr3" in lengths else 0
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for i, f in enumerate(fragments):
            start = PIK_SITE0 - 40 - f.get("offset", 0)
            mate = start + 30  # both mates cover the site (positions 40 and 10 + offset)
            for k, (s, flag) in enumerate(((start, 0x1 | 0x2 | 0x20 | 0x40), (mate, 0x1 | 0x2 | 0x10 | 0x80))):
                seq = list((fetch("chr3", s + 1, s + 100) or "").upper())
                seq[PIK_SITE0 - s] = f["allele"][k] if len(f["allele"]) == 2 else f["allele"]
                a = pysam.AlignedSegment(out.header)
                a.query_name = f.get("name", f"frag{i}")
                a.flag = flag | f.get("flag", 0)
                a.reference_id = tid
                a.reference_start = s
                a.mapping_quality = 60
                a.cigartuples = [(0, 100)]
                a.next_reference_id = tid
                a.next_reference_start = mate if k == 0 else start
                a.template_length = (mate + 100 - start) * (1 if k == 0 else -1)
                a.query_sequence = "".join(seq)
                a.query_qualities = pysam.qualitystring_to_array("?" * 100)
                for tag, value in f.get("tags", {}).items():
                    a.set_tag(tag, value)
                out.write(a)
    pysam.sort("-o", str(path), str(unsorted))
    unsorted.unlink()
    pysam.index(str(path))
    return path


def _count(path: Path, fetch: Any, **kw: Any) -> Any:
    with ReadGenotyper(path, build="GRCh38", fetch=fetch, **kw) as g:
        return g.count(PIK3CA_H1047R)


def test_reads_without_molecule_tags_count_fragments(tmp_path: Path, fetch: Any) -> None:
    frags = [{"allele": "G"}] * 4 + [{"allele": "A", "offset": i % 7} for i in range(20)]
    c = _count(_write_tagged(tmp_path / "plain.bam", fetch, frags), fetch)
    assert (c.alt, c.ref, c.unit) == (4, 20, "reads")
    assert (c.alt_molecules, c.ref_molecules) == (c.alt, c.ref)


def test_mi_families_counted_once(tmp_path: Path, fetch: Any) -> None:
    frags: list[dict[str, Any]] = []
    for fam in range(5):  # 5 ALT families of 3 reads pairs each
        frags += [{"allele": "G", "offset": fam, "tags": {"MI": f"alt{fam}"}}] * 3
    for fam in range(30):  # 30 REF families of 2
        frags += [{"allele": "A", "offset": fam % 9, "tags": {"MI": f"ref{fam}"}}] * 2
    frags += [{"allele": "A", "tags": {"MI": "err"}}] * 2 + [{"allele": "G", "tags": {"MI": "err"}}]
    frags += [{"allele": "A", "tags": {"MI": "tie"}}, {"allele": "G", "tags": {"MI": "tie"}}]
    frags = [{**f, "name": f"r{i}"} for i, f in enumerate(frags)]
    c = _count(_write_tagged(tmp_path / "mi.bam", fetch, frags), fetch)
    assert (c.alt, c.ref) == (5 * 3 + 1 + 1, 30 * 2 + 2 + 1)  # reads as before
    assert c.unit == "umi_families"
    # majority within a family; the 1:1 family has no majority and is not counted
    assert (c.alt_molecules, c.ref_molecules, c.discordant_molecules) == (5, 31, 1)


def test_duplex_strands_and_consensus_tags(tmp_path: Path, fetch: Any) -> None:
    frags: list[dict[str, Any]] = [
        {"allele": "G", "tags": {"MI": "1/A"}}, {"allele": "G", "tags": {"MI": "1/B"}},  # duplex ALT
        {"allele": "G", "tags": {"MI": "2/A"}}, {"allele": "G", "tags": {"MI": "2/A"}},  # one strand
        {"allele": "G", "tags": {"MI": "3/A"}}, {"allele": "A", "tags": {"MI": "3/B"}},  # strands disagree
        {"allele": "A", "tags": {"MI": "4/A"}}, {"allele": "A", "tags": {"MI": "4/B"}},  # duplex REF
        {"allele": "G", "tags": {"MI": "5", "aD": 3, "bD": 2, "cD": 5}},  # duplex consensus read
        {"allele": "A", "tags": {"MI": "6", "aD": 4, "bD": 0, "cD": 4}},  # single-strand consensus
    ]
    frags = [{**f, "name": f"r{i}"} for i, f in enumerate(frags)]
    c = _count(_write_tagged(tmp_path / "duplex.bam", fetch, frags), fetch)
    assert c.unit == "duplex_families"
    assert (c.alt_molecules, c.ref_molecules, c.discordant_molecules) == (3, 2, 1)
    assert (c.duplex_molecules, c.duplex_alt_molecules) == (3, 2)


def test_rx_groups_by_umi_and_position(tmp_path: Path, fetch: Any) -> None:
    frags = [
        {"allele": "G", "offset": 0, "tags": {"RX": "ACGT-TTGA"}},
        {"allele": "G", "offset": 0, "tags": {"RX": "ACGT-TTGA"}},  # PCR copy: same UMI, same ends
        {"allele": "G", "offset": 3, "tags": {"RX": "ACGT-TTGA"}},  # same UMI, other molecule
        {"allele": "A", "offset": 0, "tags": {"RX": "GGGG-CCCC"}},
    ]
    frags = [{**f, "name": f"r{i}"} for i, f in enumerate(frags)]
    c = _count(_write_tagged(tmp_path / "rx.bam", fetch, frags), fetch)
    assert (c.alt, c.alt_molecules, c.ref_molecules, c.unit) == (3, 2, 1, "umi_families")


def test_unflagged_duplicates_collapse_by_position_on_request(tmp_path: Path, fetch: Any) -> None:
    frags = [{"allele": "G", "offset": 2, "name": f"d{i}"} for i in range(4)]  # 4 copies, one molecule
    frags += [{"allele": "A", "offset": 10 + i, "name": f"r{i}"} for i in range(10)]
    frags += [{"allele": "G", "offset": 5, "name": "flagged", "flag": 0x400}]
    bam = _write_tagged(tmp_path / "dups.bam", fetch, frags)
    plain = _count(bam, fetch)
    assert (plain.alt, plain.alt_molecules, plain.unit) == (4, 4, "reads")
    assert plain.duplicate_reads == 2 and plain.filtered_reads == 2  # both mates of the flagged pair
    collapsed = _count(bam, fetch, by_position=True)
    assert (collapsed.alt, collapsed.alt_molecules, collapsed.ref_molecules) == (4, 1, 10)
    assert collapsed.unit == "position_families"


# ----------------------------------------------------------------- broken inputs


def test_garbage_index_is_an_error(tmp_path: Path, fetch: Any) -> None:
    bam = _write_tagged(tmp_path / "g.bam", fetch, [{"allele": "A"}])
    Path(f"{bam}.bai").write_bytes(b"BAI\x01" + b"\x00garbage" * 20)
    with pytest.raises(InputError, match="g.bam.bai cannot be read"):
        ReadGenotyper(bam, build="GRCh38", fetch=fetch)


def test_index_of_another_file_is_an_error(tmp_path: Path, fetch: Any) -> None:
    m = _demo_module()
    empty = m.write_bam(tmp_path / "empty.bam", [], fetch)
    bam = _write_tagged(tmp_path / "s.bam", fetch, [{"allele": "A"}] * 3)
    Path(f"{bam}.bai").write_bytes(Path(f"{empty}.bai").read_bytes())  # a stale index finds nothing
    with pytest.raises(InputError, match="index does not match"):
        ReadGenotyper(bam, build="GRCh38", fetch=fetch)


def test_contigs_matching_nothing_is_an_error(tmp_path: Path, fetch: Any) -> None:
    bam = _write_tagged(tmp_path / "plasmid.bam", fetch, [{"allele": "A"}],
                        contigs={"pUC19": 200_000_000, "lambda": 48_502})
    with pytest.raises(InputError, match="no contig .* is a human chromosome .*pUC19"):
        ReadGenotyper(bam, build="GRCh38", fetch=fetch)


def test_cli_broken_index_one_line_exit_1_no_htslib_noise(tmp_path: Path, fetch: Any) -> None:
    import subprocess
    import sys

    m = _demo_module()
    bams = m.write_demo_bams(tmp_path / "bams", fetch)
    vcfs = [m.TRACK_DIR / f"{m.PATIENT}_{label}.vcf" for label, *_ in m.TIMEPOINTS]
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text(m.samplesheet_text(vcfs, bams, None))
    Path(f"{bams[1]}.bai").write_bytes(Path(f"{bams[0]}.bai").read_bytes())  # another BAM's index
    proc = subprocess.run([sys.executable, "-m", "annotator", "track", str(sheet), "-o", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "[E::" not in proc.stderr and "[W::" not in proc.stderr, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.strip() and "WARNING" not in ln]
    assert len(errors) == 1 and bams[1].name in errors[0] and "index" in errors[0], proc.stderr
    assert not (tmp_path / "out").exists()
