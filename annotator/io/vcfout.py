"""Annotated VCF: every input record is copied unchanged, with resmark's
interpretation added as INFO tags (declared in the header) on the records
whose alleles were listed.  Output is bgzipped and, when the input is sorted,
tabix-indexed.

Records are matched to rows by (CHROM as written, POS, REF, ALT index, ALT),
so two records at one position (split multi-allelics, duplicates) keep their
own annotations.  Tags are ``Number=A``: one value per ALT, ``.`` for an ALT
resmark did not list.  RESMARK_* tags already in the input (a re-annotated
resmark output) are replaced, never duplicated or left stale.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

from annotator.core.rows import Row
from annotator.errors import InputError, OutputError

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
# characters that would break the INFO grammar (VCF 4.3 section 1.6.1) or the Number=A split
_UNSAFE = re.compile(r"[;=,\s|%]+")

RecordKey = tuple[str, int, str, int, str]


def _enc(v: object) -> str:
    if v is None or v == "":
        return "."
    text = _UNSAFE.sub("_", str(v)).strip("_")
    return text.encode("ascii", "replace").decode("ascii") or "."


def _header_text(line: str) -> str:
    # an unstructured ##key=value line: one physical line, no control characters, and no
    # angle brackets (htslib would parse a value starting with "<" as a structured line)
    text = "".join(c if c.isprintable() else " " for c in " ".join(line.split()))
    return text.replace("<", "%3C").replace(">", "%3E")


# rows that come from --cnv / --sv files, not from the VCF being copied
EXTERNAL_SOURCES = frozenset({"sv-vcf", "fusion-table"})


def index_rows(rows: Sequence[Row]) -> dict[RecordKey, Row]:
    out: dict[RecordKey, Row] = {}
    for r in rows:
        if r.record_index < 0 or r.annotation_source in EXTERNAL_SOURCES:
            continue
        key = (r.input_chrom, r.input_pos, r.input_ref, r.allele_index, r.input_alt)
        out.setdefault(key, r)
    return out


def write(
    path: Path, source_path: str, rows: Sequence[Row], header_lines: Sequence[str]
) -> int:
    """Copy ``source_path`` to ``path`` (bgzipped VCF) with RESMARK_* tags; returns records written."""
    import cyvcf2

    path = Path(path)
    by_key = index_rows(rows)
    try:
        vcf = cyvcf2.VCF(str(source_path), lazy=True)
    except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
        raise InputError(f"cannot reopen for the annotated VCF ({e})", path=source_path) from e
    stale = [t for t in TAG_IDS if _declared(vcf, t)]
    for line in header_lines:
        key, _, value = _header_text(line).partition("=")
        if key:
            vcf.add_to_header(f"##{key}={value}")
    for tag, _, desc in INFO_TAGS:
        if tag not in stale:
            vcf.add_info_to_header(
                {"ID": tag, "Number": "A", "Type": "String", "Description": f"resmark: {desc}"}
            )
    n = 0
    try:
        writer = cyvcf2.Writer(str(path), vcf, mode="wz")
    except Exception as e:  # noqa: BLE001
        vcf.close()
        raise OutputError(f"cannot write annotated VCF ({e})", path=path) from e
    try:
        for v in vcf:
            _annotate(v, by_key, stale)
            writer.write_record(v)
            n += 1
    except Exception as e:  # noqa: BLE001 - htslib parse failure mid-file
        raise InputError(f"cannot copy record {n + 1} into the annotated VCF ({e})",
                         path=source_path) from e
    finally:
        writer.close()
        vcf.close()
    _index(path)
    return n


def _declared(vcf: object, tag: str) -> bool:
    try:
        info = vcf.get_header_type(tag)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - KeyError/Exception when not declared
        return False
    return bool(info)


def _annotate(v: object, by_key: dict[RecordKey, Row], stale: Sequence[str]) -> None:
    info = v.INFO  # type: ignore[attr-defined]
    if stale:
        present = {k for k, _ in info}
        for tag in stale:
            if tag in present:
                del info[tag]
    alts = list(v.ALT or ())  # type: ignore[attr-defined]
    if not alts:
        return
    chrom, pos, ref = v.CHROM, v.POS, v.REF  # type: ignore[attr-defined]
    keys = [(chrom, pos, ref, i, alt) for i, alt in enumerate(alts, start=1)]
    found = [by_key.get(k) for k in keys]
    if not any(found):
        return
    for k in keys:
        # first record wins, as in the pipeline, where a later identical allele is a duplicate
        by_key.pop(k, None)
    for tag, attr, _ in INFO_TAGS:
        values = [_enc(getattr(r, attr)) if r is not None else "." for r in found]
        if any(x != "." for x in values):
            info[tag] = ",".join(values)


def _index(path: Path) -> None:
    import pysam

    try:
        pysam.tabix_index(str(path), preset="vcf", force=True)
    except Exception as e:  # noqa: BLE001 - unsorted input cannot be indexed; output still valid
        log.info("%s not indexed (%s); sort it with bcftools sort to index", path, e)
        tbi = path.with_name(path.name + ".tbi")
        if tbi.exists():
            tbi.unlink()
