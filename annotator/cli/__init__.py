"""Command line: a thin click layer over ``annotator.annotation.run``.

This package is the only place that imports click, configures logging,
prints, or exits.  Each subcommand lives in its own module
(``annotator/cli/<name>.py`` exposing a click command called ``command``)
and is imported only when invoked, so ``resmark --help`` stays fast.

Exit codes: 0 ok, 1 bad input/data/panel/I-O, 2 usage, 130 interrupted.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import NoReturn

import click

from annotator.core.about import __version__
from annotator.errors import ResmarkError

SUBCOMMANDS: dict[str, str] = {
    "annotate": "Annotate VCF/BCF files (one sample or a cohort) against the resistance panel.",
    "track": "Compare a patient's ctDNA across timepoints.",
    "panel": "List, show, validate or export the knowledge base.",
    "pon": "Build a panel of normals (background error per site) for track --pon.",
    "report": "Render HTML/MAF reports from an annotate or track output directory.",
}

log = logging.getLogger("annotator")


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module = importlib.import_module(f"annotator.cli.{cmd_name}")
        command: click.Command = module.command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # "did you mean" for mistyped subcommands
        if args and args[0] not in SUBCOMMANDS and not args[0].startswith("-"):
            import difflib

            close = difflib.get_close_matches(args[0], list(SUBCOMMANDS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            ctx.fail(f"No such command {args[0]!r}.{hint}")
        return super().resolve_command(ctx, args)


class RunLog(logging.Handler):
    """Keeps INFO-and-above messages of one run, for ``resmark.log`` in OUTDIR."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def setup_logging(quiet: bool, verbose: bool, debug: bool) -> RunLog:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    if quiet:
        level = logging.ERROR
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("resmark: %(levelname)s: %(message)s"))
    run_log = RunLog()
    root = logging.getLogger("annotator")
    root.handlers[:] = [handler, run_log]
    root.setLevel(min(level, logging.INFO))
    root.propagate = False
    return run_log


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="resmark")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logging.")
@click.option("-v", "--verbose", is_flag=True, help="More logging on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the final summary.")
@click.pass_context
def cli(ctx: click.Context, debug: bool, verbose: bool, quiet: bool) -> None:
    """resmark: resistance markers in tumour and ctDNA variant calls (research use only)."""
    ctx.ensure_object(dict)
    ctx.obj.update(debug=debug, verbose=verbose, quiet=quiet)
    ctx.obj["run_log"] = setup_logging(quiet, verbose, debug)


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: the one error boundary of resmark."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    _one_blas_thread()
    with _sigterm_as_interrupt(), _quiet_unraisable(debug):
        _guarded(args, debug)


def _one_blas_thread() -> None:
    """OpenBLAS (numpy's) without worker threads, unless the user chose a number.

    resmark does no linear algebra worth a thread: its arrays are offsets, positions
    and small per-site statistics.  OpenBLAS starts a worker per core when numpy is
    imported, and its idle workers spin: ~0.1 s of CPU in every run (a sixth of an
    indexed whole-genome run), and in every cohort worker.  Set before numpy loads
    (the commands import it), and inherited by the cohort's worker processes."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@contextlib.contextmanager
def _quiet_unraisable(debug: bool) -> Iterator[None]:
    """Errors raised in destructors (pysam's ``__dealloc__`` after a failed open) go to
    the log, not as a traceback on stderr next to the one-line message."""
    if debug:
        yield
        return

    def hook(u: sys.UnraisableHookArgs) -> None:
        log.debug("ignored in %r: %s: %s", u.object, type(u.exc_value).__name__, u.exc_value)

    def excepthook(kind: type[BaseException], value: BaseException, tb: object) -> None:
        # Cython prints a destructor's error through sys.excepthook before the unraisable hook
        log.debug("ignored: %s: %s", kind.__name__, value)

    old = sys.unraisablehook, sys.excepthook
    sys.unraisablehook = hook
    sys.excepthook = excepthook
    try:
        yield
    finally:
        sys.unraisablehook, sys.excepthook = old


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A scheduler's SIGTERM cleans up like Ctrl-C (staged outputs removed, exit 130)."""

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (embedded use): leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _guarded(args: list[str], debug: bool) -> NoReturn:
    try:
        rv = cli.main(args=args, prog_name="resmark", standalone_mode=False)
        sys.exit(rv if isinstance(rv, int) else 0)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.ClickException as e:
        # one line, like every other error (click's own layout takes four)
        cmd = getattr(getattr(e, "ctx", None), "command_path", None)
        hint = f" (see '{cmd} --help')" if cmd else ""
        click.echo(f"resmark: error: {' '.join(e.format_message().split())}{hint}", err=True)
        sys.exit(2)
    except click.exceptions.Abort as e:
        if isinstance(e.__context__, EOFError) and not debug:
            # click turns any EOFError into Abort; a data EOFError is not a Ctrl-C
            click.echo(f"resmark: error: unexpected end of data ({e.__context__})", err=True)
            sys.exit(1)
        click.echo("resmark: interrupted", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        click.echo("resmark: interrupted", err=True)
        sys.exit(130)
    except ResmarkError as e:
        if debug:
            raise
        click.echo(f"resmark: error: {e.one_line()}", err=True)
        sys.exit(e.exit_code)
    except BrokenPipeError:
        # stderr closed by a pager or `head`: nothing more can be said
        with contextlib.suppress(OSError):
            sys.stderr.close()
        sys.exit(1)
    except OSError as e:
        if debug:
            raise
        where = f"{e.filename}: " if e.filename else ""
        click.echo(f"resmark: error: {where}{e.strerror or ' '.join(str(e).split())}", err=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - last resort: still one line unless --debug
        if debug:
            raise
        click.echo(
            f"resmark: internal error: {type(e).__name__}: {' '.join(str(e).split())} "
            "(rerun with --debug for a traceback and please report it)",
            err=True,
        )
        sys.exit(1)
