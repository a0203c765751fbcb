"""Run ``resmark annotate`` in-process on one file and classify the outcome.

Shared by tests/test_malformed_corpus.py and fuzz/run_fuzz.py.  A file is
either *read* (exit 0, complete output) or *refused* (exit 1, one line
naming the file); anything else (exit 2 for a data problem, an "internal
error", a traceback, a multi-line message, partial output files) is a
*failure*.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
import json
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from annotator.cli import main

PER_FILE_SECONDS = 30


@dataclass(frozen=True)
class Outcome:
    path: str
    code: int
    message: str  # stderr of a refusal (one line expected)
    problem: str | None  # why this outcome is a failure of the contract, else None

    @property
    def kind(self) -> str:
        return "failure" if self.problem else "read" if self.code == 0 else "refused"


def first_sample(path: Path) -> str | None:
    """The first sample column (multi-sample files need --sample)."""
    try:
        import pysam

        pysam.set_verbosity(0)
        with pysam.VariantFile(str(path)) as vf:
            samples = list(vf.header.samples)
        return samples[0] if len(samples) > 1 else None
    except Exception:  # noqa: BLE001 - fall back to reading the text
        pass
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:  # type: ignore[operator]
            for n, raw in enumerate(fh):
                if n > 100_000:
                    return None
                if raw.startswith(b"#CHROM"):
                    cols = raw.rstrip(b"\r\n").split(b"\t")
                    if len(cols) > 10:
                        return cols[9].decode("utf-8")
                    return None
                if not raw.startswith(b"#"):
                    return None
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        return None
    return None


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def alarm(signum: int, frame: object) -> None:
        raise _Timeout

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def fd2_captured() -> Iterator[list[str]]:
    """Capture everything written to stderr, Python's and C's (fd 2)."""
    import tempfile

    out: list[str] = []
    sys.stderr.flush()
    saved_fd = os.dup(2)
    saved_py = sys.stderr
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        sys.stderr = io.TextIOWrapper(os.fdopen(os.dup(2), "wb"), write_through=True)
        try:
            yield out
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
                sys.stderr.close()
            sys.stderr = saved_py
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", "replace"))


def run_cli(args: list[str]) -> tuple[int, str]:
    with fd2_captured() as captured:
        try:
            main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
    return code, "".join(captured)


def check_outdir(out: Path) -> str | None:
    """None if OUTDIR holds nothing or a complete result; else what is wrong."""
    if not out.exists():
        return None
    names = sorted(p.name for p in out.iterdir())
    if not names:
        return None
    if "provenance.json" not in names:
        return f"partial output without provenance.json: {names}"
    prov = json.loads((out / "provenance.json").read_text())
    listed = {o["file"] for o in prov.get("outputs", [])} | {"provenance.json"}
    extra = set(names) - listed
    missing = listed - set(names)
    if extra or missing:
        return f"output files do not match provenance.json (extra {extra}, missing {missing})"
    return None


def annotate_one(path: Path, out: Path, build: str = "GRCh38", formats: str = "tsv,json") -> Outcome:
    args = ["-q", "annotate", str(path), "-o", str(out), "--formats", formats, "--build", build]
    sample = first_sample(path) if path.is_file() else None
    if sample is not None:
        args += ["--sample", sample]
    try:
        with time_limit(PER_FILE_SECONDS):
            code, err = run_cli(args)
    except _Timeout:
        return Outcome(str(path), -1, "", f"no result within {PER_FILE_SECONDS} s")
    if code == 1 and "conflicts with the header, which says GRCh37" in err and build == "GRCh38":
        return annotate_one(path, out, "GRCh37", formats)
    lines = [x for x in err.splitlines() if x.strip()]
    problem: str | None = None
    if code not in (0, 1):
        problem = f"exit code {code}"
    elif "Traceback" in err or "internal error" in err:
        problem = "traceback or internal error"
    elif code == 1:
        if len(lines) != 1:
            problem = f"{len(lines)} lines on stderr, expected one"
        elif not lines[0].startswith("resmark: error: ") or str(path) not in lines[0]:
            problem = "message does not name the file"
    if problem is None:
        problem = check_outdir(out)
    if problem is None and code == 0 and not (out / "provenance.json").exists():
        problem = "exit 0 without results"
    return Outcome(str(path), code, " | ".join(lines)[:400], problem)


@functools.cache
def _cached_panel(spec: object = None, extend: bool = False) -> object:
    return _ORIGINAL_LOAD_PANEL(spec, extend=extend)  # type: ignore[operator]


def _original() -> object:
    import annotator.knowledge

    return annotator.knowledge.load_panel


_ORIGINAL_LOAD_PANEL: object = _original()


def speed_up(monkeypatch: object) -> None:
    """Load the panel once for a whole corpus run (it is read-only)."""
    import annotator.knowledge

    monkeypatch.setattr(annotator.knowledge, "load_panel", _cached_panel)  # type: ignore[attr-defined]
