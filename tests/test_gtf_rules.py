"""With --gtf and --fasta, small variants in FZR1, HDAC5, WEE1, NCOR1 and FAT1 reach their rules.

Gene spans and strands are NCBI MANE v1.5 (the embedded coordinate table); the
exon structure and bases inside them are constructed here, so the expected
HGVS follows by hand from the construction:

* transcript 5'->3': exon 1 = 30 UTR + 30 CDS bases, 500-base intron, exon 2 =
  90 CDS bases, 500-base intron, exon 3 = 33 CDS bases (stop included) + 27 UTR;
* CDS = ATG + CAG x 49 + TAA (153 bases); codon 4 (c.10-c.12) is CAG;
* c.10 sits 39 bases into the transcript: genomic start + 39 on the plus strand
  (REF C), end - 39 on the minus strand (REF G, the complement);
* c.10C>T makes TAG: p.Gln4Ter (nonsense); c.11A>G makes CGG: p.Gln4Arg.

FAT1 keeps its real (embedded) MANE model, which ships without sequence; the
FASTA gives its CDS the same ATG + CAG... + TAA bases, so c.10C>T is again
p.Q4* (FAT1 is on the minus strand and its first coding exon holds c.1-c.12).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotator.annotation.config import AnnotateConfig
from annotator.annotation.run import annotate
from annotator.reference import load_reference
from tests.gtf_helpers import Model, gtf_text, region_fasta

EMB38 = load_reference("GRCh38")
COMP = str.maketrans("ACGT", "TGCA")
CDS = "ATG" + "CAG" * 49 + "TAA"


@pytest.fixture(autouse=True)
def _no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in ("RESMARK_FASTA", "RESMARK_GTF", "RESMARK_GTF_ONLY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("RESMARK_CONFIG", str(tmp_path / "absent.toml"))


def revcomp(s: str) -> str:
    return s.translate(COMP)[::-1]


def constructed(gene: str) -> tuple[Model, tuple[str, int, int, str], int]:
    """(model, region FASTA piece, genomic position of c.10) inside the gene's MANE span."""
    r = EMB38.gene_region(gene)
    assert r is not None and gene not in EMB38.transcripts
    utr5, utr3 = "C" * 30, "C" * 27
    intron = "GT" + "A" * 496 + "AG"
    oriented = utr5 + CDS[:30] + intron + CDS[30:120] + intron + CDS[120:] + utr3  # 5'->3'
    n = len(oriented)
    spans_o = [(0, 59), (560, 649), (1150, 1209)]  # exons, 0-based offsets in ``oriented``
    cds_o = (30, 1182)
    if r.strand == "+":
        start = r.start
        exons = [(start + a, start + b) for a, b in spans_o]
        cds = (start + cds_o[0], start + cds_o[1])
        piece = (r.chrom, start, start + n - 1, oriented)
        c10 = start + 39
    else:
        end = r.end
        exons = [(end - b, end - a) for a, b in spans_o]
        cds = (end - cds_o[1], end - cds_o[0])
        piece = (r.chrom, end - n + 1, end, revcomp(oriented))
        c10 = end - 39
    model = Model(gene, r.chrom, r.strand, f"ENSTTEST{gene}.1", exons, cds, ("MANE_Select",))
    return model, piece, c10


def fat1_pieces() -> tuple[list[tuple[str, int, int, str]], int]:
    t = EMB38.transcripts["FAT1"]
    assert t.strand == "-" and t.cds_seq is None
    cds = "ATG" + "CAG" * (t.cds_length // 3 - 2) + "TAA"
    pieces, used = [], 0
    for s, e in t.exons:  # transcript order (descending on the minus strand)
        lo, hi = max(s, t.cds_start), min(e, t.cds_end)
        if lo > hi:
            continue
        seq = cds[used : used + hi - lo + 1]
        used += hi - lo + 1
        pieces.append((t.chrom, lo, hi, revcomp(seq)))
    assert used == len(cds) and pieces[0][2] - pieces[0][1] + 1 >= 12
    return pieces, t.cds_end - 9  # c.10 on the minus strand


def write_vcf(path: Path, records: list[tuple[str, int, str, str, str]]) -> Path:
    head = ["##fileformat=VCFv4.2", "##reference=GRCh38",
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">']
    head += [f"##contig=<ID={c},length={EMB38_LEN[c]}>" for c in sorted({r[0] for r in records})]
    head.append("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tTUMOR")
    body = [f"{c}\t{p}\t{i}\t{ref}\t{alt}\t.\tPASS\t.\tGT\t0/1" for c, p, i, ref, alt in
            sorted(records, key=lambda r: (int(r[0][3:]), r[1]))]
    path.write_text("\n".join(head + body) + "\n")
    return path


EMB38_LEN = {"chr4": 190214555, "chr11": 135086622, "chr17": 83257441, "chr19": 58617616}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp = tmp_path_factory.mktemp("gtfrules")
    models, pieces, records, expected = [], [], [], {}
    for gene, change in (("FZR1", "stop"), ("HDAC5", "stop"), ("NCOR1", "stop"), ("WEE1", "missense")):
        model, piece, c10 = constructed(gene)
        models.append(model)
        pieces.append(piece)
        plus = model.strand == "+"
        if change == "stop":  # c.10C>T
            ref, alt, pos = ("C", "T", c10) if plus else ("G", "A", c10)
            expected[gene] = ("c.10C>T", "p.Q4*", "nonsense")
        else:  # c.11A>G, one base 3' of c.10 in transcript order
            pos = c10 + 1 if plus else c10 - 1
            ref, alt = ("A", "G") if plus else ("T", "C")
            expected[gene] = ("c.11A>G", "p.Q4R", "missense")
        records.append((model.chrom, pos, gene.lower(), ref, alt))
    fat, fat_c10 = fat1_pieces()
    pieces += fat
    records.append(("chr4", fat_c10, "fat1", "G", "A"))
    expected["FAT1"] = ("c.10C>T", "p.Q4*", "nonsense")
    gtf = tmp / "panel_extra.gtf"
    gtf.write_text(gtf_text(models))
    fasta = region_fasta(sorted(pieces), tmp / "regions.fa")
    vcf = write_vcf(tmp / "lof.vcf", records)
    return {"gtf": gtf, "fasta": fasta, "vcf": vcf, "expected": expected}


RULES = {"FZR1": "RULE-FZR1-LOF", "HDAC5": "RULE-HDAC5-LOF", "NCOR1": "RULE-NCOR1-GENE",
         "WEE1": "RULE-WEE1-GENE", "FAT1": "RULE-FAT1-LOF"}


def test_small_variants_reach_their_rules_with_gtf_and_fasta(inputs: dict, tmp_path: Path) -> None:
    cfg = AnnotateConfig(inputs=[inputs["vcf"]], outdir=tmp_path / "out", gtf=inputs["gtf"],
                         fasta=inputs["fasta"], formats=("json", "html"))
    result = annotate(cfg)
    rows = {r.gene: r for r in result.samples[0].rows}
    assert set(rows) == set(RULES)
    for gene, (hgvsc, hgvsp, cls) in inputs["expected"].items():
        r = rows[gene]
        assert (r.hgvsc, r.hgvsp_short, r.alteration_class) == (hgvsc, hgvsp, cls), gene
        assert RULES[gene] in (r.rule_id or "").split(";") or r.rule_id == RULES[gene], (gene, r.rule_id)
    assert rows["FZR1"].transcript == "NM_016263.4"  # MANE tag: the MANE RefSeq id
    doc = json.loads(next((tmp_path / "out").glob("*.resmark.json")).read_text())
    assert doc["qc"]["uninterpreted"] == []
    unreachable = {g for x in doc["qc"]["unreachable_rules"] for g in x["genes"]}
    assert not unreachable & set(RULES)  # FASTA and GTF serve every rule of these five genes
    gtf_prov = doc["resmark"]["reference"]["GRCh38"]["gtf"]
    assert gtf_prov["path"] == str(inputs["gtf"]) and len(gtf_prov["sha256"]) == 64
    assert gtf_prov["transcripts"]["FZR1"] == {"transcript": "ENSTTESTFZR1.1", "refseq": "NM_016263.4",
                                               "ensembl": "ENSTTESTFZR1.1", "chosen_by": "MANE Select tag"}
    roles = {i["role"]: i for i in doc["resmark"]["inputs"]}
    assert roles["gtf"]["sha256"] == gtf_prov["sha256"] and roles["fasta"]["path"] == str(inputs["fasta"])


def test_without_them_the_qc_section_says_what_is_missing(inputs: dict, tmp_path: Path) -> None:
    result = annotate(AnnotateConfig(inputs=[inputs["vcf"]], outdir=tmp_path / "out", report="panel",
                                     formats=("json", "html")))
    rows = {r.gene: r for r in result.samples[0].rows}
    assert all(not r.rule_id for r in rows.values())
    doc = json.loads(next((tmp_path / "out").glob("*.resmark.json")).read_text())
    msgs = doc["qc"]["messages"]
    for gene in ("FZR1", "HDAC5", "NCOR1", "WEE1"):
        assert f"1 variant in {gene} has no transcript model: give --gtf" in msgs
    assert "1 variant in FAT1 lacks sequence: give --fasta" in msgs
    reach = {x["reason"]: x for x in doc["qc"]["unreachable_rules"]}
    assert {"FZR1", "HDAC5"} <= set(reach["no_model"]["genes"]) and "RULE-FZR1-LOF" in reach["no_model"]["rules"]
    assert reach["unlocatable"]["genes"] == ["MUC16"]
    assert "FAT1" in reach["no_sequence"]["genes"]
    html = next((tmp_path / "out").glob("*.report.html")).read_text()
    assert 'id="uninterpreted"' in html and "1 variant in FAT1 lacks sequence: give --fasta" in html


def test_configured_once_in_the_environment(inputs: dict, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESMARK_GTF", str(inputs["gtf"]))
    monkeypatch.setenv("RESMARK_FASTA", str(inputs["fasta"]))
    result = annotate(AnnotateConfig(inputs=[inputs["vcf"]], outdir=tmp_path / "out", formats=("json",)))
    rows = {r.gene: r.rule_id for r in result.samples[0].rows}
    assert rows.get("FZR1") and rows.get("FAT1")
    ref = result.provenance["reference"]["GRCh38"]
    assert ref["gtf_from"] == "RESMARK_GTF" and ref["fasta_from"] == "RESMARK_FASTA"


def test_bad_gtf_on_the_command_line_writes_nothing(inputs: dict, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from annotator.cli import main

    bad = tmp_path / "bad.gtf"
    text = Path(inputs["gtf"]).read_text().splitlines()
    bad.write_text("\n".join(text[:5] + [text[5].replace("\t", " ")] + text[6:]) + "\n")
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as info:
        main(["annotate", str(inputs["vcf"]), "--gtf", str(bad), "-o", str(out)])
    assert info.value.code == 1
    err = capsys.readouterr().err
    lines = [x for x in err.splitlines() if str(bad) in x]
    assert len(lines) == 1 and "line 6: not a GTF/GFF3 line" in lines[0], err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())


def test_genes_the_gtf_lacks_are_named_with_the_gtf(inputs: dict, tmp_path: Path) -> None:
    result = annotate(AnnotateConfig(inputs=[inputs["vcf"]], outdir=tmp_path / "out", gtf=inputs["gtf"],
                                     formats=("json",)))
    info = result.provenance["reference"]["GRCh38"]
    assert "MUC16" in info["gtf"]["not_found"] and info["panel_genes_unlocated"] == ["MUC16"]
    from annotator.annotation.qc import panel_reach
    from annotator.knowledge import load_panel

    reach = {x["reason"]: x for x in panel_reach(load_panel(), info)}
    assert reach["unlocatable"]["message"].endswith(
        f"the GTF given ({inputs['gtf']}) has no protein-coding transcript for them on the primary assembly")
    assert "FZR1" not in reach["no_model"]["genes"]  # the GTF gave FZR1 a model


def test_panel_validate_warns_about_rules_that_cannot_fire(capsys: pytest.CaptureFixture[str]) -> None:
    from annotator.cli import main

    with pytest.raises(SystemExit) as info:
        main(["panel", "validate", str(Path(__file__).resolve().parent.parent / "panels" / "resmark_core")])
    assert info.value.code == 0
    err = capsys.readouterr().err
    assert "warning: with the embedded GRCh38 reference, rules on " in err and "HDAC5" in err
    assert "need a transcript model for small variants: give --gtf" in err
    assert "MUC16 cannot be located" in err
