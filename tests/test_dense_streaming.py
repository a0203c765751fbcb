"""Dense panels: outputs written without holding what they do not need, same content.

Truth here comes from the records' own text (the AD/DP each line carries, the
number of lines), from ``json.dumps`` (the encoder the streamed JSON must
equal byte for byte) and from a plain ``set`` (what the compact duplicate
check must answer).  No timing or memory is asserted: bench/run.py --dense
measures those.
"""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from annotator.annotation.seen import SeenAlleles
from annotator.api import AnnotateConfig, annotate
from annotator.core.models import VariantKey
from annotator.io import jsonout, readsupport
from annotator.io.vcfin import VcfSource
from annotator.report import htmlbound
from tests.conftest import datapath

# TP53 exons 5-8 (GRCh38), where the embedded reference has sequence
TP53_SPAN = ("chr17", 7673700, 7675400)
HEADER = """##fileformat=VCFv4.2
##reference=GRCh38
##contig=<ID=chr17,length=83257441,assembly=GRCh38>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=weak_evidence,Description="Mutect2 filter">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">
##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fractions">
##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">
##normal_sample=N1
##tumor_sample=T1
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tN1\tT1
"""


def _dense_vcf(path: Path) -> list[str]:
    """A record at every base of TP53_SPAN (REF from the embedded sequence), some multi-allelic,
    some filtered, a few not carried and one duplicate; returns the record lines."""
    from annotator.reference import load_reference

    chrom, start, end = TP53_SPAN
    seq = load_reference("GRCh38").sequence(chrom, start, end)
    assert seq is not None
    rng = random.Random(17)
    lines = []
    for off, ref in enumerate(seq.upper()):
        if ref not in "ACGT":
            continue
        pos = start + off
        alts = [b for b in "ACGT" if b != ref]
        rng.shuffle(alts)
        n_alt = 2 if off % 37 == 0 else 1
        dp = rng.randint(800, 3000)
        alt_reads = [rng.choice((0, 1, 3, 12, 60)) if off % 53 == 0 else rng.randint(2, 80)
                     for _ in range(n_alt)]
        ad = [dp - sum(alt_reads), *alt_reads]
        af = ",".join(f"{a / dp:.4f}" for a in alt_reads)
        gt = "0/1" if n_alt == 1 else "0/1/2"
        filt = "weak_evidence" if off % 11 == 0 else "PASS"
        normal = f"0/0:{dp // 2},{',' .join('0' * n_alt)}:{','.join(['0.0000'] * n_alt)}:{dp // 2}"
        tumour = f"{gt}:{','.join(map(str, ad))}:{af}:{dp}"
        lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{','.join(alts[:n_alt])}\t.\t{filt}\t.\tGT:AD:AF:DP\t"
                     f"{normal}\t{tumour}")
    lines.insert(401, lines[400])  # the same allele twice: the second is a duplicate
    path.write_text(HEADER + "\n".join(lines) + "\n")
    return lines


@pytest.fixture(scope="module")
def dense_run(tmp_path_factory: pytest.TempPathFactory):
    d = tmp_path_factory.mktemp("dense")
    vcf = d / "dense.vcf"
    lines = _dense_vcf(vcf)
    res = annotate(AnnotateConfig(inputs=[str(vcf)], outdir=str(d / "out"), report="panel",
                                  formats=("tsv", "json", "html")))
    return lines, res, d / "out"


def test_every_record_accounted_for_and_listed(dense_run):
    lines, res, out = dense_run
    (s,) = res.samples
    acc = s.accounting
    assert acc.records_read == len(lines) and acc.balanced
    assert acc.rejected == 1 and acc.reasons == {"duplicate of an earlier record (same normalised allele)": 1}
    filtered = sum(1 for x in lines if x.split("\t")[6] != "PASS")
    assert acc.filtered == filtered
    with open(out / "T1.resmark.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    # --report panel lists every allele of every PASS record once (the duplicate aside); an
    # allele without alt reads stays listed, since no other sample carries it either
    alleles = sum(len(x.split("\t")[4].split(",")) for i, x in enumerate(lines)
                  if x.split("\t")[6] == "PASS" and i != 401)
    assert len(rows) == alleles == acc.listed
    doc = json.loads((out / "T1.resmark.json").read_text())
    assert len(doc["rows"]) == len(rows)


def test_rows_carry_the_records_own_counts(dense_run):
    lines, _, out = dense_run
    with open(out / "T1.resmark.tsv", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    for r in rows:
        f = lines[int(r["record_index"])].split("\t")
        assert (f[0], f[1], f[3]) == (r["input_chrom"], r["input_pos"], r["input_ref"])
        ad = [int(x) for x in f[10].split(":")[1].split(",")]
        k = int(r["allele_index"])
        assert int(r["alt_count"]) == ad[k] and int(r["ref_count"]) == ad[0]
        assert int(r["depth"]) == int(f[10].split(":")[3])
        assert r["vaf"] == f"{float(f[10].split(':')[2].split(',')[k - 1]):.6g}"
        assert int(r["normal_alt_count"]) == 0


def test_html_of_a_large_sample_is_bounded_and_says_so(dense_run):
    _, res, out = dense_run
    (s,) = res.samples
    assert len(s.rows) > htmlbound.HTML_ROW_LIMIT  # the fixture is large enough to be bounded
    page = (out / "T1.report.html").read_text()
    assert f"of {len(s.rows):,} listed alterations shown" in page
    assert "Every row is in the TSV and JSON outputs" in page
    assert page.count('<tr id="alt-') < len(s.rows)


def test_html_bound_keeps_claimed_rows_and_small_samples_whole():
    def row(i: int, claimed: bool) -> dict:
        return {"variant_key": f"k{i}", "gene": "TP53" if i % 2 else "RB1", "claimed": claimed}

    small = [row(i, False) for i in range(htmlbound.HTML_ROW_LIMIT)]
    shown, alerts = htmlbound.bound_rows(small, lambda r: r["claimed"])
    assert shown is small and alerts == []
    big = [row(i, i % 100 == 0) for i in range(3000)]
    shown, alerts = htmlbound.bound_rows(big, lambda r: r["claimed"])
    claimed = [r for r in big if r["claimed"]]
    assert [r for r in shown if r["claimed"]] == claimed
    others = [r for r in big if not r["claimed"]]
    assert [r for r in shown if not r["claimed"]] == others[: htmlbound.OTHERS_SHOWN]
    left = len(others) - htmlbound.OTHERS_SHOWN
    assert f"{left:,} more are counted" in alerts[0]["message"]


def test_streamed_json_is_json_dumps_byte_for_byte(tmp_path: Path, monkeypatch):
    from annotator.io.jsonindent import Fragments

    shared = {"name": "mechanism ü", "values": [1.5, -0.0, 1e-7, float("nan")], "none": None}
    doc = {
        "resmark": {"tool": "resmark", "inputs": [{"path": "a\tb\n\"c\"", "sha256": "0" * 64}]},
        "empty": [{}, [], ()],
        "rows": [{"pos": i, "vaf": i / 7, "ok": i % 2 == 0} for i in range(60)],
        "explanations": [{"variant_key": f"k{i}", "matches": [shared, (shared,)]} for i in range(40)],
        "by_number": {1: "int key", None: "none key"},  # keys json turns into text
        "tail": "end",
    }
    expected = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    monkeypatch.setattr(jsonout, "FLUSH_CHARS", 64)  # many small batches
    jsonout.write_plain(tmp_path / "a.json", doc)
    assert (tmp_path / "a.json").read_text(encoding="utf-8") == expected
    frag = Fragments()
    frag.constant.add(id(shared))  # encoded once, re-indented where it appears
    jsonout.write_plain(tmp_path / "b.json", doc, frag)
    assert (tmp_path / "b.json").read_text(encoding="utf-8") == expected


def test_streamed_json_of_a_real_document(dense_run):
    _, res, out = dense_run
    text = (out / "T1.resmark.json").read_text(encoding="utf-8")
    doc = json.loads(text)
    assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert len(doc["rows"]) == len(res.samples[0].rows)


def test_kept_unmatched_reads_what_qc_counts():
    from annotator.annotation import qc, seen

    assert (seen.NO_MODEL, seen.NO_SEQUENCE) == (qc.NO_MODEL, qc.NO_SEQUENCE)


@pytest.mark.parametrize("order", ["unsorted", "sorted", "mostly sorted"])
def test_seen_alleles_is_a_set_also_for_unsorted_input(order):
    rng = random.Random(5)
    keys = [VariantKey(rng.choice(("chr1", "chr2")), rng.randint(1, 400), rng.choice("ACGTN"),
                       rng.choice(("A", "C", "G", "T", "AT", "CGG"))) for _ in range(4000)]
    if order != "unsorted":  # as a sorted file gives them, duplicates and tri-allelic sites included
        keys.sort(key=lambda k: (k.chrom, k.pos))
    if order == "mostly sorted":
        for _ in range(200):
            i, j = rng.randrange(len(keys)), rng.randrange(len(keys))
            keys[i], keys[j] = keys[j], keys[i]
    seen, truth = SeenAlleles(move_at=50), set()
    for k in keys:
        assert (k in seen) == (k in truth)
        # as the pipeline asks: add it, was it new? (a key found is a duplicate, not added again)
        assert seen.add_new(k, k.chrom, k.pos) == (k not in truth)
        truth.add(k)
    assert len(seen) == len(truth)
    assert seen.moved  # substitutions did move to the compact arrays
    for k in keys:
        assert k in seen
    assert VariantKey("chr1", 401, "A", "C") not in seen


@pytest.mark.parametrize("name", sorted(p.name for p in datapath("callers").glob("*.vcf")))
def test_one_piece_ad_reading_equals_the_general_path(name, monkeypatch):
    def read(path: Path) -> list:
        src = VcfSource(path)
        try:
            return [(r.index, tuple(r.support)) for r in src.records()]  # read now, not later
        finally:
            src.close()

    path = datapath("callers", name)
    fast = read(path)
    monkeypatch.setattr(readsupport, "AD_LAYOUT", object())  # no layout is it: general path only
    assert read(path) == fast


def test_one_piece_ad_reading_on_the_external_corpus(shared_dir, monkeypatch):
    files = sorted(p for p in (shared_dir / "external" / "vcf").rglob("*")
                   if p.name.endswith((".vcf", ".vcf.gz")))[:12]

    def read(path: Path) -> list:
        try:
            src = VcfSource(path)
        except Exception:  # noqa: BLE001 - files the reader refuses are another test's concern
            return []
        try:
            return [(r.index, tuple(r.support)) for r in src.records()]  # read now, not later
        except Exception:  # noqa: BLE001
            return []
        finally:
            src.close()

    fast = {p: read(p) for p in files}
    monkeypatch.setattr(readsupport, "AD_LAYOUT", object())
    for p in files:
        assert read(p) == fast[p], p


def test_lazy_document_is_the_whole_documents_json_and_report(dense_run):
    """The run's document makes its rows and explanations as they are read, and its rule
    matches are shared between alterations: its JSON text and its report must be those of
    the whole document converted the plain way (``to_plain``, ``json.dumps``)."""
    from annotator.annotation.document import sample_document
    from annotator.knowledge import load_panel
    from annotator.report import html
    from annotator.report.context import panel_info
    from annotator.report.plain import to_plain

    _, res, out = dense_run
    (s,) = res.samples
    text = (out / "T1.resmark.json").read_text(encoding="utf-8")
    panel = load_panel()
    whole = to_plain(sample_document(s, json.loads(text)["resmark"], panel))
    assert text == json.dumps(whole, indent=2, ensure_ascii=False) + "\n"
    page = (out / "T1.report.html").read_text(encoding="utf-8")
    assert page == html.render_sample_document(whole, panel_info(panel))


def test_shared_matches_equal_matches_built_afresh(dense_run):
    from annotator.knowledge import load_panel
    from annotator.knowledge.matcher import match_alteration

    _, res, _ = dense_run
    panel = load_panel()
    matched = [(a, ms) for _, a, ms in res.samples[0].alterations if ms]
    assert len(matched) > 100
    for a, ms in matched:
        assert ms == match_alteration(panel, a)  # the same values as a match of its own
    distinct = {id(m) for _, ms in matched for m in ms}
    assert len(distinct) < len(matched) / 10  # and shared: a few rules, many alterations


def test_row_object_is_the_rows_json_object():
    import math
    from dataclasses import replace

    from annotator.core.rows import COLUMNS, RowObject
    from annotator.report.plain import to_plain
    from tests.test_report_data import demo_sample

    sa, _, _ = demo_sample()
    rows = [*sa.rows, replace(sa.rows[0], vaf=math.nan, qual=math.inf, log2=-math.inf)]
    for r in rows:
        view = RowObject(r)
        assert dict(view) == to_plain(r.as_dict()) and list(view) == list(COLUMNS)
        assert view.get("no such column", 7) == 7 and "no such column" not in view
        with pytest.raises(KeyError):
            view["no such column"]
    assert RowObject(rows[-1])["vaf"] is None and RowObject(rows[-1]).get("log2") is None
