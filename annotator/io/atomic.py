"""Atomic output: everything is written to a staging directory inside OUTDIR
and moved into place only when the whole run has succeeded, so a failed or
interrupted run leaves no partial files behind.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from types import TracebackType

from annotator.errors import OutputError

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")


def safe_name(name: str, fallback: str = "sample") -> str:
    """A file-name-safe version of a sample name or label (no path separators, no '..')."""
    cleaned = _UNSAFE.sub("_", name).strip("._")
    cleaned = cleaned.replace("..", "_")
    return cleaned[:120] or fallback


class OutputDir:
    """Context manager: ``stage(name)`` gives a path to write; commit on success."""

    MARKER = "provenance.json"

    def __init__(self, outdir: str | Path, force: bool = False) -> None:
        self.outdir = Path(outdir)
        self.force = force
        self.staging: Path | None = None
        self.names: list[str] = []

    def check(self) -> None:
        """Fail before any work if OUTDIR cannot take results."""
        out = self.outdir
        if out.exists() and not out.is_dir():
            raise OutputError("exists and is not a directory", path=out)
        parent = out if out.exists() else _existing_parent(out)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError("directory is not writable", path=parent)
        if out.exists() and (out / self.MARKER).exists() and not self.force:
            raise OutputError(
                "already holds resmark results; choose another -o or pass --force to replace them",
                path=out,
            )

    def __enter__(self) -> OutputDir:
        self.check()
        try:
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(prefix=".resmark-staging-", dir=self.outdir))
        except OSError as e:
            raise OutputError(f"cannot create output directory ({e.strerror})", path=self.outdir) from e
        return self

    def stage(self, name: str) -> Path:
        if self.staging is None:
            raise RuntimeError("OutputDir used outside its context")
        if "/" in name or "\\" in name or name.startswith(".."):
            # sample names are sanitised earlier; this guards against programming errors
            raise OutputError(f"refusing output name {name!r} outside the output directory")
        self.names.append(name)
        return self.staging / name

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self.staging is not None
        try:
            if exc_type is None:
                self._commit()
        except OSError as e:
            raise _write_error(e, self.outdir) from e
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._remove_if_empty_new()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            # disk full, quota, permissions while writing: one line, not a traceback
            raise _write_error(exc, self.outdir) from exc

    def _commit(self) -> None:
        assert self.staging is not None
        # the marker goes last so that its presence always means a complete result
        order = [n for n in self.names if n != self.MARKER]
        order += [n for n in self.names if n == self.MARKER]
        moved: list[Path] = []
        try:
            for name in order:
                src = self.staging / name
                if src.exists():
                    os.replace(src, self.outdir / name)
                    moved.append(self.outdir / name)
        except OSError:
            for p in moved:
                with contextlib.suppress(OSError):
                    p.unlink()
            raise

    def _remove_if_empty_new(self) -> None:
        try:
            if self.outdir.is_dir() and not any(self.outdir.iterdir()):
                self.outdir.rmdir()
        except OSError:
            pass


def _write_error(e: OSError, outdir: Path) -> OutputError:
    reason = e.strerror or " ".join(str(e).split()) or type(e).__name__
    hint = "; free some space and run again" if e.errno == errno.ENOSPC else ""
    return OutputError(f"cannot write results ({reason}); nothing was kept{hint}", path=outdir)


def _existing_parent(path: Path) -> Path:
    p = path.absolute()
    while not p.exists():
        p = p.parent
    return p
