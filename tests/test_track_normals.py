"""Backgrounds in molecules from the PON's normals (annotator/track/normals.py), on constructed counts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from annotator.track.model import Evidence, Thresholds, TrackedVariant
from annotator.track.normals import molecule_backgrounds, normal_paths, wants_molecules
from annotator.track.pon import Pon
from annotator.track.regenotype import AlleleCounts
from tests.test_track_status import VARIANT

TH = Thresholds()


def _pon(tmp: Path, n: int) -> Pon:
    paths = []
    for i in range(n):
        p = tmp / f"N{i}.bam"
        p.write_bytes(b"")
        paths.append({"index": i, "path": str(p)})
    return Pon(tmp, {"normals": paths})


def test_missing_normals_fall_back_to_the_read_level_pon(tmp_path: Path) -> None:
    pon = _pon(tmp_path, 2)
    assert normal_paths(pon) == [tmp_path / "N0.bam", tmp_path / "N1.bam"]
    (tmp_path / "N1.bam").unlink()
    assert normal_paths(pon) is None
    assert molecule_backgrounds(pon, [VARIANT], lambda p, v: {}, TH, {}) == {}


def test_background_is_fitted_on_the_normals_molecules(tmp_path: Path) -> None:
    pon = _pon(tmp_path, 2)
    # per normal: 12 alt of 3000 reads, but 1 alt of 1000 UMI families (the families vote errors out)
    counts = {
        str(tmp_path / "N0.bam"): AlleleCounts(12, 2988, 0, alt_molecules=1, ref_molecules=999, unit="umi_families"),
        str(tmp_path / "N1.bam"): AlleleCounts(12, 2988, 0, alt_molecules=1, ref_molecules=999, unit="umi_families"),
    }
    calls: list[str] = []

    def count(path: Path, todo: Sequence[TrackedVariant]) -> dict[str, AlleleCounts]:
        calls.append(path.name)
        return {v.variant_key: counts[str(path)] for v in todo}

    cache: dict[tuple[str, str], AlleleCounts] = {}
    bg = molecule_backgrounds(pon, [VARIANT], count, TH, cache)[VARIANT.variant_key]
    assert bg.source == "pon_molecules" and bg.n_samples == 2
    assert bg.rate == pytest.approx(2 / 2000)  # not the read rate 24 / 6000
    # the second patient reuses the counts
    molecule_backgrounds(pon, [VARIANT], count, TH, cache)
    assert calls == ["N0.bam", "N1.bam"]


def test_normals_without_molecules_give_no_molecule_background(tmp_path: Path) -> None:
    pon = _pon(tmp_path, 1)
    reads_only = AlleleCounts.from_reads(3, 997, 0)
    assert molecule_backgrounds(pon, [VARIANT], lambda p, v: {VARIANT.variant_key: reads_only}, TH, {}) == {}


def test_only_patients_counting_molecules_want_them() -> None:
    assert wants_molecules([Evidence(1, 900, "reads", unit="umi_families")])
    assert not wants_molecules([Evidence(1, 900, "reads"), Evidence(2, 900, "vcf_call")])
