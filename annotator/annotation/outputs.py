"""Write an annotate run's outputs into OUTDIR atomically.

Per sample (``<s>`` is the sample name made file-safe):
``<s>.resmark.tsv``, ``<s>.resmark.parquet``, ``<s>.resmark.json``,
``<s>.resmark.vcf.gz`` (+ ``.tbi``), ``<s>.report.html``, ``<s>.resmark.maf``;
per run: ``accounting.tsv``, ``resmark.log`` (the run's log, CLI runs) and
``provenance.json`` (written last: its presence marks a complete result).

Per-sample files are written by ``write_sample`` straight into the staging
directory of the run's ``OutputDir``, in the process that annotated the
sample (a cohort's worker processes write in parallel); their provenance is
the sample's own (its input and index, its build).  ``write_outputs`` then
adds the run-level files and commits.

One format failing on the data (its writer cannot represent a sample, or
cannot reread the input) does not take the others down: its files are
removed, the other formats are written, ``provenance.json`` lists the
failure under ``output_failures`` (format, sample, message), and the run
ends with an error naming the format (``annotator.annotation.run``).  A
failed format never leaves a partial file.  A failure to write at all (disk
full, permissions: ``OSError``/``OutputError``) stops the run and nothing is
kept, as for any other write error.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.annotation.document import PlainDocument, plain_sample_document
from annotator.annotation.qc import log_messages
from annotator.core.jsondoc import JsonObject
from annotator.core.provenance import InputFile, Provenance, command_line, sha256_file
from annotator.errors import OutputError, ResmarkError
from annotator.io import jsonindent, tsvout
from annotator.io.atomic import OutputDir, safe_name

if TYPE_CHECKING:
    from annotator.annotation.config import AnnotateConfig, AnnotateResult, RunContext
    from annotator.annotation.pipeline import SampleAnnotation

log = logging.getLogger(__name__)

RUN_LOG = "resmark.log"
# in the order files are written (and listed in provenance.json)
FORMAT_NAMES = {"tsv": "TSV", "parquet": "Parquet", "json": "JSON", "vcf": "annotated VCF",
                "maf": "MAF", "html": "HTML report"}


@dataclass
class SampleOutputs:
    """What ``write_sample`` left in the staging directory for one sample."""

    sample: str
    names: list[str] = field(default_factory=list)  # files written, in order
    # None: not hashed (the annotated VCF of a large input: ``LARGE_INPUT_BYTES``)
    sha256: dict[str, str | None] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)  # format, sample, message


def build_provenance(config: AnnotateConfig, ctx: RunContext, samples: list[SampleAnnotation]) -> Provenance:
    inputs: list[InputFile] = []
    for s in samples:
        inputs.append(InputFile.of("vcf", s.path, s.input_sha256))
        if s.header.index_path:
            inputs.append(InputFile.of("index", s.header.index_path))
        # side inputs were hashed while read (a pipe cannot be read twice)
        inputs += [i for i in s.side_inputs if i not in inputs]
    for role, p in (("cnv", config.cnv), ("sv", config.sv),
                    ("samplesheet", getattr(config, "samplesheet", None))):
        if p is not None and not any(i.role == role and i.path == str(p) for i in inputs):
            inputs.append(InputFile.of(role, p))
    builds = sorted({s.build.name for s in samples})
    panel = ctx.panel
    refs = {b: r.describe() for b, r in ctx.references.items() if hasattr(r, "describe")}
    # the FASTA and GTF (given or configured), hashed once when the reference was loaded
    for role in ("fasta", "gtf"):
        files = {r[role]["path"]: r[role] for r in refs.values() if r.get(role)}
        inputs.extend(InputFile(role, f["path"], f["sha256"]) for f in files.values())
    return Provenance(
        command=command_line(config.command),
        panel_name=panel.name,
        panel_version=panel.version,
        panel_release_date=str(panel.release_date),
        panel_checksum=panel.checksum,
        build=",".join(builds) if builds else None,
        samples=tuple(s.sample for s in samples),
        inputs=tuple(inputs),
        reference=refs,
    )


def protected_inputs(config: AnnotateConfig) -> list[str | Path]:
    """Every file the run reads, which no output may replace (``OutputDir(protect=...)``)."""
    paths: list[str | Path] = [*config.inputs]
    paths += [p for p in (config.cnv, config.sv, config.fasta, getattr(config, "samplesheet", None))
              if p is not None]
    return paths


def write_sample(config: AnnotateConfig, ctx: RunContext, s: SampleAnnotation, staging: Path) -> SampleOutputs:
    """Write one sample's files into ``staging``; a failing format is recorded, not raised."""
    prov = build_provenance(config, ctx, [s])
    prov_dict = prov.as_dict()
    stem = safe_name(s.sample)
    done = SampleOutputs(s.sample)
    # one document per sample, in plain JSON values: the JSON output and the HTML both
    # render from it; the panel's part of it is converted (and JSON-encoded) once per process,
    # its rows and explanations as they are read
    cache = ctx.document_cache()
    document = plain_sample_document(s, prov_dict, ctx.panel, cache)
    fmts = [f for f in FORMAT_NAMES if f in config.formats]  # a fixed order of files

    def attempt(fmt: str) -> _Outcome:
        names = _names(fmt, stem)
        try:
            return names, _write_format(fmt, [staging / n for n in names], s, prov, prov_dict, document, ctx), None
        except (OutputError, OSError):
            raise  # disk full, permissions: no output can be trusted; nothing is kept
        except (ResmarkError, ValueError, RuntimeError) as e:
            for n in names:
                (staging / n).unlink(missing_ok=True)
            message = e.one_line() if isinstance(e, ResmarkError) else f"{type(e).__name__}: {e}"
            log.error("%s: %s not written: %s", s.sample, FORMAT_NAMES[fmt], message)
            log.debug("%s output failed", fmt, exc_info=True)
            return names, {}, {"format": fmt, "sample": s.sample, "message": message}

    # a large input's annotated VCF (hashing and copying ~all of its bytes, mostly outside
    # the GIL) is written by a thread while this one writes the other formats
    pool = None
    if "vcf" in fmts and _large(ctx, s):
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="resmark-vcf")
    background = pool.submit(attempt, "vcf") if pool is not None else None
    outcomes: dict[str, _Outcome] = {}
    try:
        for fmt in fmts:
            if fmt != "vcf" or background is None:
                outcomes[fmt] = attempt(fmt)
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    if background is not None:
        outcomes["vcf"] = background.result()  # raises what the thread raised
    for fmt in fmts:
        names, digests, failure = outcomes[fmt]
        if failure is not None:  # logged; its files are gone
            done.failures.append(failure)
            continue
        for n in names:
            if (staging / n).exists():
                done.names.append(n)
                done.sha256[n] = digests[n] if n in digests else sha256_file(staging / n)
    log.info("%s: %s", s.sample, s.accounting.summary_line())
    log_messages(s.sample, document.value["qc"])
    return done


# what one format gave: its file names, the digests it knew, its failure (format, sample, message)
_Outcome = tuple[list[str], "dict[str, str | None]", "dict[str, str] | None"]
# inputs this large have their annotated VCF written by a thread, and not hashed: its bytes are
# mostly the input's own (copied by blocks), and hashing them would cost as much as annotating
# the panel of a whole-genome file; provenance.json lists it with its size and the sha256 of
# its index
LARGE_INPUT_BYTES = 64 << 20


def _large(ctx: RunContext, s: SampleAnnotation) -> bool:
    try:
        return os.path.getsize(ctx.readable(s.path)) >= LARGE_INPUT_BYTES
    except OSError:
        return False


def _names(fmt: str, stem: str) -> list[str]:
    return {
        "tsv": [f"{stem}.resmark.tsv"],
        "parquet": [f"{stem}.resmark.parquet"],
        "json": [f"{stem}.resmark.json"],
        "vcf": [f"{stem}.resmark.vcf.gz", f"{stem}.resmark.vcf.gz.tbi"],
        "maf": [f"{stem}.resmark.maf", f"{stem}.resmark.data_cna.txt", f"{stem}.resmark.data_sv.txt"],
        "html": [f"{stem}.report.html"],
    }[fmt]


def _write_format(fmt: str, paths: list[Path], s: SampleAnnotation, prov: Provenance, prov_dict: JsonObject,
                  document: PlainDocument, ctx: RunContext) -> dict[str, str | None]:
    """Write one format's file(s); returns the digests already known (the VCF hashes as it writes)."""
    target = paths[0]
    if fmt == "tsv":
        tsvout.write_rows(target, s.rows)
    elif fmt == "parquet":
        from annotator.io import parquetout

        parquetout.write_rows(target, s.rows, prov_dict)
    elif fmt == "json":
        from annotator.io import jsonout

        jsonout.write_plain(target, document.value, document.fragments)
    elif fmt == "vcf":
        from annotator.io import vcfout

        return vcfout.write_vcf(target, str(ctx.readable(s.path)), s.rows, prov.header_lines(),
                                input_index=s.input_index, hashing=not _large(ctx, s)).sha256
    elif fmt == "maf":
        from annotator.io import mafout

        mafout.write(target, s, prov)
    elif fmt == "html":
        from annotator.report import html

        html.write_sample_report(target, document.value, ctx.document_cache().panel_info(), plain=True)
    return {}


def write_outputs(
    config: AnnotateConfig,
    ctx: RunContext,
    samples: list[SampleAnnotation],
    out: OutputDir | None = None,
    written: dict[str, SampleOutputs] | None = None,
) -> AnnotateResult:
    """Write what is not yet in ``out`` (per-sample files of ``samples`` missing from
    ``written``), then the run's files, and commit.  ``out=None``: open OUTDIR here."""
    if out is None:
        with OutputDir(config.outdir, config.force, protect=protected_inputs(config)) as opened:
            return write_outputs(config, ctx, samples, opened, written)
    from annotator.annotation.config import AnnotateResult

    assert out.staging is not None
    written = dict(written or {})
    for s in samples:
        if s.sample not in written:
            written[s.sample] = write_sample(config, ctx, s, out.staging)
    done = [written[s.sample] for s in samples]
    prov = build_provenance(config, ctx, samples)
    prov_dict = prov.as_dict()
    digests: dict[str, str | None] = {}
    for d in done:
        for n in d.names:
            out.stage(n)
        digests.update(d.sha256)
    acc_rows: list[tuple[str, str, str, int]] = [(s.sample, b, dd, n) for s in samples for b, dd, n in s.accounting.rows()]
    tsvout.write_table(out.stage("accounting.tsv"), ("sample", "bucket", "detail", "count"), acc_rows)
    if config.run_log is not None:
        out.stage(RUN_LOG).write_text("".join(f"{line}\n" for line in config.run_log), encoding="utf-8")
    outputs_meta = []
    for name in list(out.names):
        p = out.staging / name
        if p.exists():
            digest = digests[name] if name in digests else sha256_file(p)
            outputs_meta.append({"file": name, "sha256": digest} if digest is not None
                                else {"file": name, "sha256": None, "bytes": p.stat().st_size})
    failures = [f for d in done for f in d.failures]
    final = {**prov_dict, "outputs": outputs_meta,
             "accounting": {s.sample: s.accounting.as_dict() for s in samples}}
    if failures:
        final["output_failures"] = failures
    with open(out.stage(OutputDir.MARKER), "w", encoding="utf-8") as fh:
        # json.dump(final, fh, indent=2)'s text; its pure-Python encoder took ~0.5 s for 1,000 samples
        fh.write(jsonindent.dumps(final, ensure_ascii=True))
        fh.write("\n")
    result_files = [Path(config.outdir) / n for n in out.names if (out.staging / n).exists()]
    if failures:
        prov_dict = {**prov_dict, "output_failures": failures}
    return AnnotateResult(samples=samples, outdir=Path(config.outdir), outputs=result_files,
                          provenance=prov_dict)
