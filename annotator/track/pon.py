"""Panel of normals (PON): per-position base counts in normal samples, and its backgrounds.

``resmark pon build NORMAL.bam ... -o PON_DIR`` counts, at every position of
the panel genes (or of ``--regions``), the depth and the A/C/G/T counts of
each normal with the read filters of ``resmark track`` (flags in
``regenotype.SKIP_FLAGS``, mapping quality >= ``MIN_MAPPING_QUALITY``, base
quality >= ``MIN_BASE_QUALITY``), using pysam's ``count_coverage`` (htslib
pileup; no per-read Python walk).  PON_DIR holds (format version
``PON_VERSION``):

* ``pon.parquet``: one row per covered position x normal: ``chrom``
  (canonical ``chrN``), ``pos`` (1-based), ``normal`` (index into the
  manifest's normals), ``depth`` (= A + C + G + T), ``A``, ``C``, ``G``, ``T``,
  and (version 2) ``ins`` / ``del``: reads with an insertion right after /
  a deletion starting right after this position (the VCF anchor base), any
  length or sequence.  Version 1 PONs (no indel columns) are still read;
  their indels get track's fallback background.
* ``pon.json``: the manifest: format, version, build, regions (source,
  checksum, panel name/version/checksum), normals (path, sha256, sample),
  filters, tool version, command, created.
* ``provenance.json`` (written last: its presence marks a complete PON).

``load(PON_DIR)`` checks the format and version; ``Pon.background(key)`` fits
the site's beta-binomial (``annotator.track.background.fit``) across the
normals for the tracked allele.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core import chromnames
from annotator.core.jsondoc import JsonObject
from annotator.core.models import VariantKey
from annotator.errors import InputError, UsageError
from annotator.track.background import DEFAULT_CV, DEFAULT_FLOOR, Background, fit
from annotator.track.regenotype import MIN_BASE_QUALITY, MIN_MAPPING_QUALITY, SKIP_FLAGS

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pysam

    from annotator.knowledge.model import Panel

log = logging.getLogger(__name__)

PON_FORMAT = "resmark-pon"
PON_VERSION = 2  # 2: + ins/del counts per anchor position
PON_READABLE = (1, 2)
INDEL_COLUMNS = ("ins", "del")
PON_PARQUET = "pon.parquet"
PON_MANIFEST = "pon.json"
BASES = ("A", "C", "G", "T")
MAX_BED_LINE = 10_000


@dataclass(frozen=True)
class PonBuildConfig:
    normals: Sequence[str | Path]
    outdir: str | Path
    regions: str | Path | None = None  # BED; default: the panel genes
    build: str = "auto"
    panel: str | Path | None = None
    panel_extend: bool = False
    min_base_quality: int = MIN_BASE_QUALITY
    min_mapping_quality: int = MIN_MAPPING_QUALITY
    force: bool = False
    command: Sequence[str] | None = None


def read_bed(path: str | Path) -> list[tuple[str, int, int]]:
    """(canonical chrom, 1-based start, end) of a BED file; header/track lines skipped."""
    p = Path(path)
    if not p.is_file():
        raise InputError("regions BED not found", path=p)
    out: list[tuple[str, int, int]] = []
    with open(p, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if len(line) > MAX_BED_LINE:
                raise InputError(f"line longer than {MAX_BED_LINE} characters", path=p, where=f"line {n}")
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            f = line.rstrip("\n").split("\t")
            try:
                start, end = int(f[1]), int(f[2])
            except (IndexError, ValueError):
                raise InputError("not a BED line (chrom, start, end)", path=p, where=f"line {n}") from None
            if start < 0 or end <= start:
                raise InputError(f"bad interval {start}-{end}", path=p, where=f"line {n}")
            out.append((chromnames.canonical(f[0]), start + 1, end))
    if not out:
        raise InputError("regions BED has no intervals", path=p)
    return out


def _merge(regions: Sequence[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    out: list[tuple[str, int, int]] = []
    for chrom, s, e in sorted(regions):
        if out and out[-1][0] == chrom and s <= out[-1][2] + 1:
            out[-1] = (chrom, out[-1][1], max(out[-1][2], e))
        else:
            out.append((chrom, s, e))
    return out


def _bam_build(path: Path, bam: pysam.AlignmentFile) -> str | None:
    from annotator.core import genome

    lengths = dict(zip(bam.references, bam.lengths, strict=True))
    return genome.infer_build(lengths, None).build


def _sample_name(bam: pysam.AlignmentFile, path: Path) -> str:
    for rg in bam.header.to_dict().get("RG", []):
        if rg.get("SM"):
            return str(rg["SM"])
    return path.name.split(".")[0]


def count_normal(
    path: Path, regions: Sequence[tuple[str, int, int]], min_bq: int, min_mapq: int, build: str | None,
) -> tuple[dict[str, list[np.ndarray]], str, str | None]:
    """Per-position A/C/G/T counts of one normal over ``regions``: (columns, sample, build)."""
    import numpy as np
    import pysam

    if not path.exists():
        raise InputError("normal BAM/CRAM not found", path=path)
    try:
        bam = pysam.AlignmentFile(str(path), "rc" if path.suffix.lower() == ".cram" else "rb")
    except (OSError, ValueError) as e:
        raise InputError(f"cannot open as BAM/CRAM ({' '.join(str(e).split())})", path=path) from e
    with bam:
        if not bam.has_index():
            raise InputError("BAM/CRAM has no index (.bai/.crai/.csi); run samtools index", path=path)
        bam_build = _bam_build(path, bam)
        if build is not None and bam_build is not None and bam_build != build:
            raise InputError(f"normal is aligned to {bam_build}, the PON is {build}", path=path)
        native = {chromnames.canonical(n): n for n in bam.references}
        usable = [r for r in regions if r[0] in native]
        if not usable:
            raise InputError(
                f"none of the BAM's contigs ({', '.join(list(bam.references)[:5])}...) match the "
                f"regions' chromosomes ({', '.join(sorted({r[0] for r in regions})[:5])}...)", path=path)

        def keep(read: pysam.AlignedSegment) -> bool:
            return not (read.flag & SKIP_FLAGS) and read.mapping_quality >= min_mapq

        cols: dict[str, list[np.ndarray]] = {"chrom": [], "pos": [], **{b: [] for b in (*BASES, *INDEL_COLUMNS)}}
        for chrom, start, end in usable:
            acgt = bam.count_coverage(native[chrom], start - 1, end, quality_threshold=min_bq,
                                      read_callback=keep)
            arr = np.vstack([np.asarray(a, dtype=np.int64) for a in acgt]).astype(np.int32)
            depth = arr.sum(axis=0)
            idx = np.nonzero(depth)[0]
            cols["chrom"].append(np.full(len(idx), chrom, dtype=object))
            cols["pos"].append((idx + start).astype(np.int32))
            for i, b in enumerate(BASES):
                cols[b].append(arr[i, idx])
            indels = indel_counts(bam, native[chrom], start, end, keep)
            for name, counts in zip(INDEL_COLUMNS, indels, strict=True):
                cols[name].append(counts[idx])
        return cols, _sample_name(bam, path), bam_build


def indel_counts(
    bam: pysam.AlignmentFile, contig: str, start: int, end: int, keep: Callable[[pysam.AlignedSegment], bool],
) -> tuple[np.ndarray, np.ndarray]:
    """Reads with an insertion / a deletion anchored at each position of ``start..end`` (1-based).

    The anchor is the reference base before the inserted or deleted bases (VCF's padding
    base).  Only reads whose CIGAR has an I or D (``get_cigar_stats``, in htslib) are walked;
    read filters as for the base counts, no base-quality filter (an indel has no base of its
    own at the anchor: counting every one keeps the background conservative).
    """
    import numpy as np

    n = end - start + 1
    ins = np.zeros(n, dtype=np.int32)
    dels = np.zeros(n, dtype=np.int32)
    for read in bam.fetch(contig, start - 1, end):
        if not keep(read):
            continue
        ops = read.get_cigar_stats()[0]
        if not (ops[1] or ops[2]):
            continue
        nxt = read.reference_start  # 0-based next reference base = 1-based anchor of an indel here
        for op, length in read.cigartuples or ():
            if op in (1, 2) and start <= nxt <= end:
                (ins if op == 1 else dels)[nxt - start] += 1
            if op in (0, 2, 3, 7, 8):
                nxt += length
    return ins, dels


def build_pon(config: PonBuildConfig) -> Path:
    """Count every normal and write PON_DIR atomically; returns PON_DIR."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from annotator.core.provenance import InputFile, Provenance, command_line, sha256_file
    from annotator.io.atomic import OutputDir

    if not config.normals:
        raise UsageError("give at least one normal BAM/CRAM")
    OutputDir(config.outdir, config.force).check()
    normals = [Path(p) for p in config.normals]
    for p in normals:
        if not p.exists():
            raise InputError("normal BAM/CRAM not found", path=p)
    build = _resolve_build(config, normals)
    regions, region_meta, panel = _regions(config, build)
    tables = []
    meta_normals: list[JsonObject] = []
    for i, p in enumerate(normals):
        cols, sample, _ = count_normal(p, regions, config.min_base_quality, config.min_mapping_quality, build)
        n = sum(len(x) for x in cols["pos"])
        data: dict[str, pa.Array] = {
            "chrom": pa.array(np.concatenate(cols["chrom"]) if n else [], pa.string()),
            "pos": pa.array(np.concatenate(cols["pos"]) if n else [], pa.int32()),
            "normal": pa.array(np.full(n, i, dtype=np.int16), pa.int16()),
        }
        counts = {b: np.concatenate(cols[b]) if n else np.zeros(0, np.int32) for b in (*BASES, *INDEL_COLUMNS)}
        data["depth"] = pa.array(sum(counts[b] for b in BASES) if n else [], pa.int32())
        for b in (*BASES, *INDEL_COLUMNS):
            data[b] = pa.array(counts[b], pa.int32())
        tables.append(pa.table(data))
        depth = data["depth"].to_numpy() if n else np.zeros(0)
        meta_normals.append({"index": i, "path": str(p), "sha256": sha256_file(p), "sample": sample,
                             "covered_positions": n, "mean_depth": float(depth.mean()) if n else 0.0})
        log.info("PON normal %d (%s): %d covered positions", i, sample, n)
    if all(m["covered_positions"] == 0 for m in meta_normals):
        raise InputError("no normal has any read over the regions", path=normals[0])
    table = pa.concat_tables(tables)
    inputs = tuple(InputFile("normal", str(p), str(m["sha256"])) for p, m in zip(normals, meta_normals, strict=True))
    if config.regions is not None:
        inputs += (InputFile.of("regions", config.regions),)
    prov = Provenance(
        command=command_line(config.command), panel_name=str(getattr(panel, "name", "none")),
        panel_version=str(getattr(panel, "version", "")),
        panel_release_date=str(getattr(panel, "release_date", "")),
        panel_checksum=str(getattr(panel, "checksum", "")), build=build,
        samples=tuple(str(m["sample"]) for m in meta_normals), inputs=inputs,
    ).as_dict()
    manifest = {
        "format": PON_FORMAT, "version": PON_VERSION, "build": build, "regions": region_meta,
        "normals": meta_normals,
        "filters": {"min_base_quality": config.min_base_quality,
                    "min_mapping_quality": config.min_mapping_quality, "skip_flags": SKIP_FLAGS,
                    "indels": "same flags and mapping quality; no base-quality filter"},
        "columns": {"chrom": "canonical chromosome", "pos": "1-based position",
                    "normal": "index into normals", "depth": "A+C+G+T reads passing the filters",
                    **{b: f"reads with base {b}" for b in BASES},
                    "ins": "reads with an insertion right after this position (any length/sequence)",
                    "del": "reads with a deletion starting right after this position (any length)"},
        "provenance": prov,
    }
    with OutputDir(config.outdir, config.force) as out:
        schema_meta = {b"resmark_pon": json.dumps({k: v for k, v in manifest.items() if k != "columns"},
                                                  sort_keys=True).encode()}
        pq.write_table(table.replace_schema_metadata(schema_meta), out.stage(PON_PARQUET), compression="zstd")
        with open(out.stage(PON_MANIFEST), "w", encoding="utf-8") as fh:
            json.dump(manifest, fh, indent=2)
            fh.write("\n")
        with open(out.stage(OutputDir.MARKER), "w", encoding="utf-8") as fh:
            json.dump(prov, fh, indent=2)
            fh.write("\n")
    return Path(config.outdir)


def _resolve_build(config: PonBuildConfig, normals: Sequence[Path]) -> str:
    import pysam

    builds = set()
    for p in normals:
        try:
            with pysam.AlignmentFile(str(p), "rc" if p.suffix.lower() == ".cram" else "rb") as bam:
                b = _bam_build(p, bam)
        except (OSError, ValueError) as e:
            raise InputError(f"cannot open as BAM/CRAM ({' '.join(str(e).split())})", path=p) from e
        if b is not None:
            builds.add((b, p))
    if config.build != "auto":
        for b, p in builds:
            if b != config.build:
                raise InputError(f"normal is aligned to {b}, not --build {config.build}", path=p)
        return config.build
    found = {b for b, _ in builds}
    if len(found) > 1:
        raise InputError(f"normals are aligned to different builds ({', '.join(sorted(found))})")
    if not found:
        raise UsageError("cannot tell the build from the normals' headers; give --build GRCh37|GRCh38")
    return found.pop()


def _regions(config: PonBuildConfig, build: str) -> tuple[list[tuple[str, int, int]], JsonObject, Panel]:
    from annotator.core.provenance import sha256_file
    from annotator.knowledge import load_panel

    panel = load_panel(config.panel, extend=config.panel_extend)
    if config.regions is not None:
        regions = _merge(read_bed(config.regions))
        meta: JsonObject = {"source": "bed", "path": str(config.regions),
                                "sha256": sha256_file(config.regions)}
    else:
        from annotator.annotation.config import AnnotateConfig, RunContext

        run = RunContext(config=AnnotateConfig(inputs=(), outdir=config.outdir, build=build,
                                               panel=config.panel, panel_extend=config.panel_extend,
                                               formats=()), panel=panel)
        regions = _merge(run.panel_regions(build).query_regions())
        meta = {"source": "panel"}
    meta.update(panel_name=str(getattr(panel, "name", "")), panel_version=str(getattr(panel, "version", "")),
                panel_checksum=str(getattr(panel, "checksum", "")), intervals=len(regions),
                bases=sum(e - s + 1 for _, s, e in regions))
    return regions, meta, panel


# ---------------------------------------------------------------------- reading


@dataclass
class Pon:
    """A loaded PON: per-chromosome sorted positions with per-normal counts."""

    path: Path
    manifest: JsonObject  # pon.json
    arrays: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def build(self) -> str:
        return str(self.manifest.get("build"))

    @property
    def n_normals(self) -> int:
        return len(self.manifest.get("normals", []))

    @property
    def has_indels(self) -> bool:
        """Version 2 and later count insertions and deletions per anchor position."""
        return int(self.manifest.get("version") or 1) >= 2

    def counts(self, chrom: str, pos: int, base: str, end: int | None = None) -> tuple[list[int], list[int]] | None:
        """(alt counts, depths) per normal at chrom:pos for ``base`` (A/C/G/T, or ``ins``/``del``
        summed over the anchors ``pos..end``); depth at ``pos``; None when not covered."""
        import numpy as np

        a = self.arrays.get(chromnames.canonical(chrom))
        if a is None or base not in a or (base not in BASES and base not in INDEL_COLUMNS):
            return None
        lo = int(np.searchsorted(a["pos"], pos, side="left"))
        hi = int(np.searchsorted(a["pos"], pos, side="right"))
        if lo == hi:
            return None
        depth_by = dict.fromkeys(range(self.n_normals), 0)
        alt_by = dict.fromkeys(range(self.n_normals), 0)
        for j in range(lo, hi):
            depth_by[int(a["normal"][j])] = int(a["depth"][j])
        top = int(np.searchsorted(a["pos"], max(pos, end or pos), side="right"))
        for j in range(lo, top):
            alt_by[int(a["normal"][j])] += int(a[base][j])
        return [alt_by[i] for i in range(self.n_normals)], [depth_by[i] for i in range(self.n_normals)]

    def background(
        self, key: VariantKey, floor: float = DEFAULT_FLOOR, cv: float = DEFAULT_CV, span_end: int | None = None,
    ) -> Background | None:
        """The site's beta-binomial across the normals; None for MNVs, complex alleles, uncovered
        sites and (version 1 PONs) indels.

        SNV: the alt base's reads at the position.  Indel (VCF-anchored, ``ref[0] == alt[0]``):
        reads with an indel of the same kind (insertion or deletion, any length) anchored at
        the padding base or anywhere up to ``span_end`` (the last base of the repeat the indel
        can move in, ``regenotype.repeat_end``: an aligner may place it anywhere there), over
        the depth at the padding base.
        """
        if len(key.ref) == len(key.alt) == 1:
            c = self.counts(key.chrom, key.pos, key.alt.upper())
        elif self.has_indels and min(len(key.ref), len(key.alt)) == 1 and key.ref[0] == key.alt[0] \
                and len(key.ref) != len(key.alt):
            kind = "ins" if len(key.alt) > len(key.ref) else "del"
            c = self.counts(key.chrom, key.pos, kind, span_end if span_end is not None else key.pos)
        else:
            return None
        if c is None or not any(c[1]):
            return None
        return fit(c[0], c[1], "pon", floor=floor, cv=cv)


def load(path: str | Path, *, build: str | None = None, panel: Panel | None = None) -> Pon:
    """Read PON_DIR; checks format, version, build and (for panel PONs) the panel."""
    import pyarrow.parquet as pq

    d = Path(path)
    mpath = d / PON_MANIFEST
    if not mpath.is_file() or not (d / PON_PARQUET).is_file():
        raise InputError(f"not a PON directory (no {PON_MANIFEST} / {PON_PARQUET}); "
                         "build one with resmark pon build", path=d)
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise InputError(f"unreadable PON manifest ({e})", path=mpath) from e
    if manifest.get("format") != PON_FORMAT or manifest.get("version") not in PON_READABLE:
        raise InputError(f"PON format {manifest.get('format')!r} version {manifest.get('version')!r}; "
                         f"this resmark reads {PON_FORMAT} version {', '.join(map(str, PON_READABLE))}",
                         path=mpath)
    if build is not None and manifest.get("build") != build:
        raise InputError(f"PON is {manifest.get('build')} but the samples are {build}", path=mpath)
    regions = manifest.get("regions", {})
    if panel is not None and regions.get("source") == "panel":
        want = str(getattr(panel, "checksum", ""))
        if want and regions.get("panel_checksum") and regions["panel_checksum"] != want:
            raise InputError(
                f"PON was built for panel {regions.get('panel_name')} {regions.get('panel_version')} "
                f"(checksum {str(regions['panel_checksum'])[:12]}), this run uses "
                f"{getattr(panel, 'name', '')} {getattr(panel, 'version', '')} ({want[:12]}); "
                "rebuild it or build it with --regions", path=mpath)
    table = pq.read_table(d / PON_PARQUET)
    pon = Pon(d, manifest)
    import numpy as np

    chroms = table.column("chrom").to_numpy(zero_copy_only=False)
    names = ("pos", "normal", "depth", *BASES, *(c for c in INDEL_COLUMNS if c in table.column_names))
    cols = {c: table.column(c).to_numpy() for c in names}
    for chrom in np.unique(chroms) if len(chroms) else []:
        sel = chroms == chrom
        order = np.argsort(cols["pos"][sel], kind="stable")
        pon.arrays[str(chrom)] = {c: v[sel][order] for c, v in cols.items()}
    return pon
