"""A GTF + FASTA that carry the embedded genes give the embedded path's results, row for row.

The GTF is written in GENCODE layout from ``../shared/reference/transcript_models.json``
(MANE Select models, tagged ``MANE_Select``, plus the genes' other LRG transcripts as
untagged decoys, some with a longer CDS); the FASTA is ``genomic_regions_{build}.fa``
as ``chrN:start-end`` region contigs.  Every bundled VCF (``test_vcfs/``) and every
external one (``../shared/external/vcf``) is annotated both ways with
``--report all``; HGVS, consequence, alteration class and rule matches must agree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from annotator.annotation.config import AnnotateConfig, RunContext
from annotator.annotation.single import annotate_file
from annotator.errors import ResmarkError
from annotator.knowledge import load_panel
from tests.gtf_helpers import gtf_text, models_from_shared, shared_region_fasta

REPO = Path(__file__).resolve().parent.parent
FIELDS = ("variant_key", "gene", "transcript", "transcript_ensembl", "consequence", "hgvsc", "hgvsp",
          "hgvsp_short", "exon", "intron", "protein_start", "alteration_class", "rule_id",
          "mechanism_id", "evidence_level", "impact", "annotation_source")


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("RESMARK_FASTA", "RESMARK_GTF", "RESMARK_GTF_ONLY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RESMARK_CONFIG", str(tmp_path / "absent.toml"))


def _corpus(shared: Path) -> list[Path]:
    files = sorted(p for p in (REPO / "test_vcfs").rglob("*") if p.name.endswith((".vcf", ".vcf.gz")))
    ext = shared / "external" / "vcf"
    if ext.is_dir():
        files += sorted(p for p in ext.rglob("*") if p.name.endswith((".vcf", ".vcf.gz"))
                        and "panel_of_normals" not in str(p) and "gnomad" not in p.name)
    return files


def _rows(ctx: RunContext, path: Path) -> Any:
    try:
        s = annotate_file(path, ctx)
    except ResmarkError as e:
        return ("error", type(e).__name__, e.message)
    return sorted(tuple(str(getattr(r, f)) for f in FIELDS) for r in s.rows)


def test_gtf_and_fasta_reproduce_the_embedded_results(shared_dir: Path, tmp_path: Path) -> None:
    ref = shared_dir / "reference"
    if not (ref / "transcript_models.json").is_file():
        pytest.skip("../shared/reference/transcript_models.json is absent")
    panel = load_panel()
    paths: dict[str, tuple[Path, Path]] = {}
    for build in ("GRCh37", "GRCh38"):
        models = models_from_shared(ref / "transcript_models.json", build)
        assert any(not m.tags for m in models) or any("MANE_Select" not in m.tags for m in models)
        gtf = tmp_path / f"models_{build}.gtf"
        gtf.write_text(gtf_text(models, build=build))
        paths[build] = (gtf, shared_region_fasta(ref, build, tmp_path / f"regions_{build}.fa"))

    def context(with_gtf: bool) -> RunContext:
        cfg = AnnotateConfig(inputs=(), outdir=tmp_path / "out", report="all")
        ctx = RunContext(config=cfg, panel=panel)
        if with_gtf:
            from annotator.reference import load_reference

            for build, (gtf, fa) in paths.items():
                ctx.references[build] = load_reference(build, fa, gtf=gtf, gtf_only=True,
                                                       genes=panel.gene_symbols())
        return ctx

    embedded, from_gtf = context(False), context(True)
    for build in paths:
        g = from_gtf.reference(build)
        assert set(g.model_sources.values()) == {"gtf"}  # nothing embedded left
        assert set(g.transcripts) >= set(embedded.reference(build).transcripts)
    compared = rows = 0
    for path in _corpus(shared_dir):
        a, b = _rows(embedded, path), _rows(from_gtf, path)
        assert a == b, f"{path}: embedded and GTF+FASTA results differ"
        compared += 1
        rows += len(a) if isinstance(a, list) else 0
    assert compared >= 40 and rows > 500, (compared, rows)
