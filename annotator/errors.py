"""The exception family; ``annotator.cli`` turns these into one-line messages.

Library code raises; only the CLI decides exit codes.  Exit codes (documented
in the README):

* 0   success
* 1   bad input data, bad panel, I/O failure (``ResmarkError`` and subclasses)
* 2   usage error (bad option values, conflicting options) (``UsageError``)
* 130 interrupted (Ctrl-C)
"""

from __future__ import annotations

from pathlib import Path


class ResmarkError(Exception):
    """Base class: a problem the user can fix; shown without traceback."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        where: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.where = where
        super().__init__(self.one_line())

    def one_line(self) -> str:
        parts = []
        if self.path:
            parts.append(self.path)
        if self.where:
            parts.append(self.where)
        prefix = ": ".join(parts)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return " ".join(text.split())


class UsageError(ResmarkError):
    """Options that cannot work together or have bad values."""

    exit_code = 2


class InputError(ResmarkError):
    """A variant, segment or sample-sheet file that cannot be read correctly."""


class PanelError(ResmarkError):
    """A knowledge-base file that fails its schema or cross-references."""


class ReferenceError_(ResmarkError):
    """Embedded or user reference data missing or inconsistent."""


class TimepointError(ResmarkError):
    """Inconsistent timepoints for a patient (builds, labels, dates)."""


class OutputError(ResmarkError):
    """Output directory not writable, already holds results, or disk full."""


class MultipleErrors(ResmarkError):
    """Several input problems found while checking before work started."""

    def __init__(self, errors: list[ResmarkError]) -> None:
        self.errors = errors
        self.exit_code = max(e.exit_code for e in errors) if errors else 1
        msg = f"{len(errors)} problems: " + " | ".join(e.one_line() for e in errors)
        super().__init__(msg)


def raise_collected(problems: list[ResmarkError]) -> None:
    """Raise the one problem, or all of them together; return when there are none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise MultipleErrors(problems)
