"""The REST API (CLI.md, "Web service"); a browser asking for HTML gets the page instead.

Every route here needs the token (``auth.require_token``); ``/health`` and the
login form live in ``app``.
"""

from __future__ import annotations

import io
import zipfile
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from isched.web import jobfiles, pages
from isched.web.auth import require_token, wants_html
from isched.web.jobs import JOB_ID, create_job, delete_job, job_json, rerun_job
from isched.web.schema import TableDoc, table_docs, tables_markdown
from isched.web.settings import Settings
from isched.web.store import Job, JobStore
from isched.web.uploads import KNOWN, Part, UploadError

router = APIRouter(dependencies=[Depends(require_token)])

ACTIONS = {"replan": "replan", "rerun": "rerun"}
"""A job's POST-only actions -> the part of its page that holds their form."""

UPLOAD_HELP = f"""Upload a snapshot and queue a scheduling job.

`files`: the tables as repeated parts named as below (`.csv` or `.parquet`, and
`scenario.yaml`), or one `.zip` holding them, or one `.xlsx` workbook with a
sheet per table (and a sheet `scenario` with the lines of scenario.yaml).
Upload file names only say which table a part is. A bad table gives 422 with
`file`, `row` and `column`, and nothing is stored; a body over the size limit 413.

{tables_markdown()}

Identifiers (`*_id` columns) match `[A-Za-z0-9][A-Za-z0-9_.-]*`. `GET /tables`
gives every column with its kind and default.
"""

REPLAN_HELP = """Re-plan a done job after a change: a new job from this one's tables and plan.

`files`: new tables (any subset; the others are this job's), and optionally an
edited `schedule.csv` to re-plan from instead of this job's plan. `confirmed`:
interview ids to mark confirmed (repeated, or separated by commas), in addition
to the rows the plan already marks confirmed; with `release_unlisted=true`,
`confirmed` is the whole list, and a row the plan marks confirmed that it does
not name is proposed again (un-confirmed). Confirmed rows are kept; the rest
move as little as possible. The new job's `diff.json` says what moved and why.
"""


def _ctx(request: Request) -> tuple[Settings, JobStore]:
    return request.app.state.settings, request.app.state.store


def _job(request: Request, job_id: str) -> Job:
    _, store = _ctx(request)
    job = store.get(job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None:
        raise HTTPException(404, "no such job")
    return job


def _parts(files: list[UploadFile]) -> list[Part]:
    return [Part(f.filename or "", f.file.read()) for f in files]


def _accepted(request: Request, job: Job) -> Response:
    request.app.state.runner_wake()
    if wants_html(request):
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)
    settings, _ = _ctx(request)
    body = job_json(settings, job)
    return JSONResponse(body, status_code=202, headers={"Location": f"/jobs/{job.id}"})


def _refused(
    request: Request,
    error: UploadError,
    parent: Job | None = None,
    heading: str | None = None,
    **entered: Any,
) -> Response:
    """The refusal: for a browser, the form again with what was entered (``entered``)."""
    if wants_html(request):
        return pages.upload_error(request, error, parent, entered, heading)
    return JSONResponse(error.to_dict(), status_code=error.status)


PAGE = 500
"""Jobs in one answer of ``GET /jobs`` at most."""


@router.get(
    "/jobs",
    summary="The jobs, newest first",
    description=f"At most `limit` (1-{PAGE}) jobs after the `offset` newest; the header "
    "`X-Total-Count` says how many there are.",
)
def list_jobs(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = PAGE,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    settings, store = _ctx(request)
    found, total = store.newest_first(limit, offset), store.count()
    if wants_html(request):
        return pages.jobs_page(request, found, offset, total, limit)
    rows = [job_json(settings, job) for job in found]
    return JSONResponse(rows, headers={"X-Total-Count": str(total)})


@router.post(
    "/jobs", status_code=202, summary="Upload a snapshot: a new job", description=UPLOAD_HELP
)
def post_job(
    request: Request,
    files: Annotated[list[UploadFile], File(description=f"one of: {', '.join(KNOWN)}")],
    solver: Annotated[str, Form(description="cpsat, greedy or rl:MODEL_DIR")] = "cpsat",
    time_limit: Annotated[float, Form(description="seconds for the whole solve")] = 30.0,
) -> Response:
    settings, store = _ctx(request)
    try:
        job = create_job(settings, store, _parts(files), solver, time_limit)
    except UploadError as error:
        return _refused(request, error, solver=solver, time_limit=time_limit)
    return _accepted(request, job)


@router.get("/tables", summary="The snapshot tables and their columns")
def get_tables() -> list[TableDoc]:
    return table_docs()


@router.get("/jobs/new", summary="The new-job form (a page)", include_in_schema=False)
def new_job_page(request: Request) -> Response:
    return pages.new_page(request)


@router.get("/jobs/{job_id}", summary="A job: status, progress, summary, downloads")
async def get_job(request: Request, job_id: str) -> Any:
    """A coroutine: one indexed SELECT, answered on the event loop without a thread hop,
    so status polls stay fast while solves load the machine. The page renders in a thread."""
    job = _job(request, job_id)
    settings, _ = _ctx(request)
    if wants_html(request):
        return await run_in_threadpool(pages.job_page, request, job)
    return JSONResponse(job_json(settings, job))


@router.get("/jobs/{job_id}/tables.zip", summary="The tables a job ran on")
def get_tables_zip(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    settings, _ = _ctx(request)
    folder = settings.jobs_dir / job.id
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted((folder / jobfiles.TABLES).iterdir()):
            archive.write(path, path.name)
        for name in (jobfiles.PREVIOUS, jobfiles.PREVIOUS_CALENDAR):
            if (folder / name).exists():
                archive.write(folder / name, name)
    disposition = f'attachment; filename="{jobfiles.saved_as(job.id, "tables.zip")}"'
    headers = {"Content-Disposition": disposition}
    return Response(buffer.getvalue(), media_type="application/zip", headers=headers)


@router.get(
    "/jobs/{job_id}/{name}",
    summary="A result of a done job: schedule.csv, schedule.ics, report.json (diff.json)",
)
def get_output(request: Request, job_id: str, name: str) -> Response:
    job = _job(request, job_id)
    settings, _ = _ctx(request)
    if name in ACTIONS:  # a re-plan or rerun link opened, or the page reloaded after one
        if wants_html(request):
            return RedirectResponse(f"/jobs/{job.id}#{ACTIONS[name]}", status_code=303)
        message = f"{name} is a POST (a form on the job's page); GET gives results only"
        raise HTTPException(405, message, headers={"Allow": "POST"})
    if name not in jobfiles.OUTPUTS:
        raise HTTPException(404, "no such result (schedule.csv, schedule.ics, report.json)")
    path = settings.jobs_dir / job.id / jobfiles.OUT / name
    if job.status in ("failed", "cancelled"):
        raise HTTPException(409, f"job is {job.status}: it has no results")
    if job.status != "done":
        raise HTTPException(409, f"job is {job.status}: results come when it is done")
    if not path.exists():
        raise HTTPException(404, f"this job has no {name}")  # diff.json: re-plans only
    saved_as = jobfiles.saved_as(job.id, name)  # two jobs' downloads do not collide
    return FileResponse(path, media_type=jobfiles.OUTPUTS[name], filename=saved_as)


@router.post(
    "/jobs/{job_id}/replan", status_code=202, summary="Re-plan a done job", description=REPLAN_HELP
)
def replan(
    request: Request,
    job_id: str,
    files: Annotated[list[UploadFile], File(description="changed tables")] = [],  # noqa: B006
    confirmed: Annotated[list[str], Form(description="interview ids to keep")] = [],  # noqa: B006
    release_unlisted: Annotated[
        bool, Form(description="un-confirm the plan's confirmed rows `confirmed` omits")
    ] = False,
    solver: Annotated[str | None, Form(description="default: the job's")] = None,
    time_limit: Annotated[float | None, Form(description="default: the job's")] = None,
) -> Response:
    parent = _job(request, job_id)
    settings, store = _ctx(request)
    if parent.status != "done":
        return _refused(request, UploadError(f"job {parent.id} is {parent.status}, not done", 409))
    try:
        job = create_job(
            settings,
            store,
            _parts(files),
            solver or parent.solver,
            time_limit if time_limit is not None else parent.time_limit,
            parent=parent,
            confirmed=confirmed,
            release_unlisted=release_unlisted,
        )
    except UploadError as error:
        return _refused(request, error, parent, solver=solver, time_limit=time_limit,
                        confirmed=confirmed, release_unlisted=release_unlisted)  # fmt: skip
    return _accepted(request, job)


@router.post(
    "/jobs/{job_id}/rerun",
    status_code=202,
    summary="Run a finished job again",
    description="A new queued job on this one's tables (and, for a re-plan, the same plan and "
    "confirmed rows): for a job that failed or was cancelled, or to try another solver or "
    "time limit. `solver` and `time_limit` default to the job's. 409 while the job is queued "
    "or running.",
)
def rerun(
    request: Request,
    job_id: str,
    solver: Annotated[str | None, Form(description="default: the job's")] = None,
    time_limit: Annotated[float | None, Form(description="default: the job's")] = None,
) -> Response:
    source = _job(request, job_id)
    settings, store = _ctx(request)
    try:
        job = rerun_job(settings, store, source, solver or None, time_limit)
    except UploadError as error:
        heading = "Not run again; nothing was stored."
        return _refused(request, error, source, heading, solver=solver, time_limit=time_limit)
    return _accepted(request, job)


@router.delete(
    "/jobs/{job_id}",
    summary="Cancel a queued or running job; delete a finished one and its files",
    description="A queued or running job is cancelled (it stays listed, as `cancelled`). "
    "A finished job (done, failed, cancelled) is deleted with every file it kept. "
    "`purge=true` does both at once.",
)
def delete(
    request: Request,
    job_id: str,
    purge: Annotated[bool, Query(description="also delete a queued or running job")] = False,
) -> dict[str, Any]:
    job = _job(request, job_id)
    settings, store = _ctx(request)
    result = delete_job(settings, store, job, purge)
    request.app.state.runner_wake()
    return result
