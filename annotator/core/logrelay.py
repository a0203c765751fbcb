"""Log records of worker processes relayed to the parent's logging.

Spawned workers start with no logging configuration, so their warnings went to
Python's last-resort handler (no ``resmark:`` prefix, not in ``resmark.log``).
This is not an output handler: a worker's ``annotator`` logger hands each record
to a queue, and the parent feeds it into its own ``annotator`` loggers, where the
handlers the CLI installed (or the API caller's) decide what is shown and kept.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from multiprocessing.context import BaseContext
    from multiprocessing.queues import Queue

PACKAGE_LOGGER = "annotator"


class _Reenter(logging.Handler):
    """Feeds a relayed record to the parent's logger of the same name."""

    def handle(self, record: logging.LogRecord) -> bool:
        logger = logging.getLogger(record.name)
        # the worker already applied the level; Logger.handle applies filters and handlers
        logger.handle(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - handle() overrides
        self.handle(record)


@contextlib.contextmanager
def relayed(mp: BaseContext) -> Iterator[tuple[Queue[logging.LogRecord], int]]:
    """Yield ``(queue, level)`` to pass to workers; records put there are re-logged here."""
    import logging.handlers  # socket, pickle: only when workers run

    queue: Queue[logging.LogRecord] = mp.Queue()
    listener = logging.handlers.QueueListener(queue, _Reenter())
    listener.start()
    try:
        yield queue, logging.getLogger(PACKAGE_LOGGER).getEffectiveLevel()
    finally:
        listener.stop()  # drains what the workers sent before they exited
        queue.close()


def relay_to(queue: Queue[logging.LogRecord], level: int) -> None:
    """In a worker: send every ``annotator`` record at ``level`` or above to ``queue``."""
    import logging.handlers

    root = logging.getLogger(PACKAGE_LOGGER)
    root.handlers[:] = [logging.handlers.QueueHandler(queue)]
    root.setLevel(level)
    root.propagate = False
