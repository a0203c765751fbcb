"""``resmark pon build``: a panel of normals for ``resmark track --pon``."""

from __future__ import annotations

import sys

import click

from annotator.track.regenotype import MIN_BASE_QUALITY, MIN_MAPPING_QUALITY


@click.group("pon")
def command() -> None:
    """Panel of normals: per-position base counts in normal samples (docs/track.md)."""


@command.command("build")
@click.argument("normals", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--outdir", required=True, type=click.Path(file_okay=False), help="PON directory to write.")
@click.option("--regions", type=click.Path(dir_okay=False), help="BED of positions to count (default: the panel genes).")
@click.option("--build", default="auto", show_default=True, help="auto, GRCh37 or GRCh38.")
@click.option("--panel", help="Panel name or path (default: built-in).")
@click.option("--extend-panel", is_flag=True, help="Merge --panel over the built-in panel.")
@click.option("--min-base-quality", type=int, default=MIN_BASE_QUALITY, show_default=True)
@click.option("--min-mapping-quality", type=int, default=MIN_MAPPING_QUALITY, show_default=True)
@click.option("--force", is_flag=True, help="Replace a PON already in OUTDIR.")
def build(**kw: object) -> None:
    """Count depth and A/C/G/T per position in each NORMAL BAM/CRAM."""
    from annotator.track.pon import PonBuildConfig, build_pon

    config = PonBuildConfig(
        normals=tuple(str(p) for p in kw["normals"]),  # type: ignore[attr-defined]
        outdir=str(kw["outdir"]),
        regions=kw["regions"],  # type: ignore[arg-type]
        build=str(kw["build"]),
        panel=kw["panel"],  # type: ignore[arg-type]
        panel_extend=bool(kw["extend_panel"]),
        min_base_quality=int(kw["min_base_quality"]),  # type: ignore[call-overload]
        min_mapping_quality=int(kw["min_mapping_quality"]),  # type: ignore[call-overload]
        force=bool(kw["force"]),
        command=["resmark", *sys.argv[1:]],
    )
    out = build_pon(config)
    click.echo(f"PON of {len(config.normals)} normal(s) in {out}", err=True)
