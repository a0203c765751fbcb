"""Before/after check that a refactor changed no output.

Runs ``resmark annotate`` with every output format over the bundled corpora
(the demo, ``test_vcfs/``) and, when present, ``../shared/external/vcf``,
once with the code of each source tree, then compares the two result trees
file by file.  Only what must differ between two runs is masked: provenance
timestamps, sha256 of files that embed them, the source-tree paths, logger
names in ``resmark.log`` and index files (their bytes follow the compressed
file).  Parquet files are compared as tables plus their metadata keys.

    git worktree add /tmp/before HEAD~1
    python scripts/compare_outputs.py run /tmp/before /tmp/out_before
    python scripts/compare_outputs.py run . /tmp/out_after
    python scripts/compare_outputs.py diff /tmp/out_before /tmp/out_after

``diff`` exits 1 when any file differs and lists each one.
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FORMATS = "tsv,json,parquet,vcf,maf,html"
MASKS = (
    (re.compile(r'"created": "[^"]*"'), '"created": X'),
    (re.compile(r"created=[^,>\s\"]*"), "created=X"),
    (re.compile(r'"sha256": "[0-9a-f]{64}"'), '"sha256": X'),
    (re.compile(r"\.resmark-staging-[\w-]+"), ".resmark-staging-X"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(,\d+|\+00:00)?"), "TIME"),
)


def corpus(shared: Path | None) -> Iterator[Path]:
    data = REPO / "test_vcfs"
    yield data / "demo" / "demo_tumour.grch38.vcf.gz"
    for sub in ("callers", "consequence", "cnv"):
        yield from sorted((data / sub).glob("*.vcf"))
    if shared is not None and (shared / "external" / "vcf").is_dir():
        found = (p for p in (shared / "external" / "vcf").rglob("*")
                 if p.name.endswith((".vcf", ".vcf.gz")))
        yield from sorted(found)


def run(tree: Path, out: Path, shared: Path | None) -> int:
    out.mkdir(parents=True, exist_ok=False)
    env = {**os.environ, "PYTHONPATH": str(tree.resolve())}
    for n, vcf in enumerate(corpus(shared), start=1):
        proc = subprocess.run(
            [sys.executable, "-m", "annotator", "annotate", str(vcf), "-o", str(out / str(n)),
             "--formats", FORMATS],
            env=env, capture_output=True, text=True, timeout=600, cwd=out,
        )
        (out / f"{n}.exit").write_text(f"{proc.returncode} {vcf.relative_to(vcf.parents[2])}\n")
        (out / f"{n}.stderr").write_text(proc.stderr)
    return 0


def _normalised(path: Path, trees: tuple[str, ...]) -> bytes:
    name = path.name
    if name.endswith((".tbi", ".csi")):
        return b""
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        keys = sorted((table.schema.metadata or {}).keys())
        return repr(table.to_pylist()).encode() + repr(keys).encode()
    data = path.read_bytes()
    if name.endswith(".gz"):
        data = gzip.decompress(data)
    text = data.decode("utf-8", "replace")
    for rx, repl in MASKS:
        text = rx.sub(repl, text)
    for t in trees:
        text = text.replace(t, "TREE")
    if name == "resmark.log" or name.endswith(".stderr"):
        text = re.sub(r" (INFO|WARNING|ERROR|DEBUG) annotator(\.\w+)*:", r" \1 LOGGER:", text)
    return text.encode()


def diff(a: Path, b: Path) -> int:
    trees = (str(a.resolve()), str(b.resolve()))
    names_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file()}
    names_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file()}
    bad = [f"only in {a}: {n}" for n in sorted(names_a - names_b)]
    bad += [f"only in {b}: {n}" for n in sorted(names_b - names_a)]
    same = 0
    for n in sorted(names_a & names_b):
        if _normalised(a / n, trees) == _normalised(b / n, trees):
            same += 1
        else:
            bad.append(f"differs: {n}")
    print("\n".join(bad))
    print(f"{same} files identical, {len(bad)} differences")
    return 1 if bad else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="annotate the corpora with one source tree's code")
    r.add_argument("tree", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    d = sub.add_parser("diff", help="compare two result trees")
    d.add_argument("a", type=Path)
    d.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "run":
        shared = args.shared if args.shared.is_dir() else None
        return run(args.tree, args.out, shared)
    return diff(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
