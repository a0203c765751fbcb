"""Site backgrounds in the samples' counting unit, from the PON's normals.

The PON table (``pon.parquet``) holds per-base *read* counts (htslib
``count_coverage``).  When a patient's reads carry molecules (UMI or duplex
families, or position families), every test counts molecules, whose error
rate is several-fold below the per-read rate (a family's reads vote), while
molecule-level artefacts (damage before amplification, present in every read
of a family) remain.  A read-level background is then the wrong unit for the
test: on the simulator it was 3-10x the molecule-level rate at ordinary sites
(the same at artefact sites), which made detection conservative.

So when the normals that ``pon.json`` names are readable, each tracked SNV of
such a patient (and, with a version 2 PON, each indel) is re-genotyped in every normal with the samples' own
re-genotyper, read filters and molecule rules, and its background fitted on
the molecule counts (``background_source`` ``pon_molecules``).  Otherwise the
read-level PON is used and the notes say so.  The normals are not re-hashed
(they may be large); their paths and checksums are in the PON manifest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.track.background import Background, fit

if TYPE_CHECKING:
    from annotator.track.model import Evidence, Thresholds, TrackedVariant
    from annotator.track.pon import Pon
    from annotator.track.regenotype import AlleleCounts

log = logging.getLogger(__name__)

# count(normal BAM, variants) -> variant_key -> counts, with the samples' options
Counter = Callable[[Path, Sequence["TrackedVariant"]], Mapping[str, "AlleleCounts"]]


def normal_paths(pon: Pon) -> list[Path] | None:
    """The PON's normals as files, or None when any is missing (then the read-level PON is used)."""
    out = []
    for n in pon.manifest.get("normals", []):
        p = Path(str(n.get("path", "")))
        if not p.is_absolute():
            p = pon.path / p
        if not p.is_file():
            return None
        out.append(p)
    return out or None


def wants_molecules(evidence: Sequence[Evidence]) -> bool:
    """The patient's counts at a site are molecules at some timepoint."""
    return any(e.source == "reads" and e.unit != "reads" for e in evidence)


def molecule_backgrounds(
    pon: Pon, variants: Sequence[TrackedVariant], count: Counter, th: Thresholds,
    cache: dict[tuple[str, str], AlleleCounts],
) -> dict[str, Background]:
    """variant_key -> beta-binomial over the normals' molecule counts (sites the PON covers).

    ``cache`` (normal path, variant_key) -> counts is shared by the run's patients.  A site
    none of whose normals yields molecules is left out (its read-level PON background stays).
    """
    paths = normal_paths(pon)
    if paths is None:
        return {}
    # SNVs and (version 2 PONs) indels: the re-genotyper counts either allele in the normals
    snvs = [v for v in variants if not v.is_copy_number]
    for p in paths:
        todo = [v for v in snvs if (str(p), v.variant_key) not in cache]
        if todo:
            for key, c in count(p, todo).items():
                cache[(str(p), key)] = c
    out = {}
    for v in snvs:
        alts, depths = [], []
        for p in paths:
            c = cache[(str(p), v.variant_key)]
            if c.unit == "reads" or c.alt_molecules is None:
                continue
            alts.append(int(c.alt_molecules))
            depths.append(int(c.alt_molecules) + int(c.ref_molecules or 0) + int(c.other_molecules or 0))
        if any(depths):
            out[v.variant_key] = fit(alts, depths, "pon_molecules", floor=th.background_floor, cv=th.background_cv)
    log.info("PON normals re-genotyped in molecules at %d of %d SNV sites", len(out), len(snvs))
    return out
