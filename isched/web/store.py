"""The job store: one ``jobs`` table in SQLite (or any database SQLAlchemy names).

A job moves ``queued`` -> ``running`` -> ``done`` | ``failed``, or to
``cancelled`` from either of the first two. A server claims a queued job with
one atomic ``UPDATE ... WHERE status = 'queued'`` that writes its name
(``owner``) and a lease; it renews the lease while the job runs. A running job
whose lease ran out, or whose owner is a dead process on this host, is
recovered by any server: re-queued once, failed with the reason after that.
Every state change is a conditional UPDATE, so two servers never both win.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

STATUSES = ("queued", "running", "done", "failed", "cancelled")
FINISHED = ("done", "failed", "cancelled")
MAX_ATTEMPTS = 2
"""A job is started at most this often; a server dying under it twice fails it."""

metadata = sa.MetaData()
jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("solver", sa.String(300), nullable=False),
    sa.Column("time_limit", sa.Float, nullable=False),
    sa.Column("created", sa.Float, nullable=False, index=True),
    sa.Column("started", sa.Float),
    sa.Column("finished", sa.Float),
    sa.Column("owner", sa.String(200)),
    sa.Column("lease_until", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
    sa.Column("parent_id", sa.String(32)),
    sa.Column("tables", sa.Text, nullable=False, default="[]"),
    sa.Column("summary", sa.Text),
)


@dataclass
class Job:
    """One row of the store."""

    id: str
    status: str
    solver: str
    time_limit: float
    created: float
    started: float | None = None
    finished: float | None = None
    owner: str | None = None
    lease_until: float | None = None
    attempts: int = 0
    error: str | None = None
    parent_id: str | None = None
    tables: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: Any) -> Job:
        values = dict(row._mapping)
        values["tables"] = json.loads(values["tables"] or "[]")
        values["summary"] = json.loads(values["summary"]) if values["summary"] else None
        return cls(**values)


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL (readers never wait for the writer) and a busy timeout."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def owner_name() -> str:
    """This server process as an owner: host, pid and a random part."""
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


def owner_dead(owner: str) -> bool:
    """True when ``owner`` names a process of this host that no longer runs."""
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class JobStore:
    """Jobs in a database; every method is one short transaction."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        metadata.create_all(self.engine)
        self._one = jobs.select().where(jobs.c.id == sa.bindparam("job_id"))
        """Built once: a status poll only binds the id (polls come many at a time)."""

    def add(self, job: Job) -> None:
        values = {**job.__dict__, "tables": json.dumps(job.tables)}
        values["summary"] = json.dumps(job.summary) if job.summary is not None else None
        with self.engine.begin() as db:
            db.execute(jobs.insert().values(**values))

    def get(self, job_id: str) -> Job | None:
        with self.engine.connect() as db:
            row = db.execute(self._one, {"job_id": job_id}).first()
        return Job.from_row(row) if row is not None else None

    def newest_first(self, limit: int = 500, offset: int = 0) -> list[Job]:
        """The jobs, newest first: ``limit`` of them after the ``offset`` newest."""
        order = (jobs.c.created.desc(), jobs.c.id)
        query = jobs.select().order_by(*order).limit(limit).offset(offset)
        with self.engine.connect() as db:
            return [Job.from_row(row) for row in db.execute(query)]

    def count(self) -> int:
        """How many jobs there are."""
        with self.engine.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).select_from(jobs)).scalar_one())

    def _update(self, where: Any, **values: Any) -> int:
        with self.engine.begin() as db:
            return int(db.execute(jobs.update().where(where).values(**values)).rowcount)

    def claim(self, owner: str, lease: float) -> Job | None:
        """Take the oldest queued job for ``owner``: None when the queue is empty."""
        query = (
            sa.select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.created).limit(5)
        )
        with self.engine.connect() as db:
            ids = [row.id for row in db.execute(query)]
        for job_id in ids:
            now = time.time()
            won = self._update(
                (jobs.c.id == job_id) & (jobs.c.status == "queued"),
                status="running",
                owner=owner,
                lease_until=now + lease,
                started=now,
                attempts=jobs.c.attempts + 1,
            )
            if won:
                return self.get(job_id)
        return None

    def renew(self, owner: str, job_ids: list[str], lease: float) -> None:
        if job_ids:
            mine = (jobs.c.owner == owner) & (jobs.c.status == "running")
            self._update(mine & jobs.c.id.in_(job_ids), lease_until=time.time() + lease)

    def finish(
        self,
        job_id: str,
        owner: str,
        status: str,
        error: str | None = None,
        summary: dict[str, Any] | None = None,
    ) -> bool:
        """Close a running job of ``owner``; False when it was cancelled or taken meanwhile."""
        mine = (jobs.c.id == job_id) & (jobs.c.status == "running") & (jobs.c.owner == owner)
        text = json.dumps(summary) if summary is not None else None
        return bool(self._update(mine, status=status, error=error, summary=text,
                                 finished=time.time(), lease_until=None))  # fmt: skip

    def requeue(self, job_id: str, owner: str, note: str) -> bool:
        """Put a running job of ``owner`` back in the queue (the server is stopping)."""
        mine = (jobs.c.id == job_id) & (jobs.c.status == "running") & (jobs.c.owner == owner)
        return bool(self._update(mine, status="queued", owner=None, lease_until=None, error=note,
                                 attempts=jobs.c.attempts - 1))  # fmt: skip

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued or running job; False when it had already finished."""
        open_ = (jobs.c.id == job_id) & jobs.c.status.in_(("queued", "running"))
        return bool(self._update(open_, status="cancelled", finished=time.time(), lease_until=None))

    def delete(self, job_id: str) -> bool:
        """Remove a finished job's row; False when it is queued or running (cancel it first)."""
        with self.engine.begin() as db:
            done = (jobs.c.id == job_id) & jobs.c.status.in_(FINISHED)
            return bool(db.execute(jobs.delete().where(done)).rowcount)

    def statuses(self, job_ids: list[str]) -> dict[str, tuple[str, str | None]]:
        """(status, owner) of each of ``job_ids`` still in the store."""
        if not job_ids:
            return {}
        query = sa.select(jobs.c.id, jobs.c.status, jobs.c.owner).where(jobs.c.id.in_(job_ids))
        with self.engine.connect() as db:
            return {row.id: (row.status, row.owner) for row in db.execute(query)}

    def recover(self) -> list[tuple[str, str]]:
        """Re-queue (or fail) running jobs whose server is gone; [(job id, new status)]."""
        now = time.time()
        query = sa.select(jobs.c.id, jobs.c.owner, jobs.c.lease_until, jobs.c.attempts).where(
            jobs.c.status == "running"
        )
        with self.engine.connect() as db:
            rows = list(db.execute(query))
        changed: list[tuple[str, str]] = []
        for row in rows:
            expired = row.lease_until is None or row.lease_until < now
            if not (expired or owner_dead(row.owner or "")):
                continue
            was = (jobs.c.id == row.id) & (jobs.c.status == "running")
            was &= jobs.c.owner == row.owner if row.owner is not None else jobs.c.owner.is_(None)
            note = "the server stopped while the job was running"
            if row.attempts < MAX_ATTEMPTS:
                values: dict[str, Any] = {"status": "queued", "owner": None, "lease_until": None,
                                          "error": f"re-queued: {note}"}  # fmt: skip
            else:
                values = {"status": "failed", "finished": now, "lease_until": None,
                          "error": f"{note} ({row.attempts} times)"}  # fmt: skip
            if self._update(was, **values):
                changed.append((row.id, values["status"]))
        return changed
