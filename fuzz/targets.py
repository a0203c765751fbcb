"""What `fuzz/run_fuzz.py` mutates and how it runs each mutant.

A target names its seed files, how a mutant is written (plain, gzip, bgzip),
the resmark command that reads it, and how strict the contract is:

* vcf          the main VCF (`annotate FILE`)
* cnv          `annotate DEMO --cnv FILE` (CNVkit, PURPLE, SEG, gene tables ...)
* sv           `annotate DEMO --sv FILE` (SV VCFs: Manta, Delly, SnpEff, hts-specs)
* fusion       `annotate DEMO --sv FILE` (fusion tables)
* sheet        `annotate --samplesheet FILE` (a cohort sheet)
* panel        `panel validate FILE` (and, one case in four, `annotate --panel FILE`)
* track-sheet  `track FILE` (the demo patient's sheet)
* track-bam    `track SHEET` where one BAM or its .bai is damaged (the hook for
               BAM validation in annotator/track/regenotype.py)
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "external"
DEMO = REPO / "test_vcfs" / "demo" / "demo_tumour.grch38.vcf.gz"
MAX_SEED = 400_000

Ops = Sequence[tuple[str, int, int]]

LINE_OPS = ("drop", "dup", "swap", "truncate_field", "tabs_to_spaces", "flip", "junk",
            "empty_field", "cut")
TABLE_OPS = (*LINE_OPS, "weird_number", "quote", "long_field", "nul")
YAML_OPS = ("drop", "dup", "swap", "flip", "junk", "cut", "alias_bomb", "deep_nesting",
            "self_alias", "weird_number", "quote", "tab_indent")
CONTAINER_OPS = ("z_cut", "z_drop_eof", "z_flip", "z_trailing_junk")
BAM_OPS = ("z_cut", "z_drop_eof", "z_flip", "z_trailing_junk", "bai_garbage", "bai_cut",
           "bai_empty", "bam_empty")
WEIRD_NUMBERS = (b"inf", b"-inf", b"nan", b"NaN", b"1e999", b"-1e999", b"-5", b"1024",
                 b"99999999999999999999999", b"0x10", b"", b"1e-400", b"-0", b"+3", b"1_000")


def _small(paths: list[Path]) -> list[Path]:
    return sorted(p for p in paths if p.is_file() and p.stat().st_size < MAX_SEED)


def _glob(root: Path, *patterns: str) -> list[Path]:
    out: list[Path] = []
    if root.is_dir():
        for pat in patterns:
            out += root.rglob(pat)
    return _small(out)


@dataclass
class Target:
    name: str
    seeds: list[Path]
    ops: tuple[str, ...]
    argv: Callable[[Path, Path], list[str]]  # (mutant, outdir) -> CLI arguments
    compressible: bool = True  # also try gzip/bgzip containers of the mutant
    cohort: bool = False  # several samples: partial success (exit 1, several lines) is allowed
    usage_ok: bool = False  # exit 2 is a fair answer (a sheet naming a missing file)
    notes: list[str] = field(default_factory=list)


def _annotate_with(option: str) -> Callable[[Path, Path], list[str]]:
    def argv(mutant: Path, out: Path) -> list[str]:
        return ["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv,json",
                option, str(mutant)]
    return argv


def _vcf_argv(mutant: Path, out: Path) -> list[str]:
    return ["-q", "annotate", str(mutant), "-o", str(out), "--formats", "tsv,json",
            "--build", "GRCh38"]


def _sheet_argv(mutant: Path, out: Path) -> list[str]:
    return ["-q", "annotate", "--samplesheet", str(mutant), "-o", str(out), "--formats", "tsv"]


def _panel_argv(mutant: Path, out: Path) -> list[str]:
    if hash(mutant.read_bytes()) % 4 == 0:
        return ["-q", "annotate", str(DEMO), "-o", str(out), "--formats", "tsv",
                "--panel", str(mutant)]
    return ["-q", "panel", "validate", str(mutant)]


def _track_argv(mutant: Path, out: Path) -> list[str]:
    return ["-q", "track", str(mutant), "-o", str(out), "--no-plots"]


def absolute_sheet(sheet: Path, column: str, work: Path) -> Path:
    """A copy of a sample sheet with its paths made absolute (the mutant lives elsewhere)."""
    lines = sheet.read_text(encoding="utf-8").splitlines()
    delim = "\t" if "\t" in lines[0] else ","
    header = lines[0].split(delim)
    cols = [i for i, h in enumerate(header) if h.strip().lower() in (column, "bam", "cnv", "sv")]
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(delim)
        for i in cols:
            if i < len(cells) and cells[i] and not cells[i].startswith("/"):
                cells[i] = str(sheet.parent / cells[i])
        out.append(delim.join(cells))
    target = work / f"abs_{sheet.parent.name}_{sheet.name}"
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def builtin_panel_file(work: Path) -> Path:
    """The built-in panel as one YAML file (its files hold distinct sections)."""
    from annotator.knowledge.loader import builtin_panel_dir

    target = work / "builtin_panel.yaml"
    target.write_text("".join(p.read_text(encoding="utf-8") + "\n"
                              for p in sorted(builtin_panel_dir().glob("*.yaml"))),
                      encoding="utf-8")
    return target


def targets(work: Path) -> dict[str, Target]:
    work.mkdir(parents=True, exist_ok=True)
    t = REPO / "test_vcfs"
    cnv_shared = _glob(SHARED / "vcf", "*.cns", "*.cnr", "*.seg", "*purple.cnv*", "*cncf*",
                       "*segs.tsv", "*truthset_cnv*")
    sv_shared = _glob(SHARED / "vcf", "*manta*.vcf*", "*delly*.vcf*", "*sv_parsing*.vcf",
                      "*lumpy*.vcf*", "*gridss*.vcf*") + _glob(SHARED / "malformed", "*SV*.vcf",
                                                               "sv44.vcf")
    return {
        "vcf": Target("vcf", _glob(t, "*.vcf", "*.vcf.gz") + _glob(SHARED / "vcf", "*.vcf",
                                                                     "*.vcf.gz"),
                      LINE_OPS, _vcf_argv),
        "cnv": Target("cnv", _small([p for p in (t / "cnv").iterdir()
                                     if p.suffix in (".cns", ".cnr", ".seg", ".tsv")
                                     and "fusion" not in p.name]) + cnv_shared,
                      TABLE_OPS, _annotate_with("--cnv")),
        "sv": Target("sv", _small(list((t / "cnv").glob("*.vcf"))) + sv_shared, TABLE_OPS,
                     _annotate_with("--sv")),
        "fusion": Target("fusion", _small(list((t / "cnv").glob("fusion*"))), TABLE_OPS,
                         _annotate_with("--sv")),
        "sheet": Target("sheet", [absolute_sheet(t / "cohort" / "samplesheet.tsv", "vcf", work)],
                        TABLE_OPS, _sheet_argv, cohort=True, usage_ok=True),
        "panel": Target("panel", _small(list((t / "panels").rglob("*.yaml")))
                        + [builtin_panel_file(work)], YAML_OPS, _panel_argv, compressible=False),
        "track-sheet": Target("track-sheet",
                              [absolute_sheet(t / "track" / "samplesheet.tsv", "vcf", work)],
                              TABLE_OPS, _track_argv, compressible=False, usage_ok=True),
    }


# ---------------------------------------------------------------- mutations


def mutate_lines(data: bytes, ops: Ops) -> bytes:
    """Line- and field-level mutations (the VCF fuzzer's, plus table and YAML ones)."""
    lines = data.split(b"\n")
    for op, a, b in ops:
        if not lines:
            break
        i = a % len(lines)
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = b % len(lines)
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "truncate_field":
            cols = lines[i].split(b"\t")
            k = b % len(cols)
            cols[k] = cols[k][: len(cols[k]) // 2]
            lines[i] = b"\t".join(cols)
        elif op == "tabs_to_spaces":
            lines[i] = lines[i].replace(b"\t", b" ", 1 + b % 3)
        elif op == "flip":
            line = bytearray(lines[i])
            if line:
                line[b % len(line)] ^= 1 << (a % 8)
                lines[i] = bytes(line)
        elif op == "junk":
            lines.insert(i, bytes((b * 37 + k) % 256 for k in range(1 + b % 40)))
        elif op == "empty_field":
            cols = lines[i].split(b"\t")
            cols[b % len(cols)] = b""
            lines[i] = b"\t".join(cols)
        elif op == "weird_number":
            lines[i] = _replace_number(lines[i], b)
        elif op == "quote":
            line = lines[i]
            k = b % (len(line) + 1)
            lines[i] = line[:k] + b'"' + line[k:]
        elif op == "long_field":
            cols = lines[i].split(b"\t")
            cols[b % len(cols)] = b"x" * (1 + (b * 7919) % (2 << 20))
            lines[i] = b"\t".join(cols)
        elif op == "nul":
            line = lines[i]
            k = b % (len(line) + 1)
            lines[i] = line[:k] + b"\0" + line[k:]
        elif op in ("alias_bomb", "deep_nesting", "self_alias"):
            lines[i:i + 1] = _yaml_value(lines[i], op, b)
        elif op == "tab_indent":
            stripped = lines[i].lstrip(b" ")
            lines[i] = b"\t" * ((len(lines[i]) - len(stripped)) // 2) + stripped
    joined = b"\n".join(lines)
    cut = [op for op in ops if op[0] == "cut"]
    if cut:
        joined = joined[: max(0, len(joined) - 1 - cut[0][2] % max(1, len(joined)))]
    return joined


def _replace_number(line: bytes, b: int) -> bytes:
    import re

    spots = list(re.finditer(rb"-?\d+(\.\d+)?([eE][-+]?\d+)?", line))
    if not spots:
        return line
    m = spots[b % len(spots)]
    return line[: m.start()] + WEIRD_NUMBERS[b % len(WEIRD_NUMBERS)] + line[m.end():]


def _yaml_value(line: bytes, op: str, b: int) -> list[bytes]:
    import re

    m = re.match(rb"^(\s*)(- )?([A-Za-z_][\w.-]*): (.+)$", line)
    if not m:
        return [line]
    indent = b" " * (len(m.group(1)) + (2 if m.group(2) else 0))
    head = line[: m.start(4)]
    if op == "deep_nesting":
        n = 10 + b % 20_000
        return [head + b"[" * n + b"]" * n]
    if op == "self_alias":
        return [head + b"&loop [1, *loop]"]
    width = 2 + b % 12
    levels = 3 + b % 10
    out = [head + b"&a0 [" + b",".join([b'"lol"'] * width) + b"]"]
    for k in range(1, levels):
        out.append(indent + b"zz%d: &a%d [" % (k, k) + b",".join([b"*a%d" % (k - 1)] * width) + b"]")
    return out


BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


def pack(data: bytes, container: str, tmp: Path) -> bytes:
    """``data`` as plain text, gzip or bgzip (a BGZF file with its end-of-file block)."""
    if container == "gzip":
        return gzip.compress(data, mtime=0)
    if container == "bgzip":
        import pysam

        plain, packed = tmp / "pack.txt", tmp / "pack.txt.gz"
        plain.write_bytes(data)
        pysam.tabix_compress(str(plain), str(packed), force=True)
        return packed.read_bytes()
    return data


def mutate_container(data: bytes, ops: Ops) -> bytes:
    """Byte-level damage of a compressed file (after compression)."""
    for op, a, b in ops:
        if not data:
            break
        if op == "z_cut":
            data = data[: a % len(data)]
        elif op == "z_drop_eof" and data.endswith(BGZF_EOF):
            data = data[: -len(BGZF_EOF)]
        elif op == "z_flip":
            buf = bytearray(data)
            buf[b % len(buf)] ^= 1 << (a % 8)
            data = bytes(buf)
        elif op == "z_trailing_junk":
            data += bytes((b * 31 + k) % 256 for k in range(1 + b % 64))
    return data


def mutate_bam(bam: bytes, bai: bytes, ops: Ops) -> tuple[bytes, bytes | None]:
    """A damaged BAM and/or index (None: no index file at all)."""
    index: bytes | None = bai
    for op, a, b in ops:
        if op == "bai_garbage":
            index = bytes((a * 13 + k) % 256 for k in range(16 + b % 512))
        elif op == "bai_cut" and index:
            index = index[: a % len(index)]
        elif op == "bai_empty":
            index = b""
        elif op == "bam_empty":
            bam = b""
        elif op.startswith("z_"):
            bam = mutate_container(bam, [(op, a, b)])
    return bam, index
