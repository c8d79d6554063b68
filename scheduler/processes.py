"""Worker processes that end with the process that started them.

A ``ProcessPoolExecutor``'s idle workers wait on their queue for ever when their
parent is killed (``kill -9``, an out-of-memory kill): ``process_pool`` gives
each worker a thread that exits it once its parent is gone. Ctrl-C is the
parent's: workers ignore SIGINT (a worker interrupted on the pool's queue could
leave the parent joining it for ever), and a pool left by an exception, Ctrl-C
included, terminates its workers instead of waiting for their tasks, then waits for
the pool's manager thread to end, so that nothing is printed at exit.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType

PARENT_POLL_SECONDS = 1.0


def _exit_with(parent: int) -> None:
    """In a worker: SIGINT ignored, and a daemon thread that ends the process when
    ``parent`` is gone."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


class _Pool(ProcessPoolExecutor):
    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> bool | None:
        if kind is None:
            return super().__exit__(kind, error, trace)
        stop(self)
        return None


def stop(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` now: queued tasks cancelled, running ones' workers terminated."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # no public handle
    manager = getattr(pool, "_executor_manager_thread", None)
    pool.shutdown(wait=False, cancel_futures=True)
    for process in workers:
        if process.is_alive():
            process.terminate()
    for process in workers:
        process.join(timeout=5)
    if manager is not None:  # it closes its wake-up pipe as it ends; at exit, Python 3.11
        manager.join(timeout=5)  # writes to that pipe unguarded (EBADF) if it is closing then


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes that exit when this process dies; leaving its
    ``with`` by an exception terminates them (``stop``)."""
    return _Pool(workers, initializer=_exit_with, initargs=(os.getpid(),))
