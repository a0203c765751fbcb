"""Cohorts: many inputs (paths, globs or a sample sheet) annotated in one process.

``resolve_items`` turns the inputs of an ``AnnotateConfig`` into
``CohortItem`` values; an executor annotates them and returns, in input
order, one ``SampleAnnotation`` or one ``SampleFailure`` per item:

* ``SerialExecutor`` works in this process with the caller's ``RunContext``
  (``--jobs 1``);
* ``ProcessExecutor`` works in ``jobs`` worker processes; each worker loads
  the panel and the references once (pool initializer) and annotates many
  files, so per-file cost is reading the file, not loading resmark.

Both have the same interface (``run(items) -> list[ItemResult]``) and the
same per-sample failure handling: a sample that cannot be annotated becomes
a ``SampleFailure`` naming file and fault; the other samples go on.

Sample sheet (TSV or CSV, ``#`` comment lines allowed), one row per VCF:

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
``tumor_fraction``        per-sample tumour fraction
========================  ====================================================
"""

from __future__ import annotations

import csv
import glob
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from annotator.core.jsondoc import JsonObject
from annotator.errors import InputError, ResmarkError, UsageError

if TYPE_CHECKING:
    from annotator.annotation.config import AnnotateConfig, RunContext
    from annotator.annotation.pipeline import SampleAnnotation

log = logging.getLogger(__name__)

GLOB_CHARS = frozenset("*?[")
SHEET_ALIASES: dict[str, tuple[str, ...]] = {
    "vcf": ("vcf", "path", "file", "input", "vcf_path"),
    "sample": ("sample", "sample_id", "name"),
    "vcf_sample": ("vcf_sample", "tumour_column", "tumor_column", "column"),
    "patient": ("patient", "patient_id"),
    "timepoint": ("timepoint", "label", "time_point"),
    "cnv": ("cnv",),
    "sv": ("sv",),
    "tumor_fraction": ("tumor_fraction", "tumour_fraction", "purity"),
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


@dataclass(frozen=True)
class SampleFailure:
    """A sample that could not be annotated; the rest of the cohort went on."""

    path: str
    sample: str | None
    message: str  # one line: file, place, fault
    exit_code: int = 1

    def one_line(self) -> str:
        label = f"{self.sample}: " if self.sample else ""
        return f"{label}{self.message}"


ItemResult = Any  # SampleAnnotation | SampleFailure (SampleAnnotation is imported lazily)


class Executor(Protocol):
    def run(self, items: Sequence[CohortItem]) -> list[ItemResult]: ...


# ---------------------------------------------------------------- inputs


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Paths as given, globs expanded (sorted); a glob matching nothing is an error."""
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        text = str(item)
        if GLOB_CHARS & set(text) and not Path(text).exists():
            matches = sorted(glob.glob(text, recursive=True))
            matches = [m for m in matches if not m.endswith((".tbi", ".csi")) and Path(m).is_file()]
            if not matches:
                raise UsageError(f"no file matches {text!r}")
            paths = [Path(m) for m in matches]
        else:
            paths = [Path(text)]
        for p in paths:
            key = p.resolve() if p.exists() else p
            if key not in seen:
                seen.add(key)
                out.append(p)
    return out


def read_samplesheet(path: str | Path) -> list[CohortItem]:
    """Items of a TSV/CSV sample sheet; every problem is reported with its line."""
    sheet = Path(path)
    try:
        text = sheet.read_text(encoding="utf-8-sig")
    except FileNotFoundError as e:
        raise UsageError("sample sheet not found", path=sheet) from e
    except (OSError, UnicodeError) as e:
        raise InputError(f"cannot read sample sheet ({e})", path=sheet) from e
    lines = [(n, line) for n, line in enumerate(text.splitlines(), start=1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InputError("sample sheet is empty", path=sheet)
    delimiter = "\t" if "\t" in lines[0][1] else ","
    rows = list(csv.reader([line for _, line in lines], delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    columns: dict[str, int] = {}
    for key, aliases in SHEET_ALIASES.items():
        for alias in aliases:
            if alias in header:
                columns[key] = header.index(alias)
                break
    if "vcf" not in columns:
        raise InputError(
            f"sample sheet has no 'vcf' column (columns: {', '.join(header)})",
            path=sheet, where=f"line {lines[0][0]}",
        )
    items: list[CohortItem] = []
    problems: list[ResmarkError] = []
    for (n, _), row in zip(lines[1:], rows[1:], strict=True):
        where = f"line {n}"

        def get(key: str, row: list[str] = row) -> str | None:
            i = columns.get(key)
            if i is None or i >= len(row):
                return None
            value = row[i].strip()
            return value or None

        vcf = get("vcf")
        if vcf is None:
            problems.append(InputError("empty 'vcf' value", path=sheet, where=where))
            continue
        try:
            fraction = get("tumor_fraction")
            tf = float(fraction) if fraction is not None else None
        except ValueError:
            problems.append(InputError(f"tumor_fraction {fraction!r} is not a number", path=sheet,
                                       where=where))
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
                where=f"{sheet}: {where}",
            )
        )
    _check_sheet_names(sheet, items, problems)
    if problems:
        from annotator.errors import MultipleErrors

        raise problems[0] if len(problems) == 1 else MultipleErrors(problems)
    if not items:
        raise InputError("sample sheet lists no VCF", path=sheet)
    return items


def _relative_to(sheet: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else sheet.parent / p


def _check_sheet_names(sheet: Path, items: list[CohortItem], problems: list[ResmarkError]) -> None:
    from annotator.io.atomic import safe_name

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


def resolve_items(config: AnnotateConfig, samplesheet: str | Path | None) -> list[CohortItem]:
    """The cohort of a run: the sample sheet's rows, then the (glob-expanded) inputs."""
    items = read_samplesheet(samplesheet) if samplesheet is not None else []
    items += [CohortItem(path=p, vcf_sample=config.sample) for p in expand_inputs(config.inputs)]
    return items


# ---------------------------------------------------------------- one sample


def annotate_item(
    item: CohortItem, ctx: RunContext, strict: bool = False, stage: Path | None = None
) -> ItemResult:
    """Annotate one item; a ``ResmarkError`` (or any bug) becomes a ``SampleFailure``.

    ``strict``: raise instead (a run of one input fails with the input's own error).
    ``stage``: also write the sample's dataset partition there (``DatasetStage.path``).
    """
    from annotator.annotation.config import RunContext
    from annotator.annotation.single import annotate_file

    cfg = ctx.config
    overrides: JsonObject = {}
    if item.cnv is not None:
        overrides["cnv"] = item.cnv
    if item.sv is not None:
        overrides["sv"] = item.sv
    if item.tumor_fraction is not None:
        overrides["tumor_fraction"] = item.tumor_fraction
    item_ctx = ctx
    if overrides:
        item_ctx = RunContext(config=replace(cfg, **overrides), panel=ctx.panel,
                              references=ctx.references, progress=ctx.progress,
                              engines=ctx.engines, regions=ctx.regions)
    try:
        column = item.vcf_sample or _column_named(item)
        result = annotate_file(item.path, item_ctx, column)
        if item.sample is not None and item.sample != result.sample:
            _relabel(result, item.sample)
        if stage is not None:
            _stage_partition(stage, result, item_ctx)
    except ResmarkError as e:
        if strict:
            raise
        return SampleFailure(str(item.path), item.sample, e.one_line(), e.exit_code)
    except Exception as e:  # noqa: BLE001 - one broken file must not stop a cohort
        if strict:
            raise
        log.debug("unexpected error annotating %s", item.path, exc_info=True)
        return SampleFailure(
            str(item.path), item.sample,
            f"{item.path}: internal error: {type(e).__name__}: {' '.join(str(e).split())}",
        )
    return result


def _stage_partition(stage: Path, result: SampleAnnotation, ctx: RunContext) -> None:
    from annotator.annotation.outputs import build_provenance
    from annotator.io import dataset

    prov = build_provenance(ctx.config, ctx, [result]).as_dict()
    prov["accounting"] = result.accounting.as_dict()
    dataset.write_sample(stage, dataset.SampleRows(result.sample, result.rows, prov))


def _column_named(item: CohortItem) -> str | None:
    """The sheet's sample name selects the tumour column when the VCF has one so named."""
    if item.sample is None:
        return None
    from annotator.io.vcfin import VcfSource

    try:
        source = VcfSource(item.path, item.sample)  # header only; raises if no such column
    except ResmarkError:
        return None  # no such column, or a broken file that annotate_file will report
    source.close()
    return item.sample


def _relabel(result: SampleAnnotation, sample: str) -> None:
    result.sample = sample
    result.rows = [replace(r, sample=sample) for r in result.rows]


# ---------------------------------------------------------------- executors


class SerialExecutor:
    """Annotate items one after another with the caller's context (``--jobs 1``)."""

    def __init__(self, ctx: RunContext, stage: Path | None = None) -> None:
        self.ctx = ctx
        self.stage = stage

    def run(self, items: Sequence[CohortItem]) -> list[ItemResult]:
        results = []
        for n, item in enumerate(items, start=1):
            results.append(annotate_item(item, self.ctx, stage=self.stage))
            log.debug("annotated %d/%d: %s", n, len(items), item.path)
        return results


class ProcessExecutor:
    """Annotate items in ``jobs`` worker processes, each loading panel and references once."""

    def __init__(self, config: AnnotateConfig, jobs: int, stage: Path | None = None) -> None:
        self.config = config
        self.jobs = jobs
        self.stage = stage

    def run(self, items: Sequence[CohortItem]) -> list[ItemResult]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if not items:
            return []
        _register_reducers()
        workers = min(self.jobs, len(items))
        # small chunks keep both workers busy to the end; large enough to amortise IPC
        chunk = max(1, min(32, len(items) // (workers * 8)))
        # spawn: the parent may hold threads (pyarrow, htslib), which fork would copy badly
        mp = multiprocessing.get_context("spawn")
        try:
            config = replace(self.config, progress=None)  # callbacks stay in the parent
            with ProcessPoolExecutor(workers, mp_context=mp, initializer=_init_worker,
                                     initargs=(config, self.stage)) as pool:
                return list(pool.map(_work, items, chunksize=chunk))
        except BrokenProcessPool as e:
            raise ResmarkError(
                f"a worker process died ({e}); rerun with --jobs 1 to find the failing input"
            ) from e


def make_executor(ctx: RunContext, jobs: int, stage: Path | None = None) -> Executor:
    if jobs <= 1:
        return SerialExecutor(ctx, stage)
    return ProcessExecutor(ctx.config, jobs, stage)


# Per-worker-process context, set once by the pool initializer.  Module state is
# the only channel a ProcessPoolExecutor initializer has to its later tasks.
_WORKER: JsonObject = {}


def _init_worker(config: AnnotateConfig, stage: Path | None) -> None:
    from annotator.annotation.config import RunContext
    from annotator.knowledge import load_panel

    _register_reducers()
    panel = load_panel(config.panel, extend=config.panel_extend)
    _WORKER["ctx"] = RunContext(config=config, panel=panel)
    _WORKER["stage"] = stage


def _work(item: CohortItem) -> ItemResult:
    ctx = _WORKER.get("ctx")
    if ctx is None:  # pragma: no cover - the initializer failed
        return SampleFailure(str(item.path), item.sample, "worker process has no context")
    return annotate_item(item, ctx, stage=_WORKER.get("stage"))


def _register_reducers() -> None:
    """Let results holding ``MappingProxyType`` (headers, panel) cross process boundaries."""
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(MappingProxyType, _reduce_mappingproxy)


def _reduce_mappingproxy(m: MappingProxyType[Any, Any]) -> tuple[Callable[..., Any], tuple[Any]]:
    return _mappingproxy, (dict(m),)


def _mappingproxy(d: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    # the type itself cannot be pickled by name (builtins.mappingproxy does not exist)
    return MappingProxyType(d)


# ---------------------------------------------------------------- a cohort run


@dataclass
class CohortRun:
    samples: list[SampleAnnotation]
    failures: list[SampleFailure]


def run_cohort(
    items: Sequence[CohortItem],
    ctx: RunContext,
    executor: Executor | None = None,
    stage: Path | None = None,
) -> CohortRun:
    """Annotate every item; results in input order, failures listed, never raised."""
    from annotator.annotation.pipeline import SampleAnnotation

    ex = executor if executor is not None else make_executor(ctx, ctx.config.jobs, stage)
    samples: list[SampleAnnotation] = []
    failures: list[SampleFailure] = []
    for res in ex.run(items):
        if isinstance(res, SampleAnnotation):
            samples.append(res)
        else:
            failures.append(res)
            log.warning("%s", res.one_line())
    return CohortRun(samples, failures)


