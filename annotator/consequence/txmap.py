"""Per-transcript coordinate arrays: genomic <-> cDNA <-> c. positions.

Everything is computed in *oriented* coordinates: ``o = g`` on the plus
strand and ``o = -g`` on the minus strand, so that transcript 5'->3' is always
increasing and one code path serves both strands.
"""

from __future__ import annotations

import bisect

from annotator.reference import Transcript

# Region codes of one oriented position.
UPSTREAM, UTR5, CDS, UTR3, INTRON, DOWNSTREAM = range(6)
# Splice windows (VEP's): donor/acceptor +1/+2 and -1/-2, splice region 3-8 bases into
# the intron and the 3 exonic bases next to a junction.
SPLICE_SITE = 2
SPLICE_REGION_INTRON = 8
SPLICE_REGION_EXON = 3


class TxMap:
    """Precomputed lookup tables for one transcript."""

    __slots__ = (
        "tx", "sign", "starts", "ends", "cdna_at_start", "c1", "cds_len", "n_exons",
        "tx_start", "tx_end", "cds_o_start", "cds_o_end", "cds_exon_first", "cds_exon_last",
    )

    def __init__(self, tx: Transcript) -> None:
        self.tx = tx
        self.sign = 1 if tx.strand == "+" else -1
        oriented = [(s, e) if self.sign == 1 else (-e, -s) for s, e in tx.exons]
        oriented.sort()
        self.starts = [s for s, _ in oriented]
        self.ends = [e for _, e in oriented]
        self.n_exons = len(oriented)
        cdna = []
        pos = 1
        for s, e in oriented:
            cdna.append(pos)
            pos += e - s + 1
        self.cdna_at_start = cdna
        self.tx_start = self.starts[0]
        self.tx_end = self.ends[-1]
        if self.sign == 1:
            self.cds_o_start, self.cds_o_end = tx.cds_start, tx.cds_end
        else:
            self.cds_o_start, self.cds_o_end = -tx.cds_end, -tx.cds_start
        self.c1 = self.cdna(self.cds_o_start)
        self.cds_len = tx.cds_length
        self.cds_exon_first = self.exon_index(self.cds_o_start)
        self.cds_exon_last = self.exon_index(self.cds_o_end)

    # -------------------------------------------------------------- lookups

    def oriented(self, g: int) -> int:
        return g * self.sign

    def exon_index(self, o: int) -> int:
        """Index of the exon holding ``o``; -1 when ``o`` is not exonic."""
        i = bisect.bisect_right(self.starts, o) - 1
        if i >= 0 and o <= self.ends[i]:
            return i
        return -1

    def cdna(self, o: int) -> int:
        i = self.exon_index(o)
        if i < 0:
            raise ValueError(f"{o} is not exonic")
        return self.cdna_at_start[i] + o - self.starts[i]

    def region(self, o: int) -> tuple[int, int]:
        """(region code, exon or intron index) of oriented position ``o``.

        For INTRON the index is that of the exon before the intron.
        """
        if o < self.tx_start:
            return UPSTREAM, -1
        if o > self.tx_end:
            return DOWNSTREAM, -1
        i = bisect.bisect_right(self.starts, o) - 1
        if o > self.ends[i]:
            return INTRON, i
        if o < self.cds_o_start:
            return UTR5, i
        if o > self.cds_o_end:
            return UTR3, i
        return CDS, i

    def splice_class(self, o: int) -> int:
        """0 none, 1 donor (+1/+2), 2 acceptor (-1/-2), 3 splice region."""
        i = bisect.bisect_right(self.starts, o) - 1
        if i < 0 or o > self.tx_end:
            return 0
        if o > self.ends[i]:  # intronic, after exon i
            d5 = o - self.ends[i]
            d3 = self.starts[i + 1] - o
            if d5 <= SPLICE_SITE:
                return 1
            if d3 <= SPLICE_SITE:
                return 2
            return 3 if d5 <= SPLICE_REGION_INTRON or d3 <= SPLICE_REGION_INTRON else 0
        # exonic: within 3 bases of a splice junction
        if i > 0 and o - self.starts[i] < SPLICE_REGION_EXON:
            return 3
        if i < self.n_exons - 1 and self.ends[i] - o < SPLICE_REGION_EXON:
            return 3
        return 0

    def coding_or_splice_segments(self) -> list[tuple[int, int]]:
        """Oriented (start, end) of every base where ``region`` is CDS or ``splice_class``
        is not 0: outside them a variant of this transcript is UTR, intronic, up- or
        downstream only (``consequence.quiet``)."""
        out = self.cds_oriented_segments()
        for i in range(self.n_exons - 1):
            end, nxt = self.ends[i], self.starts[i + 1]
            out.append((end - SPLICE_REGION_EXON + 1, end + SPLICE_REGION_INTRON))
            out.append((nxt - SPLICE_REGION_INTRON, nxt + SPLICE_REGION_EXON - 1))
        return out

    def cds_index(self, o: int) -> int:
        """0-based CDS index of an exonic oriented position (may be <0 or >=len in UTRs)."""
        return self.cdna(o) - self.c1

    def cpos(self, o: int) -> str | None:
        """HGVS c. position of oriented ``o`` (``1449+1``, ``-15``, ``*3``); None outside."""
        if o < self.tx_start or o > self.tx_end:
            return None
        i = bisect.bisect_right(self.starts, o) - 1
        if o <= self.ends[i]:
            return self._exonic_c(self.cdna_at_start[i] + o - self.starts[i])
        d5 = o - self.ends[i]
        d3 = self.starts[i + 1] - o
        # HGVS: the central base of an odd-length intron is numbered from the 5' side.
        if d5 <= d3:
            return f"{self._exonic_c(self.cdna_at_start[i] + self.ends[i] - self.starts[i])}+{d5}"
        return f"{self._exonic_c(self.cdna_at_start[i + 1])}-{d3}"

    def _exonic_c(self, cdna: int) -> str:
        c = cdna - self.c1 + 1
        if c < 1:
            return f"-{1 - c}"
        if c > self.cds_len:
            return f"*{c - self.cds_len}"
        return str(c)

    def exon_label(self, lo: int, hi: int) -> str:
        return f"{lo + 1}/{self.n_exons}" if lo == hi else f"{lo + 1}-{hi + 1}/{self.n_exons}"

    def intron_label(self, lo: int, hi: int) -> str:
        n = self.n_exons - 1
        return f"{lo + 1}/{n}" if lo == hi else f"{lo + 1}-{hi + 1}/{n}"

    def cds_oriented_segments(self) -> list[tuple[int, int]]:
        """Oriented (start, end) of the coding part of every exon, 5'->3'."""
        out = []
        for s, e in zip(self.starts, self.ends, strict=True):
            a, b = max(s, self.cds_o_start), min(e, self.cds_o_end)
            if a <= b:
                out.append((a, b))
        return out

    def utr3_oriented_segments(self) -> list[tuple[int, int]]:
        out = []
        for s, e in zip(self.starts, self.ends, strict=True):
            a = max(s, self.cds_o_end + 1)
            if a <= e:
                out.append((a, e))
        return out
