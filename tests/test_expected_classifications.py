"""End to end: ``resmark annotate`` on real alterations against an independent table.

``tests/data/expected_classifications.tsv`` lists real alterations with the
classification, strategy levels and flags that public sources support (FDA
labels and their companion diagnostics, trial eligibility, OncoKB-style
functional evidence; the source is written on every row). Each sample's VCF is
built here at real GRCh38 coordinates derived from the shared MANE transcript
models (``../shared/reference/transcript_models.tsv`` + ``cds_GRCh38.fa``),
cross-checked against Cancer Hotspots v2 where it lists the change; copy-number
events go in a gene copy-number table. One cohort run annotates them all
through the CLI, with the sheet's ``prior_therapy`` column.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from annotator.cli import cli

pytestmark = pytest.mark.shared

TABLE = Path(__file__).parent / "data" / "expected_classifications.tsv"
CODON = {
    a + b + c: aa
    for (a, b, c), aa in zip(
        ((x, y, z) for x in "TCAG" for y in "TCAG" for z in "TCAG"),
        "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG",
        strict=True,
    )
}
COMP = str.maketrans("ACGT", "TGCA")


def _table() -> list[dict[str, str]]:
    lines = [ln for ln in TABLE.read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    return list(csv.DictReader(lines, delimiter="\t"))


def _models(shared: Path) -> dict[str, tuple[str, str, list[int], str]]:
    """gene -> (chrom, strand, genomic position of each CDS base in CDS order, CDS)."""
    seqs: dict[str, str] = {}
    name = ""
    for line in (shared / "reference" / "cds_GRCh38.fa").read_text().splitlines():
        if line.startswith(">"):
            name = line[1:].split("|")[0]
            seqs[name] = ""
        else:
            seqs[name] += line.strip().upper()
    out = {}
    with (shared / "reference" / "transcript_models.tsv").open() as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["build"] != "GRCh38" or row["gene"] not in seqs:
                continue
            pos: list[int] = []
            for seg in row["cds_exons_tx_order"].split(","):
                s, e = (int(x) for x in seg.split("-"))
                pos.extend(range(s, e + 1) if row["strand"] == "+" else range(e, s - 1, -1))
            out[row["gene"]] = (row["chrom"], row["strand"], pos, seqs[row["gene"]])
    return out


def _snvs(model: tuple[str, str, list[int], str], change: str) -> list[tuple[str, int, str, str]]:
    """Every single-base change of the codon that gives ``change``."""
    chrom, strand, pos, cds = model
    m = re.fullmatch(r"([A-Z])(\d+)([A-Z*])", change)
    assert m, change
    ref_aa, n, alt_aa = m.group(1), int(m.group(2)), m.group(3)
    i0 = 3 * (n - 1)
    codon = cds[i0:i0 + 3]
    assert CODON[codon] == ref_aa, (change, codon)
    found = []
    for k in range(3):
        for base in "ACGT":
            if base == codon[k]:
                continue
            new = codon[:k] + base + codon[k + 1:]
            if CODON[new] == alt_aa:
                ref, alt = codon[k], base
                if strand == "-":
                    ref, alt = ref.translate(COMP), alt.translate(COMP)
                found.append((chrom, pos[i0 + k], ref, alt))
    assert found, f"no single-base change gives {change}"
    return found


def _deletion(model: tuple[str, str, list[int], str], change: str) -> tuple[str, int, str, str]:
    """A 1-bp deletion of the first base of the codon (frameshift)."""
    chrom, strand, pos, cds = model
    n = int(re.fullmatch(r"[A-Z](\d+)fs", change).group(1))  # type: ignore[union-attr]
    i0 = 3 * (n - 1)
    if strand == "+":
        assert pos[i0 - 1] == pos[i0] - 1
        return chrom, pos[i0 - 1], cds[i0 - 1] + cds[i0], cds[i0 - 1]
    assert pos[i0 + 1] == pos[i0] - 1
    anchor = cds[i0 + 1].translate(COMP)
    return chrom, pos[i0 + 1], anchor + cds[i0].translate(COMP), anchor


def _hotspots(shared: Path) -> dict[tuple[str, str], set[tuple[str, int, str, str]]]:
    path = shared / "external" / "truth" / "cancerhotspots_v2" / "cancerhotspots_v2_GRCh38.tsv"
    out: dict[tuple[str, str], set[tuple[str, int, str, str]]] = {}
    if path.is_file():
        with path.open() as fh:
            for row in csv.reader(fh, delimiter="\t"):
                out.setdefault((row[4], row[6]), set()).add(("chr" + row[0], int(row[1]), row[2], row[3]))
    return out


@pytest.fixture(scope="module")
def results(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, str]]]:
    models = _models(shared_dir)
    hotspots = _hotspots(shared_dir)
    work = tmp_path_factory.mktemp("expected")
    cases = _table()
    samples: dict[str, dict[str, list]] = {}
    for c in cases:
        s = samples.setdefault(c["sample"], {"vcf": [], "cn": [], "prior": c["prior_therapy"]})
        if c["change"].startswith("cn="):
            s["cn"].append((c["gene"], c["change"][3:]))
        elif c["change"].endswith("fs"):
            s["vcf"].append(_deletion(models[c["gene"]], c["change"]))
        else:
            candidates = _snvs(models[c["gene"]], c["change"])
            known = {k for k in hotspots.get((c["gene"], c["change"]), set()) if len(k[2]) == 1}
            if known:
                # the derivation agrees with Cancer Hotspots' published coordinates
                assert known & set(candidates), (c["change"], candidates, known)
                candidates = sorted(known & set(candidates))
            s["vcf"].append(candidates[0])
    sheet = ["vcf\tsample\tcnv\tprior_therapy"]
    for name, s in samples.items():
        vcf = work / f"{name}.vcf"
        lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + name]
        for chrom, pos, ref, alt in sorted(s["vcf"]):
            lines.append(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT:AD:DP\t0/1:60,40:100")
        vcf.write_text("\n".join(lines) + "\n")
        cnv = ""
        if s["cn"]:
            cnv_path = work / f"{name}.cn.tsv"
            cnv_path.write_text("gene\tcopy_number\n" + "".join(f"{g}\t{n}\n" for g, n in s["cn"]))
            cnv = cnv_path.name
        prior = "" if s["prior"] == "." else s["prior"]
        sheet.append(f"{vcf.name}\t{name}\t{cnv}\t{prior}")
    (work / "sheet.tsv").write_text("\n".join(sheet) + "\n")
    out = work / "out"
    result = CliRunner().invoke(
        cli, ["annotate", "--samplesheet", str(work / "sheet.tsv"), "--build", "GRCh38",
              "-o", str(out), "--formats", "tsv"],
    )
    assert result.exit_code == 0, result.output
    rows: dict[str, list[dict[str, str]]] = {}
    for name in samples:
        with (out / f"{name}.resmark.tsv").open() as fh:
            rows[name] = list(csv.DictReader(fh, delimiter="\t"))
    return rows


def _row(rows: list[dict[str, str]], case: dict[str, str]) -> dict[str, str] | None:
    gene, change = case["gene"], case["change"]
    for r in rows:
        if r["gene"] != gene:
            continue
        if change.startswith("cn="):
            if r["copy_number"]:
                return r
        elif change.endswith("fs"):
            if (r["hgvsp_short"] or "").startswith(f"p.{change[:-2]}") and "fs" in r["hgvsp_short"]:
                return r
        elif r["hgvsp_short"] == f"p.{change}":
            return r
    return None


def test_table_is_large_and_sourced() -> None:
    cases = _table()
    assert len(cases) >= 40
    assert all(c["source"].strip() for c in cases)


@pytest.mark.parametrize("case", _table(), ids=lambda c: f"{c['case']}-{c['gene']}-{c['change']}")
def test_expected_classification(case: dict[str, str], results: dict[str, list[dict[str, str]]]) -> None:
    row = _row(results[case["sample"]], case)
    if case["match"] == "-":
        assert row is None, row  # not an alteration: nothing listed
        return
    assert row is not None, (case, [(r["gene"], r["hgvsp_short"]) for r in results[case["sample"]]])
    assert row["significance"] == case["significance"], row["rule_ids"]
    assert row["match_level"] == case["match"], row["rule_ids"]
    assert row["evidence_level"] == case["level"], row["strategies"]
    if case["significance"] == "uncertain":
        # no mechanism or drug-class label the match does not support, no therapy above L4
        assert not row["mechanism"] and not row["drug_classes"]
        assert not re.search(r"\[L[12]\]", row["strategies"] or "")
    strategies = [s.strip() for s in (row["strategies"] or "").split(";") if s.strip()]
    settings = row["strategy_settings"] or ""
    for want in filter(None, case["strategies"].split(";")):
        if want == "-":
            continue
        if want.startswith("!"):
            assert not any(want[1:].lower() in s.lower() for s in strategies), (want, strategies)
            continue
        drug, level = want.split("=")
        found = [s for s in strategies if drug.lower() in s.lower()]
        assert found, (drug, strategies)
        if level == "other":
            name = re.sub(r"^avoid: ", "", found[0].rsplit(" [", 1)[0])
            part = next(p for p in settings.split("; ") if p.startswith(name + ":"))
            assert part.endswith("{other setting}"), part
            assert strategies.index(found[0]) > 0  # ranked after the strategies that fit
        else:
            assert found[0].endswith(f"[{level}]"), (found[0], level)
    flags = row["flags"] or ""
    if case["flags"] == "-":
        assert not flags, flags
    else:
        for want in case["flags"].split(";"):
            kind, genes = re.fullmatch(r"(\w+)\(([^)]*)\)", want).groups()  # type: ignore[union-attr]
            hits = [f for f in flags.split("; ") if f.startswith(kind + ":")]
            assert any(all(g in f for g in genes.split(",")) for f in hits), (want, flags)
