"""``resmark panel``: list, show, validate or export the knowledge base."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from annotator.errors import OutputError, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def _panel_options(func: F) -> F:
    func = click.option(
        "--extend",
        is_flag=True,
        help="Merge the --panel entries over the built-in panel instead of replacing it.",
    )(func)
    func = click.option(
        "--panel",
        "panel_spec",
        type=click.Path(path_type=Path),
        default=None,
        help="Panel directory or YAML file (default: the built-in resmark_core).",
    )(func)
    return func


def _load(panel_spec: Path | None, extend: bool) -> Any:
    from annotator.knowledge import load_panel

    if extend and panel_spec is None:
        raise UsageError("--extend needs --panel PATH")
    return load_panel(panel_spec, extend=extend)


def _header(panel: Any) -> str:
    return (
        f"panel {panel.name} {panel.version} ({panel.release_date}) "
        f"sha256:{panel.checksum}\nsource: {panel.source_path}"
    )


def _counts(panel: Any) -> str:
    n_evidence = len(panel.evidence)
    return (
        f"{len(panel.genes)} genes, {len(panel.rules)} rules, {len(panel.mechanisms)} mechanisms, "
        f"{len(panel.strategies)} strategies, {n_evidence} evidence items, "
        f"{len(panel.non_dna_markers)} non-DNA markers"
    )


@click.group(name="panel")
def command() -> None:
    """List, show, validate or export the knowledge base."""


@command.command(name="list")
@_panel_options
def list_cmd(panel_spec: Path | None, extend: bool) -> None:
    """One line per gene: role, core panel membership, rules and mechanisms."""
    panel = _load(panel_spec, extend)
    click.echo(_header(panel))
    click.echo(_counts(panel))
    click.echo("gene\trole\tcore\trules\tmechanisms")
    for symbol, gene in panel.genes.items():
        rules = panel.rules_for(symbol)
        mechs = list(dict.fromkeys(r.mechanism.id for r in rules))
        click.echo(
            f"{symbol}\t{gene.role}\t{'yes' if gene.core else 'no'}\t{len(rules)}\t{','.join(mechs)}"
        )


@command.command(name="show")
@click.argument("gene")
@_panel_options
def show_cmd(gene: str, panel_spec: Path | None, extend: bool) -> None:
    """Rules, mechanisms, ranked strategies and evidence for one GENE."""
    from annotator.knowledge.export import rule_level

    panel = _load(panel_spec, extend)
    symbol = gene.upper()
    if symbol not in panel.genes:
        close = difflib.get_close_matches(symbol, list(panel.genes), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(f"gene {gene!r} is not in panel {panel.name}.{hint}")
    g = panel.genes[symbol]
    click.echo(_header(panel))
    click.echo(
        f"{symbol}: {g.role}{', core panel' if g.core else ''}"
        + (f", UniProt {g.uniprot}" if g.uniprot else "")
    )
    if g.why:
        click.echo(f"  why: {g.why}")
    for rule in panel.rules_for(symbol):
        guard = " [reported only]" if rule.over_claim_guard else ""
        click.echo(
            f"\n{rule.id}  {rule.type}: {rule.spec()}  level {rule_level(panel, rule)}{guard}"
        )
        m = rule.mechanism
        click.echo(f"  mechanism {m.id}: {m.name} ({m.category}; {m.pathway})")
        if m.drug_classes:
            click.echo(f"  resistance to: {', '.join(m.drug_classes)}")
        click.echo(f"  sources: {' | '.join(m.sources)}")
        if rule.note:
            click.echo(f"  note: {rule.note}")
        for s in rule.strategies:
            click.echo(f"  {s.rank}. [{s.evidence_level}] {s.name} ({s.id}, {s.kind})")
            if s.note:
                click.echo(f"     note: {s.note}")
            for e in s.evidence:
                ident = f" {e.identifier}" if e.identifier else ""
                phase = ""
                if e.phase:
                    descriptive = e.phase in ("preclinical", "observational")
                    phase = f" ({e.phase})" if descriptive else f" phase {e.phase}"
                figs = "; ".join(e.figures) if e.figures else "no figures"
                click.echo(f"     - {e.study}{ident}{phase}: {figs} [{e.reference}]")
    markers = [nd for nd in panel.non_dna_markers if symbol in nd.genes]
    for nd in markers:
        click.echo(f"\nnot visible in variant calls: {nd.name} ({nd.assay}) [{nd.id}]")


@command.command(name="validate")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--extend", is_flag=True, help="Validate PATH as an extension of the built-in panel.")
def validate_cmd(path: Path, extend: bool) -> None:
    """Check a panel (directory or YAML file) against the schema and cross-references."""
    from annotator.knowledge import load_panel

    panel = load_panel(path, extend=extend)
    click.echo(f"OK: {_header(panel)}")
    click.echo(_counts(panel))
    _reach_warnings(panel)


def _reach_warnings(panel: Any) -> None:
    """Rules the embedded reference cannot serve (annotator.annotation.qc), per build."""
    from annotator.annotation.qc import panel_reach
    from annotator.reference import load_reference

    for build in ("GRCh38", "GRCh37"):
        info = load_reference(build, genes=panel.gene_symbols()).describe()
        for item in panel_reach(panel, info):
            click.echo(f"warning: with the embedded {build} reference, {item['message']}", err=True)


@command.command(name="export")
@click.option(
    "--format", "fmt", type=click.Choice(["tsv", "json"]), default="tsv", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to FILE instead of standard output.",
)
@_panel_options
def export_cmd(fmt: str, output: Path | None, panel_spec: Path | None, extend: bool) -> None:
    """Export the rules (TSV) or the whole panel (JSON), with panel provenance."""
    from annotator.knowledge.export import panel_dict, rules_tsv

    panel = _load(panel_spec, extend)
    if fmt == "json":
        text = json.dumps(panel_dict(panel), indent=2, ensure_ascii=False) + "\n"
    else:
        text = rules_tsv(panel)
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise OutputError(f"cannot write export: {e.strerror or e}", path=output) from e
