"""An attention run in headless Chromium, the way a student would see it: a link sets AT, cnn-small from lenet5;
Train; while it trains the lab shows the teacher's and the student's attention maps side by side and the AT
distance; the result keeps them.

The server runs offline on the sample with a temporary teacher cache (lenet5 trains first, once)."""

import pytest

from tests.browser.conftest import BROWSER_MARKS, RUN_SECONDS, offline_env, serve_app

pytestmark = BROWSER_MARKS
# 20 epochs on the sample's 4,000 images: the distilled student and its baseline train for long enough that a
# live tick (2 s) draws the view while they do.
LINK = "distillation_lab?teacher=lenet5&student=cnn-small&soft=at&epochs=20&train_size=4000&seed=5"
TITLES = ("digit", "teacher", "student", "block 1", "block 2")  # the maps' column titles


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser-feature-view")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def test_an_attention_run_shows_both_networks_maps_live_and_in_its_result(server, page):
    page.goto(f"{server}/{LINK}")
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for()
    page.wait_for_timeout(1000)  # the page settles before the press
    train.click()
    live = page.locator(".st-key-lab-live-feature-view")
    live.locator("g.hm").first.wait_for(timeout=RUN_SECONDS * 1000)
    for title in TITLES:
        live.get_by_text(title, exact=True).first.wait_for()
    assert live.locator("g.hm image").count() == 4 * 5  # per digit: the digit, both networks' maps at both blocks
    page.get_by_text("The teacher's and the student's attention maps for the test digits").first.wait_for()
    page.locator(".st-key-lab-live-feature-distance").get_by_text("AT distance, over the run").wait_for()

    page.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    result = page.locator(".st-key-lab-result-feature-view")
    for title in TITLES:
        result.get_by_text(title, exact=True).first.wait_for()
    assert result.locator("g.hm image").count() == 4 * 5
    page.locator(".st-key-lab-result-feature-distance").get_by_text("AT distance, over the run").wait_for()
