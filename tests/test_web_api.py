"""The REST API of ``isched serve`` (CLI.md, "Web service") against the real app.

A real SQLite file, real worker processes and the real solver; snapshots of the
``tiny`` scenario from ``isched generate``.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import icalendar
import pandas as pd
import pytest
from cli_runner import isched
from fastapi.testclient import TestClient
from web_helpers import table_files, wait_for, worker_running

from isched.web import runner, snapshots
from isched.web.app import create_app
from isched.web.auth import SESSION_SECONDS, session_value
from isched.web.jobs import create_job, delete_job
from isched.web.settings import make_settings
from isched.web.store import JobStore
from isched.web.uploads import Part
from scheduler.workbook import write_workbook

TOKEN = "test-token-123"
MODEL = Path(__file__).resolve().parents[1] / "models" / "default"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "snap"
    result = isched("generate", "--scenario", "tiny", "--seed", "0", "--out", out)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server")


@pytest.fixture(scope="module")
def client(home: Path, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch_module.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(home / "jobs.db"), workers=2)
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield test_client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def done_job(client: TestClient, tiny: Path) -> dict[str, object]:
    """The tiny snapshot solved by cpsat through the API."""
    response = client.post("/jobs", files=table_files(tiny), data={"time_limit": "10"})
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job
    return job


def stored(home: Path) -> tuple[int, list[str]]:
    """Jobs in the database file, and the job folders on disk (staging included)."""
    with sqlite3.connect(home / "jobs.db") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM jobs").fetchone()
    files = home / "jobs.db.files"
    folders = [p.name for sub in ("jobs", "staging") if (files / sub).exists()
               for p in (files / sub).iterdir()]  # fmt: skip
    return count, sorted(folders)


def assert_nothing_stored(home: Path, before: tuple[int, list[str]]) -> None:
    """No job and no folder was added since ``before``. A folder may have gone meanwhile: a
    job deleted while it ran keeps its folder until its worker exits, then the runner
    removes it, whichever test is running then."""
    count, folders = stored(home)
    assert count == before[0]
    assert set(folders) <= set(before[1]), sorted(set(folders) - set(before[1]))


def refused(client: TestClient, home: Path, files: list, **data: str) -> dict[str, object]:
    """POST /jobs that must give 422 and store nothing; the error body."""
    before = stored(home)
    response = client.post("/jobs", files=files, data=data)
    assert response.status_code == 422, response.text
    assert_nothing_stored(home, before)
    return response.json()


def with_cell(tiny: Path, tmp_path: Path, table: str, row: int, column: str, value: str) -> Path:
    """A copy of the snapshot with one cell changed (``row`` counts as a spreadsheet does)."""
    copy = tmp_path / "snap"
    copy.mkdir()
    for path in tiny.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    frame = pd.read_csv(copy / f"{table}.csv", dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value
    frame.to_csv(copy / f"{table}.csv", index=False)
    return copy


# Access ----------------------------------------------------------------------------------


def test_health_answers_without_a_token(client: TestClient) -> None:
    assert client.get("/health", headers={"Authorization": ""}).status_code == 200


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/jobs"), ("POST", "/jobs"), ("GET", "/jobs/0123456789abcdef"),
     ("GET", "/jobs/0123456789abcdef/schedule.csv"), ("POST", "/jobs/0123456789abcdef/replan"),
     ("DELETE", "/jobs/0123456789abcdef"), ("GET", "/tables"), ("GET", "/openapi.json"),
     ("GET", "/docs"), ("GET", "/")],
)  # fmt: skip
def test_every_other_endpoint_needs_the_token(client: TestClient, method: str, path: str) -> None:
    for auth in ("", "Bearer wrong-token", f"Basic {TOKEN}"):
        response = client.request(method, path, headers={"Authorization": auth})
        assert response.status_code == 401, (method, path, auth, response.status_code)


def test_a_browser_without_a_session_gets_the_login_form(client: TestClient) -> None:
    headers = {"Authorization": "", "Accept": "text/html"}
    response = client.get("/jobs/new", headers=headers, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert client.post("/login", data={"token": "nope"}, headers=headers).status_code == 401
    login = client.post(
        "/login", data={"token": TOKEN, "next": "/jobs/new"}, headers=headers,
        follow_redirects=False,
    )  # fmt: skip
    assert login.status_code == 303 and login.headers["location"] == "/jobs/new"
    assert "httponly" in login.headers["set-cookie"].lower()
    cookie = login.cookies["isched_session"]
    assert TOKEN not in cookie
    client.cookies.set("isched_session", cookie)
    page = client.get("/jobs/new", headers=headers)
    assert page.status_code == 200 and "<form" in page.text
    client.cookies.clear()


def test_a_session_cookie_ends_after_a_working_day_and_cannot_be_forged(
    client: TestClient,
) -> None:
    """A login lasts ``SESSION_SECONDS`` (the cookie says so too); an old or altered cookie
    is the login form again."""
    headers = {"Authorization": "", "Accept": "text/html"}
    login = client.post("/login", data={"token": TOKEN}, headers=headers, follow_redirects=False)
    assert f"max-age={SESSION_SECONDS}" in login.headers["set-cookie"].lower()
    now = int(time.time())
    issued, _, mac = login.cookies["isched_session"].partition(".")
    assert abs(int(issued) - now) < 60
    old = session_value(TOKEN, now - SESSION_SECONDS - 120)
    cases = {
        session_value(TOKEN, now - 60): 200,
        old: 303,
        f"{int(issued) - 1}.{mac}": 303,  # another time, the same HMAC
        f"{now}.{session_value('another-token', now).partition('.')[2]}": 303,
        session_value(TOKEN, now).partition(".")[2]: 303,  # no time
    }
    for cookie, status in cases.items():
        client.cookies.clear()  # only this cookie, not the one the login set beside it
        client.cookies.set("isched_session", cookie)
        page = client.get("/jobs/new", headers=headers, follow_redirects=False)
        assert page.status_code == status, cookie
    client.cookies.clear()


def test_a_form_sent_without_a_session_goes_to_the_login_form_and_back(
    client: TestClient,
) -> None:
    """Logged out in another tab: a form's POST is the login form (not a JSON 401), which
    leads back to the page the form was on; a page's query survives the login too."""
    from urllib.parse import parse_qs, urlsplit

    headers = {"Authorization": "", "Accept": "text/html",
               "Referer": "http://testserver/jobs/0123456789abcdef"}  # fmt: skip
    response = client.post("/jobs/0123456789abcdef/rerun", headers=headers,
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303
    where = urlsplit(response.headers["location"])
    assert where.path == "/login"
    assert parse_qs(where.query)["next"] == ["/jobs/0123456789abcdef"]
    elsewhere = {**headers, "Referer": "https://example.org/jobs/x"}
    response = client.post("/jobs", headers=elsewhere, follow_redirects=False)
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == ["/"]
    response = client.get("/jobs/new?solver=greedy", headers=headers, follow_redirects=False)
    assert parse_qs(urlsplit(response.headers["location"]).query)["next"] == [
        "/jobs/new?solver=greedy"
    ]
    # browsers send that Referer only if the pages allow it: same-origin, never elsewhere
    assert client.get("/health").headers["Referrer-Policy"] == "same-origin"
    api = client.post("/jobs", headers={"Authorization": ""})
    assert api.status_code == 401  # a script still gets JSON


def test_a_generated_token_is_stored_beside_the_database_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISCHED_TOKEN", raising=False)
    settings, generated = make_settings(str(tmp_path / "a.db"))
    assert generated and len(settings.token) >= 32
    stored_token = tmp_path / "a.db.token"
    assert stored_token.read_text().strip() == settings.token
    assert stored_token.stat().st_mode & 0o777 == 0o600
    again, generated_again = make_settings(str(tmp_path / "a.db"))
    assert again.token == settings.token and not generated_again


# A job end to end --------------------------------------------------------------------------


def test_upload_solve_download_and_the_validator_agrees(
    client: TestClient, tiny: Path, done_job: dict, tmp_path: Path
) -> None:
    job_id = done_job["id"]
    assert done_job["progress"]["fraction"] == 1.0
    assert done_job["summary"]["scheduled"] > 0
    assert set(done_job["downloads"]) == {"schedule.csv", "schedule.ics", "report.json"}
    schedule = client.get(f"/jobs/{job_id}/schedule.csv")
    assert schedule.status_code == 200 and schedule.text.startswith("interview_id,")
    (tmp_path / "schedule.csv").write_bytes(schedule.content)
    check = isched("check", tiny, tmp_path / "schedule.csv")
    assert check.returncode == 0, check.stdout + check.stderr
    ics = client.get(f"/jobs/{job_id}/schedule.ics")
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
    assert ics.headers["content-type"].startswith("text/calendar")
    report = client.get(f"/jobs/{job_id}/report.json").json()
    assert report["scheduled"] == done_job["summary"]["scheduled"]
    assert done_job["summary"]["snapshot_date"] == report["snapshot_date"]  # jobs told apart
    page = client.get("/", headers={"Accept": "text/html"}).text
    assert f"<td>{report['snapshot_date']}</td>" in page
    assert all({"candidate_id", "stage", "reason"} <= set(u) for u in report["unscheduled"])
    listed = client.get("/jobs").json()
    assert listed[-1]["id"] == job_id or job_id in [j["id"] for j in listed]
    assert [j["created"] for j in listed] == sorted((j["created"] for j in listed), reverse=True)
    tables = zipfile.ZipFile(io.BytesIO(client.get(f"/jobs/{job_id}/tables.zip").content))
    assert "candidates.csv" in tables.namelist()


def test_a_zip_and_a_workbook_are_snapshots_too(
    client: TestClient, tiny: Path, tmp_path: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in tiny.iterdir():
            archive.write(path, f"export/{path.name}")
    zipped = client.post(
        "/jobs", files=[("files", ("snapshot.zip", buffer.getvalue(), "application/zip"))],
        data={"solver": "greedy", "time_limit": "10"},
    )  # fmt: skip
    assert zipped.status_code == 202, zipped.text
    write_workbook(tiny, tmp_path / "snapshot.xlsx")
    book = (tmp_path / "snapshot.xlsx").read_bytes()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    booked = client.post("/jobs", files=[("files", ("snapshot.xlsx", book, xlsx))],
                         data={"solver": "greedy", "time_limit": "10"})  # fmt: skip
    assert booked.status_code == 202, booked.text
    first = wait_for(client, zipped.json()["id"])
    second = wait_for(client, booked.json()["id"])
    assert first["status"] == second["status"] == "done"
    a = client.get(f"/jobs/{first['id']}/schedule.csv").text
    b = client.get(f"/jobs/{second['id']}/schedule.csv").text
    assert a == b


def test_a_bad_workbook_names_the_sheet_row_and_column(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path
) -> None:
    bad = with_cell(tiny, tmp_path, "interviewers", 3, "max_per_day", "many")
    write_workbook(bad, tmp_path / "plan.xlsx")
    files = [("files", ("plan.xlsx", (tmp_path / "plan.xlsx").read_bytes(), "application/xlsx"))]
    body = refused(client, home, files)
    assert body["file"] == "plan.xlsx sheet interviewers"
    assert (body["row"], body["column"]) == (3, "max_per_day")


# Refused uploads -------------------------------------------------------------------------


def test_a_bad_table_gives_422_naming_file_row_and_column_and_stores_nothing(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path
) -> None:
    bad = with_cell(tiny, tmp_path, "candidates", 3, "available_from", "next week")
    body = refused(client, home, table_files(bad))
    assert (body["file"], body["row"], body["column"]) == ("candidates.csv", 3, "available_from")
    assert "candidates.csv row 3, column available_from" in body["detail"]


@pytest.mark.parametrize(
    ("start", "end", "column"),
    [("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:00+00:00", "start"),
     ("2027-02-01T09:00:00-08:00", "9999-12-31T23:59:00+00:00", "end")],
)  # fmt: skip
def test_a_date_outside_the_years_is_a_bad_cell_not_a_crash(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path, start: str, end: str, column: str
) -> None:
    bad = with_cells(tiny, tmp_path, [("busy", 2, "start", start), ("busy", 2, "end", end)])
    body = refused(client, home, table_files(bad))
    assert (body["file"], body["row"], body["column"]) == ("busy.csv", 2, column)
    assert "outside the years 1970-2100" in body["detail"]


def with_cells(tiny: Path, tmp_path: Path, cells: list[tuple[str, int, str, str]]) -> Path:
    """A copy of the snapshot with each (table, row, column, value) cell changed."""
    table, row, column, value = cells[0]
    tmp_path.mkdir(parents=True, exist_ok=True)
    bad = with_cell(tiny, tmp_path, table, row, column, value)
    for table, row, column, value in cells[1:]:
        frame = pd.read_csv(bad / f"{table}.csv", dtype=str, keep_default_na=False)
        frame.loc[row - 2, column] = value
        frame.to_csv(bad / f"{table}.csv", index=False)
    return bad


THREE_BAD = [
    ("candidates", 3, "available_from", "next week"),
    ("interviewers", 5, "max_per_day", "many"),
    ("rooms", 2, "accessible", "maybe"),
]
"""Three tables, each with a bad cell."""


def where(cells: list[tuple[str, int, str, str]]) -> list[tuple[str, int, str]]:
    return [(f"{table}.csv", row, column) for table, row, column, _ in cells]


def test_every_bad_table_is_named_and_the_first_keeps_the_old_shape(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path
) -> None:
    body = refused(client, home, table_files(with_cells(tiny, tmp_path / "a", THREE_BAD)))
    assert (body["file"], body["row"], body["column"]) == where(THREE_BAD)[0]
    assert body["detail"].startswith("candidates.csv row 3, column available_from: bad date")
    assert [(e["file"], e["row"], e["column"]) for e in body["errors"]] == where(THREE_BAD)
    # a check across tables (an unknown person) still runs past a bad rooms.csv
    cross = [("rooms", 2, "accessible", "maybe"), ("busy", 4, "person_id", "NOBODY")]
    body = refused(client, home, table_files(with_cells(tiny, tmp_path / "b", cross)))
    assert [(e["file"], e["row"], e["column"]) for e in body["errors"]] == where(cross)
    assert "unknown person_id 'NOBODY'" in body["errors"][1]["detail"]


def test_the_form_shows_every_bad_tables_file_row_and_column(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path
) -> None:
    before = stored(home)
    files = table_files(with_cells(tiny, tmp_path, THREE_BAD))
    page = client.post("/jobs", files=files, headers={"Accept": "text/html"})
    assert page.status_code == 422 and 'id="upload-error"' in page.text
    assert_nothing_stored(home, before)
    for file, row, column in where(THREE_BAD):
        cells = (f'<td class="file">{file}</td><td class="rowno">{row}</td>'
                 f'<td class="column">{column}</td>')  # fmt: skip
        assert cells in page.text, file


@pytest.mark.parametrize(
    "table, column, value",
    [("candidates", "candidate_id", '=HYPERLINK("http://example.com","x")'),
     ("postings", "posting_id", "../x"), ("interviewers", "interviewer_id", "a/b"),
     ("busy", "person_id", "+cmd"), ("rooms", "room_id", "@SUM(A1)")],
)  # fmt: skip
def test_an_id_that_could_be_a_formula_or_a_path_is_refused(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path, table: str, column: str, value: str
) -> None:
    bad = with_cell(tiny, tmp_path, table, 2, column, value)
    body = refused(client, home, table_files(bad))
    assert (body["file"], body["row"], body["column"]) == (f"{table}.csv", 2, column)
    assert "bad id" in body["detail"]


def test_a_zip_beside_table_files_is_told_to_come_alone(
    client: TestClient, home: Path, tiny: Path
) -> None:
    body = refused(client, home, [*table_files(tiny), ("files", ("snap.zip", b"PK", "a/zip"))])
    assert (
        body["file"] == "snap.zip" and "holds the whole snapshot: upload it alone" in body["detail"]
    )


def test_a_refusal_that_is_not_a_bad_table_names_its_file_once_on_the_form(
    client: TestClient, home: Path
) -> None:
    files = [("files", ("snap.zip", b"not a zip", "application/zip"))]
    page = client.post("/jobs", files=files, headers={"Accept": "text/html"})
    assert page.status_code == 422 and 'id="upload-error"' in page.text
    assert '<td class="file">snap.zip</td>' in page.text
    assert '<td class="problem">not a zip archive</td>' in page.text
    assert page.text.count("snap.zip") == 1  # not again in a message line under the table


def test_upload_names_are_never_paths(client: TestClient, home: Path, tiny: Path) -> None:
    parts = table_files(tiny)
    evil = [("files", ("../../../etc/passwd", b"x", "text/plain")), *parts]
    body = refused(client, home, evil)
    assert body["file"] == "passwd" and "not a snapshot table" in body["detail"]
    renamed = [("files", (f"..\\..\\{name}", data, mime)) for _, (name, data, mime) in parts]
    response = client.post("/jobs", files=renamed, data={"solver": "greedy"})
    assert response.status_code == 202, response.text  # only the last component names the table
    assert not (home.parent / "postings.csv").exists()
    client.delete(f"/jobs/{response.json()['id']}", params={"purge": "true"})


def test_job_ids_in_paths_are_checked(client: TestClient) -> None:
    for job_id in ("..%2Fx", "=HYPERLINK(1)", "0123456789abcdef"):
        assert client.get(f"/jobs/{job_id}").status_code == 404


def test_bad_solver_and_time_limit_are_refused(client: TestClient, home: Path, tiny: Path) -> None:
    body = refused(client, home, table_files(tiny), solver="simplex")
    assert "unknown solver" in body["detail"]
    body = refused(client, home, table_files(tiny), solver="rl:/no/such/model")
    assert "no trained model of that name on the server" in body["detail"]
    assert "/no/such" not in body["detail"]
    body = refused(client, home, table_files(tiny), time_limit="0")
    assert "time_limit" in body["detail"]


@pytest.mark.parametrize(
    "model", ["/etc", "/no/such/model", "isched", "../models/default", "~nobody-here/m", "x" * 5000]
)
def test_an_rl_solver_without_a_model_is_refused_at_upload_without_server_paths(
    client: TestClient, home: Path, tiny: Path, model: str
) -> None:
    body = refused(client, home, table_files(tiny), solver=f"rl:{model}")
    assert "no trained model of that name on the server" in body["detail"], body
    assert "/etc" not in body["detail"] and "/no/such" not in body["detail"]
    assert str(Path.cwd()) not in body["detail"] and "model.pt" not in body["detail"]


def test_rl_models_default_is_found_from_another_working_directory(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``rl:models/default`` (what the form offers) names the shipped model from any cwd."""
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings, _ = make_settings(str(tmp_path / "cwd.db"))
    with TestClient(create_app(settings)) as app:
        app.headers["Authorization"] = f"Bearer {TOKEN}"
        data = {"solver": "rl:models/default", "time_limit": "60"}
        response = app.post("/jobs", files=table_files(tiny), data=data)
        assert response.status_code == 202, response.text
        job = wait_for(app, response.json()["id"], timeout=180)
        assert job["status"] == "done", job
        assert job["solver"] == "rl:models/default" and job["summary"]["scheduled"] > 0


def test_an_upload_over_the_limit_gives_413_saying_the_limit(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(tmp_path / "small.db"), max_upload=4096)
    with TestClient(create_app(settings, run_jobs=False)) as small:
        small.headers["Authorization"] = f"Bearer {TOKEN}"
        response = small.post("/jobs", files=table_files(tiny))
        assert response.status_code == 413
        assert response.json()["detail"] == "upload too large: the limit is 4096 bytes"

        def streamed() -> Iterator[bytes]:  # no Content-Length: the body is counted as it comes
            head = b'--b\r\nContent-Disposition: form-data; name="files"; filename="busy.csv"'
            yield head + b"\r\nContent-Type: text/csv\r\n\r\nperson_id,start,end\r\n"
            for _ in range(100):
                yield b"I0000,2027-02-01T09:00:00-08:00,2027-02-01T10:00:00-08:00\r\n"
            yield b"--b--\r\n"

        response = small.post(
            "/jobs", content=streamed(),
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )  # fmt: skip
        assert response.status_code == 413, response.text
        assert response.json()["detail"] == "upload too large: the limit is 4096 bytes"
        assert small.get("/jobs").json() == []
        browser = {"Accept": "text/html", "Referer": "http://testserver/jobs/new"}
        page = small.post("/jobs", files=table_files(tiny), headers=browser)  # a page, not JSON
        assert page.status_code == 413 and 'id="problem"' in page.text
        assert "over the limit of 4096 bytes" in page.text and 'href="/jobs/new"' in page.text


def test_a_form_without_its_fields_or_a_bad_query_is_a_page_for_a_browser(
    client: TestClient,
) -> None:
    """FastAPI's validation JSON is for scripts; a person gets a page naming the field."""
    html = {"Accept": "text/html"}
    page = client.post("/jobs", data={"solver": "greedy"}, headers=html)
    assert page.status_code == 422 and 'id="problem"' in page.text and "files" in page.text
    page = client.get("/jobs?limit=abc", headers=html)
    assert page.status_code == 422 and "limit" in page.text
    assert client.get("/jobs?limit=abc").json()["detail"][0]["loc"] == ["query", "limit"]


# Re-plan, cancel, delete -------------------------------------------------------------------


def test_replan_keeps_confirmed_rows_and_says_what_moved(
    client: TestClient, done_job: dict, tiny: Path, tmp_path: Path
) -> None:
    job_id = done_job["id"]
    plan = pd.read_csv(io.StringIO(client.get(f"/jobs/{job_id}/schedule.csv").text), dtype=str,
                       keep_default_na=False)  # fmt: skip
    keep = plan.iloc[0]
    # an interviewer of another interview falls ill: a busy block over the whole horizon
    other = plan.iloc[-1]
    ill = other["interviewer_ids"].split(";")[0]
    busy = pd.read_csv(tiny / "busy.csv", dtype=str, keep_default_na=False)
    block = {"person_id": ill, "start": "2027-01-01T00:00:00-08:00",
             "end": "2027-12-31T00:00:00-08:00"}  # fmt: skip
    if ill not in keep["interviewer_ids"].split(";"):
        busy = pd.concat([busy, pd.DataFrame([block])], ignore_index=True)
    changed = busy.to_csv(index=False).encode()
    response = client.post(
        f"/jobs/{job_id}/replan",
        files=[("files", ("busy.csv", changed, "text/csv"))],
        data={"confirmed": keep["interview_id"], "solver": "cpsat", "time_limit": "10"},
    )
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done" and job["parent_id"] == job_id, job
    assert "busy.csv" in job["tables"] and "candidates.csv" in job["tables"]
    new = pd.read_csv(io.StringIO(client.get(f"/jobs/{job['id']}/schedule.csv").text), dtype=str,
                      keep_default_na=False)  # fmt: skip
    kept = new[new["interview_id"] == keep["interview_id"]].iloc[0]
    assert kept["status"] == "confirmed"
    assert (kept["start"], kept["interviewer_ids"]) == (keep["start"], keep["interviewer_ids"])
    diff = client.get(f"/jobs/{job['id']}/diff.json").json()
    assert diff["kept"] + diff["moved"] + diff["removed"] == len(plan)
    for change in diff["changes"]:
        assert change["reason"] and change["change"] in ("moved", "added", "removed", "status")
    ticked = [c for c in diff["changes"] if c["interview_id"] == keep["interview_id"]]
    assert [(c["change"], c["reason"]) for c in ticked] == [
        ("status", "proposed → confirmed: it stays where it is")
    ]  # its calendar entry changes (TENTATIVE to CONFIRMED), so the diff says so
    if ill not in keep["interviewer_ids"].split(";"):
        assert all(ill not in r.split(";") for r in new["interviewer_ids"])
        change = next(c for c in diff["changes"] if c["interview_id"] == other["interview_id"])
        if change["change"] == "moved":  # the reason names what blocks the old place
            assert f"{ill} is busy then (busy.csv)" in change["reason"], change
    page = client.get(f"/jobs/{job['id']}", headers={"Accept": "text/html"}).text
    section = page[page.index('id="diff"') : page.index('id="calendar"')]
    assert "interviewer_ids" not in section and "room_id" not in section  # said in words
    if any(c["change"] == "moved" for c in diff["changes"]):
        assert "moved (" in section


def test_a_replan_of_a_replan_keeps_the_calendars_cancellations(
    client: TestClient, done_job: dict, tiny: Path
) -> None:
    """A candidate withdraws (a re-plan cancels their interview in its calendar); a re-plan
    of that re-plan still holds the event as cancelled, and its tables.zip has the parent's
    calendar beside previous.csv, so ``isched solve --previous`` can do the same."""
    plan = pd.read_csv(io.StringIO(client.get(f"/jobs/{done_job['id']}/schedule.csv").text),
                       dtype=str, keep_default_na=False)  # fmt: skip
    row = plan.iloc[0]
    cands = pd.read_csv(tiny / "candidates.csv", dtype=str, keep_default_na=False)
    left = cands[cands["candidate_id"] != row["candidate_id"]].to_csv(index=False).encode()
    job = done_job
    for files in ([("files", ("candidates.csv", left, "text/csv"))], []):
        response = client.post(f"/jobs/{job['id']}/replan", files=files or None,
                               data={"solver": "greedy"})  # fmt: skip
        assert response.status_code == 202, response.text
        job = wait_for(client, response.json()["id"])
        assert job["status"] == "done", job
        ics = client.get(f"/jobs/{job['id']}/schedule.ics").content
        calendar = icalendar.Calendar.from_ical(ics)
        events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
        assert str(events[f"{row['interview_id']}@isched"]["STATUS"]) == "CANCELLED"
    archive = zipfile.ZipFile(io.BytesIO(client.get(f"/jobs/{job['id']}/tables.zip").content))
    assert {"previous.csv", "previous.ics"} <= set(archive.namelist())


def test_the_job_page_says_what_the_cli_warns_of(
    client: TestClient, tiny: Path, tmp_path: Path
) -> None:
    """Ids that differ only in case are solved as two people, with the same warning line on
    the job's page (under "To act on") as ``isched solve`` prints, and in report.json."""
    snap = tmp_path / "snap"
    shutil.copytree(tiny, snap)
    cands = pd.read_csv(snap / "candidates.csv", dtype=str, keep_default_na=False)
    twin = cands.iloc[[0]].assign(candidate_id=cands.iloc[0]["candidate_id"].lower())
    pd.concat([cands, twin]).to_csv(snap / "candidates.csv", index=False)
    response = client.post("/jobs", files=table_files(snap), data={"solver": "greedy"})
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done", job
    (line,) = client.get(f"/jobs/{job['id']}/report.json").json()["id_case_twins"]
    assert f"row {len(cands) + 2}" in line and "only in case" in line
    page = client.get(f"/jobs/{job['id']}", headers={"Accept": "text/html"}).text
    section = page[
        page.index('id="warnings"') : page.index("</section>", page.index('id="warnings"'))
    ]
    assert "To act on" in section and line in html.unescape(section)
    result = isched("solve", snap, "--out", tmp_path / "plan", "--solver", "greedy")
    assert result.returncode == 0 and f"warning: {line}" in result.stderr


def test_a_confirmed_interview_can_be_unconfirmed_on_a_replan(
    client: TestClient, done_job: dict
) -> None:
    """Unticked on the page (``release_unlisted``), a row the plan confirmed is proposed
    again; without it, the plan's confirmed rows stay confirmed."""
    plan = client.get(f"/jobs/{done_job['id']}/schedule.csv").text
    first = pd.read_csv(io.StringIO(plan), dtype=str)["interview_id"].iloc[0]
    data = {"confirmed": first, "solver": "greedy", "time_limit": "10"}
    started = client.post(f"/jobs/{done_job['id']}/replan", data=data).json()
    confirmed = wait_for(client, started["id"])
    page = client.get(f"/jobs/{confirmed['id']}", headers={"Accept": "text/html"}).text
    box = re.search(rf'<input type="checkbox" name="confirmed" value="{first}"[^>]*>', page)
    assert box is not None and "checked" in box.group(0) and "disabled" not in box.group(0)
    assert '<input type="hidden" name="release_unlisted" value="true">' in page
    note = [("files", ("notes.txt", b"hello", "text/plain"))]  # refused: the form comes back
    html, released = {"Accept": "text/html"}, {"release_unlisted": "true"}
    url = f"/jobs/{confirmed['id']}/replan"
    refused = client.post(url, files=note, data=released, headers=html).text
    box = re.search(rf'<input type="checkbox" name="confirmed" value="{first}"[^>]*>', refused)
    assert box is not None and "checked" not in box.group(0)  # still unticked

    def status_after(data: dict[str, str]) -> str:
        job = client.post(f"/jobs/{confirmed['id']}/replan", data=data).json()
        job = wait_for(client, job["id"])
        assert job["status"] == "done", job
        text = client.get(f"/jobs/{job['id']}/schedule.csv").text
        rows = pd.read_csv(io.StringIO(text), dtype=str).set_index("interview_id")
        return str(rows.loc[first, "status"])

    assert status_after({"solver": "greedy"}) == "confirmed"
    assert status_after({"solver": "greedy", "release_unlisted": "true"}) == "proposed"
    kept = {"solver": "greedy", "release_unlisted": "true", "confirmed": first}
    assert status_after(kept) == "confirmed"


def test_a_schedule_csv_uploaded_with_confirmed_rows_keeps_them_beside_the_ticks(
    client: TestClient, done_job: dict
) -> None:
    """The page's form sends ``release_unlisted``: it may release only the rows it showed
    ticked (the plan's confirmed ones). A row an uploaded schedule.csv confirms besides
    them stays confirmed; a row the page showed ticked and the coordinator un-ticked is
    released, whatever the file says."""
    plan = client.get(f"/jobs/{done_job['id']}/schedule.csv").text
    ids = list(pd.read_csv(io.StringIO(plan), dtype=str)["interview_id"])
    first, second = ids[0], ids[1]
    started = client.post(f"/jobs/{done_job['id']}/replan",
                          data={"confirmed": first, "solver": "greedy"}).json()  # fmt: skip
    parent = wait_for(client, started["id"])
    edited = pd.read_csv(io.StringIO(client.get(f"/jobs/{parent['id']}/schedule.csv").text),
                         dtype=str, keep_default_na=False)  # fmt: skip
    edited.loc[edited["interview_id"].isin([first, second]), "status"] = "confirmed"
    sent = edited.set_index("interview_id").loc[second, "start"]
    for column in ("start", "end"):  # and moved by hand a day later
        at = edited["interview_id"] == second
        edited.loc[at, column] = (pd.Timestamp(edited.loc[at, column].iloc[0])
                                  + pd.Timedelta(days=1)).isoformat()  # fmt: skip
    upload = [("files", ("schedule.csv", edited.to_csv(index=False).encode(), "text/csv"))]
    data = {"solver": "greedy", "release_unlisted": "true"}  # nothing ticked
    job = client.post(f"/jobs/{parent['id']}/replan", files=upload, data=data).json()
    job = wait_for(client, job["id"])
    assert job["status"] == "done", job
    rows = pd.read_csv(io.StringIO(client.get(f"/jobs/{job['id']}/schedule.csv").text),
                       dtype=str).set_index("interview_id")  # fmt: skip
    assert rows.loc[second, "status"] == "confirmed"  # the file's mark, not shown on the page
    assert rows.loc[first, "status"] == "proposed"  # shown ticked, un-ticked
    # the diff is against the plan the invites came from: the hand move and the un-ticking
    changes = {c["interview_id"]: c for c in client.get(f"/jobs/{job['id']}/diff.json").json()
               ["changes"]}  # fmt: skip
    assert rows.loc[second, "start"] == edited.set_index("interview_id").loc[second, "start"]
    moved = changes[second]
    assert (moved["change"], moved["reason"]) == (
        "moved",
        "moved by hand in the uploaded schedule.csv",
    )
    assert moved["was"]["start"] == sent and moved["now"]["start"] == rows.loc[second, "start"]
    assert changes[first]["change"] == "status"
    assert changes[first]["reason"].startswith("confirmed → proposed: un-confirmed")


def test_the_jobs_list_comes_in_pages(client: TestClient, done_job: dict, tiny: Path) -> None:
    """``limit`` and ``offset`` page the list, ``X-Total-Count`` counts it; a page links to
    the older and newer jobs."""
    posted = client.post("/jobs", files=table_files(tiny), data={"solver": "greedy"})
    wait_for(client, posted.json()["id"])
    everything = client.get("/jobs")
    total = int(everything.headers["x-total-count"])
    ids = [job["id"] for job in everything.json()]
    assert total == len(ids) >= 2
    first, rest = client.get("/jobs?limit=1"), client.get(f"/jobs?offset=1&limit={total}")
    assert [j["id"] for j in first.json()] + [j["id"] for j in rest.json()] == ids
    assert first.headers["x-total-count"] == str(total)
    html = {"Accept": "text/html"}
    page = client.get("/jobs?limit=1", headers=html).text
    assert (
        f"Jobs 1–1 of {total}." in page and 'href="/jobs?offset=1&amp;limit=1" rel="next"' in page
    )
    assert 'rel="prev"' not in page and 'data-watch="/jobs?limit=1"' in page
    last = client.get(f"/jobs?offset={total - 1}&limit=1", headers=html).text
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert "there are" in client.get(f"/jobs?offset={total}", headers=html).text
    assert 'id="pages"' not in client.get("/", headers=html).text  # one page holds them all
    for bad in ("limit=0", "limit=501", "offset=-1"):
        assert client.get(f"/jobs?{bad}").status_code == 422, bad


def test_a_get_on_a_post_only_action_says_so_or_goes_to_its_form(
    client: TestClient, done_job: dict
) -> None:
    """Opening ``/replan`` or ``/rerun`` (a reload, a pasted link) is not "no such result"."""
    for action in ("replan", "rerun"):
        url = f"/jobs/{done_job['id']}/{action}"
        page = client.get(url, headers={"Accept": "text/html"}, follow_redirects=False)
        assert page.status_code == 303
        assert page.headers["location"] == f"/jobs/{done_job['id']}#{action}"
        target = client.get(f"/jobs/{done_job['id']}", headers={"Accept": "text/html"}).text
        assert f'id="{action}"' in target  # the anchor the redirect names is on the page
        api = client.get(url)
        assert api.status_code == 405 and api.headers["allow"] == "POST"
        assert api.json()["detail"].startswith(f"{action} is a POST")


def test_replan_refuses_unknown_or_bad_confirmed_ids(
    client: TestClient, done_job: dict, home: Path
) -> None:
    before = stored(home)
    for bad in ("=HYPERLINK(1)", "IV-nobody-screen"):
        response = client.post(f"/jobs/{done_job['id']}/replan", data={"confirmed": bad})
        assert response.status_code == 422, response.text
    assert_nothing_stored(home, before)


BAD_PLAN_IDS = [
    ("interview_id", "=HYPERLINK(1)"),
    ("candidate_id", "../x"),
    ("interviewer_ids", "a/b"),
    ("posting_id", "+cmd"),
    ("room_id", "@SUM(A1)"),
]
"""A cell of a previous schedule.csv that could become a formula or a path."""


def plan_with(client: TestClient, done_job: dict, column: str, value: str) -> bytes:
    """The done job's schedule.csv with ``column`` of its first row (row 2) set to ``value``;
    an interviewer id is put among the row's own."""
    text = client.get(f"/jobs/{done_job['id']}/schedule.csv").text
    plan = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    if column == "interviewer_ids":
        value = ";".join([*plan.loc[0, column].split(";"), value])
    plan.loc[0, column] = value
    return plan.to_csv(index=False).encode()


@pytest.mark.parametrize("column, value", BAD_PLAN_IDS)
def test_replan_refuses_a_schedule_with_a_bad_id_and_stores_nothing(
    client: TestClient, done_job: dict, home: Path, column: str, value: str
) -> None:
    plan = plan_with(client, done_job, column, value)
    before = stored(home)
    response = client.post(f"/jobs/{done_job['id']}/replan",
                           files=[("files", ("schedule.csv", plan, "text/csv"))])  # fmt: skip
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["file"], body["row"], body["column"]) == ("schedule.csv", 2, column)
    assert "bad id" in body["detail"]
    assert_nothing_stored(home, before)


@pytest.mark.parametrize("column, value", BAD_PLAN_IDS[:3])
def test_solve_previous_with_a_bad_id_exits_2_in_one_line_and_writes_nothing(
    client: TestClient, done_job: dict, tiny: Path, tmp_path: Path, column: str, value: str
) -> None:
    previous = tmp_path / "schedule.csv"
    previous.write_bytes(plan_with(client, done_job, column, value))
    out = tmp_path / "out"
    result = isched("solve", tiny, "--out", out, "--solver", "greedy", "--previous", previous)
    assert result.returncode == 2, result.stdout + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"error: schedule.csv row 2, column {column}: bad id")
    assert not out.exists()


def test_a_job_with_the_shipped_model_finishes_and_the_validator_agrees(
    client: TestClient, tiny: Path, tmp_path: Path
) -> None:
    data = {"solver": f"rl:{MODEL}", "time_limit": "60"}
    response = client.post("/jobs", files=table_files(tiny), data=data)
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"], timeout=180)
    assert job["status"] == "done", job
    assert job["solver"] == f"rl:{MODEL}" and job["summary"]["scheduled"] > 0
    (tmp_path / "schedule.csv").write_bytes(client.get(f"/jobs/{job['id']}/schedule.csv").content)
    check = isched("check", tiny, tmp_path / "schedule.csv")
    assert check.returncode == 0, check.stdout + check.stderr


def test_a_deleted_job_leaves_the_page_cache(client: TestClient, tiny: Path) -> None:
    response = client.post("/jobs", files=table_files(tiny), data={"solver": "greedy"})
    job = wait_for(client, response.json()["id"])
    assert client.get(f"/jobs/{job['id']}", headers={"Accept": "text/html"}).status_code == 200
    folder = client.app.state.settings.jobs_dir / job["id"]
    assert str(folder) in snapshots.cached()
    assert client.delete(f"/jobs/{job['id']}").json()["deleted"] is True
    assert str(folder) not in snapshots.cached()


@pytest.mark.parametrize("worker", ["still running", "exited"])
def test_a_purged_running_job_keeps_no_files_that_its_worker_wrote(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch, worker: str
) -> None:
    """``DELETE ?purge=true`` removes the folder before the runner stops the worker; a worker
    in its writing phase recreates it. Driven tick by tick, with a stand-in worker process."""
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(tmp_path / "purge.db"))
    store = JobStore(settings.db_url)
    parts = [Part(path.name, path.read_bytes()) for path in sorted(tiny.iterdir())]
    queued = create_job(settings, store, parts, "greedy", 10.0)
    jobs = runner.Runner(store, settings)
    job = store.claim(jobs.owner, settings.lease_seconds)
    assert job is not None and job.id == queued.id
    sleeper = "import time; time.sleep(60)" if worker == "still running" else "pass"
    process = subprocess.Popen([sys.executable, "-c", sleeper], start_new_session=True)
    jobs.running[job.id] = runner.Running(job, process, time.time() + 600)
    if worker == "exited":
        process.wait(timeout=30)
    assert delete_job(settings, store, job, purge=True)["deleted"] is True
    folder = settings.jobs_dir / job.id
    assert not folder.exists()
    (folder / "out").mkdir(parents=True)  # what the worker wrote after the deletion
    (folder / "out" / "schedule.csv").write_text("interview_id,candidate_id\nIV1,C00003\n")
    jobs.tick()
    assert process.poll() is not None and not jobs.running
    assert not folder.exists()
    assert store.get(job.id) is None
    store.engine.dispose()


def test_delete_cancels_a_queued_job_then_deletes_it_with_its_files(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(tmp_path / "q.db"))
    with TestClient(create_app(settings, run_jobs=False)) as idle:  # nothing runs: stays queued
        idle.headers["Authorization"] = f"Bearer {TOKEN}"
        job_id = idle.post("/jobs", files=table_files(tiny)).json()["id"]
        assert idle.get(f"/jobs/{job_id}").json()["status"] == "queued"
        assert idle.get(f"/jobs/{job_id}/schedule.csv").status_code == 409
        first = idle.delete(f"/jobs/{job_id}").json()
        assert first == {"id": job_id, "status": "cancelled", "deleted": False}
        assert (settings.jobs_dir / job_id).exists()
        second = idle.delete(f"/jobs/{job_id}").json()
        assert second["deleted"] is True
        assert not (settings.jobs_dir / job_id).exists()
        assert idle.get(f"/jobs/{job_id}").status_code == 404


def test_a_cancelled_or_failed_job_says_it_has_no_results(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(tmp_path / "none.db"))
    with TestClient(create_app(settings, run_jobs=False)) as idle:
        idle.headers["Authorization"] = f"Bearer {TOKEN}"
        cancelled = idle.post("/jobs", files=table_files(tiny)).json()["id"]
        queued = idle.post("/jobs", files=table_files(tiny)).json()["id"]
        assert idle.delete(f"/jobs/{cancelled}").json()["status"] == "cancelled"
        store: JobStore = idle.app.state.store  # type: ignore[attr-defined]
        failed = store.claim("test-owner", 60.0)  # the one job left in the queue
        assert failed is not None and failed.id == queued
        assert store.finish(failed.id, "test-owner", "failed", error="bad input")
        for job_id, status in ((cancelled, "cancelled"), (queued, "failed")):
            response = idle.get(f"/jobs/{job_id}/schedule.csv")
            assert response.status_code == 409
            assert response.json()["detail"] == f"job is {status}: it has no results"
        third = idle.post("/jobs", files=table_files(tiny)).json()["id"]
        response = idle.get(f"/jobs/{third}/report.json")
        assert response.status_code == 409 and "when it is done" in response.json()["detail"]


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("large") / "snap"
    assert isched("generate", "--scenario", "large", "--out", out).returncode == 0
    return out


def test_delete_cancels_a_running_job_and_kills_its_worker(
    client: TestClient, home: Path, large: Path
) -> None:
    response = client.post("/jobs", files=table_files(large), data={"time_limit": "600"})
    job_id = response.json()["id"]
    wait_for(client, job_id, until=("running",))
    deadline = time.monotonic() + 30
    while not worker_running(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert worker_running(job_id)
    assert client.delete(f"/jobs/{job_id}").json() == {
        "id": job_id, "status": "cancelled", "deleted": False
    }  # fmt: skip
    deadline = time.monotonic() + 10
    while worker_running(job_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not worker_running(job_id)
    assert client.get(f"/jobs/{job_id}").json()["status"] == "cancelled"
    assert client.delete(f"/jobs/{job_id}").json()["deleted"] is True
    assert not (home / "jobs.db.files" / "jobs" / job_id).exists()


def test_the_docs_declare_the_table_columns(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/jobs", "/jobs/{job_id}", "/jobs/{job_id}/replan", "/health"} <= set(spec["paths"])
    described = json.dumps(spec["paths"]["/jobs"]["post"])
    for column in ("posting_id", "form_completed_date", "max_per_week", "accessible"):
        assert column in described
    tables = {t["name"]: t for t in client.get("/tables").json()}
    candidates = {c["name"]: c for c in tables["candidates"]["columns"]}
    assert candidates["candidate_id"]["required"] and candidates["candidate_id"]["kind"].startswith(
        "id"
    )
    assert candidates["form_completed_date"]["must_exist"]
    assert not candidates["form_completed_date"]["required"]
    assert client.get("/docs").status_code == 200


def test_the_pages_show_the_job_and_replan_from_a_form(client: TestClient, done_job: dict) -> None:
    html = {"Accept": "text/html"}
    listing = client.get("/", headers=html)
    assert listing.status_code == 200 and done_job["id"] in listing.text
    assert "default-src 'self'" in listing.headers["content-security-policy"]
    page = client.get(f"/jobs/{done_job['id']}", headers=html)
    assert page.status_code == 200
    for section in ('id="calendar"', 'id="unplaced"', 'id="timelines"', 'id="load"',
                    'id="downloads"', 'class="box'):  # fmt: skip
        assert section in page.text, section
    schedule = client.get(f"/jobs/{done_job['id']}/schedule.csv").text.splitlines()
    first = schedule[1].split(",")[0]
    data = {"confirmed": first, "solver": "greedy"}
    url = f"/jobs/{done_job['id']}/replan"
    form = client.post(url, headers=html, data=data, follow_redirects=False)
    assert form.status_code == 303 and form.headers["location"].startswith("/jobs/")
    new_id = form.headers["location"].rsplit("/", 1)[1]
    assert wait_for(client, new_id)["status"] == "done"
    assert 'id="diff"' in client.get(f"/jobs/{new_id}", headers=html).text


def test_an_unknown_job_is_a_page_for_a_browser_and_json_for_a_script(
    client: TestClient,
) -> None:
    for path in ("/jobs/0123456789abcdef", "/jobs/0123456789abcdef/schedule.csv", "/jobs/..x"):
        page = client.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*"})
        assert page.status_code == 404, path
        assert page.headers["content-type"].startswith("text/html")
        assert "no such job" in page.text and 'href="/"' in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        script = client.get(path, headers={"Accept": "application/json"})
        assert script.status_code == 404 and script.json() == {"detail": "no such job"}
    assert client.get("/jobs/0123456789abcdef").json() == {"detail": "no such job"}


def test_a_replan_of_a_deleted_job_does_not_link_to_it(client: TestClient, tiny: Path) -> None:
    html = {"Accept": "text/html"}
    response = client.post("/jobs", files=table_files(tiny), data={"solver": "greedy"})
    parent = wait_for(client, response.json()["id"])
    assert parent["status"] == "done", parent
    child = client.post(f"/jobs/{parent['id']}/replan", data={"solver": "greedy"}).json()
    assert wait_for(client, child["id"])["status"] == "done"
    link = f'href="/jobs/{parent["id"]}"'
    assert link in client.get(f"/jobs/{child['id']}", headers=html).text
    assert link in client.get("/", headers=html).text
    assert client.delete(f"/jobs/{parent['id']}").json()["deleted"] is True
    for path in (f"/jobs/{child['id']}", "/"):
        page = client.get(path, headers=html).text
        assert link not in page, path
        assert parent["id"] in page and "deleted" in page, path
    assert client.get(f"/jobs/{child['id']}").json()["parent_id"] == parent["id"]


def test_the_login_page_offers_log_out_only_to_a_logged_in_browser(client: TestClient) -> None:
    html = {"Accept": "text/html", "Authorization": ""}
    assert 'href="/logout"' not in client.get("/login", headers=html).text
    login = client.post("/login", data={"token": TOKEN}, headers=html, follow_redirects=False)
    client.cookies.set("isched_session", login.cookies["isched_session"])
    try:
        assert 'href="/logout"' in client.get("/login", headers=html).text
        assert 'href="/logout"' in client.get("/", headers=html).text
    finally:
        client.cookies.clear()


def test_serve_refuses_bad_options_in_one_line() -> None:
    result = isched("serve", "--workers", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --workers must be at least 1"


def test_a_job_far_past_its_time_limit_is_killed_and_failed(
    tmp_path: Path, large: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    monkeypatch.setattr(runner, "GRACE_SECONDS", 0.0)  # a worker may not outlive its limit
    settings, _ = make_settings(str(tmp_path / "t.db"))
    with TestClient(create_app(settings)) as strict:
        strict.headers["Authorization"] = f"Bearer {TOKEN}"
        response = strict.post("/jobs", files=table_files(large), data={"time_limit": "1"})
        job = wait_for(strict, response.json()["id"])
        assert job["status"] == "failed"
        assert job["error"] == "timed out (limit 1 s)"
        assert not worker_running(job["id"])


def test_the_store_can_be_named_by_an_sqlalchemy_url(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    url = f"sqlite:///{tmp_path / 'by-url.db'}"
    settings, _ = make_settings(url, files=tmp_path / "files")
    with TestClient(create_app(settings, run_jobs=False)) as app:
        app.headers["Authorization"] = f"Bearer {TOKEN}"
        job_id = app.post("/jobs", files=table_files(tiny)).json()["id"]
        assert [j["id"] for j in app.get("/jobs").json()] == [job_id]
    assert (tmp_path / "by-url.db").exists() and (tmp_path / "files" / "jobs" / job_id).is_dir()


def test_a_moved_interview_names_what_blocks_its_old_place(tiny: Path) -> None:
    from dataclasses import replace

    from isched.web.diff import cause_of_move
    from scheduler.domain import BusyBlock
    from scheduler.tables import read_snapshot

    snapshot, _, _ = read_snapshot(tiny)
    person, room = snapshot.interviewers[0].interviewer_id, snapshot.rooms[0].room_id
    old = {"candidate_id": snapshot.candidates[0].candidate_id, "interviewer_ids": person,
           "room_id": room, "start": "2027-03-01T10:00:00-08:00",
           "end": "2027-03-01T11:00:00-08:00"}  # fmt: skip
    assert cause_of_move(old, replace(snapshot, busy=[])) is None
    at = dt.datetime.fromisoformat("2027-03-01T10:30:00-08:00")
    busy = replace(snapshot, busy=[BusyBlock(person, at, at + dt.timedelta(hours=2))])
    assert cause_of_move(old, busy) == f"{person} is busy then (busy.csv)"
    gone = replace(snapshot, interviewers=snapshot.interviewers[1:])
    assert cause_of_move(old, gone) == f"interviewer {person} is no longer in interviewers.csv"
    no_room = replace(snapshot, rooms=snapshot.rooms[1:], busy=[])
    assert cause_of_move(old, no_room) == f"room {room} is no longer in rooms.csv"
    # a loop: each interviewer is checked against their own session, not the whole loop
    first, second = (i.interviewer_id for i in snapshot.interviewers[:2])
    loop = {**old, "interviewer_ids": f"{first};{second}", "room_id": "",
            "start": "2027-03-01T10:00:00-08:00", "end": "2027-03-01T12:00:00-08:00",
            "session_starts": "2027-03-01T10:00:00-08:00;2027-03-01T11:00:00-08:00"}  # fmt: skip
    late = dt.datetime.fromisoformat("2027-03-01T11:30:00-08:00")
    both = [BusyBlock(first, late, late + dt.timedelta(hours=1)),  # after first's session
            BusyBlock(second, late, late + dt.timedelta(hours=1))]  # fmt: skip
    assert cause_of_move(loop, replace(snapshot, busy=both)) == f"{second} is busy then (busy.csv)"


def test_a_refused_form_keeps_what_the_coordinator_entered(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path, done_job: dict[str, object]
) -> None:
    """New job: the solver and time limit come back; re-plan: the ticked interviews too."""
    html = {"Accept": "text/html"}
    bad = table_files(with_cells(tiny, tmp_path, THREE_BAD))
    page = client.post("/jobs", files=bad, data={"solver": "greedy", "time_limit": "120"},
                       headers=html)  # fmt: skip
    assert page.status_code == 422
    assert 'name="solver" list="solvers" value="greedy"' in page.text
    assert 'value="120.0"' in page.text or 'value="120"' in page.text
    schedule = client.get(f"/jobs/{done_job['id']}/schedule.csv")
    ids = [line.split(",")[0] for line in schedule.text.splitlines()[1:3]]
    note = [("files", ("notes.txt", b"hello", "text/plain"))]
    page = client.post(f"/jobs/{done_job['id']}/replan", files=note, headers=html,
                       data={"confirmed": ids, "time_limit": "45"})  # fmt: skip
    assert page.status_code == 422 and 'id="upload-error"' in page.text
    for iid in ids:
        assert f'value="{iid}" aria-label="{iid} confirmed" checked>' in page.text, iid
    assert 'value="45.0"' in page.text or 'value="45"' in page.text
    page = client.post("/jobs", files=table_files(tiny), data={"time_limit": "0"}, headers=html)
    assert page.status_code in (400, 422) and "time_limit must be above 0" in page.text
    assert 'name="time_limit"' in page.text and 'value="30"' not in page.text  # the 0 stays


def test_downloads_are_named_by_their_job(client: TestClient, done_job: dict[str, object]) -> None:
    for name in ("schedule.csv", "schedule.ics", "report.json"):
        response = client.get(f"/jobs/{done_job['id']}/{name}")
        assert f'filename="{done_job["id"]}-{name}"' in response.headers["content-disposition"]


def test_names_a_browser_or_a_download_gave_are_read_as_their_tables(
    client: TestClient, home: Path, tiny: Path, done_job: dict[str, object]
) -> None:
    """``busy (1).csv`` (a browser's second download) and ``JOB-schedule.csv`` (this
    app's download) are the busy table and the previous schedule."""
    renamed = [("files", (name.replace(".", " (1).").upper(), data, mime))
               for _, (name, data, mime) in table_files(tiny)]  # fmt: skip
    response = client.post("/jobs", files=renamed, data={"solver": "greedy"})
    assert response.status_code == 202, response.text
    client.delete(f"/jobs/{response.json()['id']}", params={"purge": "true"})
    plan = plan_with(client, done_job, "room_id", "../x")
    name = f"{done_job['id']}-schedule (2).csv"
    response = client.post(f"/jobs/{done_job['id']}/replan",
                           files=[("files", (name, plan, "text/csv"))])  # fmt: skip
    assert response.status_code == 422, response.text  # read as the schedule: its bad id
    assert (response.json()["file"], response.json()["column"]) == ("schedule.csv", "room_id")
    twice = [*table_files(tiny), ("files", ("busy (1).csv", b"person_id\n", "text/csv"))]
    body = refused(client, home, twice)
    assert "the busy table is uploaded twice" in body["detail"]


def test_a_replan_says_when_the_bad_table_is_the_one_it_kept(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path, done_job: dict[str, object]
) -> None:
    """An interviewer removed from interviewers.csv alone leaves their rows in the kept
    busy.csv: the refusal says that busy.csv is the previous job's, not the upload's."""
    busy = pd.read_csv(tiny / "busy.csv", dtype=str, keep_default_na=False)
    people = pd.read_csv(tiny / "interviewers.csv", dtype=str, keep_default_na=False)
    gone = next(i for i in people["interviewer_id"] if i in set(busy["person_id"]))
    fewer = people[people["interviewer_id"] != gone].to_csv(index=False).encode()
    files = [("files", ("interviewers.csv", fewer, "text/csv"))]
    before = stored(home)
    response = client.post(f"/jobs/{done_job['id']}/replan", files=files)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["file"] == "busy.csv" and f"'{gone}'" in body["detail"]
    assert f"busy.csv is job {done_job['id']}'s: upload a corrected busy.csv" in body["detail"]
    assert_nothing_stored(home, before)


def one_sheet_workbook(frame: pd.DataFrame, sheet: str, path: Path) -> bytes:
    """An .xlsx with one sheet holding ``frame`` (every cell as text)."""
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        ws.append(list(row))
    book.save(path)
    return path.read_bytes()


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_workbook_replan_names_its_own_sheets_and_the_kept_tables_apart(
    client: TestClient, home: Path, tiny: Path, tmp_path: Path, done_job: dict[str, object]
) -> None:
    """A re-plan from a one-sheet workbook: a bad cell of the sheet names the sheet and is
    not blamed on the parent; a bad row of a table kept from the parent names that file
    (not a sheet the workbook lacks), says whose it is, and the note is in every error."""
    people = pd.read_csv(tiny / "interviewers.csv", dtype=str, keep_default_na=False)
    bad = people.copy()
    bad.loc[1, "max_per_day"] = "two"
    book = one_sheet_workbook(bad, "interviewers", tmp_path / "bad.xlsx")
    before = stored(home)
    response = client.post(f"/jobs/{done_job['id']}/replan",
                           files=[("files", ("bad.xlsx", book, XLSX))])  # fmt: skip
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["file"] == "bad.xlsx sheet interviewers"
    assert (body["row"], body["column"]) == (3, "max_per_day")
    assert "is job" not in body["detail"]

    busy = pd.read_csv(tiny / "busy.csv", dtype=str, keep_default_na=False)
    gone = next(i for i in people["interviewer_id"] if i in set(busy["person_id"]))
    fewer = people[people["interviewer_id"] != gone]
    book = one_sheet_workbook(fewer, "interviewers", tmp_path / "fewer.xlsx")
    response = client.post(f"/jobs/{done_job['id']}/replan",
                           files=[("files", ("fewer.xlsx", book, XLSX))])  # fmt: skip
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["file"] == "busy.csv" and f"'{gone}'" in body["detail"]
    note = f"busy.csv is job {done_job['id']}'s: upload a corrected busy.csv"
    assert note in body["detail"]
    assert all(note in e["detail"] for e in body["errors"] if e["file"] == "busy.csv")
    assert_nothing_stored(home, before)


def test_an_unreadable_parquet_table_is_named_without_the_servers_folders(
    client: TestClient, home: Path, tiny: Path
) -> None:
    files = [f for f in table_files(tiny) if f[1][0] != "rooms.csv"]
    files.append(("files", ("rooms.parquet", b"PAR1x", "application/octet-stream")))
    body = refused(client, home, files)
    assert body["file"] == "rooms.parquet"
    assert "staging" not in body["detail"] and str(home) not in body["detail"], body["detail"]
    assert all("staging" not in e["detail"] for e in body["errors"])


def test_a_workbook_replans_a_job_whose_tables_were_parquet(
    client: TestClient, tiny: Path, tmp_path: Path
) -> None:
    """A sheet replaces the parent's table in the other format (busy.parquet -> busy.csv)."""
    files = []
    for path in sorted(tiny.iterdir()):
        if path.suffix == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            data = io.BytesIO()
            frame.to_parquet(data, index=False)
            files.append(
                ("files", (f"{path.stem}.parquet", data.getvalue(), "application/octet-stream"))
            )
        else:
            files.append(("files", (path.name, path.read_bytes(), "text/plain")))
    first = client.post("/jobs", files=files, data={"solver": "greedy", "time_limit": "10"})
    assert first.status_code == 202, first.text
    parent = wait_for(client, first.json()["id"])
    assert parent["status"] == "done", parent
    busy = pd.read_csv(tiny / "busy.csv", dtype=str, keep_default_na=False)
    book = one_sheet_workbook(busy.head(len(busy) // 2), "busy", tmp_path / "busy.xlsx")
    response = client.post(f"/jobs/{parent['id']}/replan",
                           files=[("files", ("busy.xlsx", book, XLSX))],
                           data={"solver": "greedy", "time_limit": "10"})  # fmt: skip
    assert response.status_code == 202, response.text
    assert wait_for(client, response.json()["id"])["status"] == "done"


# Run again -----------------------------------------------------------------------------------


def tables_of(jobs_dir: Path, job_id: str) -> dict[str, bytes]:
    folder = jobs_dir / job_id / "tables"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def kept(client: TestClient, files: Path) -> tuple[list[str], list[str]]:
    """The jobs the service lists, and the job folders on disk (staging included)."""
    folders = [p.name for sub in ("jobs", "staging") if (files / sub).exists()
               for p in (files / sub).iterdir()]  # fmt: skip
    return sorted(j["id"] for j in client.get("/jobs").json()), sorted(folders)


def test_a_cancelled_or_failed_job_runs_again_on_its_tables(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ISCHED_TOKEN", TOKEN)
    settings, _ = make_settings(str(tmp_path / "again.db"))
    with TestClient(create_app(settings, run_jobs=False)) as idle:  # nothing runs here
        idle.headers["Authorization"] = f"Bearer {TOKEN}"
        cancelled = idle.post("/jobs", files=table_files(tiny), data={"time_limit": "7"}).json()
        queued = idle.post("/jobs", files=table_files(tiny)).json()["id"]
        response = idle.post(f"/jobs/{queued}/rerun")
        assert response.status_code == 409 and "once it has finished" in response.json()["detail"]
        assert idle.delete(f"/jobs/{cancelled['id']}").json()["status"] == "cancelled"
        store: JobStore = idle.app.state.store  # type: ignore[attr-defined]
        failed = store.claim("test-owner", 60.0)
        assert failed is not None and failed.id == queued
        assert store.finish(failed.id, "test-owner", "failed", error="timed out (limit 30 s)")
        html = {"Accept": "text/html"}
        page = idle.get(f"/jobs/{queued}", headers=html).text
        assert f'action="/jobs/{queued}/rerun"' in page and "Run again" in page
        done_page = idle.get(f"/jobs/{cancelled['id']}", headers=html).text
        assert f'action="/jobs/{cancelled["id"]}/rerun"' in done_page
        before = kept(idle, settings.files)
        bad = idle.post(f"/jobs/{queued}/rerun", data={"solver": "nonsense"})
        assert bad.status_code == 422 and "unknown solver" in bad.json()["detail"]
        refused_page = idle.post(f"/jobs/{queued}/rerun", data={"time_limit": "0"}, headers=html)
        assert refused_page.status_code == 422 and "Not run again" in refused_page.text
        assert kept(idle, settings.files) == before
    with TestClient(create_app(settings)) as busy:  # a server that runs jobs, same database
        busy.headers["Authorization"] = f"Bearer {TOKEN}"
        first = busy.post(f"/jobs/{cancelled['id']}/rerun")
        assert first.status_code == 202, first.text
        second = busy.post(f"/jobs/{queued}/rerun", data={"solver": "greedy"},
                           headers={"Accept": "text/html"}, follow_redirects=False)  # fmt: skip
        assert second.status_code == 303
        again = [first.json()["id"], second.headers["location"].rsplit("/", 1)[1]]
        jobs = [wait_for(busy, job_id) for job_id in again]
        assert [j["status"] for j in jobs] == ["done", "done"], jobs
        assert (jobs[0]["solver"], jobs[0]["time_limit"]) == ("cpsat", 7.0)
        assert (jobs[1]["solver"], jobs[1]["time_limit"]) == ("greedy", 30.0)
        for source, job in zip((cancelled["id"], queued), jobs, strict=True):
            assert tables_of(settings.jobs_dir, job["id"]) == tables_of(settings.jobs_dir, source)
            assert job["parent_id"] is None and job["downloads"]["schedule.csv"]
        assert busy.get(f"/jobs/{queued}").json()["status"] == "failed"  # the old job stays


def test_a_replan_runs_again_from_the_same_plan_and_parent(
    client: TestClient, done_job: dict, home: Path
) -> None:
    plan = client.get(f"/jobs/{done_job['id']}/schedule.csv").text.splitlines()
    first = plan[1].split(",")[0]
    data = {"confirmed": first, "solver": "greedy", "time_limit": "10"}
    child = client.post(f"/jobs/{done_job['id']}/replan", data=data).json()
    assert wait_for(client, child["id"])["status"] == "done"
    response = client.post(f"/jobs/{child['id']}/rerun", data={"time_limit": "12"})
    assert response.status_code == 202, response.text
    job = wait_for(client, response.json()["id"])
    assert job["status"] == "done" and job["parent_id"] == done_job["id"], job
    assert (job["solver"], job["time_limit"]) == ("greedy", 12.0)
    jobs_dir = home / "jobs.db.files" / "jobs"
    previous = [(jobs_dir / j / "previous.csv").read_bytes() for j in (child["id"], job["id"])]
    assert previous[0] == previous[1] and first.encode() in previous[1]
    assert client.get(f"/jobs/{job['id']}/diff.json").status_code == 200
    assert (
        client.get(f"/jobs/{job['id']}/schedule.csv").text
        == client.get(f"/jobs/{child['id']}/schedule.csv").text
    )  # the same tables, plan and solver: the same schedule
