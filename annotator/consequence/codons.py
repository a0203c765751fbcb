"""Standard genetic code and amino-acid names."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

_BASES = "TCAG"
_AAS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"

CODON_TABLE: Mapping[str, str] = MappingProxyType(
    {a + b + c: _AAS[16 * i + 4 * j + k]
     for i, a in enumerate(_BASES) for j, b in enumerate(_BASES) for k, c in enumerate(_BASES)}
)

AA3: Mapping[str, str] = MappingProxyType(
    {
        "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu",
        "G": "Gly", "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe",
        "P": "Pro", "S": "Ser", "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "*": "Ter",
        "X": "Xaa", "U": "Sec",
    }
)
AA1: Mapping[str, str] = MappingProxyType({v: k for k, v in AA3.items()})

_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(seq: str) -> str:
    """Translate whole codons; unknown codons (N, IUPAC) give X."""
    table = CODON_TABLE
    return "".join(table.get(seq[i : i + 3], "X") for i in range(0, len(seq) - 2, 3))


def three_letter(aas: str) -> str:
    return "".join(AA3.get(a, "Xaa") for a in aas)
