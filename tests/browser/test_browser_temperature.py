"""A learned temperature in headless Chromium, the way a student would meet it: a link sets the learned schedule
(mlp-20x1 from the linear teacher); Train; the result's accuracy figure draws T in a panel under it, and a sentence
says where T went.

The server runs offline on the sample with a temporary teacher cache (the linear teacher trains first, once)."""

import pytest

from kdlab.plots.lab import TEMPERATURE_NAME
from tests.browser.conftest import BROWSER_MARKS, RUN_SECONDS, offline_env, serve_app

pytestmark = BROWSER_MARKS
LINK = "distillation_lab?teacher=linear&student=mlp-20x1&schedule=learned&epochs=3&train_size=2000&seed=6"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser-temperature")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def test_a_learned_temperature_run_draws_t_in_its_result(server, page):
    page.goto(f"{server}/{LINK}")
    page.get_by_text("Temperature schedule learned (CTKD):").first.wait_for()  # the caption under the formula
    train = page.get_by_role("button", name="Train", exact=True)
    train.wait_for()
    page.wait_for_timeout(1000)  # the page settles before the press
    train.click()

    page.get_by_text("Result of run 1").wait_for(timeout=RUN_SECONDS * 1000)
    accuracy = page.locator(".st-key-lab-result-accuracy")
    accuracy.get_by_text(TEMPERATURE_NAME).wait_for()  # the trace's name in the figure's legend
    accuracy.get_by_text("temperature T", exact=True).wait_for()  # the lower panel's axis title
    page.get_by_text("T went from 4 to").wait_for()
    assert "(learned, CTKD" in page.get_by_text("T went from 4 to").inner_text()
