"""Built-in consequence engine: VariantKey -> TranscriptConsequence per MANE transcript."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypedDict

from annotator.consequence import hgvs
from annotator.consequence.codons import CODON_TABLE, revcomp, translate
from annotator.consequence.quiet import QuietSegments, build_segments
from annotator.consequence.terms import impact, order, rank
from annotator.consequence.txmap import (
    CDS,
    DOWNSTREAM,
    INTRON,
    UPSTREAM,
    UTR3,
    UTR5,
    TxMap,
)
from annotator.core import chromnames
from annotator.core.models import TranscriptConsequence, VariantKey
from annotator.reference import FLANK, Reference

log = logging.getLogger(__name__)


class _Base(TypedDict):
    """The ``TranscriptConsequence`` fields every consequence of a transcript shares."""

    gene: str
    transcript: str | None
    transcript_ensembl: str | None
    source: str
    canonical: bool


class _Fields(TypedDict, total=False):
    """The ``TranscriptConsequence`` fields filled as far as the variant's position allows."""

    hgvsc: str | None
    hgvsp: str | None
    hgvsp_short: str | None
    exon: str | None
    intron: str | None
    cds_position: int | None
    protein_start: int | None
    protein_end: int | None
    ref_aa: str | None
    alt_aa: str | None

_KIND_TERMS = {
    "synonymous": ("synonymous_variant",),
    "missense": ("missense_variant",),
    "nonsense": ("stop_gained",),
    "deletion": ("inframe_deletion",),
    "insertion": ("inframe_insertion",),
    "duplication": ("inframe_insertion",),
    "extension": ("stop_lost",),
    "stop_retained": ("stop_retained_variant",),
    "start_lost": ("start_lost",),
    "frameshift": ("frameshift_variant",),
}


class _TxData:
    """A transcript's map plus its sequences (CDS, protein, 3' UTR), built once."""

    __slots__ = ("map", "cds", "protein", "_utr3", "_utr3_done", "seq", "base")

    def __init__(self, tmap: TxMap, cds: str | None, seq: Callable[[int, int], str | None]) -> None:
        self.map = tmap
        self.cds = cds
        self.protein = translate(cds) if cds else None
        self.seq = seq
        self._utr3: str | None = None
        self._utr3_done = False
        tx = tmap.tx
        # a GTF model may carry only one of the two ids (GENCODE: ENST; RefSeq: NM_);
        # the same for every allele on this transcript: built once, not per record
        self.base: _Base = {"gene": tx.gene, "transcript": tx.refseq or tx.ensembl or None,
                            "transcript_ensembl": tx.ensembl or None,
                            "source": "builtin" if cds is not None else "builtin-coordinates",
                            "canonical": True}

    def utr3(self) -> str | None:
        if not self._utr3_done:
            parts = [self.seq(a, b) for a, b in self.map.utr3_oriented_segments()]
            self._utr3 = "".join(p for p in parts if p) if all(parts) else None
            self._utr3_done = True
        return self._utr3


def _trim(ref: str, alt: str, pos: int) -> tuple[int, int, str, str]:
    """Strip shared suffix, then shared prefix; (start, end, ref, alt), end = start-1 for ins."""
    while ref and alt and ref[-1] == alt[-1] and (len(ref) > 1 or len(alt) > 1):
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0]:
        ref, alt = ref[1:], alt[1:]
        pos += 1
    return pos, pos + len(ref) - 1, ref, alt


def _translate_until_stop(nt: str) -> str:
    out = []
    table = CODON_TABLE
    for i in range(0, len(nt) - 2, 3):
        aa = table.get(nt[i : i + 3], "X")
        out.append(aa)
        if aa == "*":
            break
    return "".join(out)


class ConsequenceEngine:
    """Annotates normalised alleles against the reference's MANE transcripts."""

    def __init__(self, reference: Reference) -> None:
        self.reference = reference
        self._tx: dict[str, _TxData] = {}
        self._chroms: dict[str, str] = {}
        self._quiet: dict[str, QuietSegments] = {}

    # ------------------------------------------------------------ public

    def annotate(self, key: VariantKey) -> tuple[TranscriptConsequence, ...]:
        span = self._span(key)
        if span is None:
            return ()
        chrom, start, end, ref, alt = span
        genes = self.reference.genes_at_canonical(chrom, min(start, end), max(start, end))
        out = []
        for gene in genes:
            data = self._data(gene)
            if data is None or data.map.tx.chrom != chrom:
                continue
            tc = self._annotate_tx(data, start, end, ref, alt)
            if tc is not None:
                out.append(tc)
        if len(out) > 1:
            out.sort(key=lambda t: rank(t.consequence[0]) if t.consequence else 999)
        return tuple(out)

    def quiet_genes(self, key: VariantKey) -> frozenset[str] | None:
        """The genes whose transcripts ``annotate(key)`` would report, when every one of
        them would report only non-coding terms (UTR, intron, up/downstream); None
        when that is not known without annotating (``consequence.quiet``)."""
        span = self._span(key)
        if span is None:
            return None
        chrom, start, end, ref, _ = span
        segments = self._quiet.get(chrom)
        if segments is None:
            maps = [TxMap(t) for t in self.reference.transcripts.values() if t.chrom == chrom]
            segments = self._quiet[chrom] = build_segments(maps)
        # an insertion (end = start - 1) is read from the two bases around it
        return segments.at(end, start) if not ref else segments.at(start, end)

    def shift_3prime(self, gene: str, key: VariantKey) -> tuple[int, int, str]:
        """The 3'-shifted (oriented start, end, bases) HGVS uses for an indel in ``gene``."""
        data = self._data(gene)
        if data is None:
            raise KeyError(gene)
        start, end, ref, alt = _trim(key.ref.upper(), key.alt.upper(), key.pos)
        m = data.map
        os_, oe = (start, end) if m.sign == 1 else (-end, -start)
        bases = ref or alt
        if m.sign == -1:
            bases = revcomp(bases)
        return hgvs.shift_3prime(data.seq, os_, oe, bases, m.tx_end + FLANK)

    # ------------------------------------------------------------ internals

    def _span(self, key: VariantKey) -> tuple[str, int, int, str, str] | None:
        """(canonical CHROM, start, end, REF, ALT) of ``key`` trimmed, upper case (an
        insertion has end = start - 1); None: nothing to annotate (symbolic, REF = ALT)."""
        chrom = self._chroms.get(key.chrom)
        if chrom is None:
            chrom = self._chroms.setdefault(key.chrom, chromnames.canonical(key.chrom))
        ref, alt = key.ref.upper(), key.alt.upper()
        if not alt or alt[0] in "<*." or "[" in alt or "]" in alt:
            return None
        if len(ref) == 1 == len(alt):  # most keys: one base, nothing to trim
            return None if ref == alt else (chrom, key.pos, key.pos, ref, alt)
        start, end, ref, alt = _trim(ref, alt, key.pos)
        if not ref and not alt:
            return None
        return chrom, start, end, ref, alt

    def _data(self, gene: str) -> _TxData | None:
        data = self._tx.get(gene)
        if data is None:
            tx = self.reference.transcripts.get(gene)
            if tx is None:
                return None
            tmap = TxMap(tx)
            seq = self._oriented_seq(tx.chrom, tmap.sign)
            cds = tx.cds_seq
            if cds is None or self.reference.user_fasta is not None:
                parts = [seq(a, b) for a, b in tmap.cds_oriented_segments()]
                built = "".join(p for p in parts if p) if all(parts) else None
                if built and len(built) == tx.cds_length and "N" not in built:
                    cds = built
            data = _TxData(tmap, cds, seq)
            self._tx[gene] = data
        return data

    def _oriented_seq(self, chrom: str, sign: int) -> Callable[[int, int], str | None]:
        sequence = self.reference.sequence_canonical
        if sign == 1:
            return lambda a, b: sequence(chrom, a, b)

        def minus(a: int, b: int) -> str | None:
            s = sequence(chrom, -b, -a)
            return revcomp(s) if s is not None else None

        return minus

    def _annotate_tx(
        self, data: _TxData, start: int, end: int, ref: str, alt: str
    ) -> TranscriptConsequence | None:
        m = data.map
        if m.sign == 1:
            os_, oe, ref_o, alt_o = start, end, ref, alt
        else:
            os_, oe, ref_o, alt_o = -end, -start, revcomp(ref), revcomp(alt)
        is_ins = not ref_o
        lo, hi = (oe, os_) if is_ins else (os_, oe)
        base = data.base
        if hi < m.tx_start or lo > m.tx_end:
            dist = m.tx_start - hi if hi < m.tx_start else lo - m.tx_end
            if dist > FLANK:
                return None
            term = "upstream_gene_variant" if hi < m.tx_start else "downstream_gene_variant"
            return TranscriptConsequence(consequence=(term,), impact="MODIFIER", **base)

        if lo == hi:
            positions: tuple[int, ...] | range = (lo,)
        elif is_ins:
            positions = (lo, hi)
        else:
            positions = range(max(lo, m.tx_start - 1), min(hi, m.tx_end + 1) + 1)
        regions: list[int] = []
        splices: list[int] = []
        exons: list[int] = []
        introns: list[int] = []
        for p in positions:
            code, idx = m.region(p)
            regions.append(code)
            splices.append(m.splice_class(p))
            if code == INTRON:
                introns.append(idx)
            elif code != UPSTREAM and code != DOWNSTREAM:
                exons.append(idx)

        terms: list[str] = []
        if is_ins:
            if splices[0] == splices[1] == 1:
                terms.append("splice_donor_variant")
            elif splices[0] == splices[1] == 2:
                terms.append("splice_acceptor_variant")
            elif splices[0] or splices[1]:
                terms.append("splice_region_variant")
            if regions[0] == regions[1] == INTRON and not (splices[0] == splices[1] and splices[0] in (1, 2)):
                terms.append("intron_variant")
            coding_full = regions[0] == regions[1] == CDS
        else:
            if any(splices):
                if 1 in splices:
                    terms.append("splice_donor_variant")
                if 2 in splices:
                    terms.append("splice_acceptor_variant")
                if 3 in splices:
                    terms.append("splice_region_variant")
            if introns and any(
                r == INTRON and s not in (1, 2) for r, s in zip(regions, splices, strict=True)
            ):
                terms.append("intron_variant")
            coding_full = regions.count(CDS) == len(regions)
        if not coding_full:
            if UTR5 in regions and not (is_ins and CDS in regions):
                terms.append("5_prime_UTR_variant")
            if UTR3 in regions and not (is_ins and CDS in regions):
                terms.append("3_prime_UTR_variant")
            if UPSTREAM in regions:
                terms.append("upstream_gene_variant")
            if DOWNSTREAM in regions:
                terms.append("downstream_gene_variant")

        fields: _Fields = {}
        if coding_full:
            self._coding(data, os_, oe, ref_o, alt_o, terms, fields)
        elif CDS in regions:
            cds_idx = [m.cds_index(p) for p, r in zip(positions, regions, strict=True) if r == CDS]
            terms.append("coding_sequence_variant")
            if min(cds_idx) < 3:
                terms.append("start_lost")
            if max(cds_idx) >= m.cds_len - 3:
                terms.append("stop_lost")
            fields.update(_Fields(cds_position=min(cds_idx) + 1, protein_start=min(cds_idx) // 3 + 1,
                                  protein_end=max(cds_idx) // 3 + 1, hgvsp="p.?", hgvsp_short="p.?"))

        fields["hgvsc"] = self._hgvsc(data, os_, oe, ref_o, alt_o)
        if exons:
            fields["exon"] = m.exon_label(min(exons), max(exons))
        if introns:
            fields["intron"] = m.intron_label(min(introns), max(introns))
        consequence = (terms[0],) if len(terms) == 1 else order(terms) or ("coding_transcript_variant",)
        return TranscriptConsequence(
            consequence=consequence, impact=impact(consequence), **base, **fields
        )

    def _hgvsc(self, data: _TxData, os_: int, oe: int, ref_o: str, alt_o: str) -> str | None:
        m = data.map
        if len(ref_o) == 1 and len(alt_o) == 1:
            p = m.cpos(os_)
            return hgvs.describe_c("sub", p, p, ref_o, alt_o)
        if ref_o and alt_o:
            return hgvs.describe_c("delins", m.cpos(os_), m.cpos(oe), ref_o, alt_o)
        limit = m.tx_end
        if not alt_o:
            s, e, _ = hgvs.shift_3prime(data.seq, os_, oe, ref_o, limit)
            return hgvs.describe_c("del", m.cpos(s), m.cpos(e), ref_o, "")
        s, e, bases = hgvs.shift_3prime(data.seq, os_, oe, alt_o, limit)
        k = len(bases)
        before = data.seq(e - k + 1, e)
        if before is not None and before == bases:
            return hgvs.describe_c("dup", m.cpos(e - k + 1), m.cpos(e), "", bases)
        return hgvs.describe_c("ins", m.cpos(e), m.cpos(e + 1), "", bases)

    def _coding(
        self,
        data: _TxData,
        os_: int,
        oe: int,
        ref_o: str,
        alt_o: str,
        terms: list[str],
        fields: _Fields,
    ) -> None:
        m = data.map
        s = m.cds_index(os_)
        e = m.cds_index(oe) if ref_o else s - 1
        delta = len(alt_o) - len(ref_o)
        fields["cds_position"] = max(s + 1 if ref_o else s, 1)
        cds, protein = data.cds, data.protein
        if cds is None or protein is None:
            self._coding_coordinates(s, e, delta, terms, fields)
            return
        if ref_o and cds[s : e + 1] != ref_o:
            log.debug("%s: REF %s differs from reference %s at c.%d", m.tx.gene, ref_o,
                      cds[s : e + 1], s + 1)
        cs = (s // 3) * 3
        if delta % 3:
            tail = cds[cs:s] + alt_o + cds[e + 1 :]
            utr3 = data.utr3()
            alt_prot = protein[: cs // 3] + _translate_until_stop(tail + (utr3 or ""))
            pc = hgvs.frameshift(protein, alt_prot, cs // 3)
            terms.append("frameshift_variant")
            if pc.kind == "nonsense":
                terms.append("stop_gained")
            elif pc.kind == "extension":
                terms.append("stop_lost")
        else:
            ce = max(-(-(e + 1) // 3) * 3, cs)
            alt_win = cds[cs:s] + alt_o + cds[e + 1 : ce]
            same_tail = 0
            if ce >= len(cds) - 2:
                alt_prot = protein[: cs // 3] + _translate_until_stop(alt_win + (data.utr3() or ""))
            else:
                alt_prot = protein[: cs // 3] + translate(alt_win) + protein[ce // 3 :]
                same_tail = len(protein) - ce // 3
            pc = hgvs.protein_diff(protein, alt_prot, cs // 3, same_tail)
            if pc.kind == "extension":
                stop_i = len(protein) - 1
                utr3 = data.utr3()
                tail_nt = (cds[cs:s] + alt_o + cds[e + 1 :] + (utr3 or ""))[stop_i * 3 - cs :]
                tail = _translate_until_stop(tail_nt)
                if utr3 is None and not tail.endswith("*"):
                    tail = tail[:1]
                pc = hgvs.extension(stop_i, tail)
            terms.extend(_KIND_TERMS.get(pc.kind, ()))
            if pc.kind == "delins":
                terms.append("missense_variant" if delta == 0 else "protein_altering_variant")
            elif pc.kind == "nonsense" and delta:
                terms.append("inframe_deletion" if delta < 0 else "inframe_insertion")
        if s < 3 and (cds[:3] != (cds[:s] + alt_o + cds[e + 1 :])[:3]):
            pc = hgvs.start_lost()
            for t in ("missense_variant", "synonymous_variant", "protein_altering_variant"):
                if t in terms:
                    terms.remove(t)
            terms.append("start_lost")
        fields.update(_Fields(hgvsp=pc.hgvsp, hgvsp_short=pc.hgvsp_short, protein_start=pc.start,
                              protein_end=pc.end, ref_aa=pc.ref_aa, alt_aa=pc.alt_aa))

    @staticmethod
    def _coding_coordinates(
        s: int, e: int, delta: int, terms: list[str], fields: _Fields
    ) -> None:
        """No sequence: what coordinates alone can tell (codon numbers, frame)."""
        if delta % 3:
            terms.append("frameshift_variant")
        elif delta > 0:
            terms.append("inframe_insertion")
        elif delta < 0:
            terms.append("inframe_deletion")
        elif s < 3:
            terms.append("start_lost")  # any substitution in ATG loses it
        else:
            terms.append("coding_sequence_variant")
        lo, hi = (s, e) if e >= s else (e, s)
        fields.update(_Fields(protein_start=max(lo, 0) // 3 + 1, protein_end=hi // 3 + 1))
