"""``resmark report OUTDIR``: re-render HTML (and MAF) from an annotate output's JSON."""

from __future__ import annotations

import click

from annotator.report.rerender import RERENDER_FORMATS, rerender


def _formats(ctx: click.Context, param: click.Parameter, value: str) -> tuple[str, ...]:
    items = tuple(x.strip().lower() for x in value.split(",") if x.strip())
    bad = [x for x in items if x not in RERENDER_FORMATS]
    if bad or not items:
        raise click.BadParameter(f"choose from {', '.join(RERENDER_FORMATS)}")
    return items


@click.command("report")
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--formats", default="html", show_default=True, callback=_formats,
              help=f"Comma-separated subset of {','.join(RERENDER_FORMATS)}.")
@click.option("-o", "--out", "target", type=click.Path(file_okay=False),
              help="Write here instead of next to the JSON documents.")
def command(outdir: str, formats: tuple[str, ...], target: str | None) -> None:
    """Re-render OUTDIR's <sample>.report.html (and .maf) from its <sample>.resmark.json."""
    result = rerender(outdir, formats, target)
    for p in result.written:
        click.echo(str(p))
    if not result.panel_matched:
        click.echo("note: panel not matched by checksum; default evidence-level legend used", err=True)
    click.echo("research use only", err=True)
