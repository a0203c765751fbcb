"""HGVS conventions, in one place: the 3' rule, c. and p. descriptions.

Genomic left-alignment (VCF) is the caller's job; here alleles are shifted
3' in *transcript* orientation, as the HGVS recommendations require.
``p.`` descriptions are derived by comparing reference and variant protein
sequences, trimming the longest common prefix first so that deletions,
duplications and insertions in repeats land on the most C-terminal residue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from annotator.consequence.codons import AA3, three_letter

# oriented (start, end) -> transcript-orientation bases, or None when unknown
SeqFn = Callable[[int, int], "str | None"]

_CHUNK = 64


def shift_3prime(seq: SeqFn, start: int, end: int, bases: str, limit: int) -> tuple[int, int, str]:
    """Shift a deletion (``start..end`` deleted, = ``bases``) or an insertion
    (``end == start - 1``, ``bases`` inserted after ``end``) towards the 3' end.

    Stops at oriented position ``limit`` or where sequence is unknown.
    Returns the shifted (start, end, bases).
    """
    n = len(bases)
    if n == 0:
        return start, end, bases
    while end < limit:
        stop = min(end + _CHUNK, limit)
        window = seq(end + 1, stop)
        if not window:
            break
        moved = 0
        for base in window:
            if base != bases[moved % n]:
                break
            moved += 1
        if moved:
            r = moved % n
            bases = bases[r:] + bases[:r]
            start += moved
            end += moved
        if moved < len(window):
            break
    return start, end, bases


def hgvs_c_range(first: str, last: str) -> str:
    return first if first == last else f"{first}_{last}"


def describe_c(
    kind: str, first: str | None, last: str | None, ref: str, alt: str
) -> str | None:
    """c. text for ``kind`` in sub / del / ins / dup / delins (positions already c.-formatted).

    For ``ins``, ``first``/``last`` are the flanking positions.
    """
    if first is None or last is None:
        return None
    if kind == "sub":
        return f"c.{first}{ref}>{alt}"
    if kind == "del":
        return f"c.{hgvs_c_range(first, last)}del"
    if kind == "dup":
        return f"c.{hgvs_c_range(first, last)}dup"
    if kind == "ins":
        return f"c.{first}_{last}ins{alt}"
    return f"c.{hgvs_c_range(first, last)}delins{alt}"


@dataclass(frozen=True, slots=True)
class ProteinChange:
    """A p. description in both letter forms plus the fields a consequence carries."""

    kind: str  # synonymous missense nonsense deletion insertion duplication delins
    #            frameshift extension start_lost stop_retained unknown
    hgvsp: str
    hgvsp_short: str
    start: int  # 1-based residue numbers
    end: int
    ref_aa: str
    alt_aa: str


def _aa(a: str, pos: int, long: bool) -> str:
    return f"{AA3.get(a, 'Xaa') if long else a}{pos}"


def _both(fmt: Callable[[bool], str]) -> tuple[str, str]:
    return "p." + fmt(True), "p." + fmt(False)


def _seq(s: str, long: bool) -> str:
    return three_letter(s) if long else s


def _ter(long: bool) -> str:
    return "Ter" if long else "*"


def protein_diff(ref: str, alt: str, hint: int, same_tail: int = 0) -> ProteinChange:
    """In-frame change: ``ref`` is the reference protein (ending in ``*``), ``alt`` the
    variant translation (read until its first stop).  ``hint`` is a 0-based residue
    index at or before the first possible difference; the last ``same_tail`` residues
    are known to be equal (saves scanning the whole protein).
    """
    stop = alt.find("*", hint)
    cut = 0 <= stop < len(alt) - 1
    if cut:
        alt = alt[: stop + 1]
    i = hint
    n = min(len(ref), len(alt))
    # Residues in the known-equal tail cannot start the difference when lengths agree.
    limit = n - same_tail if not cut and len(ref) == len(alt) else n
    while i < limit and ref[i] == alt[i]:
        i += 1
    if i == limit and len(ref) == len(alt):
        # Nothing changed at protein level.
        a = ref[hint] if hint < len(ref) else "*"
        kind = "stop_retained" if a == "*" else "synonymous"
        h, s = _both(lambda lg: f"{_aa(a, hint + 1, lg)}=")
        return ProteinChange(kind, h, s, hint + 1, hint + 1, a, a)
    if i < len(alt) and alt[i] == "*" and i < len(ref) and ref[i] != "*":
        r = ref[i]
        h, s = _both(lambda lg: f"{_aa(r, i + 1, lg)}{_ter(lg)}")
        return ProteinChange("nonsense", h, s, i + 1, i + 1, r, "*")
    if i < len(ref) and ref[i] == "*":
        # The reference stop is gone: the caller handles C-terminal extensions.
        return ProteinChange("extension", "p.?", "p.?", i + 1, i + 1, "*", alt[i : i + 1])
    j = 0 if cut else min(same_tail, n - i)
    while j < n - i and ref[len(ref) - 1 - j] == alt[len(alt) - 1 - j]:
        j += 1
    deleted = ref[i : len(ref) - j]
    inserted = alt[i : len(alt) - j]
    if "*" in deleted:
        # The reference stop is gone: the caller handles C-terminal extensions.
        return ProteinChange("extension", "p.?", "p.?", i + 1, i + 1, deleted[:1], inserted[:1])
    first, last = i + 1, i + len(deleted)
    if len(deleted) == 1 and len(inserted) == 1:
        r, a = deleted, inserted
        h, s = _both(lambda lg: f"{_aa(r, first, lg)}{_seq(a, lg)}")
        return ProteinChange("missense", h, s, first, first, r, a)

    def span(lg: bool, lo: int, hi: int) -> str:
        if lo == hi:
            return _aa(ref[lo - 1], lo, lg)
        return f"{_aa(ref[lo - 1], lo, lg)}_{_aa(ref[hi - 1], hi, lg)}"

    if not inserted:
        h, s = _both(lambda lg: f"{span(lg, first, last)}del")
        return ProteinChange("deletion", h, s, first, last, deleted, "-")
    if not deleted:
        k = len(inserted)
        if i - k >= 0 and ref[i - k : i] == inserted:
            h, s = _both(lambda lg: f"{span(lg, i - k + 1, i)}dup")
            return ProteinChange("duplication", h, s, i - k + 1, i, "-", inserted)
        h, s = _both(lambda lg: f"{span(lg, i, i + 1)}ins{_seq(inserted, lg)}")
        return ProteinChange("insertion", h, s, i, i + 1, "-", inserted)
    if len(deleted) == len(inserted) and len(deleted) > 1:
        pass  # several adjacent substitutions: HGVS writes them as delins
    h, s = _both(lambda lg: f"{span(lg, first, last)}delins{_seq(inserted, lg)}")
    return ProteinChange("delins", h, s, first, last, deleted, inserted)


def frameshift(ref: str, alt: str, hint: int) -> ProteinChange:
    """``alt`` is the variant translation from residue 0 until its first stop (or the end of
    the known sequence when no stop was reached)."""
    i = hint
    n = min(len(ref), len(alt))
    while i < n and ref[i] == alt[i]:
        i += 1
    if i >= len(alt):
        h = "p.?"
        return ProteinChange("frameshift", h, h, i + 1, i + 1, ref[i : i + 1], "X")
    r, a = ref[i] if i < len(ref) else "*", alt[i]
    if a == "*":
        h, s = _both(lambda lg: f"{_aa(r, i + 1, lg)}{_ter(lg)}")
        return ProteinChange("nonsense", h, s, i + 1, i + 1, r, "*")
    stop = alt.find("*", i)
    if r == "*":
        return extension(i, alt[i:])
    length = str(stop - i + 1) if stop >= 0 else "?"
    h, s = _both(lambda lg: f"{_aa(r, i + 1, lg)}{_seq(a, lg)}fs{_ter(lg)}{length}")
    return ProteinChange("frameshift", h, s, i + 1, i + 1, r, a)


def extension(stop_index: int, tail: str) -> ProteinChange:
    """Stop codon at 0-based ``stop_index`` replaced: ``tail`` is the new translation from
    that residue on (ending in ``*`` when a new stop was found)."""
    a = tail[:1] or "X"
    pos = stop_index + 1
    if a == "*":
        h, s = _both(lambda lg: f"{_aa('*', pos, lg)}=")
        return ProteinChange("stop_retained", h, s, pos, pos, "*", "*")
    new_stop = tail.find("*")
    length = str(new_stop) if new_stop > 0 else "?"
    h, s = _both(lambda lg: f"{_aa('*', pos, lg)}{_seq(a, lg)}ext{_ter(lg)}{length}")
    return ProteinChange("extension", h, s, pos, pos, "*", a)


def start_lost() -> ProteinChange:
    return ProteinChange("start_lost", "p.Met1?", "p.M1?", 1, 1, "M", "?")
