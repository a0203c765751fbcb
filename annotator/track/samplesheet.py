"""Timepoints from a sample sheet (CSV/TSV) or from positional VCFs.

Sheet columns (case-insensitive, aliases in ``COLUMN_ALIASES``): patient,
timepoint, date (ISO 8601, YYYY-MM-DD), vcf (required), sample (VCF column,
for a multi-sample VCF), bam/cram, tumor_fraction, therapy, cnv, wbc_bam,
wbc_vcf (matched white cells).  Relative paths resolve against the sheet's
directory.  ``#`` lines are comments.  Limits: 16 MiB per sheet, 64 Ki
characters per line, 4096 per field; a quoted field may not span lines.
"""

from __future__ import annotations

import csv
import datetime as _dt
import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from annotator.errors import InputError, TimepointError, UsageError
from annotator.track.model import TimepointSpec

log = logging.getLogger(__name__)

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "patient": ("patient", "patient_id", "subject", "individual"),
    "timepoint": ("timepoint", "label", "timepoint_label", "visit", "time_point"),
    "date": ("date", "collection_date", "draw_date", "sample_date"),
    "vcf": ("vcf", "vcf_path", "variants", "path"),
    "sample": ("sample", "vcf_sample", "sample_column", "column"),
    "reads": ("bam", "cram", "reads", "bam_path", "cram_path", "alignments"),
    "tumor_fraction": ("tumor_fraction", "tumour_fraction", "tf", "ctdna_fraction", "purity"),
    "therapy": ("therapy", "therapy_line", "drug", "drugs", "treatment", "line"),
    "cnv": ("cnv", "copy_number", "cnv_path", "segments"),
    "wbc_reads": ("wbc_bam", "wbc_cram", "wbc_reads", "normal_bam", "buffy_coat_bam", "germline_bam"),
    "wbc_vcf": ("wbc_vcf", "normal_vcf", "buffy_coat_vcf", "germline_vcf"),
}
REQUIRED = ("timepoint", "vcf")
MAX_SHEET_BYTES = 16 << 20  # a sample sheet is a few hundred lines; larger is a wrong file
MAX_LINE_CHARS = 65_536
MAX_FIELD_CHARS = 4_096


def _delimiter(path: Path, first_line: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return ","
    if suffix in (".tsv", ".tab"):
        return "\t"
    return "\t" if "\t" in first_line else ","


def parse_date(text: str, path: Path | str, where: str) -> _dt.date | None:
    text = text.strip()
    if not text or text.upper() in ("NA", "N/A", "."):
        return None
    try:
        return _dt.date.fromisoformat(text[:10])
    except ValueError:
        raise InputError(f"date {text!r} is not an ISO date (YYYY-MM-DD)", path=path, where=where) from None


def read_samplesheet(path: str | Path, default_patient: str = "patient") -> list[TimepointSpec]:
    """Parse and check a sample sheet; every referenced file must exist."""
    sheet = Path(path)
    if not sheet.is_file():
        raise InputError("sample sheet not found", path=sheet)
    size = sheet.stat().st_size
    if size > MAX_SHEET_BYTES:
        raise InputError(f"sample sheet is {size} bytes (limit {MAX_SHEET_BYTES}); is this the right file?",
                         path=sheet)
    try:
        text = sheet.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        lineno = sheet.read_bytes()[: e.start].count(b"\n") + 1
        raise InputError("not UTF-8 text", path=sheet, where=f"line {lineno}") from None
    lines = [(n, ln) for n, ln in enumerate(text.splitlines(), start=1)
             if ln.strip() and not ln.startswith("##")]
    for n, ln in lines:
        if len(ln) > MAX_LINE_CHARS:
            raise InputError(f"line is {len(ln)} characters (limit {MAX_LINE_CHARS})", path=sheet,
                             where=f"line {n}")
        if ln.count('"') % 2:
            raise InputError("unbalanced quote: a quoted field may not contain a newline", path=sheet,
                             where=f"line {n}")
    if not lines:
        raise InputError("sample sheet is empty", path=sheet)
    header_no, header_line = lines[0]
    delim = _delimiter(sheet, header_line)
    header = next(csv.reader([header_line.lstrip("#")], delimiter=delim))
    columns = _map_columns([h.strip() for h in header], sheet)
    base = sheet.parent
    specs: list[TimepointSpec] = []
    for order, (n, line) in enumerate(lines[1:]):
        if line.startswith("#"):
            continue
        where = f"line {n}"
        cells = next(csv.reader([line], delimiter=delim))
        if len(cells) > len(header):
            raise InputError(f"{len(cells)} fields but the header has {len(header)}", path=sheet, where=where)
        for i, c in enumerate(cells):
            if len(c) > MAX_FIELD_CHARS:
                raise InputError(f"field {header[i] if i < len(header) else i + 1!r} is {len(c)} characters "
                                 f"(limit {MAX_FIELD_CHARS})", path=sheet, where=where)

        def get(name: str, cells: list[str] = cells) -> str:
            i = columns.get(name)
            return cells[i].strip() if i is not None and i < len(cells) else ""

        label = get("timepoint")
        if not label:
            raise InputError("empty timepoint label", path=sheet, where=where)
        vcf_text = get("vcf")
        if not vcf_text:
            raise InputError("empty VCF path", path=sheet, where=where)
        specs.append(
            TimepointSpec(
                patient=get("patient") or default_patient,
                label=label,
                vcf=_existing(base, vcf_text, "VCF", sheet, where),
                date=parse_date(get("date"), sheet, where),
                sample=get("sample") or None,
                reads=_existing(base, get("reads"), "BAM/CRAM", sheet, where) if get("reads") else None,
                tumor_fraction=_fraction(get("tumor_fraction"), sheet, where),
                therapy=get("therapy") or None,
                cnv=_existing(base, get("cnv"), "copy-number", sheet, where) if get("cnv") else None,
                wbc_reads=(_existing(base, get("wbc_reads"), "white-cell BAM/CRAM", sheet, where)
                           if get("wbc_reads") else None),
                wbc_vcf=_existing(base, get("wbc_vcf"), "white-cell VCF", sheet, where) if get("wbc_vcf") else None,
                where=where,
                order=order,
            )
        )
    if not specs:
        raise InputError("sample sheet has a header but no timepoints", path=sheet)
    return specs


def _map_columns(header: list[str], sheet: Path) -> dict[str, int]:
    lowered = [h.lower().replace(" ", "_").replace("-", "_") for h in header]
    columns: dict[str, int] = {}
    for name, aliases in COLUMN_ALIASES.items():
        hits = [i for i, h in enumerate(lowered) if h in aliases]
        if len(hits) > 1:
            raise InputError(
                f"columns {', '.join(header[i] for i in hits)} all mean {name!r}", path=sheet, where="line 1"
            )
        if hits:
            columns[name] = hits[0]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; header is: {', '.join(header)}",
            path=sheet, where="header",
        )
    return columns


def _existing(base: Path, text: str, what: str, sheet: Path, where: str) -> Path:
    p = Path(text).expanduser()
    if not p.is_absolute():
        p = base / p
    if not p.exists():
        raise InputError(f"{what} file {text!r} not found (looked for {p})", path=sheet, where=where)
    return p


def _fraction(text: str, sheet: Path, where: str) -> float | None:
    if not text or text.upper() in ("NA", "N/A", "."):
        return None
    try:
        v = float(text.rstrip("%")) / (100 if text.endswith("%") else 1)
    except ValueError:
        raise InputError(f"tumour fraction {text!r} is not a number", path=sheet, where=where) from None
    if not 0 <= v <= 1:
        raise InputError(f"tumour fraction {text!r} is outside 0-1", path=sheet, where=where)
    return v


def from_vcfs(
    vcfs: Sequence[str | Path],
    *,
    labels: Sequence[str] | None,
    dates: Sequence[str] | None,
    reads: Sequence[str | Path] | None,
    patient: str,
    therapy: str | None,
) -> list[TimepointSpec]:
    """Timepoints from positional VCFs; one multi-sample VCF gives one timepoint per column."""
    paths = [Path(v) for v in vcfs]
    for p in paths:
        if not p.exists():
            raise InputError("VCF file not found", path=p)
    samples: list[str | None] = [None] * len(paths)
    if len(paths) == 1:
        columns = _vcf_samples(paths[0])
        if len(columns) > 1:
            paths = paths * len(columns)
            samples = list(columns)
    n = len(paths)
    for name, values in (("--timepoints", labels), ("--dates", dates), ("--bams", reads)):
        if values is not None and len(values) != n:
            raise UsageError(f"{name} has {len(values)} values for {n} timepoints")
    out: list[TimepointSpec] = []
    for i, p in enumerate(paths):
        if labels is not None:
            label = labels[i]
        elif samples[i] is not None:
            label = str(samples[i])
        else:
            label = p.name.split(".")[0]
        rp = Path(reads[i]) if reads is not None and str(reads[i]) not in ("", "-") else None
        if rp is not None and not rp.exists():
            raise InputError("BAM/CRAM file not found", path=rp)
        out.append(
            TimepointSpec(
                patient=patient, label=label, vcf=p,
                date=parse_date(dates[i], "--dates", f"value {i + 1}") if dates is not None else None,
                sample=samples[i], reads=rp, therapy=therapy, where=f"input {i + 1}", order=i,
            )
        )
    return out


def _vcf_samples(path: Path) -> tuple[str, ...]:
    import cyvcf2

    try:
        vcf = cyvcf2.VCF(str(path), lazy=True)
    except Exception as e:  # noqa: BLE001 - cyvcf2 raises bare Exception
        raise InputError(f"cannot open as VCF/BCF ({' '.join(str(e).split())})", path=path) from e
    try:
        normal = {
            line.split("=", 1)[1].strip()
            for line in (vcf.raw_header or "").splitlines()
            if line.startswith("##normal_sample=")
        }
        # a tumour/normal pair is one timepoint, not two
        return tuple(s for s in vcf.samples if s not in normal)
    finally:
        vcf.close()


def group_patients(specs: Sequence[TimepointSpec]) -> dict[str, list[TimepointSpec]]:
    out: dict[str, list[TimepointSpec]] = {}
    for s in specs:
        out.setdefault(s.patient, []).append(s)
    return out


def order_timepoints(specs: Sequence[TimepointSpec], warnings: list[str]) -> list[TimepointSpec]:
    """Check labels and sort by date (sheet order when a date is missing)."""
    seen: dict[str, TimepointSpec] = {}
    for s in specs:
        if s.label in seen:
            raise TimepointError(
                f"patient {s.patient!r}: timepoint label {s.label!r} appears twice "
                f"({seen[s.label].where} and {s.where})"
            )
        seen[s.label] = s
    columns: dict[tuple[Path, str | None], TimepointSpec] = {}
    for s in specs:
        k = (s.vcf.resolve(), s.sample)
        if k in columns:
            raise TimepointError(
                f"patient {s.patient!r}: timepoints {columns[k].label!r} and {s.label!r} read the same "
                f"VCF column ({s.vcf}{', sample ' + s.sample if s.sample else ''})"
            )
        columns[k] = s
    dated = [s for s in specs if s.date is not None]
    if len(dated) != len(specs):
        if dated:
            msg = (f"patient {specs[0].patient!r}: {len(specs) - len(dated)} timepoint(s) have no date; "
                   "keeping the input order")
            warnings.append(msg)
            log.warning("%s", msg)
        return list(specs)
    ordered = sorted(specs, key=lambda s: (s.date, s.order))
    if [s.label for s in ordered] != [s.label for s in specs]:
        msg = (f"patient {specs[0].patient!r}: timepoints were not in date order; sorted by date as "
               + ", ".join(f"{s.label} ({s.date})" for s in ordered))
        warnings.append(msg)
        log.warning("%s", msg)
    for a, b in zip(ordered, ordered[1:], strict=False):
        if a.date == b.date:
            msg = f"patient {a.patient!r}: timepoints {a.label!r} and {b.label!r} share the date {a.date}"
            warnings.append(msg)
            log.warning("%s", msg)
    return [replace(s, order=i) for i, s in enumerate(ordered)]
