"""Annotated VCF: every input record is copied unchanged, with resmark's
interpretation added as INFO tags (declared in the header) on the records
whose alleles were listed.  Output is bgzipped and, when the input is sorted,
tabix-indexed.

Records are matched to rows by (CHROM as written, POS, REF, ALT index, ALT),
so two records at one position (split multi-allelics, duplicates) keep their
own annotations.  Tags are ``Number=A``: one value per ALT, ``.`` for an ALT
resmark did not list.  RESMARK_* tags already in the input (a re-annotated
resmark output) are replaced, never duplicated or left stale.

How records are copied (``annotator.io.vcfcopy``): a record resmark does not
change is never parsed.  From a bgzipped VCF with a tabix index (built into a
temporary file when the input has none) the compressed blocks without a
changed record are copied byte for byte, only the blocks around annotated
records are re-encoded, and the index is the input's with its offsets moved
(an unindexed input's index is the one the reading pass built,
``annotator.io.bgzfscan``); a large plain-text or plain-gzip VCF is copied
by chunks of text with numpy (``annotator.io.textcopy``), a small one line
by line.  BCF input is decoded
and re-encoded by htslib.  Untouched records are therefore the input's own
bytes (htslib would rewrite ``0.100`` as ``0.1``; the values are the same).

Header: the input's lines, ``##FILTER=<ID=PASS>`` first when the input lacks
it (as htslib writes it), the run's provenance, the RESMARK_* declarations,
then a declaration for every INFO/FORMAT tag, FILTER and contig that records
use but the input header does not declare (htslib only warns about those on
reading; ``Number=1,Type=String`` or ``Number=0,Type=Flag`` as htslib assumes).
Records looked at for that: every record of a file of at most
``vcfcopy.SCAN_ALL_BYTES`` on disk (or of any file copied line by line), else the records
at the positions resmark annotates.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.rows import Row
from annotator.errors import InputError, OutputError
from annotator.io.vcfheader import INFO_TAGS, TAG_IDS, Undeclared, build_header

if TYPE_CHECKING:
    from annotator.io.vcfcopy import Written

__all__ = ["INFO_TAGS", "TAG_IDS", "RecordEditor", "Undeclared", "build_header", "index_rows", "write",
           "write_vcf"]

log = logging.getLogger(__name__)

# characters that would break the INFO grammar (VCF 4.3 section 1.6.1) or the Number=A split
_UNSAFE = re.compile(r"[;=,\s|%]+")
_TAG_PREFIXES = tuple(f"{t}=".encode() for t in TAG_IDS) + tuple(t.encode() for t in TAG_IDS)

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
    return write_vcf(path, source_path, rows, header_lines).records


def write_vcf(
    path: Path, source_path: str, rows: Sequence[Row], header_lines: Sequence[str],
    input_index: bytes | None = None, hashing: bool = True,
) -> Written:
    """As ``write``, returning the record count and the output files' SHA-256.

    ``input_index``: the input's tabix index (decompressed) when the reader built it
    (``annotator.io.bgzfscan``), for a bgzipped input without a .tbi.  ``hashing``: take
    the annotated VCF's SHA-256 while writing it (else its digest is None; BCF input is
    written by htslib and hashed by the caller)."""
    from annotator.io import vcfcopy

    path = Path(path)
    editor = RecordEditor(index_rows(rows))
    extra = [f"##{k}={v}" for k, _, v in (_header_text(x).partition("=") for x in header_lines) if k]
    try:
        kind = vcfcopy.container(source_path)
    except OSError as e:
        raise InputError(f"cannot reopen for the annotated VCF ({e.strerror or e})", path=source_path) from e
    if kind == "bcf":
        n = _write_htslib(path, source_path, editor, extra)
        return vcfcopy.Written(n, {} if hashing else {path.name: None})
    try:
        return vcfcopy.copy(Path(source_path), path, editor, extra, kind, input_index, hashing)
    except vcfcopy.CopyError as e:
        raise InputError(f"cannot copy into the annotated VCF ({e})", path=source_path) from e


class RecordEditor:
    """Adds RESMARK_* tags to the text of one record line; first record of a key wins."""

    def __init__(self, by_key: dict[RecordKey, Row], strip_stale: bool = False) -> None:
        self.by_key = by_key
        self.strip_stale = strip_stale
        self.positions: dict[str, set[int]] = {}
        for chrom, pos, *_ in by_key:
            self.positions.setdefault(chrom, set()).add(pos)

    def edit(self, line: bytes) -> bytes | None:
        """The changed line, or None when the record is copied as it is."""
        body = line.rstrip(b"\r\n")
        eol = line[len(body):]
        f = body.split(b"\t", 8)
        if len(f) < 8:
            return None
        info = f[7]
        changed = False
        if self.strip_stale and info != b"." and any(p in info for p in _TAG_PREFIXES):
            kept = [x for x in info.split(b";") if x.split(b"=", 1)[0].decode("latin-1") not in TAG_IDS]
            info = b";".join(kept) if kept else b"."
            changed = True
        added = self._tags(f)
        if added:
            info = added if info in (b".", b"") else info + b";" + added
            changed = True
        if not changed:
            return None
        f[7] = info
        return b"\t".join(f) + eol

    def _tags(self, f: list[bytes]) -> bytes:
        if f[4] in (b".", b""):
            return b""
        try:
            pos = int(f[1])
        except ValueError:
            return b""
        chrom, ref = f[0].decode("latin-1"), f[3].decode("latin-1")
        if pos not in self.positions.get(chrom, ()):
            return b""
        keys = [(chrom, pos, ref, i, alt) for i, alt in enumerate(f[4].decode("latin-1").split(","), start=1)]
        found = [self.by_key.get(k) for k in keys]
        if not any(found):
            return b""
        for k in keys:
            # first record wins, as in the pipeline, where a later identical allele is a duplicate
            self.by_key.pop(k, None)
        parts = []
        for tag, attr, _ in INFO_TAGS:
            values = [_enc(getattr(r, attr)) if r is not None else "." for r in found]
            if any(x != "." for x in values):
                parts.append(f"{tag}={','.join(values)}")
        return ";".join(parts).encode("ascii")


def _write_htslib(path: Path, source_path: str, editor: RecordEditor, extra: Sequence[str]) -> int:
    """BCF input: records decoded and re-encoded by htslib (BCF declares every tag it uses)."""
    import cyvcf2

    try:
        vcf = cyvcf2.VCF(str(source_path), lazy=True)
    except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
        raise InputError(f"cannot reopen for the annotated VCF ({e})", path=source_path) from e
    stale = [t for t in TAG_IDS if _declared(vcf, t)]
    for line in extra:
        vcf.add_to_header(line)
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
            _annotate(v, editor, stale)
            writer.write_record(v)
            n += 1
    except Exception as e:  # noqa: BLE001 - htslib parse failure mid-file
        raise InputError(f"cannot copy record {n + 1} into the annotated VCF ({e})",
                         path=source_path) from e
    finally:
        writer.close()
        vcf.close()
    from annotator.io.vcfcopy import tabix

    tabix(path)
    return n


def _declared(vcf: object, tag: str) -> bool:
    try:
        info = vcf.get_header_type(tag)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - KeyError/Exception when not declared
        return False
    return bool(info)


def _annotate(v: object, editor: RecordEditor, stale: Sequence[str]) -> None:
    info = v.INFO  # type: ignore[attr-defined]
    if stale:
        present = {k for k, _ in info}
        for tag in stale:
            if tag in present:
                del info[tag]
    alts = list(v.ALT or ())  # type: ignore[attr-defined]
    if not alts:
        return
    fields = [v.CHROM, str(v.POS), "", v.REF, ",".join(alts)]  # type: ignore[attr-defined]
    added = editor._tags([x.encode("latin-1") for x in fields])
    for part in added.decode("ascii").split(";") if added else ():
        tag, _, value = part.partition("=")
        info[tag] = value
