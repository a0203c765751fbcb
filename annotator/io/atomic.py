"""Atomic output: everything is written to a staging directory inside OUTDIR
and moved into place only when the whole run has succeeded, so a failed or
interrupted run leaves no partial files behind.

Three more guarantees (docs/robustness.md, "Output safety"):

* an output never replaces an input: ``protect`` lists the run's inputs; one
  in OUTDIR under a result's name is refused before any work, and no staged
  file is ever moved onto an input (checked by inode, so links count too);
* one run at a time per OUTDIR: ``OutdirLock`` holds an exclusive ``flock``
  on ``OUTDIR/.resmark.lock`` (a second run fails at once, naming the pid of
  the first); the lock goes with the process, so a killed run frees it;
* staging folders a killed run left behind (``.resmark-staging-<pid>-*``) are
  removed by the next run that holds the lock, unless their owner still runs.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import logging
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

from annotator.errors import OutputError, UsageError

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
LOCK_NAME = ".resmark.lock"
STAGING_PREFIX = ".resmark-staging-"
_STAGING_PID = re.compile(re.escape(STAGING_PREFIX) + r"(\d+)-")
# names resmark writes into OUTDIR (annotate and track); an input so named would be replaced
_RESULT_NAME = re.compile(
    r"(\.resmark\.|\.report\.html$|\.track_wide\.tsv$|\.vaf_trajectory\.|^track_|"
    r"^accounting\.tsv$|^provenance\.json$|^resmark\.log$|^summary\.json$)"
)
_INDEX_SUFFIXES = (".tbi", ".csi", ".fai", ".gzi", ".bai", ".crai")
EXCHANGE_MIN_BYTES = 8 << 20  # replace_file: files this large are swapped in, not renamed over


def safe_name(name: str, fallback: str = "sample") -> str:
    """A file-name-safe version of a sample name or label (no path separators, no '..')."""
    cleaned = _UNSAFE.sub("_", name).strip("._")
    cleaned = cleaned.replace("..", "_")
    return cleaned[:120] or fallback


class OutputDir:
    """Context manager: ``stage(name)`` gives a path to write; commit on success.

    ``protect``: the run's input files (their index files are protected too).
    """

    MARKER = "provenance.json"

    def __init__(
        self, outdir: str | Path, force: bool = False, protect: Iterable[str | Path] = ()
    ) -> None:
        self.outdir = Path(outdir)
        self.force = force
        self.protect = tuple(Path(p) for p in protect if p is not None)
        self.staging: Path | None = None
        self.names: list[str] = []
        self._lock: OutdirLock | None = None

    def check(self) -> None:
        """Fail before any work if OUTDIR cannot take results."""
        out = self.outdir
        if out.exists() and not out.is_dir():
            raise OutputError("exists and is not a directory", path=out)
        self._check_inputs()
        parent = out if out.exists() else _existing_parent(out)
        if not os.access(parent, os.W_OK | os.X_OK):
            raise OutputError("directory is not writable", path=parent)
        if out.exists() and (out / self.MARKER).exists() and not self.force:
            raise OutputError(
                "already holds resmark results; choose another -o or pass --force to replace them",
                path=out,
            )

    def _check_inputs(self) -> None:
        """An input inside OUTDIR under a result's name would be replaced: refuse (even --force)."""
        if not self.outdir.is_dir():
            return
        out = self.outdir.resolve()
        for p in self.protect:
            with contextlib.suppress(OSError):
                if p.resolve().parent == out and _RESULT_NAME.search(p.name):
                    raise UsageError(
                        f"input {p} is inside the output directory under a name resmark writes; "
                        "an output may never replace an input: choose another -o",
                        path=self.outdir,
                    )

    def __enter__(self) -> OutputDir:
        lock = OutdirLock(self.outdir)
        lock.acquire()
        try:
            self.check()  # again, under the lock: another run may have finished meanwhile
            clean_stale_staging(self.outdir)
            self.outdir.mkdir(parents=True, exist_ok=True)
            self.staging = Path(tempfile.mkdtemp(
                prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=self.outdir
            ))
        except OSError as e:
            lock.release()
            raise OutputError(f"cannot create output directory ({e.strerror})", path=self.outdir) from e
        except BaseException:
            lock.release()
            raise
        self._lock = lock
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
            if self._lock is not None:
                self._lock.release()
            self._remove_if_empty_new()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            # disk full, quota, permissions while writing: one line, not a traceback
            raise _write_error(exc, self.outdir) from exc

    def _commit(self) -> None:
        assert self.staging is not None
        # the marker goes last so that its presence always means a complete result
        order = [n for n in self.names if n != self.MARKER]
        order += [n for n in self.names if n == self.MARKER]
        self._refuse_input_targets(order)
        previous = _previous_outputs(self.outdir / self.MARKER)
        moved: list[Path] = []
        try:
            for name in order:
                src = self.staging / name
                if name == self.MARKER:
                    # results of the run replaced with --force that this run does not write
                    self._remove_previous(previous - set(order))
                if src.exists():
                    replace_file(src, self.outdir / name)
                    moved.append(self.outdir / name)
        except OSError:
            for p in moved:
                with contextlib.suppress(OSError):
                    p.unlink()
            raise

    def _refuse_input_targets(self, names: Iterable[str]) -> None:
        protected = _identities(self.protect)
        for name in names:
            target = self.outdir / name
            try:
                st = target.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in protected:
                raise UsageError(
                    f"the output {name} would replace an input; an output may never replace "
                    "an input: choose another -o", path=self.outdir,
                )

    def _remove_previous(self, names: Iterable[str]) -> None:
        protected = _identities(self.protect)
        for name in names:
            target = self.outdir / name
            with contextlib.suppress(OSError):
                st = target.lstat()
                if (st.st_dev, st.st_ino) not in protected and target.is_file():
                    target.unlink()

    def _remove_if_empty_new(self) -> None:
        try:
            if self.outdir.is_dir() and not any(self.outdir.iterdir()):
                self.outdir.rmdir()
        except OSError:
            pass


def replace_file(src: Path, dst: Path) -> None:
    """``os.replace(src, dst)``; a large file replacing a regular file is swapped in instead.

    Both are atomic (``dst`` is always the old or the new file).  Renaming over an
    existing file makes ext4 write the new file's data out before the call returns
    (``auto_da_alloc``): ~60 ms of waiting for a 148 MB annotated VCF replaced with
    ``--force``.  An exchange (Linux ``renameat2(RENAME_EXCHANGE)``) does not; the old
    file is left at ``src``, in the staging directory, which is removed after the commit.
    Small files (a cohort's thousands) are renamed over: their flush is short, and
    removing thousands of swapped-out files afterwards measured slower.  Elsewhere, or
    for anything but a regular file at ``dst``, ``os.replace``.
    """
    try:
        st = os.lstat(dst)
        large = os.stat(src).st_size >= EXCHANGE_MIN_BYTES
    except OSError:
        st, large = None, False
    if large and st is not None and stat.S_ISREG(st.st_mode) and _exchange(src, dst):
        return
    os.replace(src, dst)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system cannot (nothing changed then)."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    import ctypes

    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # file system or kernel without exchange: os.replace says what is wrong
    raise OSError(code, os.strerror(code), str(b))


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """The C library's ``renameat2`` (Linux, glibc >= 2.28), looked up once per process."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    found: Callable[..., int] | None = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    return found


class OutdirLock:
    """Exclusive ``flock`` on ``OUTDIR/.resmark.lock``; one resmark run per OUTDIR.

    A second run (another process) fails at once with an ``OutputError`` naming
    the holder's pid; the same process may take it again (the whole-run lock
    and the commit's lock nest).  Without ``fcntl`` (Windows) nothing is locked.
    """

    def __init__(self, outdir: str | Path) -> None:
        self.outdir = Path(outdir)
        self.path = self.outdir / LOCK_NAME
        self._fd: int | None = None
        self._created_dir = False

    def acquire(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            return
        if self.outdir.exists() and not self.outdir.is_dir():
            return  # OutputDir.check reports it
        try:
            if not self.outdir.exists():
                self.outdir.mkdir(parents=True)
                self._created_dir = True
        except OSError:
            return  # not creatable: OutputDir.check reports why
        for _ in range(5):
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError:
                return  # read-only OUTDIR: OutputDir.check reports it
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                owner = _read_pid(fd)
                os.close(fd)
                if owner == os.getpid():
                    return  # this process holds it already (whole-run lock)
                self._cleanup_dir()
                who = f" (pid {owner})" if owner else ""
                raise OutputError(
                    f"another resmark run{who} is writing to this directory; wait for it to "
                    "finish or choose another -o", path=self.outdir,
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except OSError:
                same = False
            if not same:  # removed by its previous holder between open and flock: retry
                os.close(fd)
                continue
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            self._fd = fd
            return

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()  # while still locked: a waiting opener retries on a new file
        os.close(self._fd)
        self._fd = None
        self._cleanup_dir()

    def _cleanup_dir(self) -> None:
        if self._created_dir:
            with contextlib.suppress(OSError):
                self.outdir.rmdir()  # only when empty
            self._created_dir = False

    def __enter__(self) -> OutdirLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def clean_stale_staging(outdir: Path) -> None:
    """Remove staging folders of runs that are gone (call with the OUTDIR lock held)."""
    try:
        entries = list(outdir.iterdir())
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(STAGING_PREFIX) or not entry.is_dir() or entry.is_symlink():
            continue
        m = _STAGING_PID.match(entry.name)
        owner = int(m.group(1)) if m else None
        if owner is not None and owner != os.getpid() and _alive(owner):
            log.warning("%s: kept; its run (pid %d) is still alive", entry, owner)
            continue
        log.info("%s: removing the staging folder of an interrupted run", entry)
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def _identities(paths: Iterable[Path]) -> set[tuple[int, int]]:
    """(device, inode) of each input and of its index files."""
    out: set[tuple[int, int]] = set()
    for p in paths:
        for q in (p, *(p.with_name(p.name + s) for s in _INDEX_SUFFIXES)):
            with contextlib.suppress(OSError, ValueError):
                st = q.stat()
                out.add((st.st_dev, st.st_ino))
    return out


def _previous_outputs(marker: Path) -> set[str]:
    """Files listed by the provenance.json of the results being replaced (--force)."""
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        names = {str(o["file"]) for o in data.get("outputs", []) if isinstance(o, dict)}
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return set()
    return {n for n in names if n and "/" not in n and "\\" not in n and not n.startswith(".")}


def _write_error(e: OSError, outdir: Path) -> OutputError:
    reason = e.strerror or " ".join(str(e).split()) or type(e).__name__
    hint = "; free some space and run again" if e.errno == errno.ENOSPC else ""
    return OutputError(f"cannot write results ({reason}); nothing was kept{hint}", path=outdir)


def _existing_parent(path: Path) -> Path:
    p = path.absolute()
    while not p.exists():
        p = p.parent
    return p
