"""CP-SAT searches that Ctrl-C ends as it ends any other work.

For the length of a search CP-SAT installs its own SIGINT handler (its parameter
``catch_sigint_signal``, on by default): Ctrl-C then only ends the search early,
and the caller goes on as if the time limit had been reached, with a worse plan
and exit 0. ``solve`` runs the search on a thread with that handler off while
the calling thread waits: Ctrl-C there stops the search and raises
``KeyboardInterrupt`` as soon as the search has stopped. A process that ignores
SIGINT (a pool's worker) searches undisturbed.
"""

from __future__ import annotations

import threading
from typing import Any

from ortools.sat.python import cp_model


def solve(
    solver: cp_model.CpSolver,
    model: cp_model.CpModel,
    callback: cp_model.CpSolverSolutionCallback | None = None,
) -> Any:
    """``solver.solve(model, callback)``, its status; Ctrl-C: ``KeyboardInterrupt``."""
    solver.parameters.catch_sigint_signal = False
    found: dict[str, Any] = {}
    done = threading.Event()

    def search() -> None:
        try:
            found["status"] = solver.solve(model, callback)
        except BaseException as problem:  # raised again in the calling thread
            found["problem"] = problem
        finally:
            done.set()

    threading.Thread(target=search, name="cp-sat-search", daemon=True).start()
    try:
        done.wait()  # not Thread.join: a join that a signal interrupts can take the
        # thread for ended while it still searches (Python 3.11)
    except KeyboardInterrupt:
        while not done.wait(0.1):  # again until the search has begun and stopped
            solver.stop_search()
        raise
    if "problem" in found:
        raise found["problem"]
    return found["status"]
