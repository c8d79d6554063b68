"""The snapshots of done jobs, kept in memory for the job page (a job's tables never change).

Up to ``SIZE`` jobs, least recently shown dropped first. A snapshot holds
candidate data, so a deleted job's entry is dropped (``forget``), and entries
whose folder is gone (deleted by another server) are dropped on the next look-up.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from isched.web import jobfiles

SIZE = 32
_cache: OrderedDict[str, tuple[Any, Any]] = OrderedDict()
_lock = threading.Lock()


def load(job_dir: Path) -> tuple[Any, Any]:
    """The snapshot and scenario config the job in ``job_dir`` ran on."""
    from scheduler.tables import read_snapshot

    key = str(job_dir)
    with _lock:
        for gone in [k for k in _cache if not Path(k).is_dir()]:
            del _cache[gone]
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    snapshot, config, _ = read_snapshot(job_dir / jobfiles.TABLES)
    with _lock:
        if job_dir.is_dir():  # not deleted while it was read
            _cache[key] = (snapshot, config)
            while len(_cache) > SIZE:
                _cache.popitem(last=False)
    return snapshot, config


def forget(job_dir: Path) -> None:
    """Drop the entry of the job in ``job_dir`` (it is being deleted)."""
    with _lock:
        _cache.pop(str(job_dir), None)


def cached() -> list[str]:
    """The job folders held now (for tests)."""
    with _lock:
        return list(_cache)
