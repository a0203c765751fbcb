"""Panel 2.0: specificity gating, therapy context, conflicts/caveats, reports say it once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from annotator.cli import cli
from annotator.core.models import Alteration
from annotator.core.rows import match_columns
from annotator.errors import UsageError
from annotator.knowledge import compute_flags, load_panel, match_alteration
from annotator.knowledge.matcher import in_context
from annotator.knowledge.therapy import resolve
from annotator.report import context

PANEL = load_panel()


def _mis(gene: str, ref: str, pos: int, alt: str) -> Alteration:
    return Alteration(gene, "missense", protein_start=pos, protein_end=pos, ref_aa=ref, alt_aa=alt,
                      hgvsp_short=f"p.{ref}{pos}{alt}")


def _prior(text: str) -> frozenset[str]:
    return resolve(PANEL, text, strict=True)[0]


# --- specificity gating -----------------------------------------------------------------
@pytest.mark.parametrize("alt", [_mis("PIK3CA", "E", 600, "K"), _mis("PIK3CA", "S", 900, "L"),
                                 _mis("ESR1", "A", 350, "T"), _mis("PTEN", "Y", 88, "C")])
def test_variant_of_uncertain_significance_claims_nothing(alt: Alteration) -> None:
    top = match_alteration(PANEL, alt)[0]
    assert top.significance == "uncertain" and top.evidence_level == "U"
    assert all(PANEL.tier(s.evidence_level) >= 4 for s in top.strategies)
    assert top.claims == ()
    assert top.note and "consider confirmatory testing" in top.note
    cols = match_columns(match_alteration(PANEL, alt))
    assert cols["mechanism"] is None and cols["drug_classes"] is None
    assert cols["significance"] == "uncertain"


def test_gating_caps_a_user_panel_that_lists_strategies_on_a_domain_rule(tmp_path: Path) -> None:
    ext = {"rules": [{"id": "RULE-PIK3CA-DOMAIN-HELICAL", "gene": "PIK3CA", "type": "domain",
                      "domain": {"name": "helical", "start": 525, "end": 696},
                      "mechanism": "MECH-PIK3CA", "strategies": ["STRAT-ALPELISIB-FULV"]}]}
    (tmp_path / "ext.yaml").write_text(yaml.safe_dump(ext))
    panel = load_panel(tmp_path / "ext.yaml", extend=True)
    top = match_alteration(panel, _mis("PIK3CA", "E", 600, "K"))[0]
    (alp,) = top.strategies
    assert alp.evidence_level == "L4" and alp.level_before_gating == "L1"
    assert all(st.evidence_level == "L4" for st in alp.settings)


def test_uncertain_variants_do_not_make_polyclonal_or_convergent_flags() -> None:
    items = [(k, a, match_alteration(PANEL, a)) for k, a in
             (("v1", _mis("ESR1", "Y", 537, "S")), ("v2", _mis("ESR1", "A", 350, "T")),
              ("v3", _mis("ESR1", "S", 118, "P")))]
    assert [f for f in compute_flags(PANEL, items) if f.kind in ("polyclonal", "convergent_mechanism")] == []
    items.append(("v4", _mis("ESR1", "D", 538, "G"), match_alteration(PANEL, _mis("ESR1", "D", 538, "G"))))
    (poly,) = [f for f in compute_flags(PANEL, items) if f.kind == "polyclonal"]
    assert poly.members == ("v1", "v4")


# --- therapy context ----------------------------------------------------------------------
def test_without_prior_therapy_each_strategy_states_its_setting() -> None:
    top = match_alteration(PANEL, _mis("PIK3CA", "H", 1047, "R"))[0]
    ina = next(s for s in top.strategies if s.id == "STRAT-INAVOLISIB-TRIPLET")
    assert ina.setting_status == "not assessed"
    assert "CDK4/6-inhibitor-naive" in ina.settings[0].label and "first line" in ina.settings[0].label


def test_prior_cdk46_inhibitor_marks_inavo120_and_lowers_alpelisib() -> None:
    ms = in_context(PANEL, match_alteration(PANEL, _mis("PIK3CA", "H", 1047, "R")), _prior("palbociclib, letrozole"))
    strategies = ms[0].strategies
    assert strategies[-1].id == "STRAT-INAVOLISIB-TRIPLET" and strategies[-1].setting_status == "other setting"
    alp = next(s for s in strategies if s.id == "STRAT-ALPELISIB-FULV")
    assert alp.setting_status == "matches" and alp.evidence_level == "L3"  # BYLieve, not SOLAR-1
    assert match_columns(ms)["strategy_settings"].count("{other setting}") == 1


def test_treatment_naive_keeps_inavo120_first_line() -> None:
    ms = match_alteration(PANEL, _mis("PIK3CA", "H", 1047, "R"), _prior("none"))
    ina = next(s for s in ms[0].strategies if s.id == "STRAT-INAVOLISIB-TRIPLET")
    assert ina.setting_status == "matches"


def test_prior_therapy_names_resolve_to_classes() -> None:
    classes, unknown = resolve(PANEL, "Palbociclib + fulvestrant; AI, palbociclib 125 mg, foo")
    assert {"CDK4/6 inhibitor", "SERD", "aromatase inhibitor", "endocrine therapy"} <= classes
    assert unknown == ("foo",)


def test_esr1_switch_not_avoid() -> None:
    top = match_alteration(PANEL, _mis("ESR1", "Y", 537, "S"))[0]
    assert all(s.kind == "treat" for s in top.strategies)
    names = " ".join(s.name for s in top.strategies)
    assert "Elacestrant" in names and "Imlunestrant" in names and "camizestrant" in names


# --- conflicts and caveats ------------------------------------------------------------------
def _sample(*alts: tuple[str, Alteration]) -> list:
    return [(k, a, match_alteration(PANEL, a)) for k, a in alts]


def test_rb1_loss_conflicts_with_cdk46_combination_for_another_alteration() -> None:
    flags = compute_flags(PANEL, _sample(("rb", Alteration("RB1", "deep_deletion")),
                                         ("pik", _mis("PIK3CA", "H", 1047, "R"))))
    (f,) = [f for f in flags if f.kind == "conflict"]
    assert f.members == ("rb", "pik")
    assert "RB1" in f.message and "PIK3CA p.H1047R" in f.message and "palbociclib" in f.message
    assert f.label and "RB1" in f.label and "PIK3CA" in f.label


def test_pten_loss_and_esr1_caveats_with_alpelisib() -> None:
    flags = compute_flags(PANEL, _sample(("pten", Alteration("PTEN", "nonsense", hgvsp_short="p.R130*")),
                                         ("esr1", _mis("ESR1", "D", 538, "G")),
                                         ("pik", _mis("PIK3CA", "E", 545, "K"))))
    caveats = {f.mechanism_id: f for f in flags if f.kind == "caveat"}
    assert {"INT-PTEN-PI3KA", "INT-ESR1-PI3KA", "INT-ESR1-AI"} <= set(caveats)
    assert caveats["INT-PTEN-PI3KA"].members == ("pten", "pik")
    assert "Alpelisib" in caveats["INT-PTEN-PI3KA"].message


def test_vus_triggers_no_conflict() -> None:
    flags = compute_flags(PANEL, _sample(("rb", _mis("RB1", "R", 661, "W")),
                                         ("pik", _mis("PIK3CA", "H", 1047, "R"))))
    assert [f for f in flags if f.kind in ("conflict", "caveat")] == []


# --- CLI, document, report ------------------------------------------------------------------
VCF = ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
       "chr3\t179234297\t.\tA\tG\t.\tPASS\t.\n"      # PIK3CA H1047R (Cancer Hotspots v2, GRCh38)
       "chr13\t48367512\t.\tC\tT\t.\tPASS\t.\n"      # RB1 R320*
       "chr6\t152098788\t.\tA\tC\t.\tPASS\t.\n")     # ESR1 Y537S


def _run(tmp_path: Path, *extra: str) -> CliRunner:
    vcf = tmp_path / "s.vcf"
    vcf.write_text(VCF)
    return CliRunner().invoke(cli, ["annotate", str(vcf), "--build", "GRCh38", "-o",
                                    str(tmp_path / "out"), "--formats", "tsv,json,html", *extra])


def test_cli_prior_therapy_end_to_end(tmp_path: Path) -> None:
    result = _run(tmp_path, "--prior-therapy", "palbociclib,letrozole")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / "s.resmark.json").read_text())
    assert doc["therapy_context"]["prior_therapy"] == ["palbociclib", "letrozole"]
    assert "CDK4/6 inhibitor" in doc["therapy_context"]["drug_classes"]
    assert any(f["kind"] == "conflict" for f in doc["flags"])
    page = (tmp_path / "out" / "s.report.html").read_text()
    assert "tested in another setting" in page and "Also matched (broader rules)" in page
    assert "outside the known" not in page  # the hotspots' broader domain rules are not repeated
    assert 'class="stat-n">3</span><span class="stat-l">claimed findings' in page


def test_cli_unknown_prior_therapy_is_a_usage_error(tmp_path: Path) -> None:
    result = _run(tmp_path, "--prior-therapy", "palbocyclib")
    assert isinstance(result.exception, UsageError) and result.exception.exit_code == 2
    assert "palbociclib" in str(result.exception) or "palbociclib" in result.output


def test_header_counts_only_claimed_findings() -> None:
    rows = [{"rule_id": "R1", "evidence_level": "L1", "significance": "known"},
            {"rule_id": "R2", "evidence_level": "U", "significance": "uncertain"},
            {"rule_id": "R3", "evidence_level": "U", "over_claim_guard": True}]
    ctx = context.sample_context({"sample": "x", "rows": rows})
    assert ctx["n_matched"] == 1 and ctx["n_uncertain"] == 2


def test_panel_show_prints_settings_and_citations() -> None:
    result = CliRunner().invoke(cli, ["panel", "show", "PIK3CA"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "C420R" in out and "H1047Y" in out  # companion-diagnostic hotspots
    assert "setting [L3]: after a CDK4/6 inhibitor: BYLieve" in out
    assert "claim: sensitivity to PI3Kα inhibitor [L1]" in out
    assert "N Engl J Med 2019" in out and "10.1056/NEJMoa1813904" in out  # SOLAR-1
    assert "INT-RB1-CDK46" not in out or "conflicts and caveats" in out
    therapies = CliRunner().invoke(cli, ["panel", "therapies"])
    assert "palbociclib" in therapies.output and "CDK4/6 inhibitor" in therapies.output


def test_sample_sheet_prior_therapy_column(tmp_path: Path) -> None:
    from annotator.annotation.samplesheet import read_samplesheet

    (tmp_path / "a.vcf").write_text(VCF)
    sheet = tmp_path / "sheet.tsv"
    sheet.write_text("vcf\tsample\tprior_therapy\na.vcf\tA\tpalbociclib, letrozole\na.vcf\tB\t\n")
    a, b = read_samplesheet(sheet)
    assert a.prior_therapy == ("palbociclib", "letrozole") and b.prior_therapy is None


def test_track_therapy_column_ranks_strategies(tmp_path: Path) -> None:
    from annotator.annotation.config import AnnotateConfig, RunContext
    from annotator.track.identity import read_timepoint
    from annotator.track.model import TimepointSpec

    vcf = tmp_path / "t1.vcf"
    vcf.write_text(VCF)
    run = RunContext(config=AnnotateConfig(inputs=[str(vcf)], outdir=str(tmp_path / "o"), build="GRCh38"),
                     panel=PANEL)
    on = read_timepoint(TimepointSpec("P1", "t1", vcf, therapy="palbociclib + letrozole"), run)
    off = read_timepoint(TimepointSpec("P1", "t1", vcf), run)
    pik = [c.row for c in on.calls.values() if c.row.gene == "PIK3CA"]
    assert pik and "{other setting}" in (pik[0].strategy_settings or "")
    assert "{other setting}" not in ([c.row for c in off.calls.values() if c.row.gene == "PIK3CA"][0]
                                     .strategy_settings or "")
