"""The ``annotate --samplesheet`` sheet: TSV or CSV, one row per VCF -> ``CohortItem``s.

``#`` comment lines and blank lines are allowed; the delimiter is a tab when
the header line has one, else a comma.  Columns (aliases in ``SHEET_ALIASES``):

========================  ====================================================
column                    meaning
========================  ====================================================
``vcf`` (required)        VCF/BCF path, relative to the sheet's directory
``sample``                sample name in the outputs (default: from the VCF)
``vcf_sample``            tumour column of the VCF (default: ``sample`` when
                          the VCF has such a column, else resmark's choice)
``patient``, ``timepoint``, ``date``, ``therapy``, ``bam``
                          used by ``resmark track``; ignored here
``cnv``, ``sv``           per-sample copy-number / SV inputs
``tumor_fraction``        per-sample tumour fraction, in (0, 1]
``prior_therapy``         drugs or classes already given, comma-separated
                          (like ``--prior-therapy``; overrides it per sample)
========================  ====================================================

The sheet is read once through ``annotator.io.textinput`` (a pipe works; its
sha256 is computed while reading and travels with every item for provenance)
and within its limits; a field may not hold a line break (a quoted newline in
a CSV) nor exceed ``Limits.max_field``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from annotator.core.provenance import InputFile
from annotator.errors import InputError, MultipleErrors, ResmarkError, UsageError
from annotator.io.atomic import safe_name
from annotator.io.textinput import DEFAULT_LIMITS, Limits, TextInput

SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "vcf": ("vcf", "path", "file", "input", "vcf_path"),
    "sample": ("sample", "sample_id", "name"),
    "vcf_sample": ("vcf_sample", "tumour_column", "tumor_column", "column"),
    "patient": ("patient", "patient_id"),
    "timepoint": ("timepoint", "label", "time_point"),
    "cnv": ("cnv",),
    "sv": ("sv",),
    "tumor_fraction": ("tumor_fraction", "tumour_fraction", "purity"),
    "prior_therapy": ("prior_therapy", "prior_therapies", "prior_treatment"),
}


@dataclass(frozen=True)
class CohortItem:
    """One VCF to annotate, with what the sample sheet says about it."""

    path: Path
    sample: str | None = None  # label in the outputs; None: from the VCF header
    vcf_sample: str | None = None  # tumour column to read (like --sample)
    patient: str | None = None
    timepoint: str | None = None
    cnv: Path | None = None
    sv: Path | None = None
    tumor_fraction: float | None = None
    where: str = ""  # "line 3" of the sample sheet, for messages
    sheet: InputFile | None = None  # the sample sheet it came from (provenance)
    prior_therapy: tuple[str, ...] | None = None  # drug/class names (None: column absent or empty)


@dataclass(frozen=True)
class SheetRow:
    line: int  # 1-based line where the row starts
    cells: tuple[str, ...]


def sheet_rows(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[SheetRow], InputFile]:
    """The rows of a TSV/CSV sheet (header first) and the sheet's provenance record.

    Shared by every sheet reader: one read, limits, one-line errors naming the line.
    """
    sheet = Path(path)
    if not sheet.exists() and not sheet.is_symlink():
        raise UsageError("sample sheet not found", path=sheet)
    with TextInput(sheet, what="sample sheet", limits=limits) as src:
        kept = [(n, text) for n, text in src.lines()
                if text.strip() and not text.lstrip().startswith("#")]
        record = src.input_file("samplesheet")
    if not kept:
        raise InputError("sample sheet is empty", path=sheet)
    delimiter = "\t" if "\t" in kept[0][1] else ","
    consumed: list[int] = []

    def feed() -> Iterator[str]:
        for n, text in kept:
            consumed.append(n)
            yield text + "\n"  # csv keeps a quoted line break inside the field: found below

    rows: list[SheetRow] = []
    reader = csv.reader(feed(), delimiter=delimiter)
    done = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            at = consumed[-1] if consumed else 1
            raise InputError(f"cannot parse the row ({e})", path=sheet, where=f"line {at}") from e
        first = consumed[done] if done < len(consumed) else consumed[-1]
        last = consumed[-1]
        done = len(consumed)
        for c in cells:
            if "\n" in c or "\r" in c:
                raise InputError(
                    f"a quoted field runs over lines {first}-{last}; a field may not hold a "
                    "line break (one row per line)", path=sheet, where=f"line {first}",
                )
            if len(c) > limits.max_field:
                raise InputError(
                    f"a field is longer than the {limits.max_field // 1024} KiB limit",
                    path=sheet, where=f"line {first}",
                )
        rows.append(SheetRow(first, tuple(cells)))
    return rows, record


def _therapies(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(x.strip() for x in text.replace(";", ",").split(",") if x.strip())


def read_samplesheet(path: str | Path) -> list[CohortItem]:
    """Items of a TSV/CSV sample sheet; every problem is reported with its line."""
    sheet = Path(path)
    rows, record = sheet_rows(sheet)
    header = [h.strip().lower() for h in rows[0].cells]
    columns: dict[str, int] = {}
    for key, aliases in SHEET_ALIASES.items():
        for alias in aliases:
            if alias in header:
                columns[key] = header.index(alias)
                break
    if "vcf" not in columns:
        raise InputError(
            f"sample sheet has no 'vcf' column (columns: {', '.join(header)[:200]})",
            path=sheet, where=f"line {rows[0].line}",
        )
    items: list[CohortItem] = []
    problems: list[ResmarkError] = []
    for row in rows[1:]:
        where = f"line {row.line}"

        def get(key: str, cells: tuple[str, ...] = row.cells) -> str | None:
            i = columns.get(key)
            if i is None or i >= len(cells):
                return None
            value = cells[i].strip()
            return value or None

        vcf = get("vcf")
        if vcf is None:
            problems.append(InputError("empty 'vcf' value", path=sheet, where=where))
            continue
        try:
            tf = _fraction(get("tumor_fraction"))
        except ValueError as e:
            problems.append(InputError(str(e), path=sheet, where=where))
            continue
        cnv, sv = get("cnv"), get("sv")
        items.append(
            CohortItem(
                path=_relative_to(sheet, vcf),
                sample=get("sample"),
                vcf_sample=get("vcf_sample"),
                patient=get("patient"),
                timepoint=get("timepoint"),
                cnv=_relative_to(sheet, cnv) if cnv else None,
                sv=_relative_to(sheet, sv) if sv else None,
                tumor_fraction=tf,
                prior_therapy=_therapies(get("prior_therapy")),
                where=f"{sheet}: {where}",
                sheet=record,
            )
        )
    _check_sheet_names(sheet, items, problems)
    if problems:
        raise problems[0] if len(problems) == 1 else MultipleErrors(problems)
    if not items:
        raise InputError("sample sheet lists no VCF", path=sheet)
    return items


def _fraction(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"tumor_fraction {text[:40]!r} is not a number") from None
    if not (math.isfinite(v) and 0 < v <= 1):
        raise ValueError(f"tumor_fraction {text[:40]!r} is not in (0, 1]")
    return v


def _relative_to(sheet: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else sheet.parent / p


def _check_sheet_names(sheet: Path, items: list[CohortItem], problems: list[ResmarkError]) -> None:
    seen: dict[str, str] = {}
    for it in items:
        if it.sample is None:
            continue
        key = safe_name(it.sample)
        if key in seen:
            problems.append(InputError(
                f"sample {it.sample!r} appears twice (also {seen[key]})", path=sheet,
                where=it.where.rsplit(": ", 1)[-1],
            ))
        seen[key] = it.where.rsplit(": ", 1)[-1]
