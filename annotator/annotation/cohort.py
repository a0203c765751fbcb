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

The sample sheet (``--samplesheet``) is read by ``annotator.annotation.samplesheet``.
"""

from __future__ import annotations

import contextlib
import glob
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol, TypeAlias, TypedDict

from annotator.annotation.samplesheet import CohortItem, read_samplesheet
from annotator.core.logrelay import relay_to, relayed
from annotator.errors import ResmarkError, UsageError

if TYPE_CHECKING:
    from multiprocessing.queues import Queue

    from annotator.annotation.config import AnnotateConfig, RunContext
    from annotator.annotation.outputs import SampleOutputs
    from annotator.annotation.pipeline import SampleAnnotation

log = logging.getLogger(__name__)

GLOB_CHARS = frozenset("*?[")


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


# what one item gives: annotated (Done: and its outputs written), or failed;
# SampleAnnotation is imported lazily
ItemResult: TypeAlias = "SampleAnnotation | Done | SampleFailure"


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


def resolve_items(config: AnnotateConfig, samplesheet: str | Path | None) -> list[CohortItem]:
    """The cohort of a run: the sample sheet's rows, then the (glob-expanded) inputs."""
    items = read_samplesheet(samplesheet) if samplesheet is not None else []
    items += [CohortItem(path=p, vcf_sample=config.sample) for p in expand_inputs(config.inputs)]
    return items


# ---------------------------------------------------------------- one sample


def annotate_item(
    item: CohortItem, ctx: RunContext, strict: bool = False, stage: Path | None = None
) -> SampleAnnotation | SampleFailure:
    """Annotate one item; a ``ResmarkError`` (or any bug) becomes a ``SampleFailure``.

    ``strict``: raise instead (a run of one input fails with the input's own error).
    ``stage``: also write the sample's dataset partition there (``DatasetStage.path``).
    """
    from annotator.annotation.single import annotate_file

    item_ctx = _item_context(item, ctx)
    try:
        column = item.vcf_sample or _column_named(item, item_ctx)
        result = annotate_file(item.path, item_ctx, column)
        if item.sheet is not None:
            result.side_inputs.append(item.sheet)
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


class _Overrides(TypedDict, total=False):
    cnv: Path
    sv: Path
    tumor_fraction: float
    prior_therapy: tuple[str, ...]


def _item_context(item: CohortItem, ctx: RunContext) -> RunContext:
    """``ctx`` with the sample sheet's per-sample cnv/sv/tumour fraction/therapy, if any."""
    from annotator.annotation.config import RunContext

    overrides: _Overrides = {}
    if item.cnv is not None:
        overrides["cnv"] = item.cnv
    if item.sv is not None:
        overrides["sv"] = item.sv
    if item.tumor_fraction is not None:
        overrides["tumor_fraction"] = item.tumor_fraction
    if item.prior_therapy is not None:
        overrides["prior_therapy"] = item.prior_therapy
    if not overrides:
        return ctx
    return RunContext(config=replace(ctx.config, **overrides), panel=ctx.panel,
                      references=ctx.references, progress=ctx.progress,
                      engines=ctx.engines, regions=ctx.regions, spool=ctx.spool,
                      documents=ctx.document_cache())


def _stage_partition(stage: Path, result: SampleAnnotation, ctx: RunContext) -> None:
    from annotator.annotation.outputs import build_provenance
    from annotator.io import dataset

    prov = build_provenance(ctx.config, ctx, [result]).as_dict()
    prov["accounting"] = result.accounting.as_dict()
    dataset.write_sample(stage, dataset.SampleRows(result.sample, result.rows, prov))


def _column_named(item: CohortItem, ctx: RunContext) -> str | None:
    """The sheet's sample name selects the tumour column when the VCF has one so named."""
    if item.sample is None:
        return None
    import cyvcf2

    try:
        # the header's names only (htslib, ~0.3 ms); the reader opens the file next and
        # reports a broken one; a pipe is read from the run's copy of it
        vcf = cyvcf2.VCF(str(ctx.readable(item.path)), lazy=True)
    except Exception:  # noqa: BLE001 - cyvcf2 raises bare Exception; annotate_file says why
        return None
    try:
        return item.sample if item.sample in vcf.samples else None
    finally:
        vcf.close()


def _relabel(result: SampleAnnotation, sample: str) -> None:
    result.sample = sample
    result.rows = [replace(r, sample=sample) for r in result.rows]


# ---------------------------------------------------------------- executors


@dataclass
class Done:
    """A sample annotated and its files written into the run's staging directory."""

    sample: SampleAnnotation
    outputs: SampleOutputs


def process_item(item: CohortItem, ctx: RunContext, stage: Path | None, staging: Path | None) -> ItemResult:
    """Annotate one item and, with ``staging``, write its outputs there (in this process)."""
    result = annotate_item(item, ctx, stage=stage)
    if staging is None or isinstance(result, SampleFailure):
        return result
    from annotator.annotation.outputs import write_sample

    try:
        return Done(result, write_sample(ctx.config, _item_context(item, ctx), result, staging))
    except Exception as e:  # noqa: BLE001 - one sample's outputs must not stop a cohort
        log.debug("writing the outputs of %s failed", item.path, exc_info=True)
        message = e.one_line() if isinstance(e, ResmarkError) else f"internal error: {type(e).__name__}: {e}"
        return SampleFailure(str(item.path), item.sample, f"{item.path}: outputs not written: {message}")


class SerialExecutor:
    """Annotate items one after another with the caller's context (``--jobs 1``)."""

    def __init__(self, ctx: RunContext, stage: Path | None = None, staging: Path | None = None) -> None:
        self.ctx = ctx
        self.stage = stage
        self.staging = staging

    def run(self, items: Sequence[CohortItem]) -> list[ItemResult]:
        results = []
        for n, item in enumerate(items, start=1):
            results.append(process_item(item, self.ctx, self.stage, self.staging))
            log.debug("annotated %d/%d: %s", n, len(items), item.path)
        return results


class ProcessExecutor:
    """Annotate items in ``jobs`` worker processes, each loading panel and references once."""

    def __init__(self, config: AnnotateConfig, jobs: int, stage: Path | None = None,
                 staging: Path | None = None) -> None:
        self.config = config
        self.jobs = jobs
        self.stage = stage
        self.staging = staging

    def run(self, items: Sequence[CohortItem]) -> list[ItemResult]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        if not items:
            return []
        _register_reducers()
        workers = min(self.jobs, len(items))
        # small chunks keep the workers busy to the end (a chunk of 32 ~60 ms samples left
        # one worker idle for up to 2 s); a task costs ~0.1 ms of IPC, a sample ~50 ms
        chunk = max(1, min(4, len(items) // (workers * 8)))
        # spawn: the parent may hold threads (pyarrow, htslib), which fork would copy badly
        mp = multiprocessing.get_context("spawn")
        try:
            config = replace(self.config, progress=None)  # callbacks stay in the parent
            # workers' log records come back to this process's handlers (prefix, resmark.log)
            with relayed(mp) as (records, level), ProcessPoolExecutor(
                workers, mp_context=mp, initializer=_init_worker,
                initargs=(config, self.stage, self.staging, records, level),
            ) as pool:
                return list(pool.map(_work, items, chunksize=chunk))
        except BrokenProcessPool as e:
            raise ResmarkError(
                f"a worker process died ({e}); rerun with --jobs 1 to find the failing input"
            ) from e


def make_executor(ctx: RunContext, jobs: int, stage: Path | None = None,
                  staging: Path | None = None) -> Executor:
    if jobs <= 1:
        return SerialExecutor(ctx, stage, staging)
    return ProcessExecutor(ctx.config, jobs, stage, staging)


# Per-worker-process context, set once by the pool initializer.  Module state is
# the only channel a ProcessPoolExecutor initializer has to its later tasks.
class _WorkerState(TypedDict, total=False):
    quiet: contextlib.ExitStack[bool | None]
    ctx: RunContext
    stage: Path | None
    staging: Path | None


_WORKER: _WorkerState = {}


def _init_worker(config: AnnotateConfig, stage: Path | None, staging: Path | None = None,
                 records: Queue[logging.LogRecord] | None = None,
                 level: int = logging.WARNING) -> None:
    from annotator.annotation.config import RunContext
    from annotator.io.htslog import silenced
    from annotator.knowledge import load_panel

    if records is not None:
        relay_to(records, level)
    _register_reducers()
    # htslib's log off for the worker's life, as the parent's for a serial run (run.py)
    quiet = contextlib.ExitStack()
    quiet.enter_context(silenced())
    _WORKER["quiet"] = quiet
    panel = load_panel(config.panel, extend=config.panel_extend)
    _WORKER["ctx"] = RunContext(config=config, panel=panel)
    _WORKER["stage"] = stage
    _WORKER["staging"] = staging


def _work(item: CohortItem) -> ItemResult:
    ctx = _WORKER.get("ctx")
    if ctx is None:  # pragma: no cover - the initializer failed
        return SampleFailure(str(item.path), item.sample, "worker process has no context")
    return process_item(item, ctx, _WORKER.get("stage"), _WORKER.get("staging"))


def _register_reducers() -> None:
    """Let results holding ``MappingProxyType`` (headers, panel) cross process boundaries."""
    from multiprocessing.reduction import ForkingPickler

    ForkingPickler.register(MappingProxyType, _reduce_mappingproxy)


def _reduce_mappingproxy(
    m: MappingProxyType[object, object],
) -> tuple[Callable[[dict[object, object]], MappingProxyType[object, object]], tuple[dict[object, object]]]:
    return _mappingproxy, (dict(m),)


def _mappingproxy(d: dict[object, object]) -> MappingProxyType[object, object]:
    # the type itself cannot be pickled by name (builtins.mappingproxy does not exist)
    return MappingProxyType(d)


# ---------------------------------------------------------------- a cohort run


@dataclass
class CohortRun:
    samples: list[SampleAnnotation]
    failures: list[SampleFailure]
    written: dict[str, SampleOutputs] = field(default_factory=dict)  # sample -> files in staging


def run_cohort(
    items: Sequence[CohortItem],
    ctx: RunContext,
    executor: Executor | None = None,
    stage: Path | None = None,
    staging: Path | None = None,
) -> CohortRun:
    """Annotate every item; results in input order, failures listed, never raised.

    ``staging``: write each sample's outputs there as soon as it is annotated
    (in the worker that annotated it).
    """
    from annotator.annotation.pipeline import SampleAnnotation

    ex = executor if executor is not None else make_executor(ctx, ctx.config.jobs, stage, staging)
    samples: list[SampleAnnotation] = []
    failures: list[SampleFailure] = []
    written: dict[str, SampleOutputs] = {}
    for res in ex.run(items):
        if isinstance(res, Done):
            samples.append(res.sample)
            written[res.sample.sample] = res.outputs
        elif isinstance(res, SampleAnnotation):
            samples.append(res)
        else:
            failures.append(res)
            log.warning("%s", res.one_line())
    return CohortRun(samples, failures, written)


