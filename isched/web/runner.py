"""The job runner: a thread of the server that feeds queued jobs to worker processes.

Every ``poll_seconds`` it reaps finished workers (``done`` or ``failed`` with the
worker's reason), kills the workers of jobs cancelled meanwhile or past their
time limit, renews the leases of its running jobs, recovers jobs whose server
died, and claims queued jobs while fewer than ``workers`` run. Claims are
atomic in the store, so two servers on one database never run a job twice.
A job deleted while its worker ran has its folder removed once more after the
worker is gone: a worker writing its results may have recreated it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from isched.web import jobfiles, snapshots
from isched.web.settings import Settings
from isched.web.store import Job, JobStore, owner_name
from isched.web.worker import SERVER_PID

log = logging.getLogger("isched.web")
GRACE_SECONDS = 30.0
"""A worker may run this much (and 20%) past its time limit before it is killed."""


@dataclass
class Running:
    job: Job
    process: subprocess.Popen[bytes]
    deadline: float


class Runner:
    """Claims and runs jobs for one server process."""

    def __init__(self, store: JobStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.owner = owner_name()
        self.running: dict[str, Running] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed = 0.0
        self._recovered = 0.0

    def start(self) -> None:
        for job_id, status in self.store.recover():
            log.info("job %s %s after a server stopped", job_id, status)
        self._thread = threading.Thread(target=self._loop, name="isched-runner", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (a job was added or cancelled)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop claiming; kill the workers and put their jobs back in the queue."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for job_id, run in list(self.running.items()):
            _kill(run.process)
            note = "re-queued: the server was stopped"
            if not self.store.requeue(job_id, self.owner, note) and self.store.get(job_id) is None:
                self._remove_files(job_id)  # deleted while it ran
        self.running.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # the runner must outlive a database hiccup
                log.exception("job runner tick failed")
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()

    def tick(self) -> None:
        """One pass: reap, cancel, time out, renew, recover, claim."""
        now = time.time()
        self._reap()
        states = self.store.statuses(list(self.running))
        for job_id, run in list(self.running.items()):
            status, owner = states.get(job_id, ("deleted", None))
            if status != "running" or owner != self.owner:
                _kill(run.process)  # cancelled or deleted meanwhile
                self.running.pop(job_id)
                if job_id not in states:
                    self._remove_files(job_id)
            elif now > run.deadline:
                _kill(run.process)
                self.running.pop(job_id)
                limit = f"{run.job.time_limit:g} s"
                self.store.finish(job_id, self.owner, "failed", f"timed out (limit {limit})")
        if now - self._renewed > self.settings.lease_seconds / 3:
            self.store.renew(self.owner, list(self.running), self.settings.lease_seconds)
            self._renewed = now
        if now - self._recovered > self.settings.lease_seconds / 3:
            self.store.recover()
            self._recovered = now
        while len(self.running) < self.settings.workers and not self._stop.is_set():
            job = self.store.claim(self.owner, self.settings.lease_seconds)
            if job is None:
                break
            self._launch(job)

    def _launch(self, job: Job) -> None:
        job_dir = self.settings.jobs_dir / job.id
        (job_dir / jobfiles.ERROR).unlink(missing_ok=True)
        jobfiles.write_json(job_dir / jobfiles.PROGRESS, {"phase": "starting", "at": time.time()})
        command = [sys.executable, "-m", "isched.web.worker", str(job_dir), job.solver,
                   str(job.time_limit), str(self.settings.solve_workers)]  # fmt: skip
        with open(job_dir / jobfiles.LOG, "ab") as handle:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, SERVER_PID: str(os.getpid())},
            )
        deadline = time.time() + job.time_limit * 1.2 + GRACE_SECONDS
        self.running[job.id] = Running(job, process, deadline)
        log.info("job %s started (%s)", job.id, job.solver)

    def _reap(self) -> None:
        for job_id, run in list(self.running.items()):
            code = run.process.poll()
            if code is None:
                continue
            self.running.pop(job_id)
            job_dir = self.settings.jobs_dir / job_id
            report = jobfiles.read_json(job_dir / jobfiles.OUT / "report.json")
            if code == 0 and isinstance(report, dict):
                summary = {
                    "status": report.get("status"),
                    "scheduled": report.get("scheduled"),
                    "unscheduled": len(report.get("unscheduled", [])),
                    "gap": report.get("gap"),
                    "solve_seconds": report.get("solve_seconds"),
                    "snapshot_date": report.get("snapshot_date"),
                }
                self.store.finish(job_id, self.owner, "done", summary=summary)
            else:
                try:
                    reason = (job_dir / jobfiles.ERROR).read_text(encoding="utf-8").strip()
                except OSError:
                    reason = f"the worker process stopped (exit code {code})"
                self.store.finish(job_id, self.owner, "failed", reason or "failed")
            if self.store.get(job_id) is None:
                self._remove_files(job_id)  # deleted while it ran: keep none of its outputs
            log.info("job %s finished (exit code %s)", job_id, code)

    def _remove_files(self, job_id: str) -> None:
        """Remove the folder of a deleted job (its worker is gone, so nothing recreates it)."""
        shutil.rmtree(self.settings.jobs_dir / job_id, ignore_errors=True)
        snapshots.forget(self.settings.jobs_dir / job_id)
        log.info("job %s was deleted: its files are removed", job_id)


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a worker and everything it started (its own process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait(timeout=10)
