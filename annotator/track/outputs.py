"""Write a tracking run atomically into OUTDIR.

Files: ``track_long.parquet`` and ``track_long.tsv`` (one row per patient x
timepoint x variant), ``<patient>.track_wide.tsv`` (variants x timepoints),
``track_summary.json`` (thresholds, per-timepoint summaries, alerts,
warnings), ``<patient>.vaf_trajectory.svg`` (+ ``.png`` with matplotlib),
``<patient>.report.html`` (self-contained patient report), and
``provenance.json`` last (its presence marks a complete result).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.core.jsondoc import JsonObject
from annotator.core.provenance import InputFile, Provenance, command_line, sha256_file
from annotator.core.rows import Cell
from annotator.io import jsonout, tsvout
from annotator.io.atomic import OutputDir, safe_name
from annotator.track import plots
from annotator.track.model import (
    CHANGE_REASONS,
    CHANGES,
    MRD_CALLS,
    ORIGINS,
    RESPONSES,
    STATUS_REASONS,
    STATUSES,
    TrackConfig,
)
from annotator.track.table import LONG_COLUMNS, LONG_SCHEMA, long_row, wide_rows

if TYPE_CHECKING:
    from annotator.track.alerts import TimepointSummary
    from annotator.track.result import PatientTrack, TrackContext, TrackResult

log = logging.getLogger(__name__)

LONG_PARQUET = "track_long.parquet"
LONG_TSV = "track_long.tsv"
SUMMARY_JSON = "track_summary.json"
STATISTICS = {
    "vaf_ci": "binomial interval of alt/depth at ci_level ({ci_method})",
    "background": "per site and allele: beta-binomial (rate, rho) fitted across the PON normals "
                  "(method of moments), else from the site's other non-reference bases over the "
                  "patient's timepoints, else the floor; rate >= background_floor; "
                  "rho >= rate * (cv^2 + (alt counts + 0.5) / (depth * rate)^2)",
    "detection": "detected = P(X >= alt | background) <= detection_alpha and alt >= min_alt_reads; "
                 "low_level = alt above the background mean, not significant",
    "limit_of_blank": "lob_count = (1 - detection_alpha) quantile of the background count at this depth",
    "limit_of_detection": "lod_vaf = smallest VAF v with P(Binomial(depth, v + (1-v) rate) > lob) >= lod_power",
    "detection_power": "P(detected) at depth if the VAF were clearance_vaf (never the peak VAF); "
                       "not_detected needs power >= min_power, else not_assessable",
    "change_test": "two-sided likelihood-ratio test, one VAF vs two, each count beta-binomial with "
                   "rho = change_rho; chi-square 1 df; classified on p (adjust=none) or BH q (adjust=bh)",
    "pooled_emergence_test": "when the earlier draws consistent with the previous one (pooled_from..) "
                             "establish no level, the current draw is also tested against them pooled "
                             "(same test, pooled_p_value): emerging when significant and big",
    "multiple_testing": "Benjamini-Hochberg over all tests of one patient (vs previous, vs baseline, "
                        "pooled emergence tests), "
                        "reported as q_value",
    "effect_sizes": "vaf_delta = vaf2 - vaf1; log2_fc = log2(((alt2+0.5)/(depth2+1)) / ((alt1+0.5)/(depth1+1))); "
                    "emerging/rising/falling need |log2_fc| >= log2(min_fold_change)",
    "mrd": "sum of alt counts over tumour-informed sites vs the exact convolution of their backgrounds; "
           "positive when p <= mrd_alpha; patient LoD by a Poisson approximation at lod_power",
    "tumour_fraction": "sheet value, else 2 x background-corrected pooled VAF of the clonal sites "
                       "(detected at the highest-signal timepoint with VAF >= 0.5 x its highest); "
                       "Clopper-Pearson interval",
    "molecular_response": "tumour-fraction ratio vs baseline (else paired mean VAF ratio): "
                          "<= 1 - response_fall response, >= 1 + progression_rise progression; "
                          "clearance = MRD negative with LoD <= clearance_vaf; "
                          "emerging_resistance when a supported alert is raised at that timepoint",
    "origin": "germline: 35-65 % or >= 90 % in white cells or at every timepoint; chip: in white cells "
              "otherwise; possible_chip: known CHIP gene without white-cell data (flagged only)",
}


def long_records(result: TrackResult) -> list[dict[str, Cell]]:
    rows = []
    for p in result.patients:
        specs = {s.label: s for s in p.timepoints}
        for o in p.observations:
            s = specs[o.timepoint]
            rows.append(long_row(o, baseline=p.baseline, build=p.build,
                                 tumor_fraction=s.tumor_fraction, therapy=s.therapy))
    return rows


def _write_parquet(path: Path, rows: list[dict[str, Cell]], provenance: JsonObject) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64(), "bool": pa.bool_()}
    schema = pa.schema(
        [pa.field(c, types[t]) for c, t in LONG_SCHEMA],
        metadata={b"resmark": json.dumps(provenance, sort_keys=True).encode()},
    )
    table = pa.Table.from_pydict({c: [r[c] for r in rows] for c in LONG_COLUMNS}, schema=schema)
    pq.write_table(table, path, compression="zstd")


def patient_document(p: PatientTrack) -> JsonObject:
    by_variant = p.by_variant()
    return {
        "patient": p.patient,
        "genome_build": p.build,
        "baseline": p.baseline,
        "timepoints": [
            {
                "label": s.label, "date": s.date.isoformat() if s.date else None, "vcf": str(s.vcf),
                "vcf_sample": sample, "reads": str(s.reads) if s.reads else None,
                "cnv": str(s.cnv) if s.cnv else None, "tumor_fraction": s.tumor_fraction,
                "therapy": s.therapy, **_summary_fields(summary),
                "mrd": {"call": summary.mrd_call, "p_value": summary.mrd_p_value,
                        "lod_vaf": summary.mrd_lod_vaf, "sites": summary.mrd_sites,
                        "unit": summary.counting_unit},
            }
            for s, sample, summary in zip(p.timepoints, _samples(p), p.summaries, strict=True)
        ],
        "variants": [
            {
                "variant_key": key, "label": obs[0].variant.label, "gene": obs[0].variant.gene,
                "hgvsp_short": obs[0].variant.hgvsp_short, "rule_id": obs[0].variant.rule_id,
                "mechanism": obs[0].variant.mechanism, "possible_germline": obs[0].possible_germline,
                "origin": obs[0].origin, "origin_reason": obs[0].origin_reason,
                "artefact_site": not obs[0].monitorable,
                "background": asdict(p.backgrounds[key]) if key in p.backgrounds else None,
                "trajectory": [
                    {"timepoint": o.timepoint, "status": o.status, "vaf": o.vaf,
                     "alt_count": o.evidence.alt_count, "depth": o.evidence.depth,
                     "unit": o.evidence.unit, "detection_p_value": o.detection.p_value if o.detection else None,
                     "lod_vaf": o.detection.lod_vaf if o.detection else None, "vaf_tf": o.vaf_tf,
                     "change": o.vs_previous.change if o.vs_previous else None,
                     "change_vs_baseline": o.vs_baseline.change if o.vs_baseline else None}
                    for o in obs
                ],
            }
            for key, obs in by_variant.items()
        ],
        "alerts": [asdict(a) for a in p.alerts],
        "artefact_sites": [key for key, obs in by_variant.items() if obs and not obs[0].monitorable],
        "notes": p.notes,
    }


def _pon_doc(ctx: TrackContext) -> JsonObject | None:
    pon = getattr(ctx, "pon", None)
    if pon is None:
        return None
    m = pon.manifest
    return {"path": str(pon.path), "version": m.get("version"), "build": m.get("build"),
            "regions": m.get("regions"), "normals": m.get("normals"), "filters": m.get("filters")}


def _samples(p: PatientTrack) -> list[str | None]:
    return list(p.samples) if p.samples else [None] * len(p.timepoints)


def _summary_fields(s: TimepointSummary) -> JsonObject:
    d = asdict(s)
    for k in ("timepoint", "date", "tumor_fraction", "therapy"):
        d.pop(k, None)
    return d


def build_provenance(config: TrackConfig, ctx: TrackContext, result: TrackResult) -> Provenance:
    inputs: list[InputFile] = []
    if config.samplesheet is not None:
        inputs.append(InputFile.of("samplesheet", config.samplesheet))
    seen: set[str] = set()
    for p in result.patients:
        for s in p.timepoints:
            for role, path in (("vcf", s.vcf), ("bam", s.reads), ("cnv", s.cnv)):
                if path is not None and str(path) not in seen:
                    seen.add(str(path))
                    inputs.append(InputFile.of(role, path))
    if config.fasta is not None:
        inputs.append(InputFile.of("fasta", config.fasta))
    for p in result.patients:
        for s in p.timepoints:
            for role, path in (("wbc_bam", s.wbc_reads), ("wbc_vcf", s.wbc_vcf)):
                if path is not None and str(path) not in seen:
                    seen.add(str(path))
                    inputs.append(InputFile.of(role, path))
    if config.pon is not None:
        from annotator.track.pon import PON_MANIFEST, PON_PARQUET

        inputs.extend(InputFile.of("pon", Path(config.pon) / name) for name in (PON_MANIFEST, PON_PARQUET))
    panel = getattr(ctx.run, "panel", None)
    refs = {b: r.describe() for b, r in getattr(ctx.run, "references", {}).items() if hasattr(r, "describe")}
    return Provenance(
        command=command_line(config.command),
        panel_name=getattr(panel, "name", "none"),
        panel_version=str(getattr(panel, "version", "")),
        panel_release_date=str(getattr(panel, "release_date", "")),
        panel_checksum=str(getattr(panel, "checksum", "")),
        build=",".join(sorted({p.build for p in result.patients})) or None,
        samples=tuple(f"{p.patient}:{s.label}" for p in result.patients for s in p.timepoints),
        inputs=tuple(inputs),
        reference=refs,
    )


def write_outputs(config: TrackConfig, ctx: TrackContext, result: TrackResult) -> TrackResult:
    prov = build_provenance(config, ctx, result).as_dict()
    th = config.thresholds
    stats_doc = {k: v.format(ci_method=th.ci_method) for k, v in STATISTICS.items()}
    protect = [i["path"] for i in prov["inputs"]]  # an output may never replace an input
    with OutputDir(config.outdir, config.force, protect=protect) as out:
        rows = long_records(result)
        _write_parquet(out.stage(LONG_PARQUET), rows, prov)
        tsvout.write_table(out.stage(LONG_TSV), LONG_COLUMNS, ([r[c] for c in LONG_COLUMNS] for r in rows))
        used: set[str] = set()
        for p in result.patients:
            stem = _unique(safe_name(p.patient, "patient"), used)
            by_variant = p.by_variant()
            labels = [s.label for s in p.timepoints]
            header, wide = wide_rows(by_variant, labels)
            tsvout.write_table(out.stage(f"{stem}.track_wide.tsv"), header, wide)
            svg_text = None
            document = patient_document(p)  # plots and HTML draw from it (and the rows)
            prows = [r for r in rows if r.get("patient") == p.patient]
            if config.plots:
                svg_path = out.stage(f"{stem}.vaf_trajectory.svg")
                plots.write_svg(svg_path, document, prows)
                svg_text = svg_path.read_text(encoding="utf-8")
                if config.png and plots.matplotlib_available():
                    plots.write_png(out.stage(f"{stem}.vaf_trajectory.png"), document, prows)
            if config.html:
                _write_patient_html(out.stage(f"{stem}.report.html"), p, rows, svg_text, prov,
                                    ctx, result.warnings, document)
        summary = {
            "resmark": prov,
            "thresholds": asdict(th),
            "statistics": stats_doc,
            "vocabulary": {"status": STATUSES, "status_reason": STATUS_REASONS, "change": CHANGES,
                           "change_reason": CHANGE_REASONS,
                           "molecular_response": RESPONSES, "mrd_call": MRD_CALLS, "origin": ORIGINS},
            "pon": _pon_doc(ctx),
            "warnings": result.warnings,
            "notes": [n for p in result.patients for n in p.notes],
            "patients": [patient_document(p) for p in result.patients],
            "alerts": [asdict(a) for a in result.alerts],
        }
        jsonout.write(out.stage(SUMMARY_JSON), summary)
        assert out.staging is not None
        outputs_meta = [
            {"file": n, "sha256": sha256_file(out.staging / n)} for n in out.names if (out.staging / n).exists()
        ]
        with open(out.stage(OutputDir.MARKER), "w", encoding="utf-8") as fh:
            json.dump({**prov, "outputs": outputs_meta}, fh, indent=2)
            fh.write("\n")
        written = [Path(config.outdir) / n for n in out.names if (out.staging / n).exists()]
    result.outputs = written
    result.provenance = prov
    return result


_SEVERITY = {"emerging": "high", "rising": "high", "polyclonal": "high", "unconfirmed_new": "warning"}


def _write_patient_html(
    path: Path, p: PatientTrack, rows: list[dict[str, Cell]], svg_text: str | None,
    prov: JsonObject, ctx: TrackContext, warnings: list[str], document: JsonObject | None = None,
) -> None:
    from annotator.report.html import write_patient_report

    timepoints = [
        {"timepoint": s.label, "date": s.date.isoformat() if s.date else None, "sample": s.sample,
         "tumor_fraction": s.tumor_fraction, "input": str(s.vcf)}
        for s in p.timepoints
    ]
    alerts = [
        {"severity": _SEVERITY.get(a.kind, "info") if a.confidence == "supported" else "warning",
         "title": f"{a.kind.replace('_', ' ')}: {', '.join(a.alterations)} at {a.timepoint}",
         "message": a.message}
        for a in p.alerts
    ]
    write_patient_report(
        path, patient=p.patient, timepoints=timepoints,
        rows=[r for r in rows if r.get("patient") == p.patient], alerts=alerts,
        trajectory_svg_text=svg_text, provenance=prov, panel=ctx.run.panel, notes=[*p.notes, *warnings],
        document=document,
    )


def _unique(stem: str, used: set[str]) -> str:
    name, n = stem, 2
    while name in used:
        name, n = f"{stem}_{n}", n + 1
    used.add(name)
    return name
