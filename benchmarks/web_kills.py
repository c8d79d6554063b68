"""Nothing lost across SIGKILLs of ``isched serve``: 20 kills at random moments, then a count.

One SQLite file; the server is started, jobs are uploaded without pause from a
second thread (``tiny`` with greedy, and every fourth one ``default`` with
cpsat, so kills land during uploads, claims, solves and writes), and after a
random 0.3-4 s the server is killed with SIGKILL. After the last kill a server
is started once more and runs the queue dry. Then every job that got its 202
must be listed, none may be left queued or running, every ``done`` job must
have complete outputs (schedule.csv, schedule.ics, report.json that parse), and
the database must pass ``PRAGMA integrity_check``.

    .venv/bin/python benchmarks/web_kills.py [--kills 20] [--seed 0]

Prints a Markdown table and writes ``out/bench/web_kills.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from web_helpers import FINISHED, free_port, kill, start_server, table_files  # noqa: E402
from web_load import generate  # noqa: E402

TOKEN = "kills-token"


def uploader(
    base: str, snapshots: dict[str, Path], stop: threading.Event, acked: list[str]
) -> None:
    """Upload jobs until ``stop`` (or the server dies); the ids that got a 202 go to ``acked``."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as api:
        k = 0
        while not stop.is_set():
            big = k % 4 == 3
            files = table_files(snapshots["default" if big else "tiny"])
            data = {"solver": "cpsat" if big else "greedy", "time_limit": "20"}
            try:
                response = api.post("/jobs", files=files, data=data)
            except httpx.HTTPError:
                return  # the server was killed
            if response.status_code == 202:
                acked.append(response.json()["id"])
            k += 1
            time.sleep(0.25)


def outputs_complete(folder: Path) -> bool:
    try:
        pd.read_csv(folder / "schedule.csv")
        json.loads((folder / "report.json").read_text())
        text = (folder / "schedule.ics").read_text()
    except (OSError, ValueError):
        return False
    return text.startswith("BEGIN:VCALENDAR") and text.rstrip().endswith("END:VCALENDAR")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    acked: list[str] = []
    with tempfile.TemporaryDirectory(prefix="isched-web-kills-") as tmp:
        root = Path(tmp)
        snapshots = {name: generate(root / name, name) for name in ("tiny", "default")}
        db = root / "jobs.db"
        moments = []
        for _ in range(args.kills):
            port = free_port()
            process = start_server(db, port, TOKEN, workers=2)
            stop = threading.Event()
            thread = threading.Thread(
                target=uploader, args=(f"http://127.0.0.1:{port}", snapshots, stop, acked)
            )
            thread.start()
            moment = rng.uniform(0.3, 4.0)
            moments.append(round(moment, 2))
            time.sleep(moment)
            kill(process)
            stop.set()
            thread.join(timeout=60)
        port = free_port()
        process = start_server(db, port, TOKEN, workers=2)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers) as api:
                deadline = time.monotonic() + 900
                while True:
                    jobs = {j["id"]: j for j in api.get("/jobs").json()}
                    if all(j["status"] in FINISHED for j in jobs.values()):
                        break
                    if time.monotonic() > deadline:
                        raise SystemExit("the queue did not run dry in 15 minutes")
                    time.sleep(1)
        finally:
            kill(process)
        files = root / "jobs.db.files" / "jobs"
        missing = [i for i in acked if i not in jobs]
        broken = [i for i, j in jobs.items() if j["status"] == "done"
                  and not outputs_complete(files / i / "out")]  # fmt: skip
        with sqlite3.connect(db) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    statuses = Counter(j["status"] for j in jobs.values())
    requeued = sum(1 for j in jobs.values() if j["attempts"] > 1)
    failed_why = Counter(j["error"] for j in jobs.values() if j["status"] == "failed")
    result: dict[str, Any] = {
        "kills": args.kills,
        "kill_moments_s": moments,
        "acknowledged": len(acked),
        "jobs_listed": len(jobs),
        "lost": len(missing),
        "done_with_broken_outputs": len(broken),
        "statuses": dict(statuses),
        "requeued_after_a_kill": requeued,
        "failed_reasons": dict(failed_why),
        "integrity_check": integrity,
    }
    out = ROOT / "out" / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "web_kills.json").write_text(json.dumps(result, indent=2) + "\n")
    print("| kills | jobs acknowledged (202) | listed after | lost | done with broken outputs "
          "| re-queued | failed | database |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.kills} | {len(acked)} | {len(jobs)} | {len(missing)} | {len(broken)} | "
          f"{requeued} | {statuses.get('failed', 0)} | {integrity} |")  # fmt: skip
    if missing or broken or integrity != "ok":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
