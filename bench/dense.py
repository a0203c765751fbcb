"""Panel-dense VCFs and the matching bcftools csq inputs (not part of the package).

A deep ctDNA panel called down to low VAF (or a gVCF-like file) holds a record
at a large share of the panel's bases.  ``dense_lines`` packs N records into
the panel genes' regions of ``../shared/reference/genomic_regions_GRCh38.fa``
(REF from that sequence, ~91 % SNVs, low-VAF tumour AD/AF/DP at ~2,500x and a
matched normal), seeded: same N and seed, same bytes.

``write_csq_reference`` builds what ``bcftools csq`` needs for the same
records: a bgzipped FASTA whose chromosomes carry the regions' bases at their
GRCh38 positions (N elsewhere, up to the last region; the VCF's contig names)
and an Ensembl-style GFF3 of the MANE Select transcripts of those genes from
``transcript_models.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


def shared_reference() -> Path:
    """``$RESMARK_SHARED/reference``, else ``../shared/reference`` beside the checkout."""
    root = os.environ.get("RESMARK_SHARED")
    base = Path(root) if root else Path(__file__).resolve().parents[2] / "shared"
    if not (base / "reference" / "genomic_regions_GRCh38.fa").exists():
        raise SystemExit(f"{base / 'reference'}: no genomic_regions_GRCh38.fa (set RESMARK_SHARED)")
    return base / "reference"

FASTA_LINE = 60


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 1-based, inclusive
    end: int
    gene: str
    seq: str  # plus strand, upper case


def load_regions(reference: Path | None = None, build: str = "GRCh38") -> list[Region]:
    """The gene regions with sequence (header ``build|chrN:start-end|LRG|gene``), sorted."""
    reference = reference or shared_reference()
    regions: list[Region] = []
    name, parts = None, []  # type: ignore[var-annotated]
    with open(reference / f"genomic_regions_{build}.fa", encoding="ascii") as fh:
        for line in [*fh, ">"]:
            if line.startswith(">"):
                if name is not None:
                    _, loc, _, gene = name.split("|")
                    chrom, span = loc.split(":")
                    s, e = (int(x) for x in span.split("-"))
                    seq = "".join(parts).upper()
                    if len(seq) != e - s + 1:
                        raise SystemExit(f"{name}: {len(seq)} bases for {e - s + 1} positions")
                    regions.append(Region(chrom, s, e, gene, seq))
                name, parts = line[1:].strip() or None, []
            else:
                parts.append(line.strip())
    from annotator.core import genome

    rank = list(genome.GRCH38.lengths)
    return sorted(regions, key=lambda r: (rank.index(r.chrom), r.start))


def dense_lines(
    n_records: int, seed: int, regions: list[Region], within: list[tuple[str, int, int]]
) -> Iterator[list[str]]:
    """``n_records`` records at distinct ACGT positions of ``regions`` that lie in ``within``
    (resmark's panel query regions: every record is a panel record), in file order."""
    rng = np.random.default_rng(seed)
    allowed = []
    for r in regions:
        mask = np.zeros(len(r.seq), dtype=bool)
        for c, s, e in within:
            if c == r.chrom and e >= r.start and s <= r.end:
                mask[max(s, r.start) - r.start : min(e, r.end) - r.start + 1] = True
        mask &= np.frombuffer(r.seq.encode(), dtype=np.uint8) != ord("N")
        mask[:1] = mask[-5:] = False  # room for a deletion's bases after POS
        allowed.append(np.flatnonzero(mask))
    sizes = np.array([len(a) for a in allowed], dtype=float)
    if n_records > sizes.sum() * 0.9:
        raise SystemExit(f"{n_records} records do not fit in {int(sizes.sum())} panel bases")
    counts = rng.multinomial(n_records, sizes / sizes.sum())
    filters = ("PASS", "weak_evidence", "strand_bias", "clustered_events", "normal_artifact")
    filter_p = (0.82, 0.1, 0.03, 0.03, 0.02)
    for region, ok, count in zip(regions, allowed, counts.tolist(), strict=True):
        seq = region.seq
        offs = np.sort(rng.choice(ok, count, replace=False))
        n = len(offs)
        kind = rng.random(n)  # < .91 SNV, < .96 deletion, else insertion
        span = rng.integers(1, 4, n)
        alt_shift = rng.integers(1, 4, n)
        multi = rng.random(n) < 0.01
        ins = ["".join(x) for x in np.array(list("ACGT"))[rng.integers(0, 4, (n, 3))].tolist()]
        filt = rng.choice(len(filters), n, p=filter_p)
        dp_t = rng.poisson(2500, n) + 50
        vaf = np.clip(rng.beta(0.7, 90.0, n), 0.0005, 0.6)  # mostly 0.1-2 %: low-VAF ctDNA calls
        alt_t = np.maximum(2, rng.binomial(dp_t, vaf))
        alt2_t = np.where(multi, np.maximum(1, alt_t // 4), 0)
        ref_t = np.maximum(0, dp_t - alt_t - alt2_t)
        dp_n = rng.poisson(900, n) + 20
        alt_n = rng.binomial(dp_n, 0.0005)
        tlod = np.round(alt_t * rng.uniform(2.5, 3.5, n), 2)
        popaf = np.round(rng.uniform(1.0, 7.3, n), 2)
        lines: list[str] = []
        cols = zip(offs.tolist(), kind.tolist(), span.tolist(), alt_shift.tolist(), multi.tolist(), ins,
                   filt.tolist(), dp_t.tolist(), alt_t.tolist(), alt2_t.tolist(), ref_t.tolist(),
                   dp_n.tolist(), alt_n.tolist(), tlod.tolist(), popaf.tolist(), strict=True)
        for off, k, sp, sh, mu, ins_s, fi, dt, at, a2, rt, dn, an, tl, pa in cols:
            b = seq[off]
            if b not in "ACGT":
                continue  # an N in the reference: no call there
            if k < 0.91:
                ref = b
                alt = "ACGT"["ACGT".index(b) + sh - 4]
                if mu:
                    alt = f"{alt},{'ACGT'['ACGT'.index(b) + (sh % 3) + 1 - 4]}"
            elif k < 0.96:
                ref = seq[off : off + sp + 1]
                if "N" in ref:
                    continue
                alt = b
            else:
                ref, alt = b, b + ins_s[:sp]
            fmt_n = f"0/0:{dn - an},{an}:{an / dn:.4f}:{dn}"
            if a2:
                info = f"DP={dt + dn};ECNT=1;POPAF={pa:.2f},{pa:.2f};TLOD={tl:.2f},{a2 * 3.1:.2f}"
                fmt_n = f"0/0:{dn - an},{an},0:{an / dn:.4f},0.0000:{dn}"
                fmt_t = f"0/1/2:{rt},{at},{a2}:{at / dt:.4f},{a2 / dt:.4f}:{dt}"
            else:
                info = f"DP={dt + dn};ECNT=1;POPAF={pa:.2f};TLOD={tl:.2f}"
                fmt_t = f"0/1:{rt},{at}:{at / dt:.4f}:{dt}"
            lines.append(f"{region.chrom}\t{region.start + off}\t.\t{ref}\t{alt}\t.\t{filters[fi]}\t{info}\t"
                         f"GT:AD:AF:DP\t{fmt_n}\t{fmt_t}\n")
        yield lines


def coding_targets(reference: Path | None = None, pad: int = 20) -> list[tuple[str, int, int]]:
    """A capture panel's targets: every coding exon of the MANE transcripts in
    ``transcript_models.json`` (GRCh38) +/- ``pad`` bases, as (chrom, start, end)."""
    reference = reference or shared_reference()
    models = json.loads((reference / "transcript_models.json").read_text())["genes"]
    out = []
    for m in models.values():
        b = m["builds"]["GRCh38"]
        for s, e in b.get("cds_exons_1based") or ():
            out.append((b["chrom"], int(s) - pad, int(e) + pad))
    return sorted(out)


def write_csq_reference(out: Path, regions: list[Region], reference: Path | None = None) -> tuple[Path, Path]:
    """``out/dense_ref.fa.gz`` (+ .fai, .gzi) and ``out/dense_panel.gff3.gz``; existing ones are kept."""
    fasta, gff = out / "dense_ref.fa.gz", out / "dense_panel.gff3.gz"
    out.mkdir(parents=True, exist_ok=True)
    if not (fasta.exists() and Path(f"{fasta}.fai").exists()):
        _write_fasta(fasta, regions)
    if not gff.exists():
        _write_gff3(gff, regions, reference or shared_reference())
    return fasta, gff


def _write_fasta(path: Path, regions: list[Region]) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as raw:
        proc = subprocess.Popen([shutil.which("bgzip") or "bgzip", "-@2", "-c"], stdin=subprocess.PIPE, stdout=raw)
        assert proc.stdin is not None
        chroms: dict[str, list[Region]] = {}
        for r in regions:
            chroms.setdefault(r.chrom, []).append(r)
        block = ("N" * FASTA_LINE + "\n") * 4096
        for chrom, rs in chroms.items():
            proc.stdin.write(f">{chrom}\n".encode())
            # the chromosome's bases 1..last region end: N outside the regions
            buf: list[str] = []
            pending = 0  # bases written so far on this chromosome
            for r in rs:
                gap = r.start - 1 - pending
                buf.append("N" * gap)
                buf.append(r.seq)
                pending = r.end
            text = "".join(buf)
            for i in range(0, len(text), FASTA_LINE * 4096):
                chunk = text[i : i + FASTA_LINE * 4096]
                if len(chunk) == FASTA_LINE * 4096 and chunk.count("N") == len(chunk):
                    proc.stdin.write(block.encode())
                    continue
                lines = [chunk[j : j + FASTA_LINE] for j in range(0, len(chunk), FASTA_LINE)]
                proc.stdin.write(("\n".join(lines) + "\n").encode())
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit("bgzip failed")
    tmp.rename(path)
    subprocess.run(["samtools", "faidx", str(path)], check=True)


def _write_gff3(path: Path, regions: list[Region], reference: Path) -> None:
    """Ensembl-style GFF3 (gene / mRNA / exon / CDS with phase / UTRs), the ID prefixes csq reads."""
    models = json.loads((reference / "transcript_models.json").read_text())["genes"]
    with_seq = {r.gene for r in regions}
    lines = ["##gff-version 3"]
    genes = []
    for gene, m in models.items():
        b = m["builds"]["GRCh38"]
        if gene not in with_seq or not b.get("cds_exons_1based"):
            continue
        genes.append((gene, m, b))
    from annotator.core import genome

    rank = list(genome.GRCH38.lengths)
    genes.sort(key=lambda x: (rank.index(x[2]["chrom"]), min(s for s, _ in x[2]["mane_exons_1based"])))
    for gene, m, b in genes:
        chrom, strand = b["chrom"], b["strand"]
        tx = m["mane_select"]["ensembl"].split(".")[0]
        exons = sorted(tuple(e) for e in b["mane_exons_1based"])
        cds = [tuple(e) for e in b["cds_exons_1based"]]  # transcript order
        cds_sorted = sorted(cds)
        lo, hi = exons[0][0], exons[-1][1]
        gid = f"gene:{gene}"
        lines.append(f"{chrom}\tresmark\tgene\t{lo}\t{hi}\t.\t{strand}\t.\t"
                     f"ID={gid};Name={gene};biotype=protein_coding")
        lines.append(f"{chrom}\tresmark\tmRNA\t{lo}\t{hi}\t.\t{strand}\t.\t"
                     f"ID=transcript:{tx};Parent={gid};Name={gene}-MANE;biotype=protein_coding")
        cds_lo, cds_hi = cds_sorted[0][0], cds_sorted[-1][1]
        phase, done = {}, 0
        for s, e in cds:  # phase: bases to skip to the next codon, counted in transcript order
            phase[(s, e)] = (3 - done % 3) % 3
            done += e - s + 1
        feats = []
        for s, e in exons:
            feats.append((s, e, "exon", ".", f"Parent=transcript:{tx}"))
            for us, ue in ((s, min(e, cds_lo - 1)), (max(s, cds_hi + 1), e)):
                if us <= ue:
                    five = (ue < cds_lo) == (strand == "+")
                    kind = "five_prime_UTR" if five else "three_prime_UTR"
                    feats.append((us, ue, kind, ".", f"Parent=transcript:{tx}"))
        for s, e in cds_sorted:
            feats.append((s, e, "CDS", str(phase[(s, e)]), f"ID=CDS:{tx};Parent=transcript:{tx}"))
        for s, e, kind, ph, attr in sorted(feats):
            lines.append(f"{chrom}\tresmark\t{kind}\t{s}\t{e}\t.\t{strand}\t{ph}\t{attr}")
    text = path.with_suffix("")
    text.write_text("\n".join(lines) + "\n")
    subprocess.run(["bgzip", "-f", str(text)], check=True)
