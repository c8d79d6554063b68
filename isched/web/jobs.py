"""Jobs as the API and the pages see them: create, re-plan, delete, describe.

A new job's files are staged in ``FILES/staging/ID`` and checked there; only a
valid snapshot is moved (one rename) to ``FILES/jobs/ID`` and entered in the
store as ``queued``. Nothing of a refused upload is kept.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from isched.web import jobfiles, snapshots
from isched.web.settings import Settings
from isched.web.store import FINISHED, Job, JobStore
from isched.web.uploads import Part, UploadError, check_tables, copy_tables, stage
from scheduler.paths import PROJECT_ROOT
from scheduler.table_schema import IDENTIFIER, TableError

JOB_ID = jobfiles.JOB_ID
MAX_TIME_LIMIT = 3600.0
BUILT_IN = ("cpsat", "greedy")


def model_dir(name: str) -> Path | None:
    """The folder holding ``model.pt`` that ``rl:NAME`` means, by the model loader's rule
    (``policies.offline.checkpoint.model_dir_of``, not imported: it loads torch): ``NAME`` as
    given, else relative to the project root (``models/default`` from any directory); None
    when neither holds ``model.pt``."""
    try:
        given = Path(name).expanduser()
    except RuntimeError:  # ~user of no such user
        return None
    tried = [given] if given.is_absolute() else [given, PROJECT_ROOT / given]
    return next((path for path in tried if _holds_model(path)), None)


def _holds_model(folder: Path) -> bool:
    try:
        return (folder / "model.pt").is_file()
    except (OSError, ValueError):  # a name too long for the file system
        return False


def _model_label(name: str) -> str:
    """``rl:NAME`` as a refusal may print it: no absolute or upward path of the server."""
    path = Path(name)
    hidden = path.is_absolute() or name.startswith("~") or ".." in path.parts
    return "rl" if hidden else f"rl:{name[:80]}"


def check_solver(solver: str) -> str:
    """``solver`` if the service can run it: cpsat, greedy or rl:MODEL_DIR (a trained model)."""
    name = solver.strip()
    prefix, _, arg = name.partition(":")
    if name in BUILT_IN:
        return name
    if prefix == "rl" and arg:
        if model_dir(arg) is None:
            label = _model_label(arg)
            raise UploadError(f"solver {label}: no trained model of that name on the server")
        return name
    raise UploadError(f"unknown solver {name[:80]!r}: choose cpsat, greedy or rl:MODEL_DIR")


def check_time_limit(seconds: float) -> float:
    if not 0 < seconds <= MAX_TIME_LIMIT:
        raise UploadError(f"time_limit must be above 0 and at most {MAX_TIME_LIMIT:g} s")
    return float(seconds)


def _confirmed_ids(confirmed: list[str]) -> list[str]:
    ids = [i for text in confirmed for i in re.split(r"[\s,;]+", text) if i]
    for interview_id in ids:
        if IDENTIFIER.fullmatch(interview_id) is None:
            raise UploadError(f"confirmed: bad interview_id {interview_id[:40]!r}")
    return ids


def _previous_plan(
    schedule: bytes,
    confirmed: list[str],
    release_unlisted: bool = False,
    shown: set[str] | None = None,
) -> bytes:
    """The plan to re-plan from, with the ``confirmed`` interview ids marked confirmed; with
    ``release_unlisted``, a row the plan marks confirmed but ``confirmed`` does not list is
    proposed again (a coordinator un-ticked it). ``shown``: the ids the page showed ticked
    (the parent plan's confirmed rows) when ``schedule`` is an uploaded schedule.csv; only
    those can have been un-ticked, so a row the file confirms besides them stays confirmed."""
    from scheduler.solver.replan import read_previous

    with tempfile.TemporaryDirectory(prefix="isched-web-") as tmp:
        path = Path(tmp) / "schedule.csv"
        path.write_bytes(schedule)
        try:
            read_previous(path)
        except TableError as error:
            raise UploadError.from_table(error) from None
    frame = _plan_frame(schedule)
    known = set(frame["interview_id"].str.strip())
    for interview_id in confirmed:
        if interview_id not in known:
            message = f"confirmed: no interview {interview_id!r} in the plan"
            raise UploadError(message, file="schedule.csv", column="interview_id")
    marked = frame["interview_id"].str.strip().isin(confirmed)
    if release_unlisted:
        unticked = ~marked & (frame["status"].str.strip().str.lower() == "confirmed")
        if shown is not None:
            unticked &= frame["interview_id"].str.strip().isin(shown)
        frame.loc[unticked, "status"] = "proposed"
    frame.loc[marked, "status"] = "confirmed"
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _plan_frame(schedule: bytes) -> pd.DataFrame:
    """A schedule.csv's rows as text, headers in lower case."""
    frame = pd.read_csv(io.BytesIO(schedule), dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _confirmed_rows(schedule: bytes) -> set[str]:
    """The interview ids a written plan marks confirmed."""
    frame = _plan_frame(schedule)
    status = frame["status"].str.strip().str.lower()
    return set(frame.loc[status == "confirmed", "interview_id"].str.strip())


def create_job(
    settings: Settings,
    store: JobStore,
    parts: list[Part],
    solver: str,
    time_limit: float,
    parent: Job | None = None,
    confirmed: list[str] | None = None,
    release_unlisted: bool = False,
) -> Job:
    """Check and store a new job (queued); ``UploadError`` and nothing stored otherwise.
    A re-plan keeps the plan's confirmed rows and ``confirmed``; with ``release_unlisted``
    only ``confirmed`` (see ``_previous_plan``)."""
    solver = check_solver(solver)
    time_limit = check_time_limit(time_limit)
    ids = _confirmed_ids(confirmed or [])
    if parent is None and not any(p.filename or p.data for p in parts):
        raise UploadError("no files: upload the snapshot tables, one .zip or one .xlsx")
    job_id = jobfiles.new_id()
    staging = settings.files / "staging" / job_id
    tables = staging / jobfiles.TABLES
    tables.mkdir(parents=True)
    try:
        if parent is not None:
            copy_tables(settings.jobs_dir / parent.id / jobfiles.TABLES, tables)
        kept = {p.name: p.read_bytes() for p in tables.iterdir()}
        staged = stage(parts, tables, previous_ok=parent is not None)
        try:
            check_tables(tables, staged)
        except UploadError as error:
            raise _kept_table_named(error, tables, kept, parent) from None
        if parent is not None:
            plan_path = settings.jobs_dir / parent.id / jobfiles.OUT / "schedule.csv"
            parent_plan = plan_path.read_bytes()
            plan = staged.plan if staged.plan is not None else parent_plan
            shown = None if staged.plan is None else _confirmed_rows(parent_plan)
            previous = _previous_plan(plan, ids, release_unlisted, shown)
            jobfiles.write_atomic(staging / jobfiles.PREVIOUS, previous)
            jobfiles.write_atomic(staging / jobfiles.PARENT_PLAN, parent_plan)
            calendar = settings.jobs_dir / parent.id / jobfiles.OUT / "schedule.ics"
            if calendar.is_file():
                shutil.copyfile(calendar, staging / jobfiles.PREVIOUS_CALENDAR)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _enter(settings, store, staging, solver, time_limit, parent.id if parent else None)


def rerun_job(
    settings: Settings, store: JobStore, job: Job, solver: str | None, time_limit: float | None
) -> Job:
    """A finished job run again (say, failed for want of time, or cancelled by mistake): a new
    queued job on the same tables, and for a re-plan the same plan and parent; ``solver`` and
    ``time_limit`` default to the job's. ``UploadError`` (409) while ``job`` is unfinished."""
    if job.status not in FINISHED:
        raise UploadError(f"job {job.id} is {job.status}: run it again once it has finished", 409)
    solver = check_solver(solver or job.solver)
    time_limit = check_time_limit(time_limit if time_limit is not None else job.time_limit)
    source = settings.jobs_dir / job.id
    staging = settings.files / "staging" / jobfiles.new_id()
    try:
        (staging / jobfiles.TABLES).mkdir(parents=True)
        copy_tables(source / jobfiles.TABLES, staging / jobfiles.TABLES)
        for name in (jobfiles.PREVIOUS, jobfiles.PREVIOUS_CALENDAR, jobfiles.PARENT_PLAN):
            if (source / name).is_file():
                shutil.copyfile(source / name, staging / name)
        if not any((staging / jobfiles.TABLES).iterdir()):
            raise FileNotFoundError(source)
    except FileNotFoundError:  # deleted meanwhile
        shutil.rmtree(staging, ignore_errors=True)
        raise UploadError(f"job {job.id} no longer has its tables", 404) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return _enter(settings, store, staging, solver, time_limit, job.parent_id)


def _enter(
    settings: Settings,
    store: JobStore,
    staging: Path,
    solver: str,
    time_limit: float,
    parent_id: str | None,
) -> Job:
    """Move a staged, checked job folder into place (one rename) and queue it."""
    job_id = staging.name
    try:
        settings.jobs_dir.mkdir(parents=True, exist_ok=True)
        staging.rename(settings.jobs_dir / job_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    names = sorted(p.name for p in (settings.jobs_dir / job_id / jobfiles.TABLES).iterdir())
    job = Job(job_id, "queued", solver, time_limit, time.time(), tables=names,
              parent_id=parent_id)  # fmt: skip
    try:
        store.add(job)
    except BaseException:
        shutil.rmtree(settings.jobs_dir / job_id, ignore_errors=True)
        raise
    return job


def _kept_table_named(
    error: UploadError, tables: Path, kept: dict[str, bytes], parent: Job | None
) -> UploadError:
    """``error``, each bad table that a re-plan kept unchanged from its parent (say, busy
    blocks of an interviewer the upload removed) saying so: the coordinator never sent it."""
    if parent is None:
        return error

    def kept_as_is(name: str) -> bool:
        path = tables / name
        return name in kept and path.is_file() and kept[name] == path.read_bytes()

    errors = [
        TableError(e.file, e.row, e.column,
                   f"{e.message} ({e.file} is job {parent.id}'s: upload a corrected {e.file} "
                   "as well)")
        if kept_as_is(e.file) else e
        for e in error.errors
    ]  # fmt: skip
    if errors == error.errors:
        return error
    return UploadError.from_tables(errors)


def sweep(settings: Settings, store: JobStore, older_than: float = 3600.0) -> int:
    """Remove what a crash can leave behind: staged uploads, job folders without a job,
    temporary output folders. Only things older than ``older_than`` seconds (another
    server may be using younger ones). The number of entries removed."""
    cutoff = time.time() - older_than
    known = {job.id for job in store.newest_first(limit=1_000_000)}
    stale: list[Path] = []
    staging = settings.files / "staging"
    if staging.exists():
        stale += list(staging.iterdir())
    if settings.jobs_dir.exists():
        for folder in settings.jobs_dir.iterdir():
            if folder.name not in known:
                stale.append(folder)
            else:
                stale += list(folder.glob(".*.tmp"))
    removed = 0
    for path in stale:
        try:
            if path.stat().st_mtime < cutoff:
                shutil.rmtree(path) if path.is_dir() else path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def delete_job(settings: Settings, store: JobStore, job: Job, purge: bool) -> dict[str, Any]:
    """Cancel a queued or running job; delete a finished one (or any, with ``purge``)."""
    if job.status not in FINISHED:
        store.cancel(job.id)
        if not purge:
            return {"id": job.id, "status": "cancelled", "deleted": False}
    store.cancel(job.id)  # finished meanwhile: no-op
    if not store.delete(job.id):
        current = store.get(job.id)
        return {"id": job.id, "status": current.status if current else "deleted", "deleted": False}
    shutil.rmtree(settings.jobs_dir / job.id, ignore_errors=True)
    snapshots.forget(settings.jobs_dir / job.id)  # after: a page being drawn may have added it
    return {"id": job.id, "status": "deleted", "deleted": True}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return dt.datetime.fromtimestamp(moment, dt.UTC).isoformat(timespec="seconds")


def progress(settings: Settings, job: Job) -> dict[str, Any]:
    """What the job is doing, and roughly how far it is (0 to 1)."""
    if job.status in FINISHED:
        return {"phase": job.status, "fraction": 1.0}
    if job.status == "queued":
        return {"phase": "waiting for a free worker", "fraction": 0.0}
    found = jobfiles.read_json(settings.jobs_dir / job.id / jobfiles.PROGRESS) or {}
    elapsed = time.time() - (job.started or time.time())
    fraction = min(0.95, max(0.02, elapsed / (job.time_limit + 5.0)))
    return {"phase": found.get("phase", "starting"), "fraction": round(fraction, 3),
            "elapsed_seconds": round(elapsed, 1)}  # fmt: skip


def outputs(settings: Settings, job: Job) -> list[str]:
    """The output files a done job offers."""
    if job.status != "done":
        return []
    folder = settings.jobs_dir / job.id / jobfiles.OUT
    return [name for name in jobfiles.OUTPUTS if (folder / name).exists()]


def job_json(settings: Settings, job: Job) -> dict[str, Any]:
    """The JSON of ``GET /jobs/{id}``."""
    return {
        "id": job.id,
        "status": job.status,
        "solver": job.solver,
        "time_limit": job.time_limit,
        "created": _iso(job.created),
        "started": _iso(job.started),
        "finished": _iso(job.finished),
        "progress": progress(settings, job),
        "error": job.error,
        "parent_id": job.parent_id,
        "attempts": job.attempts,
        "tables": job.tables,
        "summary": job.summary,
        "downloads": {name: f"/jobs/{job.id}/{name}" for name in outputs(settings, job)},
    }
