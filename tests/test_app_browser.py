"""The planners' app in a real browser: headless Chromium (Debian's package) driven by Playwright.

Starts ``sim app`` on a free local port, picks Fangxing, changes grid workers per grid, runs a short
horizon with few replications and checks the displayed share within target equals the API's value
for the same inputs and seed; then compares two scenarios and opens the downloaded Excel file.
Screenshots go to ``tests/artifacts/`` (set SKIP_BROWSER=1 to skip knowingly).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HORIZON, REPS, GRID_WORKERS = 45, 3, 8


def _browser_path() -> str:
    if os.environ.get("SKIP_BROWSER") == "1":
        pytest.skip("SKIP_BROWSER=1: the app's browser test was skipped on purpose")
    path = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if not path:
        pytest.fail("no headless browser: install Debian's chromium ('apt-get update && apt-get install -y chromium' "
                    "as root, or 'make browser'), or set SKIP_BROWSER=1 to skip this test knowingly")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    browser = _browser_path()
    port = _free_port()
    results = tempfile.mkdtemp(prefix="sim-app-test-")
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", "app", "--port", str(port), "--no-browser",
                             "--results", results], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"sim app did not start: {proc.stdout.read().decode()[-2000:]}")
    yield browser, f"http://127.0.0.1:{port}/"
    proc.terminate()
    proc.wait(timeout=10)
    shutil.rmtree(results, ignore_errors=True)


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    browser_path, url = app_url
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=browser_path, args=ARGS, headless=True,
                                                   viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        pg = ctx.new_page()
        pg.goto(url)
        pg.wait_for_selector(".run button", timeout=30000)
        yield pg
        ctx.close()


def expect(locator):
    from playwright.sync_api import expect as _expect

    return _expect(locator)


def _set_number(page, css: str, value: float) -> None:
    box = page.locator(f"{css} input")
    box.fill(str(value))
    box.press("Enter")


def _run_and_wait(page, n: int, timeout_s: float = 120.0) -> float:
    t0 = time.perf_counter()
    page.locator(".run button").click()
    expect(page.locator(".status")).to_contain_text(re.compile(rf"\(run {n}\)|failed|stopped"), timeout=timeout_s * 1000)
    expect(page.locator(".status")).to_contain_text(f"(run {n})")  # not a failure message
    page.locator(".results img").first.wait_for(timeout=10000)
    return time.perf_counter() - t0


def _displayed(page, metric: str, scenario: str) -> str:
    header = page.locator(".headline thead tr").first.inner_text().split("\t")
    rows = page.locator(".headline tbody tr").all_inner_texts()
    for row in rows:
        cells = row.split("\t")
        if metric in cells:
            return cells[header.index(scenario)]
    raise AssertionError(f"{metric} of {scenario} not in the headline table: {rows}")


def test_fangxing_run_matches_the_api(page):
    import sim

    expect(page.locator(".status")).to_contain_text("press")
    _set_number(page, ".staff-grid_worker", GRID_WORKERS)
    _set_number(page, ".horizon", HORIZON)
    _set_number(page, ".reps", REPS)
    expect(page.locator(".overrides")).to_contain_text("grid_worker")
    elapsed = _run_and_wait(page, 1)
    page.screenshot(path=str(ARTIFACTS / "app-fangxing-run.png"), full_page=True)
    shown = _displayed(page, "within_target_share", "fangxing")
    loaded = sim.load(ROOT / "scenarios" / "fangxing.yaml", {"roles.grid_worker.staff_per_unit": GRID_WORKERS})
    expected = sim.run(loaded, REPS, horizon_days=HORIZON, workers=2).metric("within_target_share")["mean"]
    assert shown == sim.metric_text("within_target_share", expected), (shown, expected)
    print(f"run to figures: {elapsed:.1f} s")


def test_compare_two_scenarios_and_download_excel(page, tmp_path):
    import openpyxl

    page.locator(".scenario-b select").select_option("zhaojialou")
    _run_and_wait(page, 2)
    page.locator(".differences").wait_for(timeout=30000)
    page.screenshot(path=str(ARTIFACTS / "app-compare.png"), full_page=True)
    expect(page.locator(".differences")).to_contain_text("zhaojialou − fangxing")
    page.get_by_text("Downloads", exact=True).click()
    with page.expect_download(timeout=30000) as dl:
        page.locator(".dl-xlsx button, .dl-xlsx a").first.click()
    path = tmp_path / "results.xlsx"
    dl.value.save_as(path)
    wb = openpyxl.load_workbook(path)
    assert {"summary", "paired differences", "replications", "parameters"} <= set(wb.sheetnames)
    diffs = wb["paired differences"]
    header = [c.value for c in diffs[1]]
    row = {h: c.value for h, c in zip(header, diffs[2])}
    assert row["scenario"] == "zhaojialou" and row["minus"] == "fangxing"
    assert isinstance(row["diff"], (int, float)) and row["diff_ci_low"] <= row["diff"] <= row["diff_ci_high"]
