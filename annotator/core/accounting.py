"""Accounting: every input record ends in exactly one bucket.

records read = annotated + off_panel + filtered + rejected + not_carried

and the file's record count = records read + off-panel records skipped
unread through the index (``records_in_file``); ``summary_line`` gives both
as one sum, e.g. "12 records = 10 annotated + 1 off-panel + 1 filtered +
0 rejected + 0 not carried".

* annotated: at least one ALT allele lies in a panel gene region and was
  interpreted (whether or not a knowledge-base rule matched; ``matched``
  counts those that did, ``listed`` those written under ``--report``).
* off_panel: no ALT allele touches a panel gene region.
* filtered: FILTER is not PASS/. and ``--include-filtered`` was not given;
  counted per filter name.
* rejected: the record cannot be interpreted; counted per reason.
* not_carried: the chosen sample does not carry the ALT (alt reads 0, or
  GT ``0/0`` / ``./.`` without read counts) while another sample of the
  file does; counted per carrying sample.

A multi-allelic record goes to the best bucket of its alleles
(annotated > not_carried > off_panel > rejected); allele-level counts are
kept too.  Copy-number segments from ``--cnv`` are not VCF records and are
counted apart (``cn_records_read``).  ``filtered_rule_matches`` names
filtered records that would have matched a knowledge-base rule, and
``warnings`` holds run-level warnings (e.g. many REF mismatches).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from annotator.core.jsondoc import JsonObject

BUCKETS = ("annotated", "off_panel", "filtered", "rejected", "not_carried")
_RANK = {"annotated": 0, "not_carried": 1, "off_panel": 2, "rejected": 3}
NAMED_LIMIT = 50  # filtered rule matches listed by name; the rest are counted


@dataclass
class Accounting:
    """Mutable tally owned by one run for one sample (not shared across runs)."""

    records_read: int = 0
    annotated: int = 0
    off_panel: int = 0
    filtered: int = 0
    rejected: int = 0
    not_carried: int = 0
    matched: int = 0  # alleles (and CNV/SV calls) matching a rule
    listed: int = 0  # rows written under --report
    alleles_read: int = 0
    off_panel_by_index: int | None = None  # records skipped through the index, not read
    # --sv records are counted in the buckets above too; --cnv segments/genes are not records
    sv_records_read: int = 0  # of records_read, those from the --sv file
    cn_records_read: int = 0  # segments, bins or gene rows read from --cnv
    cn_records_skipped: int = 0  # --cnv lines on non-primary contigs or without a value
    cn_genes_called: int = 0  # gene-level copy-number calls other than neutral
    filters: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)  # reason -> first record
    carriers: Counter[str] = field(default_factory=Counter)  # not_carried: sample that carries it
    filtered_rule_matches: list[str] = field(default_factory=list)  # first NAMED_LIMIT, by name
    filtered_rule_match_count: int = 0
    warnings: list[str] = field(default_factory=list)

    def add_record(self, bucket: str, detail: str | None = None, where: str | None = None) -> None:
        if bucket == "annotated":  # most records of a dense file: no detail to keep
            self.records_read += 1
            self.annotated += 1
            return
        if bucket not in BUCKETS:
            raise ValueError(bucket)
        self.records_read += 1
        setattr(self, bucket, getattr(self, bucket) + 1)
        if bucket == "filtered" and detail:
            for name in detail.split(";"):
                self.filters[name] += 1
        if bucket == "rejected" and detail:
            self.reasons[detail] += 1
            if where and detail not in self.examples:
                self.examples[detail] = where
        if bucket == "not_carried" and detail:
            self.carriers[detail] += 1

    def add_filtered_match(self, text: str) -> None:
        """A filtered record that would have matched a rule (named up to NAMED_LIMIT)."""
        self.filtered_rule_match_count += 1
        if len(self.filtered_rule_matches) < NAMED_LIMIT:
            self.filtered_rule_matches.append(text)

    @property
    def records_in_file(self) -> int:
        """Records read plus off-panel records skipped unread through the index."""
        return self.records_read + (self.off_panel_by_index or 0)

    @staticmethod
    def best(buckets: list[str]) -> str:
        return min(buckets, key=lambda b: _RANK[b])

    @property
    def balanced(self) -> bool:
        return self.records_read == (
            self.annotated + self.off_panel + self.filtered + self.rejected + self.not_carried)

    def as_dict(self) -> JsonObject:
        return {
            "records_read": self.records_read,
            "annotated": self.annotated,
            "matched": self.matched,
            "listed": self.listed,
            "off_panel": self.off_panel,
            "filtered": self.filtered,
            "rejected": self.rejected,
            "not_carried": self.not_carried,
            "records_in_file": self.records_in_file,
            "alleles_read": self.alleles_read,
            "off_panel_skipped_by_index": self.off_panel_by_index,
            "sv_records_read": self.sv_records_read,
            "cn_records_read": self.cn_records_read,
            "cn_records_skipped": self.cn_records_skipped,
            "cn_genes_called": self.cn_genes_called,
            "balanced": self.balanced,
            "filters": dict(sorted(self.filters.items())),
            "rejected_reasons": dict(sorted(self.reasons.items())),
            "rejected_examples": dict(sorted(self.examples.items())),
            "not_carried_by": dict(sorted(self.carriers.items())),
            "filtered_rule_matches": list(self.filtered_rule_matches),
            "filtered_rule_match_count": self.filtered_rule_match_count,
            "warnings": list(self.warnings),
            "summary": self.summary_line(),
        }

    def summary_line(self) -> str:
        """One line whose numbers add up to the file's record count."""
        off = self.off_panel + (self.off_panel_by_index or 0)
        off_text = f"{off} off-panel"
        if self.off_panel_by_index:
            off_text += f" ({self.off_panel_by_index} skipped unread through the index)"
        text = (
            f"{self.records_in_file} records = {self.annotated} annotated + {off_text} "
            f"+ {self.filtered} filtered + {self.rejected} rejected + {self.not_carried} not carried "
            f"by the sample; {self.matched} alleles matched a rule, {self.listed} rows listed"
        )
        if self.sv_records_read:
            text += f" ({self.sv_records_read} of the records from --sv)"
        if self.cn_records_read:
            text += (f"; copy number (not VCF records): {self.cn_records_read} segments read, "
                     f"{self.cn_records_skipped} skipped, {self.cn_genes_called} gene calls")
        if self.filtered_rule_match_count:
            text += f"; {self.filtered_rule_match_count} filtered record(s) would match a rule"
        return text

    def rows(self) -> list[tuple[str, str, int]]:
        """(bucket, detail, count) rows for accounting.tsv."""
        out = [("records_read", "", self.records_read)]
        out += [(b, "", getattr(self, b)) for b in BUCKETS]
        out.append(("records_in_file", "", self.records_in_file))
        out += [("annotated", "rule_matched", self.matched), ("annotated", "listed", self.listed)]
        out += [("filtered", k, v) for k, v in sorted(self.filters.items())]
        out += [("rejected", k, v) for k, v in sorted(self.reasons.items())]
        out += [("not_carried", f"carried_by:{k}", v) for k, v in sorted(self.carriers.items())]
        if self.filtered_rule_match_count:
            out.append(("filtered", "would_match_a_rule", self.filtered_rule_match_count))
        if self.off_panel_by_index is not None:
            out.append(("off_panel", "skipped_by_index", self.off_panel_by_index))
        if self.sv_records_read:
            out.append(("records_read", "sv_file", self.sv_records_read))
        if self.cn_records_read:
            out += [
                ("copy_number", "records_read", self.cn_records_read),
                ("copy_number", "records_skipped", self.cn_records_skipped),
                ("copy_number", "gene_calls", self.cn_genes_called),
            ]
        return out
