"""The web app under load, on loopback only: status answers during a solve, and time to calendar.

Starts ``isched serve`` (a real process on 127.0.0.1, 2 job workers) over a
fresh SQLite file, then

1. uploads the ``default`` snapshot through the new-job page in Chromium
   (Playwright; falls back to the API and the page's HTML without a browser)
   and times upload -> calendar on screen, solver ``cpsat``;
2. uploads ``default`` again and, while that ``cpsat`` solve runs, fires bursts
   of 50 concurrent ``GET /jobs/{id}``, timing every answer. The loop is
   bounded: at most ``--rounds`` bursts and ``--seconds`` of wall time.

    .venv/bin/python benchmarks/web_load.py [--rounds 20] [--seconds 60] [--time-limit 30]

Bars (issue 13): every status answer under 200 ms; default upload -> calendar
under 40 s with cpsat on 2 cores. Prints a Markdown table and writes
``out/bench/web_load.json``; exits 1 when either bar is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from web_helpers import free_port, kill, start_server, table_files, wait_for  # noqa: E402

TOKEN = "bench-token"
CONCURRENT = 50


def generate(out: Path, scenario: str) -> Path:
    import subprocess

    command = [sys.executable, "-m", "isched.cli", "generate", "--scenario", scenario,
               "--seed", "0", "--out", str(out)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True)
    return out


def calendar_in_browser(base: str, snapshot: Path, time_limit: float) -> float | None:
    """Seconds from clicking upload to the calendar drawn; None without Chromium."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{base}/login")
        page.fill("input[name=token]", TOKEN)
        page.click("button[type=submit]")
        page.goto(f"{base}/jobs/new")
        page.set_input_files("#new-job input[name=files]", sorted(map(str, snapshot.iterdir())))
        page.fill("#new-job input[name=time_limit]", f"{time_limit:g}")
        began = time.perf_counter()
        page.click("#new-job button[type=submit]")
        page.wait_for_selector("#calendar .box")
        seconds = time.perf_counter() - began
        browser.close()
    return seconds


def calendar_by_api(api: httpx.Client, snapshot: Path, time_limit: float) -> float:
    """Seconds from upload to a job page whose HTML holds the calendar."""
    began = time.perf_counter()
    data = {"solver": "cpsat", "time_limit": str(time_limit)}
    job_id = api.post("/jobs", files=table_files(snapshot), data=data).json()["id"]
    wait_for(api, job_id, timeout=120, until=("done", "failed"))
    page = api.get(f"/jobs/{job_id}", headers={"Accept": "text/html"})
    assert 'class="box' in page.text, "the job page shows no calendar"
    return time.perf_counter() - began


class Connection:
    """One keep-alive HTTP/1.1 connection on plain asyncio streams: a client this light
    leaves the two cores to the server being measured."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def get(self, path: str) -> int:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: application/json\r\n\r\n"
        )
        self.writer.write(request.encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def burst(connections: list[Connection], path: str) -> list[float]:
    """One request on each connection at once; each one's seconds (an error: infinite)."""

    async def one(connection: Connection) -> float:
        began = time.perf_counter()
        status = await connection.get(path)
        elapsed = time.perf_counter() - began
        return elapsed if status == 200 else float("inf")

    return list(await asyncio.gather(*(one(c) for c in connections)))


async def load(port: int, job_id: str, rounds: int, seconds: float) -> dict[str, Any]:
    connections = [Connection("127.0.0.1", port, TOKEN) for _ in range(CONCURRENT)]
    await asyncio.gather(*(c.open() for c in connections))
    times: list[float] = []
    done_rounds = 0
    try:
        await burst(connections, "/health")  # warm every connection
        deadline = time.monotonic() + seconds
        while done_rounds < rounds and time.monotonic() < deadline:
            async with httpx.AsyncClient() as probe:
                job = await probe.get(f"http://127.0.0.1:{port}/jobs/{job_id}",
                                      headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
            if job.json()["status"] != "running":
                break
            times.extend(await burst(connections, f"/jobs/{job_id}"))
            done_rounds += 1
            await asyncio.sleep(0.2)
    finally:
        for connection in connections:
            connection.close()
    ordered = sorted(times)
    return {
        "rounds": done_rounds,
        "requests": len(times),
        "median_ms": 1000 * statistics.median(ordered) if ordered else None,
        "p95_ms": 1000 * ordered[int(0.95 * (len(ordered) - 1))] if ordered else None,
        "max_ms": 1000 * ordered[-1] if ordered else None,
        "under_200ms": sum(t < 0.2 for t in ordered),
    }


def main() -> int:
    """Run the benchmark; 0 when both bars are met, else 1."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="bursts of 50, at most")
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="wall time of the load, at most"
    )
    parser.add_argument("--time-limit", type=float, default=30.0, help="cpsat limit of each solve")
    args = parser.parse_args()
    os.environ.pop("ISCHED_TOKEN", None)
    with tempfile.TemporaryDirectory(prefix="isched-web-load-") as tmp:
        snapshot = generate(Path(tmp) / "default", "default")
        port = free_port()
        process = start_server(Path(tmp) / "jobs.db", port, TOKEN, workers=2)
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {TOKEN}"},
                              timeout=120) as api:  # fmt: skip
                browser = calendar_in_browser(base, snapshot, args.time_limit)
                calendar = (
                    browser
                    if browser is not None
                    else calendar_by_api(api, snapshot, args.time_limit)
                )
                data = {"solver": "cpsat", "time_limit": str(args.time_limit)}
                job_id = api.post("/jobs", files=table_files(snapshot), data=data).json()["id"]
                wait_for(api, job_id, timeout=60, until=("running", "done", "failed"))
                stats = asyncio.run(load(port, job_id, args.rounds, args.seconds))
                solved = wait_for(api, job_id, timeout=180)
        finally:
            kill(process)
    result = {
        "calendar_seconds": round(calendar, 2),
        "calendar_measured_in": "chromium" if browser is not None else "api+html",
        "status_load": stats,
        "solve": solved.get("summary"),
        "cpus": os.cpu_count(),
    }
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "web_load.json").write_text(json.dumps(result, indent=2) + "\n")
    ok_load = stats["requests"] > 0 and stats["under_200ms"] == stats["requests"]
    print("| bar | measured | target | met |")
    print("| --- | --- | --- | --- |")
    print(
        "| 50 concurrent GET /jobs/{id} during a default cpsat solve | "
        f"{stats['rounds']} bursts, "
        f"{stats['requests']} requests: median {stats['median_ms']:.0f} ms, p95 "
        f"{stats['p95_ms']:.0f} ms, max {stats['max_ms']:.0f} ms | every one < 200 ms | "
        f"{'yes' if ok_load else 'no'} |"
    )
    print(
        f"| default upload -> calendar on screen (cpsat, {result['calendar_measured_in']}) | "
        f"{calendar:.1f} s | < 40 s | {'yes' if calendar < 40 else 'no'} |"
    )
    missed = [name for name, met in (("status", ok_load), ("calendar", calendar < 40)) if not met]
    if missed:
        print(f"bars missed: {', '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
