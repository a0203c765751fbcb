"""Annotate one VCF/BCF: read, split, normalise, interpret, match, account.

Order of steps for each input record:

1. FILTER: a non-PASS record is counted as filtered unless --include-filtered;
   one that would have matched a rule is named in the accounting and the log.
2. Each ALT allele: symbolic/breakend alleles go to the CNV/SV handler;
   ``*``, ``.`` and non-ACGTN alleles are rejected with the reason.
3. Panel regions: an allele touching no panel gene region is off-panel
   (still listed with ``--report all``).
4. REF is checked against the reference sequence where resmark has it (a
   mismatch usually means the wrong build: many of them give a build
   warning, most of them an error) and the allele is trimmed and
   left-aligned; a second allele with the same key is a duplicate.
   An allele the chosen sample does not carry while another sample does
   (alt reads 0, GT 0/0 or ./.) is counted as not carried and not listed.
5. Built-in consequence and HGVS; upstream CSQ/ANN/EFF/BCSQ are read and
   compared; the built-in one wins when it has sequence.
6. Knowledge-base match; flags (biallelic loss, polyclonal) across the sample.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from annotator.annotation.seen import SeenAlleles, kept_unmatched
from annotator.consequence.engine import ConsequenceEngine
from annotator.consequence.upstream import UpstreamParser
from annotator.core import chromnames, coords
from annotator.core.accounting import Accounting
from annotator.core.alteration import from_consequence
from annotator.core.genome import GenomeBuild
from annotator.core.models import (
    Alteration,
    ReadSupport,
    TranscriptConsequence,
    Variant,
    VariantKey,
)
from annotator.core.normalize import is_simple_allele, normalise
from annotator.core.provenance import InputFile
from annotator.core.rows import MatchColumns, Row, match_columns
from annotator.errors import InputError
from annotator.io.vcfin import InputRecord, VcfHeader
from annotator.io.vcfrecord import allele_not_carried
from annotator.knowledge.matcher import BuiltMatches, match_alteration
from annotator.knowledge.model import Flag, Panel, RuleMatch
from annotator.reference import Reference

if TYPE_CHECKING:
    from annotator.cnv.sv import SvHandler  # set by the CNV/SV module

log = logging.getLogger(__name__)

REPORT_MODES = ("matched", "panel", "all")
REGION_FLANK = 5_000  # upstream/downstream reach around each panel gene
REF_MISMATCH_LIMIT = 0.2  # fraction of checked alleles that suggests the wrong build
REF_MISMATCH_WARN = 0.05  # ... and the fraction (or REF_MISMATCH_WARN_COUNT alleles) that warns
REF_MISMATCH_WARN_COUNT = 3
FILTERED_LOGGED = 10  # filtered rule matches logged one by one; the rest are counted


@dataclass(frozen=True)
class AnnotateOptions:
    include_filtered: bool = False
    report: str = "matched"
    keep_not_carried: bool = False  # rows for alleles the sample does not carry (track's evidence)


@dataclass(frozen=True)
class PanelRegions:
    """Sorted, merged panel gene regions (+/- REGION_FLANK) per canonical chromosome."""

    by_chrom: dict[str, tuple[tuple[int, int], ...]]

    @classmethod
    def build(cls, regions: Iterable[tuple[str, int, int, str]]) -> PanelRegions:
        per: dict[str, list[tuple[int, int]]] = {}
        for chrom, start, end, _gene in regions:
            per.setdefault(chrom, []).append((max(1, start - REGION_FLANK), end + REGION_FLANK))
        merged: dict[str, tuple[tuple[int, int], ...]] = {}
        for chrom, items in per.items():
            items.sort()
            out: list[list[int]] = []
            for s, e in items:
                if out and s <= out[-1][1] + 1:
                    out[-1][1] = max(out[-1][1], e)
                else:
                    out.append([s, e])
            merged[chrom] = tuple((s, e) for s, e in out)
        return cls(merged)

    def query_regions(self) -> list[tuple[str, int, int]]:
        order = {c: i for i, c in enumerate(chromnames.PRIMARY)}
        chroms = sorted(self.by_chrom, key=lambda c: (order.get(c, len(order)), c))
        return [(c, s, e) for c in chroms for s, e in self.by_chrom[c]]

    def touches(self, chrom: str, start: int, end: int) -> bool:
        spans = self.by_chrom.get(chrom)
        if not spans:
            return False
        i = bisect.bisect_right(spans, (end, float("inf"))) - 1
        return i >= 0 and spans[i][1] >= start


@dataclass
class SampleAnnotation:
    sample: str
    path: str
    build: GenomeBuild
    header: VcfHeader
    rows: list[Row]
    accounting: Accounting
    flags: tuple[Flag, ...] = ()
    disagreements: list[str] = field(default_factory=list)
    # rule-matched alterations plus the unmatched ones flags and qc read (annotation.seen)
    alterations: list[tuple[str, Alteration, tuple[RuleMatch, ...]]] = field(default_factory=list)
    input_sha256: str | None = None  # of the VCF's bytes, taken by the reader while reading
    # the VCF's tabix index (decompressed) when the reader built it while reading (no .tbi given)
    input_index: bytes | None = None
    # side inputs read for this sample (cnv, sv, samplesheet), digests computed while reading
    side_inputs: list[InputFile] = field(default_factory=list)
    # (as given, drug classes resolved) when --prior-therapy / prior_therapy was given
    prior_therapy: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    normal_sample: str | None = None  # the matched normal's column, when the file names one


_ONE_BASE = frozenset("ACGTNacgtn")


class SampleAnnotator:
    """Per-sample state for one pass over a VCF; the hot loop lives in ``add``."""

    def __init__(
        self,
        *,
        sample: str,
        header: VcfHeader,
        build: GenomeBuild,
        panel: Panel,
        reference: Reference,
        engine: ConsequenceEngine,
        upstream: UpstreamParser | None,
        regions: PanelRegions,
        options: AnnotateOptions,
        sv_handler: SvHandler | None = None,
    ) -> None:
        self.sample = sample
        self.header = header
        self.build = build
        self.panel = panel
        self.panel_genes = frozenset(panel.gene_symbols())
        self.reference = reference
        self.engine = engine
        self.upstream = upstream
        self.regions = regions
        self.options = options
        self.sv_handler = sv_handler
        self.acc = Accounting()
        self.rows: list[Row] = []
        self.alterations: list[tuple[str, Alteration, tuple[RuleMatch, ...]]] = []
        self.disagreements: list[str] = []
        self.seen = SeenAlleles()  # bounded for dense files (annotation.seen)
        self.ref_checked = 0
        self.ref_mismatched = 0
        self.mane = frozenset(t.split(".")[0] for t in _mane_ids(reference) if t)
        self.normal_sample = header.normal_sample  # annotator.io.samplehints
        # an allele the engine can only call UTR/intron/flank (consequence.quiet) is annotated
        # without a transcript walk when nothing would list it or read it afterwards
        self._quiet_ok = options.report == "matched"
        self._noncoding_rules = frozenset(
            g for g in self.panel_genes if any("noncoding" in r.classes for r in panel.rules_for(g)))
        self._canonical: dict[str, str] = {}  # CHROM as written -> chromnames.canonical
        # one RuleMatch per (rule, note) and one set of knowledge-base columns per combination
        # of them: a dense file's thousands of rows share both (memory that grew per row)
        self._built: BuiltMatches = {}
        self._columns: dict[tuple[int, ...], MatchColumns] = {}

    # -- per record ---------------------------------------------------------------
    def add(self, rec: InputRecord) -> None:
        self.acc.alleles_read += len(rec.alts)
        filt = ";".join(rec.filters) if rec.filters else "PASS"
        passed = filt in ("PASS", ".")
        if not passed and not self.options.include_filtered:
            self.acc.add_record("filtered", filt)  # where: kept for rejected records only
            self._filtered_match(rec, filt)
            return
        if not rec.alts or rec.alts == (".",):
            self.acc.add_record("rejected", "no ALT allele (reference-only record)", rec.where())
            return
        if not is_simple_allele(rec.ref.upper()):
            self.acc.add_record(
                "rejected", "REF is not a sequence of A, C, G, T, N", rec.where()
            )
            return
        chrom, on_panel, ref_ok = self._site(rec)
        if len(rec.alts) == 1:  # most records: no lists to rank
            bucket, reason = self._allele(rec, 1, rec.alts[0], filt, chrom, on_panel, ref_ok)
            reasons = [reason] if reason else []
        else:
            buckets: list[str] = []
            reasons = []
            for i, alt in enumerate(rec.alts, start=1):
                bucket, reason = self._allele(rec, i, alt, filt, chrom, on_panel, ref_ok)
                buckets.append(bucket)
                if reason:
                    reasons.append(reason)
            bucket = Accounting.best(buckets)
        detail = None
        if bucket == "rejected" and reasons:
            detail = reasons[0]
        elif bucket == "not_carried":
            detail = next((s.carried_by for s in rec.support if s.carried_by), None)
        self.acc.add_record(bucket, detail, rec.where() if bucket == "rejected" else None)

    def _filtered_match(self, rec: InputRecord, filt: str) -> None:
        """Name a filtered record that would have matched a rule (it is not annotated)."""
        if not is_simple_allele(rec.ref.upper()):
            return
        chrom, on_panel, ref_ok = self._site(rec)
        if not on_panel or ref_ok is False:
            return
        for i, alt in enumerate(rec.alts, start=1):
            if not is_simple_allele(alt.upper()):
                continue
            norm = normalise(chrom, rec.pos, rec.ref, alt, self.reference.sequence_canonical)
            if self._quiet(rec, norm.key):
                continue
            variant = self._variant(rec, norm.key, i, alt)
            tc, _ = self._consequence(rec, variant, quiet=True)
            if tc is None or tc.gene not in self.panel_genes:
                continue
            matches = [m for m in match_alteration(self.panel, from_consequence(tc))
                       if not m.over_claim_guard]
            if not matches:
                continue
            change = tc.hgvsp_short or tc.hgvsc or "variant"
            text = (f"{tc.gene} {change} ({norm.key}, {rec.where()}) FILTER {filt}: "
                    f"would match {matches[0].rule_id}")
            self.acc.add_filtered_match(text)
            if self.acc.filtered_rule_match_count <= FILTERED_LOGGED:
                log.warning("%s: filtered record not annotated: %s (use --include-filtered)",
                            self.header.path, text)

    def _allele(self, rec: InputRecord, i: int, alt: str, filt: str,
                chrom: str, on_panel: bool, ref_ok: bool | None) -> tuple[str, str | None]:
        """One ALT; ``chrom`` (canonical), ``on_panel`` and ``ref_ok`` (REF equals the
        reference; None: no sequence there) are the record's, found once by ``add``."""
        if len(alt) != 1 or alt not in _ONE_BASE:  # one base: none of the checks can fail
            if alt.startswith("<") or "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith("."):
                return self._symbolic(rec, i, alt)
            if alt == "*":
                return "rejected", "ALT * (allele missing due to an overlapping deletion)"
            if not is_simple_allele(alt.upper()):
                return "rejected", f"ALT {alt[:20]!r} is not a sequence of A, C, G, T, N"
        if not on_panel and self.options.report != "all":
            return "off_panel", None
        if ref_ok is not None:
            self.ref_checked += 1
            if not ref_ok:
                self.ref_mismatched += 1
                return "rejected", f"REF does not match the {self.build.name} reference"
        if not self.options.keep_not_carried and allele_not_carried(rec.support, i - 1):
            return "not_carried", None
        norm = normalise(chrom, rec.pos, rec.ref, alt, self.reference.sequence_canonical if on_panel else None)
        key = norm.key
        if not self.seen.add_new(key, chrom, rec.pos):
            return "rejected", "duplicate of an earlier record (same normalised allele)"
        if on_panel and self._quiet(rec, key):
            return "annotated", None
        variant = self._variant(rec, key, i, alt)
        if not on_panel:
            self._emit(variant, filt, None, None, norm.left_aligned, matches=())
            return "off_panel", None
        tc, disagreement = self._consequence(rec, variant)
        if tc is None or (tc.gene not in self.panel_genes and self.options.report != "all"):
            if self.options.report == "all":
                self._emit(variant, filt, tc, None, norm.left_aligned, matches=())
            return "off_panel", None
        alteration = from_consequence(tc)
        matches = (tuple(match_alteration(self.panel, alteration, built=self._built))
                   if tc.gene in self.panel_genes else ())
        if matches:
            self.acc.matched += 1
        if matches or kept_unmatched(alteration):  # the rest is counted, not held (annotation.seen)
            self.alterations.append((str(key), alteration, matches))
        listed = self.options.report != "matched" or bool(matches)
        if listed:
            self._emit(variant, filt, tc, alteration, norm.left_aligned, matches, disagreement)
        return "annotated", None

    def _site(self, rec: InputRecord) -> tuple[str, bool, bool | None]:
        """What depends on the record, not the allele (found once per record): the canonical
        CHROM, whether it touches a panel region, and whether REF equals the reference
        there (None: no reference sequence, or off the panel)."""
        chrom = self._chrom(rec.chrom)
        end = coords.vcf_end(rec.pos, rec.ref)
        if not self.regions.touches(chrom, rec.pos, end):
            return chrom, False, None
        seq = self.reference.sequence_canonical(chrom, rec.pos, end)
        return chrom, True, None if seq is None else seq.upper() == rec.ref.upper()

    def _chrom(self, name: str) -> str:
        chrom = self._canonical.get(name)
        if chrom is None:  # a regex per call otherwise; a file has few CHROM names
            chrom = self._canonical[name] = chromnames.canonical(name)
        return chrom

    def _quiet(self, rec: InputRecord, key: VariantKey) -> bool:
        """Would ``key`` be annotated with a non-coding change of a panel gene that no rule
        can match, neither listed nor kept (report "matched", no upstream annotation to
        compare)? Then the transcript walk, the match and the row are skipped."""
        if not self._quiet_ok or (self.upstream is not None and rec.info):
            return False
        genes = self.engine.quiet_genes(key)
        return (genes is not None and not genes.isdisjoint(self.panel_genes)
                and genes.isdisjoint(self._noncoding_rules))

    def _variant(self, rec: InputRecord, key: VariantKey, i: int, alt: str) -> Variant:
        return Variant(
            key=key, record_index=rec.index, input_chrom=rec.chrom, input_pos=rec.pos,
            input_ref=rec.ref, input_alt=alt, id=rec.id, filters=rec.filters, qual=rec.qual,
            allele_index=i, n_alleles=len(rec.alts),
            support=rec.support[i - 1] if i - 1 < len(rec.support) else ReadSupport(),
        )

    def _symbolic(self, rec: InputRecord, i: int, alt: str) -> tuple[str, str | None]:
        if self.sv_handler is None:
            return "rejected", "symbolic or breakend ALT needs CNV/SV support"
        produced = self.sv_handler(rec, i, alt)
        if produced is None:
            return "off_panel", None
        for item in produced:
            row, alteration, matches = item["row"], item["alteration"], item["matches"]
            self.alterations.append((row.variant_key, alteration, matches))
            if matches:
                self.acc.matched += 1
            if self.options.report != "matched" or matches:
                self.rows.append(row)
                self.acc.listed += 1
        # an empty list is the mate of a breakend already reported: still annotated
        return "annotated", None

    def _consequence(
        self, rec: InputRecord, variant: Variant, quiet: bool = False
    ) -> tuple[TranscriptConsequence | None, str | None]:
        builtin = [
            tc for tc in self.engine.annotate(variant.key)
            if self.options.report == "all" or tc.gene in self.panel_genes
        ]
        upstream_tc = None
        if self.upstream is not None and rec.info:
            from annotator.consequence.upstream import pick

            tcs = self.upstream.consequences(rec.info, variant.input_alt, variant.allele_index)
            upstream_tc = pick(tcs, self.mane)
        chosen = builtin[0] if builtin else None
        disagreement = None
        if chosen is not None and upstream_tc is not None:
            from annotator.consequence.upstream import compare

            disagreement = compare(chosen, upstream_tc)
            if disagreement and not quiet:
                self.disagreements.append(f"{variant.key}: {disagreement}")
            if chosen.source == "builtin-coordinates" and upstream_tc.gene == chosen.gene:
                # built-in engine lacks sequence for this gene: upstream supplies the protein change
                chosen = upstream_tc
        elif chosen is None and upstream_tc is not None:
            chosen = upstream_tc
        if chosen is None:
            k = variant.key
            # a panel gene known only by its span (no transcript model, no upstream annotation)
            genes = [g for g in self.reference.genes_at(k.chrom, k.pos, coords.vcf_end(k.pos, k.ref))
                     if g in self.panel_genes]
            if genes:
                chosen = TranscriptConsequence(
                    gene=genes[0], transcript=None, consequence=("gene_variant",),
                    source="panel-gene-region",
                )
        return chosen, disagreement

    def _match_columns(self, matches: tuple[RuleMatch, ...]) -> MatchColumns:
        # keyed by the matches' ids: they are the pass's own objects (self._built), kept alive
        key = tuple(map(id, matches))
        cols = self._columns.get(key)
        if cols is None:
            cols = self._columns[key] = match_columns(matches)
        return cols

    def _emit(
        self,
        v: Variant,
        filt: str,
        tc: TranscriptConsequence | None,
        alteration: Alteration | None,
        left_aligned: bool,
        matches: tuple[RuleMatch, ...],
        disagreement: str | None = None,
    ) -> None:
        s = v.support
        self.rows.append(
            Row(
                sample=self.sample,
                chrom=v.key.chrom,
                pos=v.key.pos,
                id=v.id,
                ref=v.key.ref,
                alt=v.key.alt,
                gene=tc.gene if tc else None,
                transcript=tc.transcript if tc else None,
                consequence="&".join(tc.consequence) if tc else None,
                hgvsc=tc.hgvsc if tc else None,
                hgvsp=tc.hgvsp if tc else None,
                hgvsp_short=tc.hgvsp_short if tc else None,
                exon=tc.exon if tc else None,
                filter=filt,
                vaf=s.vaf,
                depth=s.depth,
                alt_count=s.alt_count,
                alteration_class=alteration.alteration_class if alteration else None,
                **self._match_columns(matches),
                variant_key=str(v.key),
                build=self.build.name,
                input_chrom=v.input_chrom,
                input_pos=v.input_pos,
                input_ref=v.input_ref,
                input_alt=v.input_alt,
                record_index=v.record_index,
                allele_index=v.allele_index,
                qual=v.qual,
                support_source=s.source,
                intron=tc.intron if tc else None,
                protein_start=tc.protein_start if tc else None,
                impact=tc.impact if tc else None,
                annotation_source=tc.source if tc else None,
                upstream_disagreement=disagreement,
                left_aligned=left_aligned,
                flags=None,
                transcript_ensembl=tc.transcript_ensembl if tc else None,
                ref_count=s.ref_count,
                support_fields=s.fields,
                normal_sample=self.normal_sample if s.normal is not None else None,
                normal_depth=s.normal.depth if s.normal else None,
                normal_ref_count=s.normal.ref_count if s.normal else None,
                normal_alt_count=s.normal.alt_count if s.normal else None,
                normal_vaf=s.normal.vaf if s.normal else None,
            )
        )
        self.acc.listed += 1

    # -- end of sample -------------------------------------------------------------
    def finish(self, path: str) -> SampleAnnotation:
        if self.ref_checked >= 5 and self.ref_mismatched / self.ref_checked > REF_MISMATCH_LIMIT:
            raise InputError(
                f"{self.ref_mismatched} of {self.ref_checked} REF alleles in panel genes do not "
                f"match {self.build.name}; is the genome build right? (see --build)",
                path=path,
            )
        m, n = self.ref_mismatched, self.ref_checked
        if m and (m >= REF_MISMATCH_WARN_COUNT or m / n >= REF_MISMATCH_WARN):
            text = (f"{m} of {n} REF alleles in panel genes do not match {self.build.name} "
                    "and were rejected; is the genome build right? (see --build)")
            self.acc.warnings.append(text)
            log.warning("%s: %s", path, text)
        if self.acc.filtered_rule_match_count > FILTERED_LOGGED:
            log.warning("%s: %d filtered records would match a rule (first %d named above; all in "
                        "the JSON accounting)", path, self.acc.filtered_rule_match_count, FILTERED_LOGGED)
        if self.acc.not_carried:
            log.info("%s: %d record(s) not carried by %s (another sample carries them): %s", path,
                     self.acc.not_carried, self.sample,
                     ", ".join(f"{k} {v}" for k, v in sorted(self.acc.carriers.items())))
        if self.disagreements:
            log.info("%s: %d upstream annotation disagreement(s)", path, len(self.disagreements))
        return SampleAnnotation(
            sample=self.sample,
            path=path,
            build=self.build,
            header=self.header,
            rows=self.rows,
            accounting=self.acc,
            disagreements=self.disagreements,
            alterations=self.alterations,
            normal_sample=self.normal_sample,
        )


def _mane_ids(reference: Reference) -> list[str]:
    """Versioned RefSeq and Ensembl ids of the embedded MANE Select transcripts."""
    return [tx_id for t in reference.transcripts.values() for tx_id in (t.refseq, t.ensembl) if tx_id]
