#!/usr/bin/env python3
"""Build resmark's embedded reference from ``../shared/reference``.

Run from the repository root::

    python3 scripts/build_reference.py --shared ../shared/reference --out annotator/data/reference

Inputs read (every one is checked against a SHA-256 before use: the six files
listed in the source's ``SHA256SUMS`` against that file, the two that it does
not list against the digests pinned in ``PINNED`` below):

* ``transcript_models.json``: MANE Select models (exons, CDS, strand, ids,
  ``cds_seq``) of 25 panel genes in GRCh37 and GRCh38 (LRG / GENCODE / Ensembl).
* ``genomic_regions_GRCh37.fa`` / ``genomic_regions_GRCh38.fa``: plus-strand
  sequence of 17 gene regions (gene +/- ~5 kb), header ``build|chrN:s-e|LRG|gene``.
* ``mane/MANE.GRCh38.v1.5.summary.txt.gz``: NCBI MANE v1.5 summary (GRCh38 gene
  coordinates of every MANE Select gene).
* the same summary's NCBI Gene IDs (``gene_ids.tsv``: symbol, Entrez Gene ID;
  the MAF's ``Entrez_Gene_Id``).
* ``liftover/hg38ToHg19.over.chain.gz``: UCSC chain used to lift the MANE gene
  spans to GRCh37 (transcript-model genes use their own GRCh37 models instead).

Outputs (in ``--out``): ``transcripts_{build}.json``, ``regions_{build}.fa.gz``
(bgzip) with ``.fai``/``.gzi``, ``gene_coordinates_{build}.tsv`` and
``MANIFEST.json`` (inputs and outputs with SHA-256).  Reruns give the same bytes.
"""

from __future__ import annotations

import argparse
import bisect
import gzip
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from annotator.core import chromnames  # noqa: E402

BUILDS = ("GRCh37", "GRCh38")
PINNED = {
    "mane/MANE.GRCh38.v1.5.summary.txt.gz": (
        "d10ace2720681a3b2e0eefd9da4f551274a6b4141ac9bfd6a2565dfb6e9ad55c"
    ),
    "liftover/hg38ToHg19.over.chain.gz": (
        "3a055f690fbddadea2c4cc624f09dc3519f9001ebab2223a25bf377b1a4564b9"
    ),
}
FORMAT_VERSION = 1


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class Inputs:
    """Checksummed access to the shared reference directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.expected: dict[str, str] = dict(PINNED)
        sums = root / "SHA256SUMS"
        for line in sums.read_text().splitlines():
            if line.strip():
                digest, name = line.split(maxsplit=1)
                self.expected[name.lstrip("*")] = digest
        self.used: dict[str, str] = {}

    def path(self, name: str) -> Path:
        p = self.root / name
        if name not in self.expected:
            raise SystemExit(f"{p}: no checksum known for this input")
        got = sha256(p)
        if got != self.expected[name]:
            raise SystemExit(f"{p}: sha256 {got} != expected {self.expected[name]}")
        self.used[name] = got
        return p


def read_fasta(path: Path) -> Iterator[tuple[str, str]]:
    name: str | None = None
    chunks: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            if name is not None:
                yield name, "".join(chunks)
            name, chunks = line[1:].strip(), []
        else:
            chunks.append(line.strip())
    if name is not None:
        yield name, "".join(chunks)


def revcomp(seq: str) -> str:
    return seq.translate(str.maketrans("ACGTNacgtn", "TGCANtgcan"))[::-1]


# ---------------------------------------------------------------- chain lift-over


class Chain:
    __slots__ = ("score", "t_name", "q_name", "q_size", "q_strand", "t_starts", "t_ends", "q_starts")

    def __init__(self, header: list[str]) -> None:
        self.score = int(header[1])
        self.t_name = header[2]
        self.q_name = header[7]
        self.q_size = int(header[8])
        self.q_strand = header[9]
        self.t_starts: list[int] = []
        self.t_ends: list[int] = []
        self.q_starts: list[int] = []


def read_chains(path: Path) -> dict[str, list[Chain]]:
    chains: dict[str, list[Chain]] = {}
    chain: Chain | None = None
    t = q = 0
    with gzip.open(path, "rt") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "chain":
                chain = Chain(parts)
                t, q = int(parts[5]), int(parts[10])
                chains.setdefault(chromnames.canonical(chain.t_name), []).append(chain)
                continue
            assert chain is not None
            size = int(parts[0])
            chain.t_starts.append(t)
            chain.t_ends.append(t + size)
            chain.q_starts.append(q)
            if len(parts) == 3:
                t += size + int(parts[1])
                q += size + int(parts[2])
    return chains


def lift_span(
    chains: dict[str, list[Chain]], chrom: str, start: int, end: int, strand: str
) -> tuple[str, int, int, str] | None:
    """Lift a 1-based inclusive span: the primary-chromosome chain covering most of it."""
    s0, e0 = start - 1, end
    best: tuple[int, int, str, int, int, str] | None = None
    for ch in chains.get(chrom, ()):
        q_chrom = chromnames.canonical(ch.q_name)
        if q_chrom not in chromnames.PRIMARY or not ch.t_starts:
            continue
        if ch.t_starts[0] >= e0 or ch.t_ends[-1] <= s0:
            continue
        i = max(bisect.bisect_right(ch.t_starts, s0) - 1, 0)
        covered, lo, hi = 0, None, None
        while i < len(ch.t_starts) and ch.t_starts[i] < e0:
            a, b = max(ch.t_starts[i], s0), min(ch.t_ends[i], e0)
            if a < b:
                qa = ch.q_starts[i] + (a - ch.t_starts[i])
                qb = qa + (b - a)
                if ch.q_strand == "-":
                    qa, qb = ch.q_size - qb, ch.q_size - qa
                covered += b - a
                lo = qa if lo is None else min(lo, qa)
                hi = qb if hi is None else max(hi, qb)
            i += 1
        if covered and lo is not None and hi is not None:
            new_strand = strand if ch.q_strand == "+" else ("-" if strand == "+" else "+")
            cand = (covered, ch.score, q_chrom, lo + 1, hi, new_strand)
            if best is None or cand[:2] > best[:2]:
                best = cand
    if best is None:
        return None
    return best[2], best[3], best[4], best[5]


# ---------------------------------------------------------------- builders


def transcript_records(models: dict, build: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for gene in sorted(models["genes"]):
        g = models["genes"][gene]
        b = g["builds"][build]
        mane = g["mane_select"]
        out[gene] = {
            "gene": gene,
            "chrom": chromnames.canonical(b["chrom"]),
            "strand": b["strand"],
            "refseq": mane["refseq"],
            "ensembl": mane["ensembl"],
            "refseq_protein": mane.get("refseq_protein"),
            "hgnc_id": g.get("hgnc_id"),
            "model_source": g.get("model_source"),
            "exons": [list(map(int, e)) for e in b["mane_exons_1based"]],
            "cds_start": int(b["cds_start"]),
            "cds_end": int(b["cds_end"]),
            "cds_length": int(b["cds_length"]),
            "cds_seq": b.get("cds_seq") or None,
        }
    return out


def check_models(tx: dict[str, dict]) -> None:
    for gene, t in tx.items():
        exons = sorted(t["exons"])
        cds_len = sum(
            max(0, min(e, t["cds_end"]) - max(s, t["cds_start"]) + 1) for s, e in exons
        )
        if cds_len != t["cds_length"] or cds_len % 3:
            raise SystemExit(f"{gene}: CDS length from exons {cds_len} != {t['cds_length']}")
        if t["cds_seq"] is not None and len(t["cds_seq"]) != cds_len:
            raise SystemExit(f"{gene}: cds_seq length {len(t['cds_seq'])} != {cds_len}")


def region_contigs(
    fasta: Path, build: str, tx: dict[str, dict]
) -> list[tuple[str, str, int, int, str]]:
    """(contig name, chrom, start, end, sequence) of every embedded sequence piece."""
    contigs: list[tuple[str, str, int, int, str]] = []
    for header, seq in read_fasta(fasta):
        hb, loc, _lrg, gene = header.split("|")
        if hb != build:
            raise SystemExit(f"{fasta}: header {header!r} is not {build}")
        chrom, span = loc.split(":")
        start, end = (int(x) for x in span.split("-"))
        if end - start + 1 != len(seq):
            raise SystemExit(f"{fasta}: {header} length {len(seq)} != span")
        contigs.append((gene, chromnames.canonical(chrom), start, end, seq.upper()))
    have = {c[0] for c in contigs}
    # Genes with a CDS sequence but no genomic region (KRAS): embed the CDS
    # exons themselves so that coding positions still have reference bases.
    for gene, t in tx.items():
        if gene in have or not t["cds_seq"]:
            continue
        pos = 0
        pieces = []
        for s, e in t["exons"]:
            a, b = max(s, t["cds_start"]), min(e, t["cds_end"])
            if a > b:
                continue
            n = b - a + 1
            piece = t["cds_seq"][pos : pos + n]
            pos += n
            pieces.append((a, b, piece if t["strand"] == "+" else revcomp(piece)))
        for i, (a, b, seq) in enumerate(sorted(pieces), start=1):
            contigs.append((f"{gene}_cds{i}", t["chrom"], a, b, seq))
    # Verify embedded sequence against every cds_seq it covers.
    for gene, t in tx.items():
        if not t["cds_seq"]:
            continue
        got = []
        for s, e in t["exons"]:
            a, b = max(s, t["cds_start"]), min(e, t["cds_end"])
            if a > b:
                continue
            for name, chrom, cs, ce, seq in contigs:
                if chrom == t["chrom"] and cs <= a and b <= ce and name.startswith(gene):
                    piece = seq[a - cs : b - cs + 1]
                    got.append(piece if t["strand"] == "+" else revcomp(piece))
                    break
            else:
                raise SystemExit(f"{gene} {build}: CDS exon {a}-{b} not covered")
        if "".join(got) != t["cds_seq"]:
            raise SystemExit(f"{gene} {build}: genomic region disagrees with cds_seq")
    return contigs


def write_fasta_bgzip(contigs: list[tuple[str, str, int, int, str]], out: Path) -> None:
    import pysam

    plain = out.with_suffix("")  # regions_X.fa
    with plain.open("w") as fh:
        for name, _chrom, _s, _e, seq in contigs:
            fh.write(f">{name}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")
    for suffix in ("", ".fai", ".gzi"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    pysam.tabix_compress(str(plain), str(out), force=True)
    plain.unlink()
    pysam.faidx(str(out))


def mane_genes(path: Path) -> list[tuple[str, str, int, int, str, str, str]]:
    rows = []
    with gzip.open(path, "rt") as fh:
        header = fh.readline().lstrip("#").rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[col["MANE_status"]] != "MANE Select":
                continue
            chrom = chromnames.canonical(f[col["GRCh38_chr"]])
            if chrom not in chromnames.PRIMARY:
                continue
            rows.append(
                (
                    f[col["symbol"]],
                    chrom,
                    int(f[col["chr_start"]]),
                    int(f[col["chr_end"]]),
                    f[col["chr_strand"]],
                    f[col["RefSeq_nuc"]],
                    f[col["Ensembl_nuc"]],
                )
            )
    return rows


def gene_coordinates(
    mane: list[tuple[str, str, int, int, str, str, str]],
    chains: dict[str, list[Chain]],
    tx37: dict[str, dict],
) -> tuple[list[tuple], list[tuple], int]:
    rows38, rows37, unlifted = [], [], 0
    for gene, chrom, start, end, strand, nm, enst in mane:
        rows38.append((gene, chrom, start, end, strand, nm, enst))
        if gene in tx37:
            t = tx37[gene]
            lo = min(min(e) for e in t["exons"])
            hi = max(max(e) for e in t["exons"])
            rows37.append((gene, t["chrom"], lo, hi, t["strand"], nm, enst))
            continue
        lifted = lift_span(chains, chrom, start, end, strand)
        if lifted is None:
            unlifted += 1
            continue
        rows37.append((gene, *lifted, nm, enst))
    return rows38, rows37, unlifted


def chrom_order(chrom: str) -> int:
    return chromnames.PRIMARY.index(chrom) if chrom in chromnames.PRIMARY else 99


def write_tsv(rows: list[tuple], path: Path) -> None:
    rows = sorted(rows, key=lambda r: (chrom_order(r[1]), r[2], r[3], r[0]))
    with path.open("w") as fh:
        fh.write("#gene\tchrom\tstart\tend\tstrand\trefseq\n")
        for r in rows:
            fh.write("\t".join(str(x) for x in r[:6]) + "\n")


def gene_ids(path: Path) -> list[tuple[str, str]]:
    """(symbol, NCBI Gene ID) of every MANE Select gene."""
    rows = []
    with gzip.open(path, "rt") as fh:
        header = fh.readline().lstrip("#").rstrip("\n").split("\t")
        col = {name: i for i, name in enumerate(header)}
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if f[col["MANE_status"]] != "MANE Select":
                continue
            entrez = f[col["NCBI_GeneID"]].removeprefix("GeneID:")
            rows.append((f[col["symbol"]], entrez))
    return sorted(set(rows))


def write_gene_ids(rows: list[tuple[str, str]], path: Path) -> None:
    with path.open("w") as fh:
        fh.write("#gene\tentrez_gene_id\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "reference")
    ap.add_argument("--out", type=Path, default=REPO / "annotator" / "data" / "reference")
    args = ap.parse_args(argv)
    inputs = Inputs(args.shared)
    args.out.mkdir(parents=True, exist_ok=True)

    models = json.loads(inputs.path("transcript_models.json").read_text())
    mane = mane_genes(inputs.path("mane/MANE.GRCh38.v1.5.summary.txt.gz"))
    chains = read_chains(inputs.path("liftover/hg38ToHg19.over.chain.gz"))
    outputs: list[Path] = []
    per_build: dict[str, dict[str, dict]] = {}
    for build in BUILDS:
        tx = transcript_records(models, build)
        check_models(tx)
        per_build[build] = tx
        contigs = region_contigs(inputs.path(f"genomic_regions_{build}.fa"), build, tx)
        fa = args.out / f"regions_{build}.fa.gz"
        write_fasta_bgzip(contigs, fa)
        outputs += [fa, Path(str(fa) + ".fai"), Path(str(fa) + ".gzi")]
        doc = {
            "format_version": FORMAT_VERSION,
            "build": build,
            "transcripts": tx,
            "sequence_contigs": [[n, c, s, e] for n, c, s, e, _ in contigs],
        }
        path = args.out / f"transcripts_{build}.json"
        path.write_text(json.dumps(doc, separators=(",", ":"), sort_keys=True) + "\n")
        outputs.append(path)

    rows38, rows37, unlifted = gene_coordinates(mane, chains, per_build["GRCh37"])
    # Self-check of the lift-over against the independently built GRCh37 models.
    for gene, t in per_build["GRCh38"].items():
        lo = min(min(e) for e in t["exons"])
        hi = max(max(e) for e in t["exons"])
        lifted = lift_span(chains, t["chrom"], lo, hi, t["strand"])
        t37 = per_build["GRCh37"][gene]
        lo37 = min(min(e) for e in t37["exons"])
        hi37 = max(max(e) for e in t37["exons"])
        if lifted is None or lifted[0] != t37["chrom"] or abs(lifted[1] - lo37) > 50 or abs(
            lifted[2] - hi37
        ) > 50:
            raise SystemExit(f"lift-over self-check failed for {gene}: {lifted} vs {lo37}-{hi37}")
    for build, rows in (("GRCh38", rows38), ("GRCh37", rows37)):
        path = args.out / f"gene_coordinates_{build}.tsv"
        write_tsv(rows, path)
        outputs.append(path)

    ids = gene_ids(inputs.path("mane/MANE.GRCh38.v1.5.summary.txt.gz"))
    path = args.out / "gene_ids.tsv"
    write_gene_ids(ids, path)  # Entrez_Gene_Id of the MAF and cBioPortal tables
    outputs.append(path)

    manifest = {
        "format_version": FORMAT_VERSION,
        "built_by": "scripts/build_reference.py",
        "source_dir": "../shared/reference",
        "sources": {
            "transcript_models.json": "MANE Select v1.5 models from LRG / GENCODE / Ensembl",
            "genomic_regions_GRCh3{7,8}.fa": "LRG region sequence rebuilt from GRCh37.p13 / GRCh38",
            "mane/MANE.GRCh38.v1.5.summary.txt.gz": "NCBI MANE v1.5 summary (gene spans)",
            "liftover/hg38ToHg19.over.chain.gz": "UCSC chain (GRCh37 gene spans)",
        },
        "inputs": dict(sorted(inputs.used.items())),
        "outputs": {p.name: sha256(p) for p in sorted(outputs)},
        "counts": {
            "transcripts": len(per_build["GRCh38"]),
            "gene_coordinates_GRCh38": len(rows38),
            "gene_coordinates_GRCh37": len(rows37),
            "not_lifted_to_GRCh37": unlifted,
            "gene_ids": len(ids),
        },
    }
    (args.out / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(f"wrote {len(outputs) + 1} files to {args.out} ({total / 1e6:.2f} MB); "
          f"{unlifted} MANE genes not lifted to GRCh37")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
