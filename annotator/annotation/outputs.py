"""Write an annotate run's outputs into OUTDIR atomically.

Per sample (``<s>`` is the sample name made file-safe):
``<s>.resmark.tsv``, ``<s>.resmark.parquet``, ``<s>.resmark.json``,
``<s>.resmark.vcf.gz`` (+ ``.tbi``), ``<s>.report.html``, ``<s>.resmark.maf``;
per run: ``accounting.tsv``, ``resmark.log`` (the run's log, CLI runs) and
``provenance.json`` (written last: its presence marks a complete result).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from annotator.annotation.document import plain_document, sample_document
from annotator.annotation.qc import log_messages
from annotator.core.provenance import InputFile, Provenance, command_line, sha256_file
from annotator.io import jsonout, parquetout, tsvout
from annotator.io.atomic import OutputDir, safe_name
from annotator.report.context import panel_info

if TYPE_CHECKING:
    from annotator.annotation.config import AnnotateConfig, AnnotateResult, RunContext
    from annotator.annotation.pipeline import SampleAnnotation

log = logging.getLogger(__name__)

RUN_LOG = "resmark.log"


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


def write_outputs(config: AnnotateConfig, ctx: RunContext, samples: list[SampleAnnotation]) -> AnnotateResult:
    from annotator.annotation.config import AnnotateResult

    prov = build_provenance(config, ctx, samples)
    prov_dict = prov.as_dict()
    written: list[Path] = []
    with OutputDir(config.outdir, config.force, protect=[i.path for i in prov.inputs]) as out:
        acc_rows: list[tuple[Any, ...]] = []
        for s in samples:
            stem = safe_name(s.sample)
            doc_prov = {**prov_dict, "samples": [s.sample]}
            # one document per sample: the JSON output and the HTML both render from it
            document = sample_document(s, doc_prov, ctx.panel)
            if "tsv" in config.formats:
                tsvout.write_rows(out.stage(f"{stem}.resmark.tsv"), s.rows)
            if "parquet" in config.formats:
                parquetout.write_rows(out.stage(f"{stem}.resmark.parquet"), s.rows, doc_prov)
            if "json" in config.formats:
                jsonout.write(out.stage(f"{stem}.resmark.json"), document)
            if "vcf" in config.formats:
                from annotator.io import vcfout

                target = out.stage(f"{stem}.resmark.vcf.gz")
                out.stage(f"{stem}.resmark.vcf.gz.tbi")
                vcfout.write(target, str(ctx.readable(s.path)), s.rows, prov.header_lines())
            if "maf" in config.formats:
                from annotator.io import mafout

                mafout.write(out.stage(f"{stem}.resmark.maf"), s, prov)
            if "html" in config.formats:
                from annotator.report import html

                html_doc = plain_document(sample_document(s, prov_dict, ctx.panel))
                html.write_sample_report(out.stage(f"{stem}.report.html"), html_doc, panel_info(ctx.panel))
            acc_rows += [(s.sample, b, d, n) for b, d, n in s.accounting.rows()]
            log.info("%s: %s", s.sample, s.accounting.summary_line())
            log_messages(s.sample, document["qc"])
        tsvout.write_table(out.stage("accounting.tsv"), ("sample", "bucket", "detail", "count"), acc_rows)
        if config.run_log is not None:
            out.stage(RUN_LOG).write_text("".join(f"{line}\n" for line in config.run_log), encoding="utf-8")
        staged = [n for n in out.names]
        outputs_meta = []
        assert out.staging is not None
        for name in staged:
            p = out.staging / name
            if p.exists():
                outputs_meta.append({"file": name, "sha256": sha256_file(p)})
        final = {**prov_dict, "outputs": outputs_meta,
                 "accounting": {s.sample: s.accounting.as_dict() for s in samples}}
        with open(out.stage(OutputDir.MARKER), "w", encoding="utf-8") as fh:
            json.dump(final, fh, indent=2)
            fh.write("\n")
        written = [Path(config.outdir) / n for n in out.names if (out.staging / n).exists()]
    return AnnotateResult(samples=samples, outdir=Path(config.outdir), outputs=written, provenance=prov_dict)
