"""Upstream annotations already in a VCF: VEP CSQ, SnpEff ANN / EFF, bcftools BCSQ.

``UpstreamParser.from_header`` recognises the INFO tag from the header;
``consequences`` turns one ALT allele's entries into TranscriptConsequence
values (source ``vep`` / ``snpeff`` / ``snpeff-eff`` / ``bcsq``); ``pick``
chooses the MANE or canonical transcript; ``compare`` describes a
disagreement with the built-in engine in one line.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from annotator.consequence.codons import AA1
from annotator.consequence.terms import impact as impact_of
from annotator.consequence.terms import order, rank
from annotator.core.models import TranscriptConsequence

_INFO_RE = re.compile(r'^##INFO=<ID=([A-Za-z0-9_.]+),.*Description="(.*)"', re.S)
_FORMAT_RE = re.compile(r"Format:\s*'?([^'\"]+?)'?\s*$")
_THREE_RE = re.compile(r"(Ter|[A-Z][a-z]{2})")

# SnpEff / bcftools spellings -> VEP's
_TERM_MAP = {
    "conservative_inframe_insertion": "inframe_insertion",
    "disruptive_inframe_insertion": "inframe_insertion",
    "conservative_inframe_deletion": "inframe_deletion",
    "disruptive_inframe_deletion": "inframe_deletion",
    "intergenic_region": "intergenic_variant",
    "initiator_codon_variant": "start_retained_variant",
    "5_prime_UTR_premature_start_codon_gain_variant": "5_prime_UTR_variant",
    "non_coding_exon_variant": "non_coding_transcript_exon_variant",
    "exon_loss_variant": "transcript_ablation",
    "inframe_altering": "protein_altering_variant",
    "5_prime_utr": "5_prime_UTR_variant",
    "3_prime_utr": "3_prime_UTR_variant",
    "non_coding": "non_coding_transcript_variant",
    "coding_sequence": "coding_sequence_variant",
    "intergenic": "intergenic_variant",
    "intron": "intron_variant",
}
_EFF_MAP = {
    "NON_SYNONYMOUS_CODING": "missense_variant",
    "SYNONYMOUS_CODING": "synonymous_variant",
    "STOP_GAINED": "stop_gained",
    "STOP_LOST": "stop_lost",
    "START_LOST": "start_lost",
    "NON_SYNONYMOUS_START": "start_retained_variant",
    "SYNONYMOUS_START": "start_retained_variant",
    "SYNONYMOUS_STOP": "stop_retained_variant",
    "FRAME_SHIFT": "frameshift_variant",
    "CODON_INSERTION": "inframe_insertion",
    "CODON_DELETION": "inframe_deletion",
    "CODON_CHANGE": "protein_altering_variant",
    "CODON_CHANGE_PLUS_CODON_INSERTION": "inframe_insertion",
    "CODON_CHANGE_PLUS_CODON_DELETION": "inframe_deletion",
    "SPLICE_SITE_ACCEPTOR": "splice_acceptor_variant",
    "SPLICE_SITE_DONOR": "splice_donor_variant",
    "SPLICE_SITE_REGION": "splice_region_variant",
    "INTRON": "intron_variant",
    "UTR_5_PRIME": "5_prime_UTR_variant",
    "UTR_3_PRIME": "3_prime_UTR_variant",
    "START_GAINED": "5_prime_UTR_variant",
    "UPSTREAM": "upstream_gene_variant",
    "DOWNSTREAM": "downstream_gene_variant",
    "INTERGENIC": "intergenic_variant",
    "EXON": "non_coding_transcript_exon_variant",
    "EXON_DELETED": "transcript_ablation",
}
_EFF_DEFAULT_FIELDS = (
    "Effect_Impact", "Functional_Class", "Codon_Change", "Amino_Acid_Change",
    "Amino_Acid_Length", "Gene_Name", "Transcript_BioType", "Gene_Coding", "Transcript_ID",
    "Exon_Rank", "Genotype_Number", "ERRORS", "WARNINGS",
)


def _vep_term(term: str) -> str:
    term = term.strip().lstrip("*")
    if term in _TERM_MAP:
        return _TERM_MAP[term]
    if term in ("missense", "synonymous", "frameshift", "splice_donor", "splice_acceptor",
                "splice_region", "stop_retained", "start_retained", "upstream_gene",
                "downstream_gene"):
        return term + "_variant"
    return term


def _terms(text: str) -> tuple[str, ...]:
    return order(_vep_term(t) for t in re.split(r"[&+]", text) if t.strip())


def short_protein(hgvsp: str | None) -> str | None:
    """``p.His1047Arg`` -> ``p.H1047R``; ``p.Arg130Ter`` -> ``p.R130*``; tolerates ``(...)``."""
    if not hgvsp:
        return None
    text = unquote(hgvsp.split(":", 1)[-1]).replace("(", "").replace(")", "")
    if not text.startswith("p."):
        text = "p." + text
    return _THREE_RE.sub(lambda m: AA1.get(m.group(1), m.group(1)), text)


def _strip_prefix(value: str) -> str | None:
    if not value:
        return None
    return unquote(value.split(":", 1)[-1])


def _int(text: str) -> int | None:
    """Leading number of a field ("12", "12-14", "12/189", BCSQ's "1047H>1047R");
    for "?-14" (start unknown) the known end."""
    m = re.match(r"\s*(\d+)", text or "")
    if m:
        return int(m.group(1))
    return _span(text)[1]


_SPAN_RE = re.compile(r"^\s*(\d+|\?)?\s*(?:-\s*(\d+|\?))?\s*(?:/\s*(\d+|\?)\s*)?$")


def _span(text: str | None) -> tuple[int | None, int | None]:
    """(start, end) of a position field; VEP --total_length appends "/length".

    Forms: "12", "12-14", "12/189", "12-14/189", "?-14/189", "12-?", "-" (none).
    Unknown ends ("?") are None; an unreadable value gives (None, None) rather
    than an error, since it only refines what the HGVS text already says.
    """
    m = _SPAN_RE.match(text or "")
    if not m:
        return None, None
    lo = int(m.group(1)) if m.group(1) and m.group(1) != "?" else None
    hi = int(m.group(2)) if m.group(2) and m.group(2) != "?" else None
    if m.group(2) is None:
        hi = lo
    return lo, hi


def _aa_fields(short: str | None) -> tuple[int | None, int | None, str | None, str | None]:
    if not short:
        return None, None, None, None
    m = re.match(r"p\.([A-Z*])(\d+)([A-Z*=]|fs|del|ins|dup|ext)?", short)
    if not m:
        return None, None, None, None
    pos = int(m.group(2))
    alt = m.group(3)
    alt_aa = m.group(1) if alt == "=" else (alt if alt and len(alt) == 1 else None)
    return pos, pos, m.group(1), alt_aa


@dataclass(frozen=True)
class UpstreamParser:
    """Reads one upstream annotation INFO tag."""

    tag: str  # CSQ | ANN | EFF | BCSQ
    source: str  # vep | snpeff | snpeff-eff | bcsq
    fields: tuple[str, ...]

    @classmethod
    def from_header(cls, header_lines: Sequence[str]) -> UpstreamParser | None:
        found: dict[str, str] = {}
        for line in header_lines:
            m = _INFO_RE.match(line.strip())
            if m and m.group(1) in ("CSQ", "ANN", "EFF", "BCSQ"):
                found[m.group(1)] = m.group(2)
        for tag, source in (("CSQ", "vep"), ("ANN", "snpeff"), ("BCSQ", "bcsq"), ("EFF", "snpeff-eff")):
            if tag not in found:
                continue
            desc = found[tag]
            m = _FORMAT_RE.search(desc)
            if tag == "EFF":
                inner = re.search(r"\(\s*([^()]*)\s*\)", desc)
                names = (
                    tuple(f.strip(" []") for f in inner.group(1).split("|"))
                    if inner else _EFF_DEFAULT_FIELDS
                )
                return cls(tag, source, names)
            if m is None and tag == "ANN":
                # SnpEff: "Functional annotations: 'Allele | Annotation | ...' "
                m = re.search(r":\s*'?([^']+?)'?\s*$", desc)
            if m is None:
                continue
            names = tuple(f.strip() for f in m.group(1).split("|"))
            return cls(tag, source, names)
        return None

    # ------------------------------------------------------------ parsing

    def consequences(
        self, info: Mapping[str, str], alt: str, allele_index: int
    ) -> tuple[TranscriptConsequence, ...]:
        raw = info.get(self.tag)
        if not raw:
            return ()
        entries = [e for e in raw.split(",") if e]
        if self.tag == "EFF":
            return tuple(t for e in entries if (t := self._eff(e, allele_index)) is not None)
        rows = [dict(zip(self.fields, e.split("|"), strict=False)) for e in entries]
        if self.tag == "BCSQ":
            return tuple(t for r in rows if (t := self._bcsq(r, alt)) is not None)
        rows = self._for_allele(rows, alt, allele_index)
        make = self._vep if self.tag == "CSQ" else self._ann
        return tuple(t for r in rows if (t := make(r)) is not None)

    def _for_allele(
        self, rows: list[dict[str, str]], alt: str, allele_index: int
    ) -> list[dict[str, str]]:
        if rows and "ALLELE_NUM" in rows[0]:
            return [r for r in rows if r.get("ALLELE_NUM") == str(allele_index)]
        key = "Allele"
        exact = [r for r in rows if r.get(key) == alt]
        if exact:
            return exact
        # VEP strips the shared first base of indels and writes '-' for deletions.
        trimmed = alt[1:] or "-"
        return [r for r in rows if r.get(key) in (trimmed, "-" if len(alt) == 1 else trimmed)]

    def _vep(self, r: Mapping[str, str]) -> TranscriptConsequence | None:
        feature = r.get("Feature") or None
        if r.get("Feature_type") not in (None, "", "Transcript"):
            return None
        terms = _terms(r.get("Consequence", ""))
        hgvsp = _strip_prefix(r.get("HGVSp", ""))
        short = short_protein(hgvsp)
        start, end, ref_aa, alt_aa = _aa_fields(short)
        aas = r.get("Amino_acids", "")
        if "/" in aas:
            ref_aa, alt_aa = aas.split("/", 1)
        elif aas:
            ref_aa = alt_aa = aas
        lo, hi = _span(r.get("Protein_position", ""))
        if lo is not None or hi is not None:
            start = lo if lo is not None else hi
            end = hi if hi is not None else start
        return TranscriptConsequence(
            gene=r.get("SYMBOL") or r.get("Gene") or "",
            transcript=feature,
            consequence=terms,
            impact=r.get("IMPACT") or impact_of(terms),
            hgvsc=_strip_prefix(r.get("HGVSc", "")),
            hgvsp=hgvsp,
            hgvsp_short=short,
            exon=r.get("EXON") or None,
            intron=r.get("INTRON") or None,
            cds_position=_int(r.get("CDS_position", "")),
            protein_start=start,
            protein_end=end,
            ref_aa=ref_aa,
            alt_aa=alt_aa,
            transcript_ensembl=feature if feature and feature.startswith("ENST") else None,
            source="vep",
            canonical=r.get("CANONICAL") == "YES" or bool(r.get("MANE_SELECT")),
        )

    def _ann(self, r: Mapping[str, str]) -> TranscriptConsequence | None:
        names = self.fields
        get = (lambda i: r.get(names[i], "") if i < len(names) else "")  # noqa: E731
        feature_type = get(5)
        if feature_type and feature_type not in ("transcript", "intergenic_region"):
            return None
        terms = _terms(get(1))
        feature = get(6) or None
        hgvsp = get(10) or None
        short = short_protein(hgvsp)
        start, end, ref_aa, alt_aa = _aa_fields(short)
        rank_text = get(8) or None
        is_intron = bool(terms) and terms[0] in ("intron_variant",)
        return TranscriptConsequence(
            gene=get(3),
            transcript=feature,
            consequence=terms,
            impact=get(2) or impact_of(terms),
            hgvsc=get(9) or None,
            hgvsp=hgvsp,
            hgvsp_short=short,
            exon=None if is_intron else rank_text,
            intron=rank_text if is_intron else None,
            cds_position=_int(get(12)),
            protein_start=start,
            protein_end=end,
            ref_aa=ref_aa,
            alt_aa=alt_aa,
            transcript_ensembl=feature if feature and feature.startswith("ENST") else None,
            source="snpeff",
            canonical=False,
        )

    def _eff(self, entry: str, allele_index: int) -> TranscriptConsequence | None:
        m = re.match(r"\s*([A-Za-z0-9_+&]+)\s*\((.*)\)\s*$", entry)
        if not m:
            return None
        values = dict(zip(self.fields, m.group(2).split("|"), strict=False))
        genotype = values.get("Genotype_Number") or values.get("Genotype") or ""
        if genotype.isdigit() and int(genotype) != allele_index:
            return None
        terms = order(_EFF_MAP.get(t, t.lower()) for t in re.split(r"[&+]", m.group(1)))
        change = values.get("Amino_Acid_Change") or values.get("Amino_Acid_change") or ""
        hgvsc = None
        if "/" in change:
            change, _, hgvsc = change.partition("/")
        short = None
        if change:
            short = short_protein(change if change.startswith("p.") else "p." + change)
            sm = re.fullmatch(r"p\.([A-Z*])(\d+)\1", short or "")
            if sm:  # legacy "D84D" means synonymous
                short = f"p.{sm.group(1)}{sm.group(2)}="
        start, end, ref_aa, alt_aa = _aa_fields(short)
        feature = values.get("Transcript_ID") or values.get("Transcript") or None
        return TranscriptConsequence(
            gene=values.get("Gene_Name", ""),
            transcript=feature,
            consequence=terms,
            impact=values.get("Effect_Impact") or impact_of(terms),
            hgvsc=hgvsc or None,
            hgvsp=change if change.startswith("p.") and _THREE_RE.search(change) else None,
            hgvsp_short=short,
            exon=values.get("Exon_Rank") or values.get("Exon") or None,
            protein_start=start,
            protein_end=end,
            ref_aa=ref_aa,
            alt_aa=alt_aa,
            transcript_ensembl=feature if feature and feature.startswith("ENST") else None,
            source="snpeff-eff",
            canonical=False,
        )

    def _bcsq(self, r: Mapping[str, str], alt: str) -> TranscriptConsequence | None:
        conseq = r.get("Consequence", "")
        if not conseq or conseq.startswith("@"):
            return None  # '@pos' points at a compound record elsewhere
        dna = r.get("dna_change", "")
        if dna and ">" in dna:
            alt_in_entry = dna.rsplit(">", 1)[1].split("+")[0]
            if alt_in_entry and alt_in_entry != alt:
                return None
        terms = _terms(conseq)
        aa = r.get("amino_acid_change", "")
        short = None
        m = re.fullmatch(r"(\d+)([A-Z*])>\d+([A-Z*])", aa)
        if m:
            short = f"p.{m.group(2)}{m.group(1)}{m.group(3)}"
        elif re.fullmatch(r"\d+[A-Z*]", aa):
            short = f"p.{aa[-1]}{aa[:-1]}="
        start = _int(aa)
        _, _, ref_aa, alt_aa = _aa_fields(short)
        feature = r.get("transcript") or None
        return TranscriptConsequence(
            gene=r.get("gene", ""),
            transcript=feature,
            consequence=terms,
            impact=impact_of(terms),
            hgvsp_short=short,
            protein_start=start,
            protein_end=start,
            ref_aa=ref_aa,
            alt_aa=alt_aa,
            transcript_ensembl=feature if feature and feature.startswith("ENST") else None,
            source="bcsq",
            canonical=False,
        )


def _base_id(transcript: str | None) -> str:
    return (transcript or "").split(".", 1)[0]


def pick(
    tcs: Sequence[TranscriptConsequence], preferred_transcripts: Collection[str]
) -> TranscriptConsequence | None:
    """MANE (versionless NM_/ENST match) first, then canonical, then the most severe."""
    if not tcs:
        return None
    wanted = {_base_id(t) for t in preferred_transcripts}

    def key(tc: TranscriptConsequence) -> tuple[int, int, int]:
        mane = 0 if _base_id(tc.transcript) in wanted or _base_id(tc.transcript_ensembl) in wanted else 1
        severity = rank(tc.consequence[0]) if tc.consequence else 999
        return mane, 0 if tc.canonical else 1, severity

    return min(tcs, key=key)


def _norm_p(text: str | None) -> str | None:
    short = short_protein(text)
    if not short:
        return None
    short = short.replace("Ter", "*").replace("X", "*") if "fs" not in short else short
    short = re.sub(r"fs\*?(Ter)?(\d+|\?)?$", "fs", short)  # tail length conventions vary
    m = re.fullmatch(r"p\.([A-Z*])(\d+)\1", short)
    if m:
        short = f"p.{m.group(1)}{m.group(2)}="
    return short


def compare(builtin: TranscriptConsequence, upstream: TranscriptConsequence) -> str | None:
    """One line naming what differs (gene, most severe consequence, protein change), or None."""
    problems = []
    if builtin.gene and upstream.gene and builtin.gene != upstream.gene:
        problems.append(f"gene {builtin.gene} vs {upstream.gene}")
    b_term = builtin.consequence[0] if builtin.consequence else None
    u_term = upstream.consequence[0] if upstream.consequence else None
    if b_term and u_term and b_term != u_term:
        problems.append(f"consequence {b_term} vs {u_term}")
    bp, up = _norm_p(builtin.hgvsp_short or builtin.hgvsp), _norm_p(upstream.hgvsp_short or upstream.hgvsp)
    if bp and up and bp != up:
        problems.append(f"protein {builtin.hgvsp_short} vs {upstream.hgvsp_short or upstream.hgvsp}")
    if not problems:
        return None
    where = f"{builtin.gene} {builtin.transcript} vs {upstream.source} {upstream.transcript}"
    return f"{where}: " + "; ".join(problems)
