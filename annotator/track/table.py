"""Flat rows of a tracking run: the long table (one row per variant x timepoint) and the wide TSV."""

from __future__ import annotations

from collections.abc import Sequence

from annotator.core.rows import Cell
from annotator.track.model import Observation

# (column, arrow type); the order is the long table's column order
LONG_SCHEMA: tuple[tuple[str, str], ...] = (
    ("patient", "string"), ("timepoint", "string"), ("timepoint_index", "int64"),
    ("date", "string"), ("baseline", "string"), ("build", "string"),
    ("tumor_fraction", "float64"), ("therapy", "string"),
    ("variant_key", "string"), ("chrom", "string"), ("pos", "int64"), ("ref", "string"),
    ("alt", "string"), ("gene", "string"), ("hgvsc", "string"), ("hgvsp_short", "string"),
    ("consequence", "string"), ("alteration_class", "string"),
    ("alt_count", "int64"), ("ref_count", "int64"), ("depth", "int64"),
    ("vaf", "float64"), ("vaf_ci_low", "float64"), ("vaf_ci_high", "float64"),
    ("evidence", "string"), ("called", "bool"), ("filter", "string"),
    ("vcf_alt_count", "int64"), ("vcf_depth", "int64"), ("vcf_vaf", "float64"),
    ("discordant_pairs", "int64"), ("copy_number", "float64"),
    ("status", "string"), ("status_reason", "string"),
    ("detection_power", "float64"), ("power_vaf", "float64"),
    ("change", "string"), ("previous_timepoint", "string"), ("p_value", "float64"),
    ("q_value", "float64"), ("vaf_delta", "float64"), ("log2_fc", "float64"),
    ("change_vs_baseline", "string"), ("p_value_vs_baseline", "float64"),
    ("q_value_vs_baseline", "float64"), ("vaf_delta_vs_baseline", "float64"),
    ("log2_fc_vs_baseline", "float64"),
    ("possible_germline", "bool"),
    ("rule_id", "string"), ("mechanism", "string"), ("mechanism_id", "string"),
    ("mechanism_category", "string"), ("strategies", "string"), ("drug_classes", "string"),
    ("evidence_level", "string"),
    # added by issue 16: background, limits, origin, tumour fraction, counting unit
    ("counting_unit", "string"), ("read_alt_count", "int64"), ("read_depth", "int64"),
    ("background_rate", "float64"), ("background_rho", "float64"), ("background_source", "string"),
    ("background_samples", "int64"), ("detection_p_value", "float64"), ("lob_count", "int64"),
    ("lob_vaf", "float64"), ("lod_vaf", "float64"), ("artefact_site", "bool"),
    ("origin", "string"), ("origin_reason", "string"),
    ("tf", "float64"), ("vaf_tf", "float64"),
    # tracked from a PASS or only filtered records; the earlier draws pooled with the previous one
    ("tracked_by", "string"), ("pooled_from", "string"), ("pooled_alt_count", "int64"),
    ("pooled_depth", "int64"),
    # the current draw against that pooled run (only when it established no level: emergence test)
    ("pooled_p_value", "float64"), ("pooled_q_value", "float64"),
    # which rule of the change labelling decided (model.CHANGE_REASONS)
    ("change_reason", "string"), ("change_reason_vs_baseline", "string"),
)
LONG_COLUMNS = tuple(c for c, _ in LONG_SCHEMA)


def long_row(o: Observation, *, baseline: str, build: str, tumor_fraction: float | None,
             therapy: str | None) -> dict[str, Cell]:
    v, e = o.variant, o.evidence
    p, b = o.vs_previous, o.vs_baseline
    return {
        "patient": o.patient, "timepoint": o.timepoint, "timepoint_index": o.timepoint_index,
        "date": o.date, "baseline": baseline, "build": build, "tumor_fraction": tumor_fraction,
        "therapy": therapy, "variant_key": v.variant_key, "chrom": v.chrom, "pos": v.pos,
        "ref": v.ref, "alt": v.alt, "gene": v.gene, "hgvsc": v.hgvsc, "hgvsp_short": v.hgvsp_short,
        "consequence": v.consequence, "alteration_class": v.alteration_class,
        "alt_count": e.alt_count, "ref_count": e.ref_count, "depth": e.depth, "vaf": o.vaf,
        "vaf_ci_low": o.vaf_ci_low, "vaf_ci_high": o.vaf_ci_high, "evidence": e.source,
        "called": e.called, "filter": e.filter, "vcf_alt_count": e.vcf_alt_count,
        "vcf_depth": e.vcf_depth, "vcf_vaf": e.vcf_vaf, "discordant_pairs": e.discordant_pairs,
        "copy_number": e.copy_number, "status": o.status, "status_reason": o.status_reason,
        "detection_power": o.detection_power, "power_vaf": o.power_vaf,
        "change": p.change if p else None, "previous_timepoint": p.against if p else None,
        "p_value": p.p_value if p else None, "q_value": p.q_value if p else None,
        "vaf_delta": p.vaf_delta if p else None, "log2_fc": p.log2_fc if p else None,
        "change_vs_baseline": b.change if b else None,
        "p_value_vs_baseline": b.p_value if b else None,
        "q_value_vs_baseline": b.q_value if b else None,
        "vaf_delta_vs_baseline": b.vaf_delta if b else None,
        "log2_fc_vs_baseline": b.log2_fc if b else None,
        "possible_germline": o.possible_germline, "rule_id": v.rule_id, "mechanism": v.mechanism,
        "mechanism_id": v.mechanism_id, "mechanism_category": v.mechanism_category,
        "strategies": v.strategies, "drug_classes": v.drug_classes,
        "evidence_level": v.evidence_level,
        "counting_unit": e.unit if e.alt_count is not None else None,
        "read_alt_count": e.read_alt_count, "read_depth": e.read_depth,
        **_detection(o),
        "origin": o.origin, "origin_reason": o.origin_reason,
        "tf": o.tumor_fraction, "vaf_tf": o.vaf_tf,
        "tracked_by": v.tracked_by,
        "pooled_from": p.pooled_from if p else None,
        "pooled_alt_count": p.pooled_alt if p else None, "pooled_depth": p.pooled_depth if p else None,
        "pooled_p_value": p.pooled_p_value if p else None, "pooled_q_value": p.pooled_q_value if p else None,
        "change_reason": p.reason if p else None, "change_reason_vs_baseline": b.reason if b else None,
    }


def _detection(o: Observation) -> dict[str, Cell]:
    d = o.detection
    if d is None:
        return {"background_rate": None, "background_rho": None, "background_source": None,
                "background_samples": None, "detection_p_value": None, "lob_count": None,
                "lob_vaf": None, "lod_vaf": None, "artefact_site": None}
    return {"background_rate": d.background_rate, "background_rho": d.background_rho,
            "background_source": d.background_source, "background_samples": d.background_samples,
            "detection_p_value": d.p_value, "lob_count": d.lob, "lob_vaf": d.lob_vaf,
            "lod_vaf": d.lod_vaf, "artefact_site": d.artefact}


WIDE_FIXED = ("variant_key", "gene", "hgvsp_short", "alteration_class", "rule_id", "mechanism")
WIDE_PER_TIMEPOINT = ("vaf", "alt_depth", "status", "change")


def wide_rows(
    by_variant: dict[str, list[Observation]], labels: Sequence[str]
) -> tuple[list[str], list[list[Cell]]]:
    """Variants x timepoints: VAF, alt/depth, status and change vs previous per timepoint."""
    header = list(WIDE_FIXED) + [f"{lab}:{what}" for lab in labels for what in WIDE_PER_TIMEPOINT]
    rows = []
    for obs in by_variant.values():
        v = obs[0].variant
        row: list[Cell] = [v.variant_key, v.gene, v.hgvsp_short, v.alteration_class, v.rule_id, v.mechanism]
        for o in obs:
            e = o.evidence
            counts = f"{e.alt_count}/{e.depth}" if e.alt_count is not None and e.depth is not None else None
            if e.copy_number is not None:
                counts = f"CN={e.copy_number:g}"
            row += [o.vaf, counts, o.status, o.vs_previous.change if o.vs_previous else "baseline"
                    if o.vs_baseline and o.vs_baseline.change == "baseline" else None]
        rows.append(row)
    return header, rows
