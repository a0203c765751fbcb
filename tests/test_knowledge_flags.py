"""Flags over several alterations: biallelic loss, polyclonality, convergence."""

from __future__ import annotations

from annotator.core.models import Alteration
from annotator.knowledge import Flag, compute_flags, load_panel, match_alteration

PANEL = load_panel()


def _flags(*alts: tuple[str, Alteration]) -> tuple[Flag, ...]:
    return compute_flags(PANEL, [(aid, alt, match_alteration(PANEL, alt)) for aid, alt in alts])


def _kinds(flags: tuple[Flag, ...], gene: str | None = None) -> list[str]:
    return [f.kind for f in flags if gene is None or f.gene == gene]


def test_two_rb1_lof_are_biallelic() -> None:
    flags = _flags(
        ("v1", Alteration("RB1", "nonsense", protein_start=251, ref_aa="R", alt_aa="*")),
        ("v2", Alteration("RB1", "frameshift", protein_start=700)),
    )
    (flag,) = [f for f in flags if f.kind == "biallelic_loss"]
    assert flag.gene == "RB1" and flag.members == ("v1", "v2")
    assert flag.mechanism_id == "MECH-RB1-LOSS"
    assert "biallelic" in flag.message


def test_rb1_lof_plus_deep_deletion_is_biallelic() -> None:
    flags = _flags(
        ("v1", Alteration("RB1", "splice_site")),
        ("cnv1", Alteration("RB1", "deep_deletion")),
    )
    assert "biallelic_loss" in _kinds(flags, "RB1")


def test_rb1_lof_plus_shallow_loss_is_biallelic() -> None:
    flags = _flags(
        ("v1", Alteration("RB1", "nonsense", protein_start=300)),
        ("cnv1", Alteration("RB1", "loss")),
    )
    (flag,) = [f for f in flags if f.kind == "biallelic_loss"]
    assert flag.members == ("v1", "cnv1")


def test_single_rb1_lof_is_not_flagged() -> None:
    assert _flags(("v1", Alteration("RB1", "nonsense", protein_start=300))) == ()


def test_same_alteration_id_counts_once() -> None:
    alt = Alteration("RB1", "nonsense", protein_start=300)
    assert "biallelic_loss" not in _kinds(_flags(("v1", alt), ("v1", alt)))


def test_rb1_missense_pair_is_not_biallelic() -> None:
    flags = _flags(
        ("v1", Alteration("RB1", "missense", protein_start=661, ref_aa="R", alt_aa="W")),
        ("v2", Alteration("RB1", "missense", protein_start=700, ref_aa="A", alt_aa="T")),
    )
    assert "biallelic_loss" not in _kinds(flags)
    assert "polyclonal" not in _kinds(flags)  # gene-level matches are not claims


def test_polyclonal_esr1() -> None:
    flags = _flags(
        ("y537s", Alteration("ESR1", "missense", protein_start=537, ref_aa="Y", alt_aa="S")),
        ("d538g", Alteration("ESR1", "missense", protein_start=538, ref_aa="D", alt_aa="G")),
        ("e380q", Alteration("ESR1", "missense", protein_start=380, ref_aa="E", alt_aa="Q")),
    )
    (flag,) = [f for f in flags if f.kind == "polyclonal"]
    assert flag.gene == "ESR1"
    assert flag.members == ("y537s", "d538g", "e380q")
    assert flag.mechanism_id == "MECH-ESR1"


def test_single_esr1_is_not_polyclonal() -> None:
    flags = _flags(
        ("y537s", Alteration("ESR1", "missense", protein_start=537, ref_aa="Y", alt_aa="S")),
        ("syn", Alteration("ESR1", "synonymous", protein_start=500, ref_aa="L", alt_aa="L")),
    )
    assert flags == ()


def test_polyclonal_rb1_alongside_biallelic() -> None:
    flags = _flags(
        ("a", Alteration("RB1", "nonsense", protein_start=100)),
        ("b", Alteration("RB1", "nonsense", protein_start=200)),
        ("c", Alteration("RB1", "frameshift", protein_start=300)),
    )
    assert set(_kinds(flags, "RB1")) == {"biallelic_loss", "polyclonal"}


def test_pik3ca_is_not_polyclonal_flagged() -> None:
    flags = _flags(
        ("a", Alteration("PIK3CA", "missense", protein_start=1047, ref_aa="H", alt_aa="R")),
        ("b", Alteration("PIK3CA", "missense", protein_start=545, ref_aa="E", alt_aa="K")),
    )
    assert "polyclonal" not in _kinds(flags)


def test_convergent_mechanism_across_genes() -> None:
    flags = _flags(
        ("ccne1", Alteration("CCNE1", "amplification")),
        ("e2f3", Alteration("E2F3", "amplification")),
    )
    (flag,) = [f for f in flags if f.kind == "convergent_mechanism"]
    assert flag.mechanism_id == "MECH-CYCLINE-CDK2"
    assert flag.gene is None and flag.members == ("ccne1", "e2f3")


def test_mdm2_inhibitor_caveat_when_tp53_altered() -> None:
    flags = _flags(
        ("mdm2", Alteration("MDM2", "amplification")),
        ("tp53", Alteration("TP53", "missense", protein_start=175, ref_aa="R", alt_aa="H")),
    )
    (flag,) = [f for f in flags if f.kind == "strategy_caveat"]
    assert flag.gene == "TP53" and flag.members == ("mdm2", "tp53")
    assert "STRAT-MDM2-INHIBITOR" in flag.message


def test_no_caveat_without_tp53() -> None:
    assert _flags(("mdm2", Alteration("MDM2", "amplification"))) == ()
