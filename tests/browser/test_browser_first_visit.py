"""A server's first visitor in a real browser: the app's own navigation comes first, Streamlit's raw list of the
``pages/`` folder never shows, and the page's content (or the "Starting" line while PyTorch loads) follows.
``bench/first_paint.py`` measures how soon."""

import pytest

from kdlab.classroom.pages import PAGES
from tests.browser.conftest import BROWSER_MARKS, offline_env, serve_app

pytestmark = BROWSER_MARKS
READ_PAGE = """() => {
  const navigation = document.querySelector('.st-key-navigation');
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const main = document.querySelector('[data-testid="stMain"]');
  return {navigation: navigation ? navigation.innerText : "", sidebar: sidebar ? sidebar.innerText : "",
          main: main ? main.innerText : ""};
}"""
HOME_TITLE = "Knowledge distillation, live on MNIST"


@pytest.fixture(scope="module")
def fresh_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("first-visit")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def test_the_first_visit_shows_the_apps_navigation_and_never_the_raw_file_list(fresh_server, page):
    page.goto(fresh_server, wait_until="commit")  # the server's first script run: PyTorch is not loaded yet
    snapshots = []
    for _ in range(2400):  # read every 25 ms, at most a minute
        snapshots.append(page.evaluate(READ_PAGE))
        if HOME_TITLE in snapshots[-1]["main"]:
            break
        page.wait_for_timeout(25)
    assert HOME_TITLE in snapshots[-1]["main"]
    assert not [shot for shot in snapshots if "class board" in shot["sidebar"]], "Streamlit's raw file list showed"
    first_content = next(i for i, shot in enumerate(snapshots) if shot["main"].strip())
    assert snapshots[first_content]["navigation"], "the page drew content before the navigation"
    assert all(entry.title in snapshots[-1]["navigation"] for entry in PAGES)
