"""The running app in a real browser: ``streamlit run app.py`` on a free port, driven by
headless Chromium the way a student would use it (Debian's chromium, through playwright).

Skipped, not failed, where /usr/bin/chromium is missing. The server runs offline on the
sample with a temporary teacher cache, and the tests pick the "linear" teacher, which
trains in about a second.
"""

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import BROWSER_MARKS, RUN_SECONDS, offline_env, serve_app

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def set_slider(page, key: str, press: str, expected: str) -> None:
    """Focus the slider with this widget key, press a key (Home, End, ArrowRight) and wait
    until its thumb shows ``expected``."""
    container = page.locator(f".st-key-{key.replace('.', '-')}")
    container.locator("input[type=range]").focus()
    page.keyboard.press(press)
    container.get_by_test_id("stSliderThumbValue").get_by_text(expected, exact=True).wait_for()


def choose(page, key: str, option: str) -> None:
    page.locator(f".st-key-{key.replace('.', '-')}").click()
    page.get_by_role("option", name=option, exact=True).click()


def test_lab_trains_stops_and_exports_in_the_browser(server, page):
    page.goto(f"{server}/distillation_lab")  # a deep link as the server's first request
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for()
    page.locator(".st-key-navigation").get_by_text("Dark knowledge explorer").wait_for()
    choose(page, "lab.teacher", "linear")
    page.get_by_text("Teacher linear: 7,850 parameters").wait_for()
    set_slider(page, "lab.epochs", "Home", "1")
    set_slider(page, "lab.train_size", "Home", "500")
    train.click()
    page.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    page.get_by_test_id("stMetric").filter(has_text="Distilled student").wait_for()

    # A long run, stopped from the page, keeps its partial result.
    set_slider(page, "lab.epochs", "End", "50")
    set_slider(page, "lab.train_size", "End", "4,000 (all)")
    train.click()
    page.locator(".st-key-lab-progress-stop button").first.click(timeout=RUN_SECONDS * 1000)  # 2nd: a hidden copy
    page.get_by_text("Run 2 stopped").wait_for(timeout=RUN_SECONDS * 1000)

    page.locator(".st-key-navigation").get_by_text("Runs").click()
    page.get_by_test_id("stDataFrame").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the table (CSV)").click()
    table = Path(download.value.path()).read_text()
    assert table.startswith("run,time,status") and len(table.strip().splitlines()) == 3


def test_explorer_chart_follows_the_temperature(server, page):
    page.goto(f"{server}/dark_knowledge?explorer.teacher=linear")
    page.get_by_text("What the teacher knows").wait_for(timeout=RUN_SECONDS * 1000)
    chart = page.locator(".st-key-explorer-bars")
    chart.get_by_text("T = 1 and T = 4").wait_for()
    bars_before = chart.locator(".bars path").evaluate_all("paths => paths.map(p => p.getAttribute('d'))")
    set_slider(page, "explorer.temperature", "ArrowRight", "5")
    chart.get_by_text("T = 1 and T = 5").wait_for()
    bars_after = chart.locator(".bars path").evaluate_all("paths => paths.map(p => p.getAttribute('d'))")
    assert bars_before and bars_after != bars_before
    page.get_by_text("At T = 5 the same runner-ups").wait_for()


def small_run_settings(page, seed: str) -> None:
    """Teacher linear, 1 epoch on 500 images, and ``seed`` (a seed of its own keeps other tests' runs
    out of the result cache)."""
    page.get_by_role("button", name="Train", exact=True).wait_for()
    choose(page, "lab.teacher", "linear")
    page.get_by_text("Teacher linear: 7,850 parameters").wait_for()
    set_slider(page, "lab.epochs", "Home", "1")
    set_slider(page, "lab.train_size", "Home", "500")
    seed_input = page.locator(".st-key-lab-seed input")
    seed_input.fill(seed)
    seed_input.press("Enter")
    page.wait_for_function(
        "seed => document.querySelector('.st-key-lab-seed input').value === seed", arg=seed, timeout=10_000
    )


def test_runs_survive_a_reload_and_a_second_student_gets_them_from_the_cache(server, browser):
    first = browser.new_page(viewport={"width": 1400, "height": 1000})
    first.set_default_timeout(30_000)
    first.goto(f"{server}/distillation_lab")
    small_run_settings(first, "31")
    first.get_by_role("button", name="Train", exact=True).click()
    first.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    token = parse_qs(urlparse(first.url).query)["s"][0]
    assert len(token) >= 22

    first.reload()  # a new session: the run comes back from the database, by the code in the URL
    first.get_by_text("Result of run 1").wait_for()
    first.get_by_test_id("stMetric").filter(has_text="Distilled student").wait_for()
    first.locator(".st-key-navigation").get_by_text("Runs").click()
    first.get_by_test_id("stDataFrame").wait_for()
    first.wait_for_function("token => location.search.includes('s=' + token)", arg=token)  # kept across pages
    first.close()

    second = browser.new_page(viewport={"width": 1400, "height": 1000})  # another student, same settings
    second.set_default_timeout(30_000)
    second.goto(f"{server}/distillation_lab")
    small_run_settings(second, "31")
    pressed = time.perf_counter()
    second.get_by_role("button", name="Train", exact=True).click()
    second.get_by_text("This exact run was trained earlier on this server").wait_for()
    noted = time.perf_counter() - pressed
    second.get_by_test_id("stMetric").filter(has_text="Distilled student").wait_for()
    second.locator(".st-key-lab-result-accuracy .main-svg").first.wait_for()  # the curves are drawn
    print(f"\ncached run: note after {noted:.2f} s, drawn after {time.perf_counter() - pressed:.2f} s (Train pressed)")
    assert parse_qs(urlparse(second.url).query)["s"][0] != token
    second.get_by_role("button", name="Train it again live").wait_for()
    second.close()
