"""Durability of ``isched serve``: a SIGKILL loses no job, and two servers share one database.

The server runs as a real process; it is killed with SIGKILL while a job runs
and started again on the same SQLite file.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from cli_runner import isched
from web_helpers import (
    free_port,
    kill,
    server,
    start_server,
    table_files,
    wait_for,
    worker_running,
)

TOKEN = "restart-token"


@pytest.fixture(scope="module")
def snapshots(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("snapshots")
    for scenario in ("tiny", "large"):
        result = isched("generate", "--scenario", scenario, "--out", root / scenario)
        assert result.returncode == 0, result.stderr
    return {"tiny": root / "tiny", "large": root / "large"}


def client(port: int) -> httpx.Client:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30)


def test_a_killed_server_loses_no_job_and_the_running_one_comes_back(
    tmp_path: Path, snapshots: dict[str, Path]
) -> None:
    db = tmp_path / "jobs.db"
    port = free_port()
    process = start_server(db, port, TOKEN, workers=1)
    try:
        with client(port) as api:
            done = api.post("/jobs", files=table_files(snapshots["tiny"]),
                            data={"solver": "greedy"}).json()["id"]  # fmt: skip
            assert wait_for(api, done)["status"] == "done"
            long = api.post("/jobs", files=table_files(snapshots["large"]),
                            data={"time_limit": "600"}).json()["id"]  # fmt: skip
            waiting = api.post("/jobs", files=table_files(snapshots["tiny"]),
                               data={"solver": "greedy"}).json()["id"]  # fmt: skip
            wait_for(api, long, until=("running",))
            assert api.get(f"/jobs/{waiting}").json()["status"] == "queued"
    finally:
        kill(process)
    deadline = time.monotonic() + 10  # the orphaned worker notices and exits
    while worker_running(long) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not worker_running(long)

    port = free_port()
    process = start_server(db, port, TOKEN, workers=1)
    try:
        with client(port) as api:
            jobs = {job["id"]: job for job in api.get("/jobs").json()}
            assert set(jobs) == {done, long, waiting}
            assert jobs[done]["status"] == "done"
            assert api.get(f"/jobs/{done}/schedule.csv").status_code == 200
            back = jobs[long]
            assert back["status"] in ("queued", "running"), back
            assert "re-queued: the server stopped while the job was running" in back["error"]
            wait_for(api, long, until=("running",))
            assert api.get(f"/jobs/{long}").json()["attempts"] == 2
    finally:
        kill(process)

    port = free_port()
    process = start_server(db, port, TOKEN, workers=1)
    try:
        with client(port) as api:
            failed = api.get(f"/jobs/{long}").json()
            assert failed["status"] == "failed", failed  # the second death fails it, with why
            assert "the server stopped while the job was running (2 times)" in failed["error"]
            assert wait_for(api, waiting)["status"] == "done"  # the queue moves on
            assert len(api.get("/jobs").json()) == 3
    finally:
        kill(process)


def test_two_servers_on_one_database_never_run_a_job_twice_and_log_no_candidate_data(
    tmp_path: Path, snapshots: dict[str, Path]
) -> None:
    db = tmp_path / "shared.db"
    outputs = [tmp_path / "first.log", tmp_path / "second.log"]
    with (
        server(db, TOKEN, workers=2, output=outputs[0]) as first,
        server(db, TOKEN, workers=2, output=outputs[1]) as second,
    ):
        ids = []
        for k in range(6):
            api = first if k % 2 else second
            response = api.post("/jobs", files=table_files(snapshots["tiny"]),
                                data={"solver": "greedy"})  # fmt: skip
            assert response.status_code == 202, response.text
            ids.append(response.json()["id"])
        finished = [wait_for(first, job_id) for job_id in ids]
    assert all(job["status"] == "done" for job in finished)
    assert all(job["attempts"] == 1 for job in finished)  # each claimed exactly once
    logs = [(tmp_path / "shared.db.files" / "jobs" / i / "worker.log") for i in ids]
    assert all(log.exists() for log in logs)
    # candidate data is personal data: none in what the servers and their workers print
    printed = "\n".join(path.read_text(errors="replace") for path in [*outputs, *logs])
    assert printed.count("Uvicorn running on") == 2  # both servers' output was captured
    candidates = pd.read_csv(snapshots["tiny"] / "candidates.csv", dtype=str)
    leaked = [c for c in candidates["candidate_id"] if c in printed]
    assert not leaked, leaked
