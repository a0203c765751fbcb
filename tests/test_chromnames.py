from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotator.core import chromnames
from annotator.core.chromnames import PRIMARY, Naming, canonical, refseq_build, style_of, to_style


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("chr1", "chr1"), ("1", "chr1"), ("NC_000001.11", "chr1"), ("NC_000001.10", "chr1"),
        ("X", "chrX"), ("chrx", "chrX"), ("NC_000023.11", "chrX"), ("MT", "chrM"), ("chrM", "chrM"),
        ("NC_012920.1", "chrM"), ("GL000220.1", "GL000220.1"), ("chr1_KI270706v1_random", "chr1_KI270706v1_random"),
        ("23", "23"),
    ],
)
def test_canonical(name, expected):
    assert canonical(name) == expected


def test_refseq_versions_identify_build():
    # NCBI assembly reports: chr17 is NC_000017.10 in GRCh37 and NC_000017.11 in GRCh38
    assert refseq_build("NC_000017.10") == "GRCh37"
    assert refseq_build("NC_000017.11") == "GRCh38"
    assert refseq_build("NC_000003.12") == "GRCh38"


def test_refseq_matches_shared_transcript_models(shared_dir):
    import json

    models = json.loads((shared_dir / "reference" / "transcript_models.json").read_text())
    for gene, g in models["genes"].items():
        for build, b in g["builds"].items():
            acc = b.get("nc_accession")
            if acc:
                assert to_style(b["chrom"], "refseq", build) == acc, (gene, build)


@given(st.sampled_from(PRIMARY), st.sampled_from(["ucsc", "ensembl", "refseq"]), st.sampled_from(["GRCh37", "GRCh38"]))
def test_style_round_trip(chrom, style, build):
    spelled = to_style(chrom, style, build)
    assert canonical(spelled) == chrom
    assert canonical(canonical(spelled)) == chrom
    if chrom != "chrM" or style != "refseq":
        assert style_of(spelled) == style


def test_naming_remembers_file_spelling():
    n = Naming.from_contigs(["1", "2", "MT", "GL000220.1"])
    assert n.in_file("chr1") == "1" and n.in_file("chrM") == "MT" and n.in_file("chr3") is None
    assert n.style == "ensembl"
    assert chromnames.is_primary("17") and not chromnames.is_primary("GL000220.1")
