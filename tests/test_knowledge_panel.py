"""Loading, schema errors, checksum, extend mode and the ``resmark panel`` CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from annotator.cli import cli
from annotator.core.models import Alteration
from annotator.errors import PanelError
from annotator.knowledge import Panel, load_panel, match_alteration
from annotator.knowledge.loader import builtin_panel_dir
from tests.conftest import datapath

CORE_GENES = {"RB1", "ESR1", "PIK3CA", "PTEN", "CCNE1", "FGFR1", "FGFR2", "FGFR3", "FGFR4", "FAT1"}
SEED_GENES = {
    "AKT1",
    "CDK4",
    "CDK6",
    "CCND1",
    "CCNE2",
    "CDKN2A",
    "E2F1",
    "ERBB2",
    "BRCA2",
    "KRAS",
    "NF1",
    "MDM2",
    "TP53",
    "FZR1",
    "MYC",
    "EGFR",
    "WEE1",
    "HDAC5",
}


@pytest.fixture(scope="module")
def panel() -> Panel:
    return load_panel()


def test_builtin_panel_content(panel: Panel) -> None:
    assert panel.name == "resmark_core"
    assert panel.version.count(".") == 2
    assert len(panel.checksum) == 64
    assert {g for g, gene in panel.genes.items() if gene.core} == CORE_GENES
    assert panel.gene_symbols() >= SEED_GENES
    assert panel.genes["RB1"].role == "tumour_suppressor"
    assert panel.genes["PIK3CA"].role == "oncogene"
    # panel 2.0: therapy axis L1-L4, resistance axis R1-R3, U; no CIViC letters A-E
    levels = [lv.level for lv in panel.evidence_levels]
    assert levels == ["L1", "L2", "L3", "L4", "R1", "R2", "R3", "U"]
    assert not set(levels) & set("ABCDE")
    for lv in panel.evidence_levels:
        assert lv.oncokb and lv.amp_asco_cap and lv.civic, lv.level
    assert load_panel("resmark_core").checksum == panel.checksum


def test_every_gene_has_a_gene_level_rule(panel: Panel) -> None:
    for symbol in panel.genes:
        assert any(r.type == "gene" for r in panel.rules_for(symbol)), symbol


def test_rule_kinds_present(panel: Panel) -> None:
    types = {r.type for r in panel.rules}
    assert types >= {
        "hotspot",
        "codon",
        "domain",
        "loss_of_function",
        "amplification",
        "fusion",
        "gene",
    }
    lof_genes = {r.gene for r in panel.rules if r.type == "loss_of_function"}
    assert {"RB1", "PTEN", "FAT1"} <= lof_genes
    amp_genes = {r.gene for r in panel.rules if r.type == "amplification"}
    assert {"CCNE1", "FGFR1", "FGFR2", "CDK6", "CDK4", "CCND1", "ERBB2", "MDM2"} <= amp_genes
    assert {r.gene for r in panel.rules if r.type == "fusion"} == {"FGFR2", "FGFR3"}


def test_non_dna_markers_listed(panel: Panel) -> None:
    names = " ".join(m.name for m in panel.non_dna_markers)
    for word in ("PLK1", "CCNE1 mRNA", "p16", "LC3B", "PD-L1", "ER/PR"):
        assert word in names


def test_evidence_items_carry_trial_figures(panel: Panel) -> None:
    solar = panel.evidence["EV-SOLAR1-PFS"]
    assert solar.figures == ("11.0 months", "0.65 (0.50–0.85)")
    assert solar.source == "seed001" and "[1]" in solar.reference
    assert panel.evidence["EV-MAINTAIN"].identifier == "NCT02632045"
    faktion = panel.evidence["EV-FAKTION-ITT"]
    assert faktion.note and "shifted" in faktion.note
    assert "CAP1tello" in (panel.evidence["EV-CAPITELLO291-ALL"].note or "")


# --- schema and cross-reference errors name file, entry and field --------------------
BROKEN = [
    ("broken_gene_role.yaml", "genes[0].role", "'driver' is not one of"),
    ("broken_unknown_mechanism.yaml", "rules[1].mechanism", "unknown mechanism 'MECH-NOPE'"),
    ("broken_duplicate_rule_id.yaml", "rules[1].id", "duplicate id"),
    ("broken_unknown_gene.yaml", "rules[1].gene", "unknown gene 'ARID2'"),
    ("broken_hotspot_without_changes.yaml", "rules[1]", "'changes' is a required property"),
    ("broken_source_reference.yaml", "mechanisms[0].sources[0].refs", "no reference '7'"),
    ("broken_yaml_syntax.yaml", "line 18", "invalid YAML"),
    ("broken_missing_rules.yaml", None, "missing required section(s): rules"),
]


@pytest.mark.parametrize(("name", "where", "text"), BROKEN)
def test_broken_panel_error(name: str, where: str | None, text: str) -> None:
    path = datapath("panels", name)
    with pytest.raises(PanelError) as info:
        load_panel(path)
    err = info.value
    assert err.path == str(path)
    assert err.where == where
    assert text in err.message
    line = err.one_line()
    assert line.startswith(str(path)) and "\n" not in line
    if where and where.startswith("rules"):
        assert "RULE-ARID1A" in err.message  # the entry's id


def test_missing_panel_path() -> None:
    with pytest.raises(PanelError, match="panel not found"):
        load_panel(datapath("panels", "does_not_exist"))


def test_unknown_section(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("panel: {}\nrulez: []\n")
    with pytest.raises(PanelError) as info:
        load_panel(bad)
    assert info.value.where == "rulez"


def test_builtin_panel_error_names_its_file(tmp_path: Path) -> None:
    copy = tmp_path / "core"
    shutil.copytree(builtin_panel_dir(), copy)
    rules = (copy / "rules.yaml").read_text()
    (copy / "rules.yaml").write_text(rules.replace("mechanism: MECH-AKT1", "mechanism: MECH-X", 1))
    with pytest.raises(PanelError) as info:
        load_panel(copy)
    assert info.value.path == str(copy / "rules.yaml")
    assert info.value.where is not None and info.value.where.endswith(".mechanism")
    assert "RULE-AKT1-HS-E17K" in info.value.message


# --- checksum ---------------------------------------------------------------------------
def test_checksum_stable_across_yaml_formatting(tmp_path: Path, panel: Panel) -> None:
    copy = tmp_path / "core"
    copy.mkdir()
    for f in builtin_panel_dir().glob("*.yaml"):
        data = yaml.safe_load(f.read_text(encoding="utf-8"))
        # re-dump: no comments, no anchors, different key order and flow style
        text = yaml.safe_dump(data, sort_keys=True, default_flow_style=True, allow_unicode=True)
        (copy / f.name).write_text("# reformatted\n" + text, encoding="utf-8")
    assert load_panel(copy).checksum == panel.checksum


def test_single_file_panel_equals_directory(tmp_path: Path, panel: Panel) -> None:
    merged: dict[str, object] = {}
    for f in sorted(builtin_panel_dir().glob("*.yaml")):
        merged.update(yaml.safe_load(f.read_text(encoding="utf-8")))
    single = tmp_path / "one.yaml"
    single.write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
    assert load_panel(single).checksum == panel.checksum


def test_checksum_changes_with_content(tmp_path: Path, panel: Panel) -> None:
    copy = tmp_path / "core"
    shutil.copytree(builtin_panel_dir(), copy)
    text = (copy / "evidence.yaml").read_text(encoding="utf-8")
    (copy / "evidence.yaml").write_text(text.replace("Alpelisib + Fulvestrant", "Alpelisib", 1))
    assert load_panel(copy).checksum != panel.checksum


# --- user panels and extend mode -------------------------------------------------------
def test_standalone_user_panel() -> None:
    user = load_panel(datapath("panels", "minimal_panel.yaml"))
    assert user.name == "minimal_test" and user.release_date == "2026-01-15"
    assert user.gene_symbols() == {"ARID1A"}
    assert match_alteration(user, Alteration("ARID1A", "nonsense"))[0].rule_id == "RULE-ARID1A-LOF"
    assert match_alteration(user, Alteration("RB1", "nonsense")) == ()


def test_extend_mode(panel: Panel) -> None:
    ext = load_panel(datapath("panels", "extension"), extend=True)
    assert ext.name == "resmark_core+lab_extension"
    assert ext.version.startswith(panel.version + "+")
    assert [c[0] for c in ext.components] == ["resmark_core", "lab_extension"]
    assert ext.components[0][2] == panel.checksum
    assert ext.checksum != panel.checksum
    assert ext.gene_symbols() == panel.gene_symbols() | {"ARID1A"}
    assert match_alteration(ext, Alteration("ARID1A", "frameshift"))[0].rule_id == "RULE-ARID1A-LOF"
    # new class-level rule on a built-in gene, using a built-in mechanism
    ids = [m.rule_id for m in match_alteration(ext, Alteration("CDKN2A", "deep_deletion"))]
    assert ids[:2] == ["RULE-CDKN2A-LOF", "RULE-CDKN2A-DEEPDEL"]
    # same id replaces the built-in rule (now nonsense only)
    assert "RULE-FAT1-LOF" not in [m.rule_id for m in match_alteration(ext, Alteration("FAT1", "frameshift"))]
    assert match_alteration(ext, Alteration("FAT1", "nonsense"))[0].rule_id == "RULE-FAT1-LOF"
    # built-in content is untouched
    assert (
        match_alteration(ext, Alteration("PIK3CA", "missense", protein_start=1047, ref_aa="H", alt_aa="R"))[
            0
        ].rule_id
        == "RULE-PIK3CA-HS-CDX"
    )


def test_extension_alone_is_not_a_panel() -> None:
    with pytest.raises(PanelError, match="evidence_levels"):
        load_panel(datapath("panels", "extension"))


# --- CLI ------------------------------------------------------------------------------
def test_cli_list(panel: Panel) -> None:
    result = CliRunner().invoke(cli, ["panel", "list"])
    assert result.exit_code == 0, result.output
    assert panel.checksum in result.output
    assert "\nRB1\ttumour_suppressor\tyes\t" in result.output


def test_cli_show() -> None:
    result = CliRunner().invoke(cli, ["panel", "show", "pik3ca"])
    assert result.exit_code == 0, result.output
    assert "RULE-PIK3CA-HS-CDX" in result.output
    assert "SOLAR-1" in result.output and "0.65 (0.50–0.85)" in result.output


def test_cli_show_unknown_gene() -> None:
    result = CliRunner().invoke(cli, ["panel", "show", "PIK3C"])
    assert result.exit_code != 0
    assert "Did you mean PIK3CA" in str(result.exception)


def test_cli_validate_ok_and_broken() -> None:
    ok = CliRunner().invoke(
        cli, ["panel", "validate", str(datapath("panels", "minimal_panel.yaml"))]
    )
    assert ok.exit_code == 0 and ok.output.startswith("OK: panel minimal_test 0.1.0")
    bad = CliRunner().invoke(
        cli, ["panel", "validate", str(datapath("panels", "broken_gene_role.yaml"))]
    )
    assert isinstance(bad.exception, PanelError)
    assert "genes[0].role" in str(bad.exception)


def test_cli_main_error_boundary(capsys: pytest.CaptureFixture[str]) -> None:
    from annotator.cli import main

    with pytest.raises(SystemExit) as info:
        main(["panel", "validate", str(datapath("panels", "broken_unknown_mechanism.yaml"))])
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert "broken_unknown_mechanism.yaml: rules[1].mechanism" in err


def test_cli_export_tsv(tmp_path: Path, panel: Panel) -> None:
    out = tmp_path / "rules.tsv"
    result = CliRunner().invoke(cli, ["panel", "export", "--format", "tsv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    assert header[:3] == ["panel_name", "panel_version", "panel_checksum"]
    assert len(lines) == len(panel.rules) + 1
    assert all(line.split("\t")[2] == panel.checksum for line in lines[1:])


def test_cli_export_json_with_extension(panel: Panel) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "panel",
            "export",
            "--format",
            "json",
            "--panel",
            str(datapath("panels", "extension")),
            "--extend",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["provenance"]["panel_name"] == "resmark_core+lab_extension"
    assert data["components"][0]["checksum"] == panel.checksum
    assert any(r["id"] == "RULE-ARID1A-LOF" for r in data["rules"])
    ev = {e["id"]: e for e in data["evidence"]}
    assert ev["EV-SOLAR1-OS"]["figures"] == ["39.3 months", "0.86 (0.64–1.15)"]


def test_cli_extend_needs_panel() -> None:
    result = CliRunner().invoke(cli, ["panel", "list", "--extend"])
    assert result.exit_code != 0
    assert "--extend needs --panel" in str(result.exception)
