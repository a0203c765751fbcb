"""Patient-level summaries: VAF per timepoint, molecular response, resistance alerts.

* ``max_vaf`` / ``mean_vaf``: over the small variants measured at that
  timepoint (status other than ``not_assessed``); germline, CHIP and
  artefact sites excluded.
* Molecular response at timepoint t vs baseline: the tumour-fraction ratio
  (sheet values at both, else estimates at both; annotator/track/mrd.py),
  else the paired mean-VAF ratio.  ratio <= 1 - response_fall: ``response``;
  >= 1 + progression_rise: ``progression``; else ``stable``.  ``clearance``
  needs the pooled MRD test negative with its LoD <= the clearance VAF (and
  positive at baseline).  A timepoint with a supported emerging/rising or
  polyclonal alert is ``emerging_resistance`` unless it is ``progression``.
* Alerts: a knowledge-base alteration (rule matched) whose change against
  the previous timepoint or the baseline is ``emerging``/``rising``
  (confidence ``supported``), or that is detected where the earlier timepoint
  was not assessed (confidence ``unconfirmed``).  Two or more distinct
  detected alterations in one gene or one mechanism at a timepoint where one
  of them emerges or rises give a ``polyclonal`` alert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from annotator.track.model import INCREASES, Observation, Thresholds, TimepointSpec

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from annotator.track.mrd import MrdCall, TumourFraction

# Which therapy words belong to which knowledge-base drug class, to say whether an
# alert concerns the therapy the patient is on (free text in the sample sheet).
THERAPY_KEYWORDS: dict[str, tuple[str, ...]] = {
    "CDK4/6 inhibitor": ("cdk4/6", "cdk46", "palbociclib", "ribociclib", "abemaciclib", "dalpiciclib"),
    "endocrine therapy": (
        "endocrine", "aromatase", "letrozole", "anastrozole", "exemestane", " ai", "tamoxifen",
        "fulvestrant", "elacestrant", "camizestrant", "imlunestrant", "giredestrant", "serd",
    ),
    "PI3K inhibitor": ("pi3k", "alpelisib", "inavolisib", "taselisib"),
    "AKT inhibitor": ("akt", "capivasertib", "ipatasertib"),
    "mTOR inhibitor": ("mtor", "everolimus"),
}


@dataclass(frozen=True)
class TimepointSummary:
    timepoint: str
    date: str | None
    tumor_fraction: float | None  # the sheet's value (as given)
    therapy: str | None
    n_tracked: int
    n_measured: int
    n_detected: int
    max_vaf: float | None
    mean_vaf: float | None
    paired_variants: int | None = None
    paired_mean_vaf: float | None = None
    baseline_paired_mean_vaf: float | None = None
    mean_vaf_ratio: float | None = None
    molecular_response: str = "not_evaluable"
    n_low_level: int = 0
    n_excluded: int = 0  # germline / CHIP variants left out
    n_artefact: int = 0  # sites whose background is too high to monitor
    tf: float | None = None  # tumour fraction used (sheet or estimate)
    tf_ci_low: float | None = None
    tf_ci_high: float | None = None
    tf_source: str | None = None  # sheet | estimate
    tf_clonal_sites: int = 0
    tf_ratio: float | None = None  # tf / baseline tf (same source)
    response_basis: str | None = None  # tumor_fraction | mean_vaf
    mrd_call: str = "not_assessable"
    mrd_p_value: float | None = None
    mrd_lod_vaf: float | None = None
    mrd_sites: int = 0
    mrd_alt_total: int = 0
    mrd_depth_total: int = 0
    counting_unit: str = "reads"
    alerts_here: int = 0  # supported emerging/rising/polyclonal alerts at this timepoint


def summarise_timepoints(
    columns: Sequence[Sequence[Observation]],
    specs: Sequence[TimepointSpec],
    baseline_index: int,
    th: Thresholds,
    tfs: Sequence[TumourFraction | None] | None = None,
    mrd: Sequence[MrdCall | None] | None = None,
) -> list[TimepointSummary]:
    """``columns[t]`` holds every observation at timepoint t; ``tfs``/``mrd`` from annotator.track.mrd."""
    out = []
    base = columns[baseline_index]
    for t, (col, spec) in enumerate(zip(columns, specs, strict=True)):
        usable = [o for o in col if not o.variant.is_copy_number and not o.excluded and o.monitorable]
        measured = [o for o in usable if o.status != "not_assessed" and o.vaf is not None]
        vafs = [o.vaf for o in measured if o.vaf is not None]
        tf = tfs[t] if tfs is not None else None
        m = mrd[t] if mrd is not None else None
        s = TimepointSummary(
            timepoint=spec.label,
            date=spec.date.isoformat() if spec.date else None,
            tumor_fraction=spec.tumor_fraction,
            therapy=spec.therapy,
            n_tracked=len(col),
            n_measured=len(measured),
            n_detected=sum(o.status == "detected" for o in col if not o.excluded and o.monitorable),
            max_vaf=max(vafs) if vafs else None,
            mean_vaf=sum(vafs) / len(vafs) if vafs else None,
            n_low_level=sum(o.status == "low_level" for o in col),
            n_excluded=sum(o.excluded for o in col),
            n_artefact=sum(not o.monitorable for o in col),
            tf=tf.value if tf else None, tf_ci_low=tf.low if tf else None,
            tf_ci_high=tf.high if tf else None, tf_source=tf.source if tf else None,
            tf_clonal_sites=tf.n_clonal if tf else 0,
            mrd_call=m.call if m else "not_assessable", mrd_p_value=m.p_value if m else None,
            mrd_lod_vaf=m.lod_vaf if m else None, mrd_sites=m.n_sites if m else 0,
            mrd_alt_total=m.alt_total if m else 0, mrd_depth_total=m.depth_total if m else 0,
            counting_unit=m.unit if m else "reads",
        )
        out.append(s)
    bs = out[baseline_index]
    for t in range(len(out)):
        if t != baseline_index:
            out[t] = _response(out[t], columns[t], base, bs, th)
    out[baseline_index] = _replace(out[baseline_index], molecular_response="baseline")
    return out


class _Changes(TypedDict, total=False):
    """The ``TimepointSummary`` fields set after the first pass (response, alerts)."""

    paired_variants: int
    paired_mean_vaf: float
    baseline_paired_mean_vaf: float
    mean_vaf_ratio: float
    tf_ratio: float
    response_basis: str
    molecular_response: str
    alerts_here: int


def _replace(s: TimepointSummary, **kw: Unpack[_Changes]) -> TimepointSummary:
    from dataclasses import replace

    return replace(s, **kw)


def _label(ratio: float, th: Thresholds) -> str:
    if ratio <= 1 - th.response_fall:
        return "response"
    if ratio >= 1 + th.progression_rise:
        return "progression"
    return "stable"


def _response(
    s: TimepointSummary, col: Sequence[Observation], base: Sequence[Observation],
    bs: TimepointSummary, th: Thresholds,
) -> TimepointSummary:
    """Molecular response vs baseline: tumour-fraction ratio, else the paired mean-VAF ratio."""
    kw: _Changes = {}
    base_by_key = {o.variant.variant_key: o for o in base}
    pairs = [
        (base_by_key[o.variant.variant_key], o) for o in col
        if not o.variant.is_copy_number and not o.excluded and o.monitorable
        and o.variant.variant_key in base_by_key and o.vaf is not None and o.status != "not_assessed"
        and base_by_key[o.variant.variant_key].vaf is not None
        and base_by_key[o.variant.variant_key].status != "not_assessed"
    ]
    label = "not_evaluable"
    if pairs:
        b = sum(p[0].vaf or 0.0 for p in pairs) / len(pairs)
        c = sum(p[1].vaf or 0.0 for p in pairs) / len(pairs)
        kw.update({"paired_variants": len(pairs), "paired_mean_vaf": c, "baseline_paired_mean_vaf": b})
        if b > 0:
            kw["mean_vaf_ratio"] = c / b
            label, kw["response_basis"] = _label(c / b, th), "mean_vaf"
        elif c > 0 and s.n_detected:
            label, kw["response_basis"] = "progression", "mean_vaf"
    if s.tf is not None and bs.tf is not None and s.tf_source == bs.tf_source:
        if bs.tf > 0:
            kw["tf_ratio"] = s.tf / bs.tf
            label, kw["response_basis"] = _label(s.tf / bs.tf, th), "tumor_fraction"
        elif s.tf > 0 and s.mrd_call == "positive":
            label, kw["response_basis"] = "progression", "tumor_fraction"
    if (s.mrd_call == "negative" and s.mrd_lod_vaf is not None and s.mrd_lod_vaf <= th.statement_vaf
            and bs.mrd_call == "positive"):
        label = "clearance"  # pooled test negative and powered at the clearance VAF
    elif label == "clearance":
        label = "response"
    kw["molecular_response"] = label
    return _replace(s, **kw)


def with_alerts(summaries: Sequence[TimepointSummary], alerts: Sequence[Alert]) -> list[TimepointSummary]:
    """Consistency: a timepoint with a supported emerging/rising alert is never stable/response/clearance."""
    out = []
    for s in summaries:
        here = [a for a in alerts if a.timepoint == s.timepoint and a.confidence == "supported"]
        kw: _Changes = {"alerts_here": len(here)}
        if here and s.molecular_response in ("stable", "response", "clearance", "not_evaluable"):
            kw["molecular_response"] = "emerging_resistance"
        out.append(_replace(s, **kw))
    return out


class AlertMember(TypedDict):
    """One alteration of a polyclonal alert."""

    variant_key: str
    label: str
    vaf: float | None
    change_vs_previous: str | None
    change_vs_baseline: str | None


@dataclass(frozen=True)
class Alert:
    patient: str
    timepoint: str
    date: str | None
    kind: str  # emerging | rising | unconfirmed_new | polyclonal
    confidence: str  # supported | unconfirmed
    gene: str | None
    alterations: tuple[str, ...]  # labels ("ESR1 p.Y537S")
    variant_keys: tuple[str, ...]
    mechanism: str | None
    mechanism_id: str | None
    mechanism_category: str | None
    strategies: str | None
    drug_classes: str | None
    evidence_level: str | None
    therapy: str | None
    on_related_therapy: bool | None
    vaf: float | None = None
    change_vs_previous: str | None = None
    p_value_vs_previous: float | None = None
    q_value_vs_previous: float | None = None
    change_vs_baseline: str | None = None
    p_value_vs_baseline: float | None = None
    q_value_vs_baseline: float | None = None
    message: str = ""
    members: tuple[AlertMember, ...] = field(default_factory=tuple)


def related_therapy(drug_classes: str | None, therapy: str | None) -> bool | None:
    if not therapy or not drug_classes:
        return None
    text = f" {therapy.lower()} "
    for cls in (c.strip() for c in drug_classes.split(";")):
        if any(k in text for k in THERAPY_KEYWORDS.get(cls, (cls.lower(),))):
            return True
    return False


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.2f}%"


def variant_alerts(patient: str, obs: Sequence[Observation], therapies: Sequence[str | None]) -> list[Alert]:
    """Alerts for one knowledge-base variant across its timepoints."""
    out: list[Alert] = []
    for i, o in enumerate(obs):
        v = o.variant
        if v.rule_id is None or o.excluded or not o.monitorable:
            continue  # germline / CHIP / artefact sites raise no resistance alert
        prev, base = o.vs_previous, o.vs_baseline
        changes = {c.change for c in (prev, base) if c is not None}
        if changes & INCREASES:
            kind = "emerging" if "emerging" in changes else "rising"
            confidence = "supported"
        elif o.status == "detected" and i > 0 and obs[i - 1].status == "not_assessed":
            kind, confidence = "unconfirmed_new", "unconfirmed"
        else:
            continue
        # the sheet gives the therapy at each draw: the change happened under the later one
        therapy = therapies[i] or (therapies[i - 1] if i > 0 else None)
        best = prev if prev is not None and prev.change in INCREASES else base
        test = (f"; beta-binomial LRT p={best.p_value:.2g}, BH q={best.q_value:.2g} vs {best.against}"
                if best is not None and best.p_value is not None and best.q_value is not None else "")
        if best is not None and best.pooled_p_value is not None and best.pooled_q_value is not None:
            # emerging against the earlier draws below detection, pooled (docs/track.md)
            test += (f"; p={best.pooled_p_value:.2g}, BH q={best.pooled_q_value:.2g} vs "
                     f"{best.pooled_from}-{best.against} pooled ({best.pooled_alt}/{best.pooled_depth})")
        on = related_therapy(v.drug_classes, therapy)
        msg = (
            f"{v.label} {kind.replace('_', ' ')} at {o.timepoint} (VAF {_pct(o.vaf)}{test})"
            + (f" on {therapy}" if therapy else "")
            + (f": {v.mechanism}" if v.mechanism else "")
            + (f"; strategies: {v.strategies}" if v.strategies else "")
        )
        out.append(
            Alert(
                patient=patient, timepoint=o.timepoint, date=o.date, kind=kind, confidence=confidence,
                gene=v.gene, alterations=(v.label,), variant_keys=(v.variant_key,),
                mechanism=v.mechanism, mechanism_id=v.mechanism_id,
                mechanism_category=v.mechanism_category, strategies=v.strategies,
                drug_classes=v.drug_classes, evidence_level=v.evidence_level, therapy=therapy,
                on_related_therapy=on, vaf=o.vaf,
                change_vs_previous=prev.change if prev else None,
                p_value_vs_previous=prev.p_value if prev else None,
                q_value_vs_previous=prev.q_value if prev else None,
                change_vs_baseline=base.change if base else None,
                p_value_vs_baseline=base.p_value if base else None,
                q_value_vs_baseline=base.q_value if base else None,
                message=msg,
            )
        )
    return out


def polyclonal_alerts(
    patient: str, columns: Sequence[Sequence[Observation]], therapies: Sequence[str | None]
) -> list[Alert]:
    """Several distinct detected KB alterations in one gene or one mechanism, one of them new."""
    out: list[Alert] = []
    for t, col in enumerate(columns):
        detected = [o for o in col if o.status == "detected" and o.variant.rule_id
                    and not o.excluded and o.monitorable]
        groups: dict[tuple[str, str], list[Observation]] = {}
        for o in detected:
            if o.variant.gene:
                groups.setdefault(("gene", o.variant.gene), []).append(o)
            if o.variant.mechanism_id:
                groups.setdefault(("mechanism", o.variant.mechanism_id), []).append(o)
        seen_members: set[tuple[str, ...]] = set()
        for (kind, name), members in sorted(groups.items()):
            keys = tuple(sorted({m.variant.variant_key for m in members}))
            if len(keys) < 2 or keys in seen_members:
                continue
            increasing = [m for m in members if _increasing(m)]
            if not increasing:
                continue
            seen_members.add(keys)
            first = members[0].variant
            therapy = therapies[t] or (therapies[t - 1] if t > 0 else None)
            labels = tuple(m.variant.label for m in members)
            what = f"gene {name}" if kind == "gene" else f"mechanism {first.mechanism or name}"
            out.append(
                Alert(
                    patient=patient, timepoint=col[0].timepoint if col else "", date=col[0].date if col else None,
                    kind="polyclonal", confidence="supported",
                    gene=name if kind == "gene" else None, alterations=labels, variant_keys=keys,
                    mechanism=first.mechanism, mechanism_id=first.mechanism_id,
                    mechanism_category=first.mechanism_category, strategies=first.strategies,
                    drug_classes=first.drug_classes, evidence_level=first.evidence_level,
                    therapy=therapy, on_related_therapy=related_therapy(first.drug_classes, therapy),
                    message=(f"{len(keys)} independent alterations in {what} detected at "
                             f"{members[0].timepoint}: " + ", ".join(
                                 f"{m.variant.label} ({_pct(m.vaf)}, {_change_text(m)})" for m in members)
                             + " - polyclonal resistance"),
                    members=tuple(
                        {"variant_key": m.variant.variant_key, "label": m.variant.label, "vaf": m.vaf,
                         "change_vs_previous": m.vs_previous.change if m.vs_previous else None,
                         "change_vs_baseline": m.vs_baseline.change if m.vs_baseline else None}
                        for m in members
                    ),
                )
            )
    return out


def _increasing(o: Observation) -> bool:
    return any(c is not None and c.change in INCREASES for c in (o.vs_previous, o.vs_baseline))


def _change_text(o: Observation) -> str:
    changes = [c.change for c in (o.vs_previous, o.vs_baseline) if c is not None and c.change != "baseline"]
    return "/".join(dict.fromkeys(changes)) or "baseline"
