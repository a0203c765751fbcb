"""bench/ctdna_sim.py at tiny scale: its truth table agrees with the BAMs it wrote.

The counts are re-derived here from the BAMs with pysam directly (reads and
MI families at each site), and with ``ReadGenotyper`` (fragments, molecules),
so the simulator's truth and the re-genotyper are checked against each other.
"""

from __future__ import annotations

import csv
import importlib.util
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from annotator.core.models import VariantKey
from annotator.track.regenotype import ReadGenotyper
from tests.conftest import REPO


def _sim() -> ModuleType:
    bench = str(REPO / "bench")
    if bench not in sys.path:
        sys.path.insert(0, bench)
    spec = importlib.util.spec_from_file_location("ctdna_sim", REPO / "bench" / "ctdna_sim.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ctdna_sim"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, str]]]:
    m = _sim()
    out = tmp_path_factory.mktemp("sim")
    p = m.Params(seed=3, patients=5, timepoints=3, normals=1, min_depth=150, max_depth=300,
                 normal_depth=150, modes=("umi", "markdup"), max_sites=9)
    files = m.simulate(out, p)
    with open(files["truth"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return out, rows


def _sheet(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(out / "samplesheet.tsv", encoding="utf-8") as fh:
        return {(r["patient"], r["timepoint"]): r for r in csv.DictReader(fh, delimiter="\t")}


def _key(text: str) -> VariantKey:
    chrom, pos, change = text.split(":")
    ref, alt = change.split(">")
    return VariantKey(chrom, int(pos), ref, alt)


def _pysam_counts(bam: Path, key: VariantKey) -> tuple[Counter[str], int, dict[str, set[str]]]:
    """Read bases at the site (non-duplicates), flagged duplicates, bases per MI family."""
    import pysam

    bases: Counter[str] = Counter()
    dups = 0
    families: dict[str, set[str]] = defaultdict(set)
    with pysam.AlignmentFile(str(bam)) as f:
        for read in f.fetch(key.chrom, key.pos - 1, key.pos):
            pairs = dict((r, q) for q, r in read.get_aligned_pairs(matches_only=True))
            q = pairs.get(key.pos - 1)
            if q is None:
                continue
            if read.is_duplicate:
                dups += 1
                continue
            b = (read.query_sequence or "")[q]
            what = "alt" if b == key.alt else "ref" if b == key.ref else "other"
            bases[what] += 1
            if read.has_tag("MI"):
                families[str(read.get_tag("MI"))].add(what)
    return bases, dups, families


def test_truth_table_matches_bam_contents(sim: tuple[Path, list[dict[str, str]]]) -> None:
    out, rows = sim
    assert rows and {r["role"] for r in rows} >= {"truncal", "artefact", "noise", "resistance"}
    sheet = _sheet(out)
    for r in rows:
        bam = out / sheet[(r["patient"], r["timepoint"])]["bam"]
        key = _key(r["variant_key"])
        bases, dups, families = _pysam_counts(bam, key)
        assert (bases["alt"], bases["ref"], bases["other"]) == (
            int(r["reads_alt"]), int(r["reads_ref"]), int(r["reads_other"])), r
        assert dups == int(r["reads_duplicate_flagged"])
        if r["mode"] == "umi":
            assert len(families) == int(r["molecules"])
            # every drawn ALT molecule (tumour or artefact) shows ALT in at least one read unless
            # all its reads were hit by errors; never more ALT families than ALT reads
            alt_families = sum("alt" in v for v in families.values())
            assert alt_families <= int(r["reads_alt"])
        else:
            assert int(r["reads_duplicate_flagged"]) > 0 or int(r["molecules"]) < 5
        assert float(r["true_vaf"]) == 0.0 or r["role"] in ("truncal", "sensitive", "resistance")


def test_regenotyper_counts_the_simulated_fragments(sim: tuple[Path, list[dict[str, str]]]) -> None:
    out, rows = sim
    from annotator.reference import load_reference

    fetch = load_reference("GRCh38").sequence
    sheet = _sheet(out)
    checked_molecules = 0
    for r in rows:
        with ReadGenotyper(out / sheet[(r["patient"], r["timepoint"])]["bam"], build="GRCh38",
                           fetch=fetch, min_base_quality=0) as g:
            c: Any = g.count(_key(r["variant_key"]))
        assert (c.alt, c.ref, c.other, c.discordant_pairs) == (
            int(r["fragments_alt"]), int(r["fragments_ref"]), int(r["fragments_other"]),
            int(r["discordant_fragments"])), r
        if r["mode"] == "umi":
            assert c.unit == "umi_families"
            drawn_alt = int(r["alt_molecules_true"]) + int(r["artefact_molecules"])
            # molecules whose family majority is ALT: the drawn ALT molecules, give or take the
            # few families that sequencing errors tipped (error rate <= 0.5 % per base)
            assert c.molecule_depth + c.discordant_molecules <= int(r["molecules"])
            assert abs(c.alt_molecules - drawn_alt) <= max(2, 0.1 * drawn_alt), (c, r)
            checked_molecules += 1
        else:
            assert c.unit == "reads"
    assert checked_molecules > 0


def test_error_and_tumour_fraction_ranges_are_honoured(tmp_path: Path) -> None:
    m = _sim()
    p = m.Params(seed=5, patients=2, timepoints=2, normals=1, min_depth=60, max_depth=80, normal_depth=60,
                 max_sites=7, min_error=0.002, max_error=0.003, min_tf=0.05, max_tf=0.06)
    files = m.simulate(tmp_path / "s", p)
    with open(files["truth"], encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows and all(0.002 <= float(r["error_rate"]) <= 0.003 for r in rows)
    baseline = [float(r["tumor_fraction"]) for r in rows if r["timepoint"] == "T0"]
    assert baseline and all(0.05 <= tf <= 0.06 for tf in baseline)
    truncal = [r for r in rows if r["role"] == "truncal" and r["timepoint"] == "T0"]
    assert all(float(r["true_vaf"]) == round(float(r["tumor_fraction"]) / 2, 6) for r in truncal)


def test_every_library_mode_gets_every_course(sim: tuple[Path, list[dict[str, str]]]) -> None:
    _out, rows = sim
    by_patient = {r["patient"]: (r["mode"], r["course"]) for r in rows}
    assert {m for m, _ in by_patient.values()} == {"umi", "markdup"}
    # patients 1-4 (all four courses) are umi, patient 5 starts the markdup block
    assert by_patient["P5"] == ("markdup", "stable") and by_patient["P1"] == ("umi", "stable")


def test_deletion_sites_are_written_as_the_truth_says(tmp_path: Path) -> None:
    """--deletions: 1-bp deletions at sites where the deletion cannot move; the re-genotyper's
    fragment counts equal the simulator's (reads carrying the deletion or spanning it)."""
    m = _sim()
    p = m.Params(seed=4, patients=2, timepoints=2, normals=1, min_depth=150, max_depth=200, normal_depth=100,
                 max_sites=9, deletions=3, min_tf=0.1, max_tf=0.2)
    files = m.simulate(tmp_path / "s", p)
    with open(files["truth"], encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh, delimiter="\t") if len(_key(r["variant_key"]).ref) == 2]
    assert rows, "no deletion site"
    from annotator.reference import load_reference

    fetch = load_reference("GRCh38").sequence
    sheet = _sheet(tmp_path / "s")
    alt_seen = 0
    for r in rows:
        key = _key(r["variant_key"])
        assert len(key.alt) == 1 and key.ref[0] == key.alt[0]
        with ReadGenotyper(tmp_path / "s" / sheet[(r["patient"], r["timepoint"])]["bam"], build="GRCh38",
                           fetch=fetch, min_base_quality=0) as g:
            c: Any = g.count(key)
        assert (c.alt, c.ref, c.discordant_pairs) == (
            int(r["fragments_alt"]), int(r["fragments_ref"]), int(r["discordant_fragments"])), r
        alt_seen += c.alt
    assert alt_seen > 0
