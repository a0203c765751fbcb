"""End-to-end ``annotate`` on the demo and tiny fixtures.

Expected protein changes come from the genome, not from resmark: the codon of
each hotspot and its genomic bases are listed in shared/reference
hotspot_codons.tsv (e.g. ESR1 Y537 = TAT at chr6:152098787-152098789, so
A>C at 152098788 gives TCT = Ser), translated with the standard genetic code.
"""

from __future__ import annotations

import gzip
import json
import shutil

import pyarrow.parquet as pq
import pytest

from annotator.api import AnnotateConfig, annotate
from annotator.cli import main
from annotator.core.rows import CORE_COLUMNS
from tests.conftest import datapath

DEMO = datapath("demo", "demo_tumour.grch38.vcf.gz")

EXPECTED_DEMO = {
    # variant_key: (gene, hgvsp_short, alteration_class)
    "chr3:179234297:A>G": ("PIK3CA", "p.H1047R", "missense"),  # CAT>CGT
    "chr6:152098785:T>A": ("ESR1", "p.L536H", "missense"),  # CTC>CAC
    "chr6:152098785:T>C": ("ESR1", "p.L536P", "missense"),  # CTC>CCC
    "chr6:152098788:A>C": ("ESR1", "p.Y537S", "missense"),  # TAT>TCT
    "chr6:152098791:A>G": ("ESR1", "p.D538G", "missense"),  # GAC>GGC
    "chr10:87933147:C>T": ("PTEN", "p.R130*", "nonsense"),  # CGA>TGA
    "chr10:121498520:A>C": ("FGFR2", "p.N549K", "missense"),  # AAT>AAG on the minus strand
    "chr14:104780214:C>T": ("AKT1", "p.E17K", "missense"),  # GAG>AAG on the minus strand
    "chr17:7674220:C>T": ("TP53", "p.R248Q", "missense"),  # CGG>CAG on the minus strand
}
# <CNV> records spanning whole genes (MANE GRCh38 gene spans) with CN 9 and 11
EXPECTED_DEMO_CN = {("FGFR1", "amplification", 9.0), ("CCNE1", "amplification", 11.0)}


def run(tmp_path, *inputs, **kw):
    cfg = AnnotateConfig(inputs=[str(i) for i in inputs], outdir=str(tmp_path / "out"), **kw)
    return annotate(cfg)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return run(out, DEMO, formats=("tsv", "json", "parquet", "vcf"))


def test_demo_interpretation(demo):
    (s,) = demo.samples
    assert s.sample == "DEMO_TUMOUR" and s.build.name == "GRCh38"
    small = [r for r in s.rows if r.copy_number is None]
    got = {r.variant_key: (r.gene, r.hgvsp_short, r.alteration_class) for r in small}
    assert got == EXPECTED_DEMO
    cn = {(r.gene, r.alteration_class, r.copy_number) for r in s.rows if r.copy_number is not None}
    assert cn == EXPECTED_DEMO_CN
    assert all(r.rule_id and r.mechanism and r.evidence_level for r in s.rows)
    assert {r.mechanism_category for r in s.rows} <= {"cell_cycle_specific", "cell_cycle_non_specific"}
    assert len({r.mechanism_id for r in s.rows}) >= 7
    ccne1 = next(r for r in s.rows if r.gene == "CCNE1")
    assert ccne1.mechanism_category == "cell_cycle_specific" and ccne1.rule_id
    pik = next(r for r in s.rows if r.gene == "PIK3CA")
    assert (pik.hgvsc, pik.hgvsp, pik.transcript) == ("c.3140A>G", "p.His1047Arg", "NM_006218.4")
    assert (pik.vaf, pik.depth, pik.alt_count) == (pytest.approx(0.311, abs=1e-3), 450, 140)
    assert pik.id == "COSV55873195"


def test_demo_accounting_adds_up(demo):
    acc = demo.samples[0].accounting
    assert acc.balanced
    assert acc.filtered == 1 and dict(acc.filters) == {"weak_evidence": 1}
    # the intergenic chr2 record is skipped through the index and counted from it
    assert acc.records_read + (acc.off_panel_by_index or 0) == 12


def test_demo_flags_polyclonal_esr1(demo):
    kinds = {(f.kind, f.gene) for f in demo.samples[0].flags}
    assert ("polyclonal", "ESR1") in kinds


def test_outputs_and_provenance(demo):
    out = demo.outdir
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        [
            "DEMO_TUMOUR.resmark.tsv", "DEMO_TUMOUR.resmark.json", "DEMO_TUMOUR.resmark.parquet",
            "DEMO_TUMOUR.resmark.vcf.gz", "DEMO_TUMOUR.resmark.vcf.gz.tbi", "accounting.tsv",
            "provenance.json",
        ]
    )
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["genome_build"] == "GRCh38" and prov["samples"] == ["DEMO_TUMOUR"]
    assert prov["panel"]["version"] and len(prov["panel"]["checksum_sha256"]) == 64
    assert {i["role"] for i in prov["inputs"]} == {"vcf", "index"}
    import hashlib

    assert prov["inputs"][0]["sha256"] == hashlib.sha256(DEMO.read_bytes()).hexdigest()
    assert "Research use only" in prov["research_use_only"]
    assert {o["file"] for o in prov["outputs"]} >= {"DEMO_TUMOUR.resmark.tsv"}


def test_tsv_and_parquet_share_the_contract(demo):
    import pandas as pd

    tsv = pd.read_csv(demo.outdir / "DEMO_TUMOUR.resmark.tsv", sep="\t")
    table = pq.read_table(demo.outdir / "DEMO_TUMOUR.resmark.parquet")
    assert list(tsv.columns[: len(CORE_COLUMNS)]) == list(CORE_COLUMNS)
    assert table.column_names == list(tsv.columns)
    assert str(table.schema.field("pos").type) == "int64" and str(table.schema.field("vaf").type) == "double"
    meta = json.loads(table.schema.metadata[b"resmark"])
    assert meta["panel"]["checksum_sha256"] and meta["genome_build"] == "GRCh38"
    assert sorted(tsv["variant_key"]) == sorted(table.column("variant_key").to_pylist())


def test_json_explains_each_alteration(demo):
    doc = json.loads((demo.outdir / "DEMO_TUMOUR.resmark.json").read_text())
    assert doc["accounting"]["balanced"] is True
    expl = {e["variant_key"]: e for e in doc["explanations"]}
    pik = expl["chr3:179234297:A>G"]["matches"][0]
    assert pik["mechanism"]["category"] == "cell_cycle_non_specific"
    items = [ev for st in pik["strategies"] for ev in st["evidence"]]
    assert any(ev["study"].startswith("SOLAR-1") for ev in items)


def test_annotated_vcf_keeps_every_record(demo):
    with gzip.open(demo.outdir / "DEMO_TUMOUR.resmark.vcf.gz", "rt") as fh:
        lines = fh.read().splitlines()
    body = [line for line in lines if not line.startswith("#")]
    assert len(body) == 12
    assert any(line.startswith("##INFO=<ID=RESMARK_HGVSP") for line in lines)
    assert any("RESMARK_HGVSP=p.H1047R" in line for line in body)


@pytest.mark.parametrize(("mode", "n"), [("matched", 11), ("panel", 11), ("all", 12)])
def test_report_modes(tmp_path, mode, n):
    res = run(tmp_path, DEMO, report=mode, formats=("tsv",))
    assert len(res.rows) == n
    if mode == "all":
        assert any(r.chrom == "chr2" and r.gene is None for r in res.rows)


def test_include_filtered(tmp_path):
    res = run(tmp_path, DEMO, include_filtered=True, formats=("tsv",))
    e545k = [r for r in res.rows if r.hgvsp_short == "p.E545K"]
    assert len(e545k) == 1 and e545k[0].filter == "weak_evidence"


def _rewrite_without_chr(src, dst):
    with gzip.open(src, "rt") as fh, open(dst, "w") as out:
        for line in fh:
            out.write(line.replace("ID=chr", "ID=") if line.startswith("##contig") else
                      line[3:] if line.startswith("chr") else line)


def test_chromosome_style_does_not_change_rows(tmp_path, demo):
    plain = tmp_path / "demo_nochr.vcf"
    _rewrite_without_chr(DEMO, plain)
    res = run(tmp_path, plain, formats=("tsv",))
    ours = {(r.variant_key, r.hgvsp_short, r.rule_id) for r in res.rows}
    assert ours == {(r.variant_key, r.hgvsp_short, r.rule_id) for r in demo.samples[0].rows}
    assert {r.input_chrom for r in res.rows} <= {"3", "6", "8", "10", "14", "17", "19"}


def test_wrong_build_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(DEMO), "-o", str(tmp_path / "o"), "--build", "GRCh37"])
    assert e.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "conflicts with the header" in err[0] and str(DEMO) in err[0]
    assert not (tmp_path / "o").exists()


def test_usage_errors_exit_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(DEMO), "-o", str(tmp_path / "o"), "--report", "bogus"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(tmp_path / "absent.vcf"), "-o", str(tmp_path / "o")])
    assert e.value.code == 2
    assert "absent.vcf" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    from annotator import __version__

    assert __version__ in capsys.readouterr().out


def test_existing_results_need_force(tmp_path):
    run(tmp_path, DEMO, formats=("tsv",))
    from annotator.errors import OutputError

    with pytest.raises(OutputError):
        run(tmp_path, DEMO, formats=("tsv",))
    run(tmp_path, DEMO, formats=("tsv",), force=True)


def test_sites_only_vcf(tmp_path):
    res = run(tmp_path, datapath("callers", "info_tvaf_tdp_sites_only.vcf"), formats=("tsv",))
    (row,) = res.rows
    assert row.hgvsp_short == "p.H1047R" and row.vaf == pytest.approx(0.222) and row.alt_count is None
    assert row.sample  # named after the file when there is no sample column


def test_indel_written_right_shifted_gets_left_aligned_key(tmp_path):
    """PIK3CA exon 21 GRCh38: chr3:179234280-179234300 contains the run AAAA? find one in the
    embedded sequence and delete one base at each end of the run: both records must get one key."""
    from annotator.reference import load_reference

    ref = load_reference("GRCh38")
    start, end = 179234000, 179234600
    seq = ref.sequence("chr3", start, end)
    assert seq is not None
    i = next(k for k in range(1, len(seq) - 6) if seq[k] == seq[k + 1] == seq[k + 2] and seq[k - 1] != seq[k])
    run_start = start + i  # 1-based position of the first base of the homopolymer
    run_len = 3
    while seq[i + run_len] == seq[i]:
        run_len += 1
    anchor_left = ref.sequence("chr3", run_start - 1, run_start - 1)
    last = run_start + run_len - 1
    header = (
        "##fileformat=VCFv4.2\n##contig=<ID=chr3,length=198295559>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    )
    left = tmp_path / "left.vcf"
    right = tmp_path / "right.vcf"
    base = seq[i]
    left.write_text(header + f"chr3\t{run_start - 1}\t.\t{anchor_left}{base}\t{anchor_left}\t.\tPASS\t.\n")
    right.write_text(header + f"chr3\t{last - 1}\t.\t{base}{base}\t{base}\t.\tPASS\t.\n")
    a = run(tmp_path / "a", left, report="panel", formats=("tsv",)).rows
    b = run(tmp_path / "b", right, report="panel", formats=("tsv",)).rows
    assert len(a) == len(b) == 1
    assert a[0].variant_key == b[0].variant_key
    assert a[0].hgvsc == b[0].hgvsc  # HGVS then shifts 3' on the transcript
    assert b[0].left_aligned


def test_duplicate_record_is_rejected_with_reason(tmp_path):
    src = datapath("callers", "mutect2_ad_af_dp.vcf")
    text = src.read_text()
    body = [line for line in text.splitlines() if not line.startswith("#")]
    dup = tmp_path / "dup.vcf"
    dup.write_text(text + body[0] + "\n")
    res = run(tmp_path, dup, formats=("tsv",))
    acc = res.samples[0].accounting
    assert acc.rejected == 1 and acc.balanced
    assert any("duplicate" in k for k in acc.reasons)


def test_python_api_without_files(tmp_path):
    from annotator.api import RunContext, annotate_file
    from annotator.knowledge import load_panel

    cfg = AnnotateConfig(inputs=[str(DEMO)], outdir=str(tmp_path / "unused"))
    s = annotate_file(DEMO, RunContext(cfg, load_panel()))
    assert len(s.rows) == 11 and not (tmp_path / "unused").exists()


def test_demo_copy_without_index_gives_same_rows(tmp_path, demo):
    copy = tmp_path / "noindex.vcf.gz"
    shutil.copy(DEMO, copy)
    res = run(tmp_path, copy, formats=("tsv",))
    assert [r.variant_key for r in res.rows] == [r.variant_key for r in demo.samples[0].rows]
    assert res.samples[0].accounting.balanced


def test_refseq_contig_names_are_understood(tmp_path, demo):
    from annotator.core.chromnames import to_style

    with gzip.open(DEMO, "rt") as fh:
        src_lines = fh.read().splitlines()
    out_lines = []
    for line in src_lines:
        if line.startswith("##contig=<ID="):
            name = line[len("##contig=<ID="):].split(",")[0]
            line = line.replace(f"ID={name},", f"ID={to_style(name, 'refseq', 'GRCh38')},")
        elif not line.startswith("#"):
            chrom, rest = line.split("\t", 1)
            line = f"{to_style(chrom, 'refseq', 'GRCh38')}\t{rest}"
        out_lines.append(line)
    refseq = tmp_path / "demo_refseq.vcf"
    refseq.write_text("\n".join(out_lines) + "\n")
    res = run(tmp_path, refseq, formats=("tsv",))
    assert {(r.variant_key, r.hgvsp_short) for r in res.rows} == {
        (r.variant_key, r.hgvsp_short) for r in demo.samples[0].rows
    }
    assert any(r.input_chrom == "NC_000003.12" for r in res.rows)


def test_build_inferred_from_ref_alleles_without_header_hints(tmp_path):
    """Strip ##contig/##reference: the REF bases (real GRCh38 hotspot codons) still say GRCh38."""
    with gzip.open(DEMO, "rt") as fh:
        lines = [line for line in fh if not line.startswith(("##contig", "##reference"))]
    bare = tmp_path / "bare.vcf"
    bare.write_text("".join(lines))
    res = run(tmp_path, bare, formats=("tsv",))
    assert res.samples[0].build.name == "GRCh38"
    assert len(res.rows) == 11


def test_build_undecidable_asks_for_build(tmp_path, capsys):
    # inside CDKN2A in both builds (GRCh37 chr9:21,967,751-21,995,300; GRCh38
    # chr9:21,967,752-21,995,301), and REF N cannot be compared: nothing decides
    bare = tmp_path / "bare.vcf"
    bare.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr9\t21971000\t.\tN\tA\t.\tPASS\t.\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(bare), "-o", str(tmp_path / "o")])
    assert e.value.code == 1
    assert "pass --build GRCh37 or --build GRCh38" in capsys.readouterr().err


def test_no_record_near_a_panel_gene_in_either_build_is_nothing_to_annotate(tmp_path, capsys):
    # chr2:47,403,000 lies in no panel gene region of GRCh37 or GRCh38: the build cannot
    # matter, so the run finishes (exit 0) with the record off-panel and a warning
    bare = tmp_path / "bare.vcf"
    bare.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr2\t47403000\t.\tG\tA\t.\tPASS\t.\n"
    )
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(bare), "-o", str(tmp_path / "o"), "--formats", "tsv,json"])
    assert e.value.code == 0
    err = capsys.readouterr().err
    assert "nothing to annotate" in err and "[W::" not in err
    doc = json.loads((tmp_path / "o" / "bare.resmark.json").read_text())
    acc = doc["accounting"]
    assert acc["records_read"] + acc["off_panel_skipped_by_index"] == 1


def test_cli_run_log_goes_into_outdir(tmp_path, capsys):
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as e:
        main(["annotate", str(DEMO), "-o", str(out), "--formats", "tsv"])
    assert e.value.code == 0
    log_text = (out / "resmark.log").read_text()
    assert "12 records = 10 annotated + 1 off-panel" in log_text
    prov = json.loads((out / "provenance.json").read_text())
    assert "resmark.log" in {o["file"] for o in prov["outputs"]}
    # the summary is printed even though INFO logging is not shown on stderr
    err = capsys.readouterr().err
    assert "12 records = 10 annotated" in err and "INFO" not in err


def test_demo_names_filtered_hotspot(demo):
    # the demo's PIK3CA E545K carries FILTER weak_evidence: not annotated, but named
    acc = demo.samples[0].accounting
    assert acc.filtered_rule_match_count == 1
    (text,) = acc.filtered_rule_matches
    assert "PIK3CA p.E545K" in text and "weak_evidence" in text and "would match RULE-PIK3CA" in text
    # one line adding up to the file's 12 records (count of non-header lines in the demo)
    assert acc.summary_line().startswith("12 records = 10 annotated + 1 off-panel")


def test_alleles_the_tumour_does_not_carry_are_skipped_and_counted(tmp_path):
    # test_vcfs/callers/not_carried_two_samples.vcf: record 1 AD 86,0 in TUMOUR (NORMAL_X 40,38),
    # record 3 GT ./. in TUMOUR (NORMAL_X 0/1); record 2 is carried (AD 50,20)
    res = annotate(AnnotateConfig(inputs=[str(datapath("callers", "not_carried_two_samples.vcf"))],
                                  outdir=str(tmp_path / "o"), report="panel", formats=("tsv",)))
    (s,) = res.samples
    acc = s.accounting
    assert acc.not_carried == 2 and dict(acc.carriers) == {"NORMAL_X": 2}
    assert acc.balanced and acc.records_in_file == 3
    assert {r.pos for r in s.rows} == {152098788}
    assert "+ 2 not carried" in acc.summary_line()


@pytest.mark.parametrize("preset", [None, "3"])
def test_cli_runs_openblas_without_worker_threads_unless_the_user_chose(preset):
    """The CLI sets OPENBLAS_NUM_THREADS=1 before numpy loads (its idle workers spin ~0.1 s
    CPU per run); a number the user set is kept.  Checked in a fresh interpreter, where the
    value numpy's OpenBLAS was started with is what the environment held at import."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    code = ("import os, sys\nfrom annotator.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(os.environ.get('OPENBLAS_NUM_THREADS'), 'numpy' in sys.modules, file=sys.stderr)")
    got = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert got.stderr.split()[-2:] == [preset or "1", "False"]
