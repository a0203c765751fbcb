"""Header of the annotated VCF: RESMARK_* declarations, provenance, undeclared IDs.

See ``annotator.io.vcfout`` for what the header holds and why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

INFO_TAGS = (
    # (id, Row attribute, description)
    ("RESMARK_GENE", "gene", "Panel gene of each ALT allele"),
    ("RESMARK_HGVSC", "hgvsc", "HGVS c. of each ALT allele on the MANE Select transcript"),
    ("RESMARK_HGVSP", "hgvsp_short", "HGVS p. (1-letter) of each ALT allele"),
    ("RESMARK_CLASS", "alteration_class", "Alteration class of each ALT allele"),
    ("RESMARK_RULE", "rule_id", "Most specific knowledge-base rule matched by each ALT allele"),
    ("RESMARK_MECHANISM", "mechanism_id", "Resistance mechanism id of each ALT allele"),
    ("RESMARK_EVIDENCE", "evidence_level", "Best evidence level of each ALT allele"),
    ("RESMARK_KEY", "variant_key", "Normalised allele (chrom:pos:ref>alt) of each ALT allele"),
)
TAG_IDS = tuple(t for t, _, _ in INFO_TAGS)
_DECLARED = re.compile(r"^##(INFO|FORMAT|FILTER|contig)=<\s*ID=([^,>]+)")
PASS_LINE = '##FILTER=<ID=PASS,Description="All filters passed">'


@dataclass
class Undeclared:
    """IDs records use that the header does not declare, in first-seen order."""

    declared: dict[str, set[str]]
    found: dict[str, dict[str, bool]] = field(default_factory=dict)  # kind -> id -> has a value
    # raw column values / (INFO key, "=") already noted: per-run state of ``scan``
    _done: set[tuple[bytes, ...]] = field(default_factory=set, repr=False)

    @classmethod
    def of_header(cls, lines: Iterable[str]) -> Undeclared:
        declared: dict[str, set[str]] = {"INFO": set(), "FORMAT": set(), "FILTER": {"PASS"}, "contig": set()}
        for line in lines:
            m = _DECLARED.match(line)
            if m:
                declared[m.group(1)].add(m.group(2).strip())
        return cls(declared, {k: {} for k in declared})

    def scan(self, line: bytes) -> None:
        f = line.rstrip(b"\r\n").split(b"\t", 9)
        if len(f) < 8:
            return
        # dense files repeat the same CHROM/FILTER/FORMAT columns and INFO keys on every
        # record: each distinct raw value is noted once (noting is idempotent)
        done = self._done
        cols = (f[0], f[6], f[8] if len(f) > 8 else b".")
        if cols not in done:
            done.add(cols)
            self._note("contig", f[0], True)
            if f[6] != b".":
                for x in f[6].split(b";"):
                    self._note("FILTER", x, True)
            if len(f) > 8 and f[8] != b".":
                for x in f[8].split(b":"):
                    self._note("FORMAT", x, True)
        if f[7] != b".":
            for x in f[7].split(b";"):
                key, eq, _ = x.partition(b"=")
                if (key, eq) not in done:
                    done.add((key, eq))
                    self._note("INFO", key, bool(eq))

    def _note(self, kind: str, raw: bytes, valued: bool) -> None:
        key = raw.decode("utf-8", "replace")
        if not key or key in self.declared[kind]:
            return
        seen = self.found[kind]
        seen[key] = seen.get(key, False) or valued

    def header_lines(self) -> list[str]:
        out: list[str] = []
        for kind in ("FILTER", "INFO", "FORMAT", "contig"):
            for key, valued in self.found[kind].items():
                if kind == "contig":
                    out.append(f"##contig=<ID={key}>")
                elif kind == "FILTER":
                    out.append(f'##FILTER=<ID={key},Description="Not declared in the input header">')
                else:
                    number, type_ = ("1", "String") if valued or kind == "FORMAT" else ("0", "Flag")
                    out.append(f'##{kind}=<ID={key},Number={number},Type={type_},'
                               'Description="Not declared in the input header">')
        if out:
            log.info("annotated VCF: %d tag(s)/contig(s) used but not declared in the input header "
                     "were declared", len(out))
        return out


def build_header(old: str, extra: Sequence[str], undeclared: Undeclared) -> tuple[str, bool]:
    """The output header text and whether RESMARK_* tags were already declared (stale)."""
    lines = old.rstrip("\r\n").split("\n")
    lines = [x.rstrip("\r") for x in lines]
    meta, column_line = lines[:-1], lines[-1]
    stale = [t for t in TAG_IDS if t in undeclared.declared["INFO"]]
    if not any(x.startswith("##FILTER=<ID=PASS,") or x.startswith("##FILTER=<ID=PASS>") for x in meta):
        at = 1 if meta and meta[0].startswith("##fileformat") else 0
        meta.insert(at, PASS_LINE)
    meta += extra
    meta += [f'##INFO=<ID={t},Number=A,Type=String,Description="resmark: {d}">'
             for t, _, d in INFO_TAGS if t not in stale]
    meta += undeclared.header_lines()
    return "\n".join([*meta, column_line]) + "\n", bool(stale)
