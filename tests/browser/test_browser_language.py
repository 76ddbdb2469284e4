"""The page's ``lang`` attribute in a real browser follows the session's language (Streamlit cannot set it,
#8399: ``kdlab.ui.language.set_page_language``), and the sidebar's control switches the page's language."""

import os

import pytest

from tests.browser.conftest import BROWSER_MARKS, serve_app

pytestmark = BROWSER_MARKS
SPANISH_TITLE = "Destilación del conocimiento, en directo con MNIST"
VIETNAMESE_TITLE = "Chưng cất tri thức, trực tiếp trên MNIST"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("language")
    env = {**os.environ, "KDLAB_OFFLINE": "1", "KDLAB_CACHE_DIR": str(folder / "cache"), "KDLAB_DEVICE": "cpu"}
    with serve_app(folder, env) as url:
        yield url


def test_lang_es_sets_the_pages_lang_attribute_and_the_control_switches_to_vietnamese(server, page):
    page.goto(f"{server}/?lang=es")
    page.get_by_role("heading", name=SPANISH_TITLE).wait_for()
    page.wait_for_function("() => document.documentElement.lang === 'es'")
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Tiếng Việt").click()
    page.get_by_role("heading", name=VIETNAMESE_TITLE).wait_for()
    page.wait_for_function("() => document.documentElement.lang === 'vi'")
    assert "lang=vi" in page.url
