"""Draw your own digit in a real browser: the canvas component (streamlit-drawable-canvas) sends the
drawing back to the server, which answers with the teacher's view of it; the lab's compression card.

Skipped, not failed, where /usr/bin/chromium is missing (see ``tests/browser/conftest.py``).
"""

import pytest

from tests.browser.conftest import BROWSER_MARKS, RUN_SECONDS, draw_a_one, offline_env, serve_app

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser-drawing")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def test_a_digit_drawn_in_the_explorer_gets_the_teachers_soft_targets(server, page):
    page.goto(f"{server}/dark_knowledge?explorer.teacher=linear")
    page.get_by_text("Teacher linear:").wait_for(timeout=RUN_SECONDS * 1000)
    page.get_by_text("Draw your own", exact=True).click()
    page.get_by_text("Draw a digit in the black square").wait_for()
    draw_a_one(page, "explorer.canvas")
    page.get_by_text("for your drawing").wait_for(timeout=60_000)
    page.get_by_text("Your digit as the model sees it").wait_for()
