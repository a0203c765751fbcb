"""The annotate run: ``annotate(AnnotateConfig(...)) -> AnnotateResult``.

The CLI only turns options into an ``AnnotateConfig`` and calls ``annotate``;
everything here raises ``ResmarkError`` subclasses and never exits.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Iterator

from annotator.annotation import cohort
from annotator.annotation.config import AnnotateConfig, AnnotateResult, RunContext, check_config
from annotator.annotation.outputs import protected_inputs, write_outputs
from annotator.annotation.pipeline import SampleAnnotation
from annotator.errors import MultipleErrors, OutputError, ResmarkError, UsageError
from annotator.io.atomic import OutdirLock, OutputDir, safe_name

log = logging.getLogger(__name__)


GC_GEN0 = 100_000  # allocations between young-generation collections during a run (Python: 700)


def annotate(config: AnnotateConfig) -> AnnotateResult:
    """Annotate every input and write the requested outputs atomically (see ``_annotate``)."""
    with _fewer_collections():
        return _annotate(config)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """A run allocates a few short-lived objects per record and keeps little: the cyclic
    collector, at Python's default pace, re-walks the panel and reference on every pass
    (7 % of a 1M-record run). It collects less often during the run, as before after it."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_GEN0), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _htslib_quiet(reads_here: bool) -> contextlib.AbstractContextManager[None]:
    """htslib's log off in the process that reads and writes VCFs (a cohort's workers
    silence their own, ``cohort._init_worker``): the parent of ``--jobs N`` then never
    imports cyvcf2 and pysam (~0.25 s before the workers start)."""
    if not reads_here:
        return contextlib.nullcontext()
    from annotator.io.htslog import silenced

    return silenced()


def _annotate(config: AnnotateConfig) -> AnnotateResult:
    """Annotate every input and write the requested outputs atomically.

    Inputs are paths, globs and/or the rows of ``config.samplesheet``.  With
    one input its error is raised; with several (a cohort) a sample that
    fails is listed in ``result.failures`` and the others are written (the
    run fails only if none succeeds).  ``config.jobs > 1`` annotates in
    worker processes; ``config.dataset`` also updates a Parquet dataset.
    """
    from dataclasses import replace

    items = cohort.resolve_items(config, config.samplesheet)
    config = replace(config, inputs=tuple(str(i.path) for i in items))
    with _htslib_quiet(len(items) == 1 or config.jobs <= 1):
        check_config(config)
        # one run per OUTDIR from here to the commit: a second run fails at once (nothing lost)
        with OutdirLock(config.outdir):
            return _annotate_locked(config, items)


def _annotate_locked(config: AnnotateConfig, items: list[cohort.CohortItem]) -> AnnotateResult:
    from annotator.knowledge import load_panel

    stage = None
    if config.dataset is not None:
        from annotator.io.dataset import DatasetStage

        stage = DatasetStage(config.dataset)
    ctx: RunContext | None = None
    try:
        panel = load_panel(config.panel, extend=config.panel_extend)
        if config.prior_therapy is not None:
            from annotator.knowledge.therapy import resolve

            resolve(panel, config.prior_therapy, strict=True)  # unknown names: usage error
        ctx = RunContext(config=config, panel=panel, progress=config.progress)
        staged = stage.path if stage is not None else None
        protect = [*protected_inputs(config), *(p for i in items for p in (i.cnv, i.sv) if p is not None)]
        with OutputDir(config.outdir, config.force, protect=protect) as out:
            if len(items) == 1:
                first = cohort.annotate_item(items[0], ctx, strict=True, stage=staged)
                assert not isinstance(first, cohort.SampleFailure)  # strict: a failure raises
                run = cohort.CohortRun([first], [])
            else:
                # each sample's files are written by the process that annotated it
                run = cohort.run_cohort(items, ctx, stage=staged, staging=out.staging)
            if not run.samples:
                raise MultipleErrors([ResmarkError(f.one_line()) for f in run.failures])
            _check_unique_samples(run.samples)
            result = write_outputs(config, ctx, run.samples, out, run.written)
        result.failures = list(run.failures)
        if stage is not None:
            result.dataset = stage.commit(s.sample for s in run.samples)
        _raise_output_failures(result)
        return result
    finally:
        if ctx is not None:
            ctx.spool.close()  # copies of piped inputs
        if stage is not None:
            stage.discard()


def _raise_output_failures(result: AnnotateResult) -> None:
    """The other outputs are in place; a format that could not be written is still an error."""
    failed = result.provenance.get("output_failures") or []
    if not failed:
        return
    from annotator.annotation.outputs import FORMAT_NAMES

    first = failed[0]
    more = f" (and {len(failed) - 1} more, listed in provenance.json)" if len(failed) > 1 else ""
    raise OutputError(
        f"{first['sample']}: {FORMAT_NAMES[first['format']]} ({first['format']}) not written: "
        f"{first['message']}{more}; the other outputs are in {result.outdir}"
    )


def _check_unique_samples(samples: list[SampleAnnotation]) -> None:
    seen: dict[str, str] = {}
    for s in samples:
        safe = safe_name(s.sample)
        if safe in seen:
            raise UsageError(
                f"sample {s.sample!r} appears in two inputs ({seen[safe]} and {s.path}); "
                "sample names must be unique in one run"
            )
        seen[safe] = s.path
