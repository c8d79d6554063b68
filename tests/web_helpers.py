"""Shared by the web app tests (and the web benchmarks): snapshots, uploads, a real server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx

FINISHED = ("done", "failed", "cancelled")


def table_files(snapshot: Path) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The snapshot's tables as repeated ``files`` parts of a multipart upload."""
    return [
        ("files", (path.name, path.read_bytes(), "text/csv"))
        for path in sorted(snapshot.iterdir())
        if path.suffix in (".csv", ".yaml")
    ]


def wait_for(client: httpx.Client, job_id: str, timeout: float = 90.0, *, until: Any = FINISHED
             ) -> dict[str, Any]:  # fmt: skip
    """Poll ``GET /jobs/{id}`` until its status is in ``until``; the job's JSON."""
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(f"/jobs/{job_id}").json()
        if job["status"] in until:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout} s")
        time.sleep(0.2)


def worker_running(job_id: str) -> bool:
    """A worker process of ``job_id`` is alive (its command line names the job's folder)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().decode(errors="replace")
        except OSError:
            continue
        if "isched.web.worker" in text and job_id in text:
            return True
    return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _popen(
    db: Path, port: int, workers: int, env: dict[str, str], sink: IO[bytes] | None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "isched.cli", "serve", "--db", str(db), "--port", str(port),
               "--workers", str(workers)]  # fmt: skip
    out = sink if sink is not None else subprocess.DEVNULL
    err = subprocess.STDOUT if sink is not None else subprocess.DEVNULL
    return subprocess.Popen(command, env=env, stdout=out, stderr=err)


def start_server(
    db: Path, port: int, token: str, workers: int = 2, output: Path | None = None
) -> subprocess.Popen[bytes]:
    """``isched serve`` as a real process on 127.0.0.1:PORT; returns once /health answers.

    ``output``: a file that receives the server's stdout and stderr (default: discarded).
    """
    env = {**os.environ, "ISCHED_TOKEN": token}
    with contextlib.ExitStack() as files:  # the server keeps its own copy of the file
        sink = files.enter_context(open(output, "ab")) if output is not None else None
        process = _popen(db, port, workers, env, sink)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"isched serve exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise AssertionError("isched serve did not answer /health within 60 s")


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as a crash would: no shutdown code runs."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


@contextlib.contextmanager
def server(
    db: Path, token: str, workers: int = 2, output: Path | None = None
) -> Iterator[httpx.Client]:
    """A running ``isched serve`` and a client holding its token; stopped afterwards."""
    port = free_port()
    process = start_server(db, port, token, workers, output)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill(process)
