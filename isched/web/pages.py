"""Server-rendered pages (Jinja2 templates in ``templates/``): jobs, new job, job, login, 404."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from isched.web import jobfiles, snapshots, views
from isched.web.auth import authorized, back_to
from isched.web.jobs import job_json, outputs
from isched.web.settings import Settings
from isched.web.store import Job, JobStore
from isched.web.uploads import KNOWN, UploadError
from scheduler.solver.warnings import report_warnings

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
REASONS = {
    "form_incomplete": "the follow-up form is not in yet",
    "no_open_posting": "no open posting matches the candidate's areas",
    "no_qualified_interviewer": "no interviewer is qualified for it (area, role)",
    "candidate_hours": "no slot inside the candidate's available hours",
    "stage_gap": "too soon after the previous stage",
    "no_room": "no suitable room is free (office, capacity, accessibility)",
    "interviewer_calendars": "the qualified interviewers' calendars are full",
    "capacity_taken": "the capacity it needs went to other interviews (caps, rooms)",
}
"""What each blocking constraint of report.json means, for the unplaced table."""


FIELD_NAMES = {"start": "time", "end": "time", "interviewer_ids": "interviewers",
               "room_id": "room", "session_starts": "session times"}  # fmt: skip
"""What a re-plan's changed schedule.csv columns are called on the page."""


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """The page ``name``; every page knows whether its browser is logged in (the menu)."""
    context.setdefault("logged_in", authorized(request))
    return templates.TemplateResponse(request, name, context, status_code=status)


def _parents(request: Request, jobs: list[Job]) -> set[str]:
    """The parent ids of ``jobs`` still in the store (a deleted parent gets no link)."""
    store: JobStore = request.app.state.store
    wanted = sorted({j.parent_id for j in jobs if j.parent_id})
    return set(store.statuses(wanted))


def jobs_page(
    request: Request, jobs: list[Job], offset: int = 0, total: int = 0, limit: int = 500
) -> HTMLResponse:
    """The jobs list: ``jobs`` are at most ``limit`` after the ``offset`` newest of ``total``."""
    settings: Settings = request.app.state.settings
    return render(request, "jobs.html", jobs=[job_json(settings, j) for j in jobs],
                  parents=_parents(request, jobs), offset=offset, total=total, limit=limit,
                  query=request.url.query)  # fmt: skip


def not_found_page(request: Request, detail: str) -> HTMLResponse:
    """A 404 for a browser: what is missing and the way back to the jobs."""
    return render(request, "not_found.html", 404, detail=detail)


def problem_page(request: Request, heading: str, detail: str, status: int) -> HTMLResponse:
    """A refusal that has no form to show again (a body too large to read, a form sent
    without its fields): what went wrong and the way back to the page it came from."""
    back = back_to(request) if request.method != "GET" else "/"
    return render(request, "problem.html", status, heading=heading, detail=detail, back=back)


def new_page(
    request: Request,
    error: UploadError | None = None,
    status: int = 200,
    entered: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The new-job form; after a refusal, with the solver and time limit entered."""
    return render(request, "new.html", status, error=error, known=KNOWN, entered=entered or {})


def upload_error(
    request: Request,
    error: UploadError,
    parent: Job | None,
    entered: dict[str, Any],
    heading: str | None = None,
) -> HTMLResponse:
    """The form that was refused, with the error and what was entered (files excepted)."""
    if parent is None:
        return new_page(request, error, error.status, entered)
    return job_page(request, parent, error, error.status, entered, heading)


def job_page(
    request: Request,
    job: Job,
    error: UploadError | None = None,
    status: int = 200,
    entered: dict[str, Any] | None = None,
    heading: str | None = None,
) -> HTMLResponse:
    """A job's page; after a refused re-plan or run, with the error (under ``heading``)."""
    settings: Settings = request.app.state.settings
    folder = settings.jobs_dir / job.id
    context: dict[str, Any] = {"job": job_json(settings, job), "error": error, "reasons": REASONS}
    if heading:
        context["error_heading"] = heading
    context["entered"] = entered or {}
    context["field_names"] = FIELD_NAMES
    context["refresh"] = job.status in ("queued", "running")
    context["parents"] = _parents(request, [job])
    if job.status == "done" and (folder / jobfiles.OUT / "schedule.csv").exists():
        snapshot, config = snapshots.load(folder)
        report = jobfiles.read_json(folder / jobfiles.OUT / "report.json") or {}
        events = views.read_events(folder / jobfiles.OUT / "schedule.csv")
        horizon = report.get("horizon") or {}
        days = views.horizon_days(events, horizon.get("first_day"), horizon.get("last_day"))
        context.update(
            report=report,
            events=sorted(events, key=lambda e: (e.start, e.candidate_id)),
            calendars=views.office_calendars(events, config.hours),
            days=days,
            timelines=views.timelines(events, snapshot.interviewers, days, config.hours),
            loads=views.loads(events, snapshot.interviewers),
            unplaced=report.get("unscheduled", []),
            unplaced_groups=views.unplaced_groups(report.get("unscheduled", [])),
            warnings=report_warnings(report, previous="the previous plan"),
            diff=jobfiles.read_json(folder / jobfiles.OUT / "diff.json"),
            outputs=outputs(settings, job),
            hours=config.hours,
        )
    return render(request, "job.html", status, **context)


def login_page(request: Request, next_path: str, wrong: bool = False) -> HTMLResponse:
    return render(request, "login.html", 401 if wrong else 200, next_path=next_path, wrong=wrong)
