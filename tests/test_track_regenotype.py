"""Re-genotyping from reads: BAMs synthesised from the embedded GRCh38 sequence."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from annotator.core.models import VariantKey
from annotator.errors import TimepointError
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
