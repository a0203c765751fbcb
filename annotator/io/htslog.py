"""htslib's own log lines (``[W::...]``, ``[E::...]``): kept off the console.

htslib (inside cyvcf2 and pysam) writes warnings and errors straight to file
descriptor 2, once per odd record or index, so one bad file could bury
resmark's one-line message under hundreds of lines.  Here its log level is
set (cyvcf2's htslib through ``hts_set_log_level``, pysam's through
``pysam.set_verbosity``), and where htslib must be heard (to explain a
refusal) fd 2 is redirected for a moment: htslib's lines are kept, counted
and written to the run log at INFO level; anything else that reached fd 2
meanwhile is passed on unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import Iterator
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

log = logging.getLogger(__name__)

HTS_LOG_OFF = 0
HTS_LOG_WARNING = 3
_HTS_PREFIXES = ("[W::", "[E::", "[I::", "[D::", "[M::", "[bgzf", "[hts")
KEEP_IN_LOG = 20  # htslib lines copied into the run log per block; the rest are counted


def _hts_lib() -> ctypes.CDLL | None:
    import ctypes

    import cyvcf2

    try:
        lib = ctypes.CDLL(cyvcf2.cyvcf2.__file__)
        lib.hts_get_log_level.restype = ctypes.c_int
        lib.hts_set_log_level.argtypes = [ctypes.c_int]
        return lib
    except (OSError, AttributeError):  # another cyvcf2 build: leave htslib's log alone
        return None


def hts_log_level(level: int | None = None) -> int | None:
    """Get (and with ``level`` set) the log level of the htslib inside cyvcf2."""
    lib = _hts_lib()
    if lib is None:
        return None
    old = int(lib.hts_get_log_level())
    if level is not None:
        lib.hts_set_log_level(level)
    return old


@contextlib.contextmanager
def captured_stderr(capture: list[str]) -> Iterator[None]:
    """Redirect file descriptor 2 (where htslib writes) into ``capture`` for a moment.

    Lines that are not htslib's (a Python warning printed meanwhile) go back
    to the real stderr after the block, so nothing of resmark's own is lost.
    """
    import sys

    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        try:
            os.dup2(tmp.fileno(), 2)
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode("utf-8", "replace").splitlines()
            others: list[str] = []
            in_hts = False
            for x in lines:
                # htslib continues a message on indented lines (the offending text)
                in_hts = x.startswith(_HTS_PREFIXES) or (in_hts and x[:1] in ("\t", " "))
                (capture if in_hts else others).append(x)
            if others:
                with contextlib.suppress(Exception):
                    sys.stderr.write("".join(f"{x}\n" for x in others))
                    sys.stderr.flush()


@contextlib.contextmanager
def quiet(label: str, capture: list[str] | None = None) -> Iterator[list[str]]:
    """Run a block with htslib's stderr captured; its lines go to the run log (counted).

    ``label`` (usually the file's path) prefixes each logged line.  Also
    lowers pysam's verbosity for the block when pysam is loaded.
    """
    import sys

    lines: list[str] = [] if capture is None else capture
    pysam = sys.modules.get("pysam")
    old_verbosity = None
    if pysam is not None and hasattr(pysam, "set_verbosity"):
        old_verbosity = pysam.set_verbosity(HTS_LOG_WARNING)
    try:
        with captured_stderr(lines):
            yield lines
    finally:
        if pysam is not None and old_verbosity is not None:
            pysam.set_verbosity(old_verbosity)
        report(label, lines)


def report(label: str, lines: list[str]) -> None:
    """Write captured htslib lines to the log: the first few, then a count."""
    for line in lines[:KEEP_IN_LOG]:
        log.info("%s: htslib: %s", label, line)
    if len(lines) > KEEP_IN_LOG:
        log.info("%s: htslib: %d more lines not shown (%d in all)", label,
                 len(lines) - KEEP_IN_LOG, len(lines))


def htslib_message(lines: list[str]) -> str | None:
    """The most useful htslib line: its first error, else its last warning, cleaned."""
    errors = [x for x in lines if x.startswith("[E::")]
    warnings = [x for x in lines if x.startswith("[W::")]
    pick = errors[0] if errors else warnings[-1] if warnings else None
    if pick is None:
        return None
    text = pick.split("] ", 1)[-1]
    return " ".join(text.replace(" (Quick workaround: index the file with tabix.)", "").split())


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """htslib's log off for a whole run (unless DEBUG logging is on).

    Readers and writers that need htslib's explanation of a refusal capture it
    themselves (``captured_stderr``); everything else it would print per
    record (undeclared contigs, odd values) is resmark's own business to report.
    """
    if log.isEnabledFor(logging.DEBUG):
        yield
        return
    old = hts_log_level(HTS_LOG_OFF)
    pysam: ModuleType | None
    try:
        import pysam
    except ImportError:  # pragma: no cover - pysam is a dependency
        pysam = None
    old_verbosity = pysam.set_verbosity(0) if pysam is not None else None
    try:
        yield
    finally:
        if old is not None:
            hts_log_level(old)
        if pysam is not None and old_verbosity is not None:
            pysam.set_verbosity(old_verbosity)
