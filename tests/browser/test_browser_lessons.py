"""A lesson end to end in headless Chromium: the teacher's lessons page with a class code, a step's
link into the lab (settings set and locked), a prediction, Train, the result beside the prediction,
and the class board with the run. The server reads a one-lesson folder (KDLAB_LESSONS_DIR) whose
lab link is a tiny run, so the test trains in seconds.
"""

import os
from urllib.parse import parse_qs, urlparse

import pytest

from tests.browser.conftest import BROWSER_MARKS, RUN_SECONDS, serve_app

LESSON = """+++
title = "A tiny lesson"
minutes = 10
goal = "Follow a link, predict, train, see the board."
prediction = "Fewer errors?"
discuss = "Why?"
notice = "The board fills in."

[[steps]]
text = "Each table takes one temperature."
page = "lab"
params = { teacher = "linear", student = "mlp-10x1", epochs = 1, train_size = 500, seed = 77, lock = "all", predict = 1 }
vary = { T = [2, 8] }

[[steps]]
text = "Open the board."
page = "board"
+++
"""

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline on a free localhost port, with a one-lesson folder."""
    folder = tmp_path_factory.mktemp("browser-lessons")
    (folder / "lessons").mkdir()
    (folder / "lessons" / "tiny.md").write_text(LESSON)
    env = {
        **os.environ,
        "KDLAB_OFFLINE": "1",
        "KDLAB_CACHE_DIR": str(folder / "cache"),
        "KDLAB_DEVICE": "cpu",
        "KDLAB_LESSONS_DIR": str(folder / "lessons"),
    }
    for name in ("KDLAB_DATA_DIR", "KDLAB_INSTRUCTOR_KEY", "KDLAB_DATABASE_URL"):
        env.pop(name, None)
    with serve_app(folder, env) as url:
        yield url


def test_a_lesson_link_leads_to_a_locked_lab_a_prediction_a_run_and_the_board(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    page.goto(f"{server}/lessons?lesson=tiny")
    page.get_by_role("heading", name="A tiny lesson").wait_for()
    # The server listens on 127.0.0.1 (serve_app): the page says students cannot reach it, and how to fix that.
    page.get_by_text("Only this machine can open this address.").wait_for()
    assert "--server.address 0.0.0.0" in page.locator(".st-key-share-address").inner_text()
    page.locator(".st-key-share-address img").wait_for()  # the address's QR code
    code = page.locator(".st-key-lessons-class input")
    code.fill("browser-1")
    code.press("Enter")
    page.get_by_text("class=BROWSER-1").first.wait_for(state="attached")  # the slide links (folded) carry it

    # The teacher's link, as a student follows it: the one with the class (until the rerun ends, the step's
    # link from before the code was typed can still be on the page).
    page.get_by_role("link", name="lab: T = 8").and_(page.locator("[href*='class=BROWSER-1']")).click()
    page.get_by_text("Assignment link.").wait_for()
    params = parse_qs(urlparse(page.url).query)
    assert params["T"] == ["8"] and params["class"] == ["BROWSER-1"] and params["lock"] == ["all"]
    temperature = page.locator(".st-key-lab-temperature")
    temperature.get_by_test_id("stSliderThumbValue").get_by_text("8", exact=True).wait_for()
    assert temperature.locator("input[type=range]").is_disabled()  # locked, for the keyboard too
    page.get_by_text("Your runs count for class BROWSER-1").wait_for()
    train = page.get_by_role("button", name="Train", exact=True)
    assert train.is_disabled()  # the lesson asks for a prediction first

    page.get_by_text("Yes, fewer errors").click()
    guess = page.locator(".st-key-lab-predict-by-0 input")
    guess.fill("3")
    guess.press("Enter")
    page.wait_for_function("() => !document.querySelector('.st-key-lab-train button').disabled", timeout=10_000)
    train.click()
    page.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    page.get_by_text("You predicted: fewer errors, by about 3.").wait_for()

    page.locator(".st-key-navigation").get_by_text("Class board").click()
    page.get_by_text("1 run by 1 student").wait_for()
    page.locator(".st-key-board-groups .main-svg").first.wait_for()  # one training: the groups, no T scatter
    assert parse_qs(urlparse(page.url).query)["class"] == ["BROWSER-1"]
    page.close()
