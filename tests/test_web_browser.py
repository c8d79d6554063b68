"""The coordinator's pages in a real Chromium (Playwright), against a real ``isched serve``.

Chromium comes from Debian (``make browser``). Without it, or without the
``playwright`` package, the tests are skipped, except under CI (``CI=true``),
where either missing fails the run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pandas as pd
import pytest
from cli_runner import isched
from web_helpers import free_port, kill, start_server, table_files

try:
    import playwright.sync_api as playwright
except ImportError:
    playwright = None
if TYPE_CHECKING:
    from playwright.sync_api import Page

TOKEN = "browser-token"
HERE = Path(__file__).resolve()


def missing(message: str) -> None:
    """Fail under CI (``CI=true``), skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    if playwright is None:
        missing("the playwright package is not installed: pip install -e '.[dev]'")
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        missing("no Chromium on PATH: run `make browser`")
        raise AssertionError("unreachable")
    return found


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "snap"
    assert isched("generate", "--scenario", "tiny", "--seed", "0", "--out", out).returncode == 0
    return out


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    process = start_server(tmp_path_factory.mktemp("server") / "jobs.db", port, TOKEN)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        kill(process)


@pytest.fixture(scope="module")
def chromium() -> str:
    return chromium_path()


@pytest.fixture(scope="module")
def page(chromium: str, base_url: str) -> Iterator[Page]:
    executable = chromium
    assert playwright is not None
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True)
        context = browser.new_context(
            accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        tab = context.new_page()
        tab.set_default_timeout(60_000)
        tab.goto(f"{base_url}/")
        assert "/login" in tab.url
        assert tab.locator("a[href='/logout']").count() == 0  # not logged in yet
        tab.fill("input[name=token]", TOKEN)
        tab.click("button[type=submit]")
        tab.wait_for_url(f"{base_url}/")
        assert tab.locator("a[href='/logout']").count() == 1
        yield tab
        browser.close()


def test_upload_wait_see_the_calendar_and_unplaced_and_download_the_ics(
    page: Page, base_url: str, tiny: Path, tmp_path: Path
) -> None:
    tab = page
    tab.goto(f"{base_url}/jobs/new")
    tables = sorted(str(p) for p in tiny.iterdir())
    tab.set_input_files("#new-job input[name=files]", tables)
    tab.fill("#new-job input[name=time_limit]", "10")
    tab.click("#new-job button[type=submit]")
    tab.wait_for_url(f"{base_url}/jobs/*")
    tab.wait_for_selector("#calendar .box")  # the page follows the job and shows the result
    assert tab.inner_text("#job-status") == "done"
    offices = tab.locator("#calendar .office").evaluate_all("els => els.map(e => e.dataset.office)")
    assert offices and set(offices) <= {"los_gatos", "los_angeles", "virtual"}
    assert tab.locator("#calendar .box").count() > 0
    widths = tab.locator("#calendar .box").evaluate_all("els => els.map(e => e.clientWidth)")
    assert min(widths) >= 36, widths  # a busy day's column widens: a label stays readable
    unplaced = tab.locator("#unplaced tbody tr")
    assert unplaced.count() > 0
    assert "form_incomplete" in tab.inner_text("#unplaced") or "no_" in tab.inner_text("#unplaced")
    counts = tab.locator("#unplaced-groups td.count").all_inner_texts()
    every = tab.locator("#unplaced-all tbody tr")
    assert sum(int(c.split()[0]) for c in counts) == every.count()  # the groups hold them all
    assert not every.first.is_visible()  # one row each only when asked for
    tab.click("#unplaced-all summary")
    assert every.first.is_visible()
    assert tab.locator("#timelines tbody tr").count() > 0
    assert tab.locator("#load tbody tr").count() > 0
    with tab.expect_download() as download:
        tab.click("#downloads a[href$='schedule.ics']")
    saved = tmp_path / "schedule.ics"
    download.value.save_as(saved)
    text = saved.read_text()
    assert text.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in text
    assert download.value.suggested_filename.endswith("-schedule.ics")  # named by its job
    job_url = tab.url
    tab.set_viewport_size({"width": 390, "height": 844})  # a phone: no page-wide sideways scroll
    try:
        for url in (job_url, f"{base_url}/", f"{base_url}/jobs/new"):
            tab.goto(url)
            assert tab.evaluate("document.documentElement.scrollWidth") <= 390, url
    finally:
        tab.set_viewport_size({"width": 1280, "height": 900})


def test_the_form_shows_a_bad_tables_file_row_and_column(
    page: Page, base_url: str, tiny: Path, tmp_path: Path
) -> None:
    tab = page
    bad = tmp_path / "snap"
    shutil.copytree(tiny, bad)
    frame = pd.read_csv(bad / "rooms.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "accessible"] = "maybe"
    frame.to_csv(bad / "rooms.csv", index=False)
    tab.goto(f"{base_url}/jobs/new")
    tab.set_input_files("#new-job input[name=files]", sorted(str(p) for p in bad.iterdir()))
    tab.click("#new-job button[type=submit]")
    tab.wait_for_selector("#upload-error")
    assert tab.inner_text("#upload-error td.file") == "rooms.csv"
    assert tab.inner_text("#upload-error td.rowno") == "2"
    assert tab.inner_text("#upload-error td.column") == "accessible"
    assert "nothing was stored" in tab.inner_text("#upload-error")


def test_an_unknown_job_is_a_page_leading_back_to_the_jobs(page: Page, base_url: str) -> None:
    tab = page
    response = tab.goto(f"{base_url}/jobs/0123456789abcdef")
    assert response is not None and response.status == 404
    assert "no such job" in tab.inner_text("#not-found")
    tab.click("text=Back to the jobs list")
    tab.wait_for_url(f"{base_url}/")


@pytest.mark.parametrize("ci, outcome", [("true", "1 error"), ("", "1 skipped")])
def test_without_playwright_the_browser_test_fails_under_ci_and_skips_elsewhere(
    tmp_path: Path, ci: str, outcome: str
) -> None:
    """This module run in a fresh pytest where ``import playwright`` fails."""
    blocked = tmp_path / "blocked" / "playwright"
    blocked.mkdir(parents=True)
    (blocked / "__init__.py").write_text("raise ImportError('playwright blocked by the test')\n")
    path = os.pathsep.join([str(blocked.parent), str(HERE.parent)])
    env = {**os.environ, "CI": ci, "PYTHONPATH": path}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(HERE),
               "-k", "the_form_shows", "-o", "addopts="]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert outcome in result.stdout, result.stdout[-2000:]
    assert (result.returncode != 0) == (ci == "true"), result.stdout[-2000:]


def test_the_jobs_list_follows_a_running_job_by_itself(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    snap = tmp_path / "default"
    assert isched("generate", "--scenario", "default", "--seed", "1", "--out", snap).returncode == 0
    tab = page
    tab.goto(f"{base_url}/jobs/new")
    tab.set_input_files("#new-job input[name=files]", sorted(str(p) for p in snap.iterdir()))
    tab.fill("#new-job input[name=time_limit]", "8")
    tab.click("#new-job button[type=submit]")
    tab.wait_for_url(f"{base_url}/jobs/*")
    job = tab.url.rstrip("/").rsplit("/", 1)[1]
    tab.goto(f"{base_url}/")
    row = f'#jobs tr[data-id="{job}"]'
    assert tab.get_attribute(row, "data-status") in ("queued", "running")
    tab.wait_for_selector(f'{row}[data-status="done"]', timeout=90_000)  # no reload by hand


def test_a_failed_job_runs_again_with_another_solver(
    page: Page, base_url: str, tiny: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.pt").write_bytes(b"")  # a model folder whose model cannot be read
    tab = page
    tab.goto(f"{base_url}/jobs/new")
    tab.set_input_files("#new-job input[name=files]", sorted(str(p) for p in tiny.iterdir()))
    tab.fill("#new-job input[name=solver]", f"rl:{broken}")
    tab.click("#new-job button[type=submit]")
    tab.wait_for_url(f"{base_url}/jobs/*")
    failed = tab.url
    tab.wait_for_selector("#rerun button[type=submit]")  # the page follows the job to its end
    assert tab.inner_text("#job-status") == "failed"
    assert "cannot be read" in tab.inner_text("#job-error")
    assert tab.input_value("#rerun input[name=solver]") == f"rl:{broken}"
    tab.fill("#rerun input[name=solver]", "greedy")
    tab.click("#rerun button[type=submit]")
    tab.wait_for_url(lambda url: url.startswith(f"{base_url}/jobs/") and url != failed)
    tab.wait_for_selector("#calendar .box")
    assert tab.inner_text("#job-status") == "done"
    assert "greedy" in tab.inner_text("main")


def test_a_job_another_coordinator_starts_appears_on_an_open_jobs_list(
    page: Page, base_url: str, tiny: Path
) -> None:
    tab = page
    tab.goto(f"{base_url}/")
    shown = tab.locator("#jobs tr[data-id]").count()
    response = httpx.post(
        f"{base_url}/jobs",
        files=table_files(tiny),
        data={"solver": "greedy", "time_limit": "10"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 202, response.text
    job = response.json()["id"]
    tab.wait_for_selector(f'#jobs tr[data-id="{job}"]', timeout=30_000)  # no reload by hand
    assert tab.locator("#jobs tr[data-id]").count() == shown + 1
    tab.wait_for_selector(f'#jobs tr[data-id="{job}"][data-status="done"]', timeout=60_000)


def test_an_open_running_job_deleted_elsewhere_says_so_instead_of_polling_on(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    """A job page left open while another coordinator purges the running job: the page
    reloads into "no such job" rather than fetching a 404 every second under "running"."""
    snap = tmp_path / "default"
    assert isched("generate", "--scenario", "default", "--seed", "2", "--out", snap).returncode == 0
    headers = {"Authorization": f"Bearer {TOKEN}"}
    created = httpx.post(f"{base_url}/jobs", files=table_files(snap), headers=headers,
                         data={"time_limit": "60"})  # fmt: skip
    job = created.json()["id"]
    tab = page
    tab.goto(f"{base_url}/jobs/{job}")
    assert tab.inner_text("#job-status") in ("queued", "running")
    gone = httpx.delete(f"{base_url}/jobs/{job}?purge=true", headers=headers)
    assert gone.status_code == 200, gone.text
    tab.wait_for_selector("#not-found", timeout=15_000)
    assert "no such job" in tab.inner_text("#not-found")
