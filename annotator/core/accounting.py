"""Accounting: every input record ends in exactly one bucket.

records read = annotated + off_panel + filtered + rejected

* annotated: at least one ALT allele lies in a panel gene region and was
  interpreted (whether or not a knowledge-base rule matched; ``matched``
  counts those that did, ``listed`` those written under ``--report``).
* off_panel: no ALT allele touches a panel gene region.
* filtered: FILTER is not PASS/. and ``--include-filtered`` was not given;
  counted per filter name.
* rejected: the record cannot be interpreted; counted per reason.

A multi-allelic record goes to the best bucket of its alleles
(annotated > off_panel > rejected); allele-level counts are kept too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from annotator.core.jsondoc import JsonObject

BUCKETS = ("annotated", "off_panel", "filtered", "rejected")
_RANK = {"annotated": 0, "off_panel": 1, "rejected": 2}


@dataclass
class Accounting:
    """Mutable tally owned by one run for one sample (not shared across runs)."""

    records_read: int = 0
    annotated: int = 0
    off_panel: int = 0
    filtered: int = 0
    rejected: int = 0
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

    def add_record(self, bucket: str, detail: str | None = None, where: str | None = None) -> None:
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

    @staticmethod
    def best(buckets: list[str]) -> str:
        return min(buckets, key=lambda b: _RANK[b])

    @property
    def balanced(self) -> bool:
        return self.records_read == self.annotated + self.off_panel + self.filtered + self.rejected

    def as_dict(self) -> JsonObject:
        return {
            "records_read": self.records_read,
            "annotated": self.annotated,
            "matched": self.matched,
            "listed": self.listed,
            "off_panel": self.off_panel,
            "filtered": self.filtered,
            "rejected": self.rejected,
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
        }

    def summary_line(self) -> str:
        text = (
            f"records read {self.records_read} = annotated {self.annotated} + off-panel {self.off_panel} "
            f"+ filtered {self.filtered} + rejected {self.rejected}; "
            f"{self.matched} alleles matched a rule, {self.listed} rows listed"
        )
        if self.off_panel_by_index:
            text += f"; {self.off_panel_by_index} off-panel records skipped through the index"
        return text

    def rows(self) -> list[tuple[str, str, int]]:
        """(bucket, detail, count) rows for accounting.tsv."""
        out = [("records_read", "", self.records_read)]
        out += [(b, "", getattr(self, b)) for b in BUCKETS]
        out += [("annotated", "rule_matched", self.matched), ("annotated", "listed", self.listed)]
        out += [("filtered", k, v) for k, v in sorted(self.filters.items())]
        out += [("rejected", k, v) for k, v in sorted(self.reasons.items())]
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
