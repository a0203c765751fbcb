"""Annotated VCF: every input record is copied unchanged, with resmark's
interpretation added as INFO tags (declared in the header) on the records
whose alleles were listed.  Output is bgzipped and indexed.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from annotator.rows import Row

INFO_TAGS = (
    # (id, description)
    ("RESMARK_GENE", "Panel gene of each ALT allele"),
    ("RESMARK_HGVSC", "HGVS c. of each ALT allele on the MANE Select transcript"),
    ("RESMARK_HGVSP", "HGVS p. (1-letter) of each ALT allele"),
    ("RESMARK_CLASS", "Alteration class of each ALT allele"),
    ("RESMARK_RULE", "Most specific knowledge-base rule matched by each ALT allele"),
    ("RESMARK_MECHANISM", "Resistance mechanism id of each ALT allele"),
    ("RESMARK_EVIDENCE", "Best evidence level of each ALT allele"),
)
_UNSAFE = re.compile(r"[;=,\s|]+")


def _enc(v: object) -> str:
    if v is None or v == "":
        return "."
    return _UNSAFE.sub("_", str(v))


def write(
    path: Path, source_path: str, rows: Sequence[Row], header_lines: Sequence[str]
) -> None:
    import cyvcf2
    import pysam

    by_record: dict[tuple[str, int, str], dict[int, Row]] = {}
    for r in rows:
        by_record.setdefault((r.input_chrom, r.input_pos, r.input_ref), {})[r.allele_index] = r
    vcf = cyvcf2.VCF(source_path, lazy=True)
    for line in header_lines:
        key, _, value = line.partition("=")
        vcf.add_to_header(f"##{key}={value}")
    for tag, desc in INFO_TAGS:
        vcf.add_info_to_header(
            {"ID": tag, "Number": "A", "Type": "String", "Description": f"resmark: {desc}"}
        )
    plain = path.with_suffix("") if path.suffix == ".gz" else path
    writer = cyvcf2.Writer(str(plain), vcf, mode="w")
    try:
        for v in vcf:
            alleles = by_record.get((v.CHROM, v.POS, v.REF))
            if alleles:
                n = len(v.ALT)
                for tag, attr in (
                    ("RESMARK_GENE", "gene"), ("RESMARK_HGVSC", "hgvsc"),
                    ("RESMARK_HGVSP", "hgvsp_short"), ("RESMARK_CLASS", "alteration_class"),
                    ("RESMARK_RULE", "rule_id"), ("RESMARK_MECHANISM", "mechanism_id"),
                    ("RESMARK_EVIDENCE", "evidence_level"),
                ):
                    vals = [
                        _enc(getattr(alleles[i], attr)) if i in alleles else "."
                        for i in range(1, n + 1)
                    ]
                    if any(x != "." for x in vals):
                        v.INFO[tag] = ",".join(vals)
            writer.write_record(v)
    finally:
        writer.close()
        vcf.close()
    if plain != path:
        pysam.tabix_compress(str(plain), str(path), force=True)
        plain.unlink()
        try:
            pysam.tabix_index(str(path), preset="vcf", force=True)
        except Exception:  # noqa: BLE001 - unsorted input cannot be indexed; output still valid
            pass
