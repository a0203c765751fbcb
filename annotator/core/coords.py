"""Coordinate conventions: the only module that converts between 0- and 1-based.

Inside resmark positions are VCF-style: 1-based, inclusive.  htslib region
strings are 1-based inclusive too; BED, pysam fetch() and Python slices are
0-based half-open.
"""

from __future__ import annotations


def vcf_end(pos: int, ref: str) -> int:
    """Last reference base (1-based, inclusive) covered by a VCF REF allele."""
    return pos + max(len(ref), 1) - 1


def to_zero_based_half_open(start: int, end: int) -> tuple[int, int]:
    """1-based inclusive [start, end] -> 0-based half-open [start0, end0)."""
    return start - 1, end


def from_zero_based_half_open(start0: int, end0: int) -> tuple[int, int]:
    """0-based half-open [start0, end0) -> 1-based inclusive [start, end]."""
    return start0 + 1, end0


def region_string(chrom: str, start: int, end: int) -> str:
    """htslib region text for a 1-based inclusive interval."""
    return f"{chrom}:{start}-{end}"


def overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """Do two 1-based inclusive intervals share a base?"""
    return a_start <= b_end and b_start <= a_end
