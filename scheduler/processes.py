"""Worker processes that end with the process that started them.

A ``ProcessPoolExecutor``'s idle workers wait on their queue for ever when their
parent is killed (``kill -9``, an out-of-memory kill): ``process_pool`` gives
each worker a thread that exits it once its parent is gone.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

PARENT_POLL_SECONDS = 1.0


def _exit_with(parent: int) -> None:
    """In a worker: a daemon thread that ends the process when ``parent`` is gone."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that exit when this process dies."""
    return ProcessPoolExecutor(workers, initializer=_exit_with, initargs=(os.getpid(),))
