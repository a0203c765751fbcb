"""``resmark panel``: list, show, validate or export the knowledge base."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from annotator.errors import OutputError, UsageError

if TYPE_CHECKING:
    from annotator.knowledge.model import Panel

F = TypeVar("F", bound=Callable[..., object])


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


def _load(panel_spec: Path | None, extend: bool) -> Panel:
    from annotator.knowledge import load_panel

    if extend and panel_spec is None:
        raise UsageError("--extend needs --panel PATH")
    return load_panel(panel_spec, extend=extend)


def _header(panel: Panel) -> str:
    return (
        f"panel {panel.name} {panel.version} ({panel.release_date}) "
        f"sha256:{panel.checksum}\nsource: {panel.source_path}"
    )


def _counts(panel: Panel) -> str:
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
    """Rules, hotspots, mechanisms, claims, strategies with levels and settings, and
    evidence with citations for one GENE."""
    from annotator.knowledge.export import gene_text

    panel = _load(panel_spec, extend)
    symbol = gene.upper()
    if symbol not in panel.genes:
        close = difflib.get_close_matches(symbol, list(panel.genes), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise UsageError(f"gene {gene!r} is not in panel {panel.name}.{hint}")
    click.echo(_header(panel))
    click.echo(gene_text(panel, symbol), nl=False)


@command.command(name="therapies")
@_panel_options
def therapies_cmd(panel_spec: Path | None, extend: bool) -> None:
    """Drug classes and the drug names --prior-therapy understands."""
    panel = _load(panel_spec, extend)
    click.echo(_header(panel))
    click.echo("class\tpart of\tdrugs and aliases")
    for cls, (names, parents) in (panel.therapy_classes or {}).items():
        click.echo(f"{cls}\t{', '.join(parents) or '-'}\t{', '.join(names) or '-'}")
    click.echo("none\t-\ttreatment-naive (no prior therapy)")


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


def _reach_warnings(panel: Panel) -> None:
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
