"""Transcript models from a user's GTF or GFF3 (GENCODE, Ensembl, RefSeq; plain, gzip, bgzip+tabix).

``read_gtf(path, genes, build)`` returns one model per requested gene symbol,
choosing the transcript in this order (the documented fallback):

1. the transcript tagged MANE Select (GTF ``tag "MANE_Select"``, GFF3
   ``tag=MANE_Select`` or RefSeq's ``tag=MANE Select``);
2. else the one tagged ``Ensembl_canonical``;
3. else the protein-coding transcript with the longest CDS (then the longest
   transcript, then the smallest id, so the choice is reproducible).

Only transcripts on a primary chromosome count (a MANE record on a fix-patch
or alt contig is skipped in favour of the gene's primary-assembly copy).
The file is streamed: only lines whose gene symbol was requested are kept,
so memory is bounded by the panel, not the file; with a bgzip file and its
tabix index only the requested genes' regions are read (genes whose region
resmark does not know are then found by one streaming pass).

The CDS of a model includes the stop codon (GTF ``CDS`` lines exclude it and
``stop_codon`` lines carry it; RefSeq GFF3 ``CDS`` lines include it: the
union of both is taken).  Bad input stops with one line naming the file and
line: a compressed file that ends early, a line that is not 9 tab-separated
columns, genes out of order, a header or contig naming the other build,
gene positions that match the other build, or none of the genes present.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import unquote

from annotator.core import chromnames
from annotator.errors import ReferenceError_
from annotator.reference.gtfscan import (
    Scanner,
    contig_again,
    needs_parent_links,
    open_binary,
    symbol_key,
)
from annotator.reference.transcripts import GeneRegion, Transcript
from annotator.reference.txchoice import TxRecord, check_build, choose

log = logging.getLogger(__name__)

_GTF_ATTR = re.compile(r'(\S+)\s+"([^"]*)"')
_BUILD_WORD = re.compile(r"\b(GRCh3[78]|hg19|hg38|b37|hs37d5)\b", re.IGNORECASE)
_BUILD_ALIAS = {"grch37": "GRCh37", "hg19": "GRCh37", "b37": "GRCh37", "hs37d5": "GRCh37",
                "grch38": "GRCh38", "hg38": "GRCh38"}
_TX_FEATURES = frozenset({"transcript", "mrna"})
_PART_FEATURES = frozenset({"exon", "cds", "stop_codon"})
REGION_MARGIN = 10_000  # tabix queries reach this far past a gene's known span


@dataclass(frozen=True)
class GtfModels:
    """What one GTF/GFF3 gave for the requested genes."""

    path: Path
    fmt: str  # gtf | gff3
    flavour: str  # gencode | ensembl | refseq | unknown
    transcripts: Mapping[str, Transcript]
    chosen_by: Mapping[str, str]  # gene -> "MANE Select tag" | "Ensembl_canonical tag" | "longest CDS"
    not_found: tuple[str, ...]
    lines_read: int
    sha256: str
    tabix: bool

    def describe(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "sha256": self.sha256,
            "format": self.fmt,
            "flavour": self.flavour,
            "tabix_queries": self.tabix,
            "lines_read": self.lines_read,
            "transcripts": {
                g: {"transcript": t.ensembl or t.refseq, "refseq": t.refseq or None,
                    "ensembl": t.ensembl or None, "chosen_by": self.chosen_by[g]}
                for g, t in sorted(self.transcripts.items())
            },
            "not_found": list(self.not_found),
        }


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_gtf(
    path: str | Path,
    genes: Collection[str],
    build: str,
    known: Mapping[str, GeneRegion] | None = None,
    other_build: tuple[str, Mapping[str, GeneRegion]] | None = None,
    mane_refseq: Mapping[str, str] | None = None,
) -> GtfModels:
    """Models of ``genes`` from ``path``; ``known`` spans drive tabix queries and the build check.

    ``other_build`` is (name, spans) of the other assembly: genes located where
    that assembly has them (and not where ``build`` has them) mean the wrong file.
    ``mane_refseq`` maps a gene to its MANE RefSeq id (GENCODE files carry only
    the Ensembl id of the MANE pair).
    """
    p = Path(path)
    if not p.is_file():
        raise ReferenceError_("GTF/GFF3 file not found", path=p)
    wanted = frozenset(genes)
    reader = _Reader(p, wanted, build)
    index = _tabix_index(p)
    if index is not None and known:
        located = {g: known[g] for g in wanted if g in known}
        reader.read_regions(located.values())
        missing = wanted - set(reader.found_genes())
        if missing:
            log.info("%s: %d gene(s) not in the queried regions (%s); streaming the file for them",
                     p, len(missing), ", ".join(sorted(missing)[:8]))
            reader.stream(only=missing)
    else:
        reader.stream()
    models, chosen = choose(reader.transcripts, mane_refseq or {})
    if not models:
        raise ReferenceError_(
            f"no protein-coding transcript of any requested gene ({_few(wanted)}); "
            "is this a human GTF/GFF3 of the right build?",
            path=p, where=f"line {reader.line} (end of file)",
        )
    lines = {g: min((x.line for x in reader.transcripts.values() if x.gene == g), default=0)
             for g in models}
    check_build(p, models, lines, build, known, other_build)
    not_found = tuple(sorted(wanted - set(models)))
    if not_found:
        log.warning("%s: no protein-coding transcript on a primary chromosome for %s",
                    p, ", ".join(not_found))
    return GtfModels(
        path=p, fmt=reader.fmt or "gtf", flavour=reader.flavour(), transcripts=MappingProxyType(models),
        chosen_by=MappingProxyType(chosen), not_found=not_found, lines_read=reader.line,
        sha256=reader.digest or sha256_of(p), tabix=index is not None and bool(known),
    )


def _few(names: Iterable[str], n: int = 6) -> str:
    s = sorted(names)
    return ", ".join(s[:n]) + (f" and {len(s) - n} more" if len(s) > n else "")


def _tabix_index(p: Path) -> Path | None:
    for suffix in (".tbi", ".csi"):
        idx = Path(str(p) + suffix)
        if idx.is_file():
            return idx
    return None


class _Reader:
    """Line-level parsing shared by the streaming and the tabix paths."""

    def __init__(self, path: Path, wanted: frozenset[str], build: str) -> None:
        self.path = path
        self.wanted = wanted
        self.build = build
        self.fmt: str | None = None
        self.line = 0
        self.transcripts: dict[str, TxRecord] = {}
        self.gff_genes: dict[str, str] = {}  # GFF3 gene ID -> requested symbol
        self.sources: set[str] = set()
        self.header_build: tuple[str, int] | None = None
        self.complete = True  # the whole file was read (not stopped at ##FASTA)
        self.digest: str | None = None  # sha256 computed while streaming a plain file
        self.contig_build: tuple[str, int] | None = None

    # -------------------------------------------------------------- input
    def found_genes(self) -> set[str]:
        return {t.gene for t in self.transcripts.values()}

    def flavour(self) -> str:
        src = {s.lower() for s in self.sources}
        if src & {"bestrefseq", "refseq", "gnomon", "curated genomic", "bestrefseq%2cgnomon"}:
            return "refseq"
        if src & {"havana", "ensembl"} and self.gencode_header:
            return "gencode"
        if src & {"havana", "ensembl", "ensembl_havana"}:
            return "ensembl"
        return "unknown"

    gencode_header = False

    def stream(self, only: Collection[str] | None = None) -> None:
        """Read the whole file for ``only`` (default: every requested gene)."""
        wanted = self.wanted if only is None else frozenset(only)
        fh, _ = open_binary(self.path)
        try:
            with fh:
                head = fh.read(1 << 20)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ReferenceError_(f"truncated or corrupt compressed file ({exc})",
                                  path=self.path, where="line 1") from exc
        for n, raw in enumerate(head.split(b"\n")[:-1], start=1):
            if raw[:1] != b"#":
                if self.fmt is None and raw.strip():
                    self._split(raw.decode("utf-8", "replace").rstrip("\r"), n)
                break
            self._header(raw.decode("utf-8", "replace"), n)
        if self.fmt == "gff3" and needs_parent_links(head):
            self._stream_lines(wanted)
            return
        scanner = Scanner(self.path, self._contig, symbol_key(head))
        for n, text in scanner.lines(wanted):
            self.line = n
            self._record(self._split(text, n), n, wanted)
        self.line = max(self.line, scanner.last_line)
        self.digest = scanner.digest

    def _stream_lines(self, wanted: frozenset[str]) -> None:
        """Every line through Python: GFF3 files that link exons to genes only by Parent."""
        seen_contigs: set[bytes] = set()
        current: bytes | None = None
        last_gene_start = n = 0
        for n, raw in self._lines():
            if not raw or raw[:1] == b"#":
                text = raw.decode("utf-8", "replace")
                self._header(text, n)
                if text.startswith("##FASTA"):
                    self.complete = False
                    break
                continue
            if raw.count(b"\t") != 8:
                self.line = n
                self._split(raw.decode("utf-8", "replace"), n)  # raises, naming the line
            seqid = raw[: raw.index(b"\t")]
            if seqid != current:
                if seqid in seen_contigs:
                    raise contig_again(self.path, seqid, current, n)
                seen_contigs.add(seqid)
                current, last_gene_start = seqid, 0
                self._contig(seqid.decode(), n)
            is_gene = b"\tgene\t" in raw[: len(seqid) + 40]
            if is_gene:
                start = _int(raw.split(b"\t", 4)[3].decode(), self.path, n)
                if start < last_gene_start:
                    raise ReferenceError_(
                        f"not sorted: gene at {seqid.decode()}:{start} comes after one at "
                        f"{last_gene_start}", path=self.path, where=f"line {n}",
                    )
                last_gene_start = start
            self.line = n
            self._record(self._split(raw.decode("utf-8", "replace").rstrip("\r"), n), n, wanted)
        self.line = max(self.line, n)

    def read_regions(self, regions: Iterable[GeneRegion]) -> None:
        import pysam

        try:
            tbx = pysam.TabixFile(str(self.path))
        except (OSError, ValueError) as exc:
            raise ReferenceError_(f"cannot open with its tabix index: {exc}", path=self.path) from exc
        try:
            for header in tbx.header:
                self._header(header, 0)
            native = {chromnames.canonical(c): c for c in tbx.contigs}
            for r in regions:
                name = native.get(r.chrom)
                if name is None:
                    continue
                self._contig(name, 0)
                start = max(0, r.start - 1 - REGION_MARGIN)
                try:
                    for text in tbx.fetch(name, start, r.end + REGION_MARGIN):
                        self.line += 1
                        self._record(self._split(text, self.line), self.line, self.wanted)
                except (OSError, ValueError, zlib.error) as exc:
                    raise ReferenceError_(
                        f"truncated or corrupt bgzip data ({exc})", path=self.path,
                        where=f"region {name}:{start + 1}-{r.end + REGION_MARGIN}",
                    ) from exc
        finally:
            tbx.close()

    def _lines(self) -> Iterator[tuple[int, bytes]]:
        """(line number, line without its newline) as bytes; hashes a plain file on the way."""
        with self.path.open("rb") as raw:
            magic = raw.read(2)
        compressed = magic == b"\x1f\x8b"
        opener = gzip.open if compressed else open
        hasher = None if compressed else hashlib.sha256()
        n = 0
        try:
            with opener(self.path, "rb") as fh:
                for n, raw_line in enumerate(fh, start=1):
                    if hasher is not None:
                        hasher.update(raw_line)
                    if not raw_line.endswith(b"\n"):
                        if raw_line.strip() and raw_line[:1] != b"#" and raw_line.count(b"\t") < 8:
                            raise ReferenceError_("truncated: the last line is cut short",
                                                  path=self.path, where=f"line {n}")
                        yield n, raw_line.rstrip(b"\r")
                        continue
                    yield n, raw_line[:-1].rstrip(b"\r")
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ReferenceError_(f"truncated or corrupt compressed file ({exc})",
                                  path=self.path, where=f"line {n + 1}") from exc
        if hasher is not None and self.complete:
            self.digest = hasher.hexdigest()

    def _split(self, text: str, n: int) -> list[str]:
        cols = text.split("\t")
        if len(cols) != 9:
            raise ReferenceError_(
                f"not a GTF/GFF3 line: {len(cols)} tab-separated columns, expected 9",
                path=self.path, where=f"line {n}",
            )
        if self.fmt is None:
            self.fmt = "gtf" if _GTF_ATTR.search(cols[8]) and "=" not in cols[8].split(";")[0] else "gff3"
        return cols

    def _header(self, text: str, n: int) -> None:
        if "gencode" in text.lower():
            self.gencode_header = True
        if self.header_build is None and text.startswith("#") and (
            "genome-build" in text or "description" in text or "assembly" in text.lower()
        ):
            m = _BUILD_WORD.search(text)
            if m:
                self.header_build = (_BUILD_ALIAS[m.group(1).lower()], n)
                self._claim(self.header_build, f"its header says {m.group(1)}")

    def _contig(self, seqid: str, n: int) -> None:
        b = chromnames.refseq_build(seqid)
        if b is not None and self.contig_build is None:
            self.contig_build = (b, n)
            self._claim(self.contig_build, f"contig {seqid} is a {b} accession")

    def _claim(self, claim: tuple[str, int], why: str) -> None:
        b, n = claim
        if b != self.build:
            raise ReferenceError_(f"annotation is {b} ({why}), but the variants are {self.build}",
                                  path=self.path, where=f"line {n}" if n else "header")

    # -------------------------------------------------------------- records
    def _record(self, cols: list[str], n: int, wanted: Collection[str]) -> None:
        feature = cols[2].lower()
        attrs = cols[8]
        if self.fmt == "gff3" and feature == "gene":
            # Ensembl GFF3 names the symbol on the gene line only: remember its ID
            sym = _gff_value(attrs, "gene_name") or _gff_value(attrs, "Name") or _gff_value(attrs, "gene")
            if sym is not None and sym in wanted:
                gid = _gff_value(attrs, "ID")
                if gid:
                    self.gff_genes[gid] = sym
            return
        if feature not in _TX_FEATURES and feature not in _PART_FEATURES:
            return
        if self.fmt == "gtf":
            gene = _gtf_value(attrs, "gene_name") or _gtf_value(attrs, "gene")
            if gene is None or gene not in wanted:
                return
            a = _gtf_attrs(attrs)
            tid = _versioned(a.get("transcript_id", [""])[0], _first(a, "transcript_version"))
            if not tid:
                return
            key = tid
            biotype = _first(a, "transcript_type") or _first(a, "transcript_biotype")
        else:
            gene = _gff_value(attrs, "gene_name") or _gff_value(attrs, "gene")
            parent = _gff_value(attrs, "Parent")
            if gene is None and parent is not None:
                if feature in _TX_FEATURES:
                    gene = self.gff_genes.get(parent.split(",")[0])
                else:
                    owner = self.transcripts.get(parent.split(",")[0])
                    gene = owner.gene if owner is not None else None
            if gene is None or gene not in wanted:
                return
            a = _gff_attrs(attrs)
            if feature in _TX_FEATURES:
                key = a.get("ID", [""])[0]
                tid = _versioned(
                    (a.get("transcript_id") or a.get("Name") or [key])[0],
                    _first(a, "version") if "transcript_id" in a else None,
                )
                if tid.startswith("transcript:"):
                    tid = tid.split(":", 1)[1]
            else:
                key = a.get("Parent", [""])[0]
                tid = key
            if not key:
                return
            biotype = (_first(a, "transcript_type") or _first(a, "transcript_biotype")
                       or _first(a, "biotype"))
        tags = {t.lower().replace(" ", "_") for t in a.get("tag", [])}
        chrom = chromnames.canonical(cols[0])
        start, end = _int(cols[3], self.path, n), _int(cols[4], self.path, n)
        if end < start:
            raise ReferenceError_(f"end {end} is before start {start}", path=self.path, where=f"line {n}")
        tx = self.transcripts.get(key)
        if tx is None:
            tx = TxRecord(gene, tid, chrom, cols[6], n)
            self.transcripts[key] = tx
        self.sources.add(cols[1])
        tx.tags |= tags
        if feature in _TX_FEATURES:
            tx.tid = tid
            if biotype is not None:
                tx.coding = biotype == "protein_coding" or feature == "mrna"
            elif feature == "mrna":
                tx.coding = True
            _xrefs(tx, a, tid)
        elif feature == "exon":
            tx.exons.append((start, end))
        else:
            tx.cds.append((start, end))
            if tx.protein is None and "protein_id" in a:
                tx.protein = a["protein_id"][0]


def _first(a: Mapping[str, list[str]], key: str) -> str | None:
    values = a.get(key)
    return values[0] if values else None


def _int(text: str, path: Path, n: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise ReferenceError_(f"position {text!r} is not a number", path=path, where=f"line {n}") from None


def _gtf_value(attrs: str, key: str) -> str | None:
    i = attrs.find(f'{key} "')
    while i > 0 and attrs[i - 1] not in " ;\t":
        i = attrs.find(f'{key} "', i + 1)
    if i < 0:
        return None
    j = i + len(key) + 2
    return attrs[j : attrs.find('"', j)]


def _gff_value(attrs: str, key: str) -> str | None:
    i = attrs.find(f"{key}=")
    while i > 0 and attrs[i - 1] != ";":
        i = attrs.find(f"{key}=", i + 1)
    if i < 0:
        return None
    j = i + len(key) + 1
    k = attrs.find(";", j)
    return unquote(attrs[j : k if k >= 0 else len(attrs)].strip())


def _gtf_attrs(attrs: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in _GTF_ATTR.findall(attrs):
        out.setdefault(k, []).append(v)
    return out


def _gff_attrs(attrs: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for part in attrs.strip().strip(";").split(";"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = [unquote(x) for x in v.split(",")]
    return out


def _versioned(tid: str, version: str | None) -> str:
    if version and "." not in tid:
        return f"{tid}.{version}"
    return tid


def _xrefs(tx: TxRecord, a: Mapping[str, list[str]], tid: str) -> None:
    bare = tid.split(":")[-1]
    if bare.startswith(("NM_", "XM_", "NR_")):
        tx.refseq = bare
    elif bare.startswith("ENST"):
        tx.ensembl = bare
    for x in a.get("Dbxref", []) + a.get("db_xref", []):
        db, _, acc = x.partition(":")
        if db == "Ensembl" and acc.startswith("ENST"):
            tx.ensembl = acc
        elif db == "GenBank" and acc.startswith("NM_") and not tx.refseq:
            tx.refseq = acc
