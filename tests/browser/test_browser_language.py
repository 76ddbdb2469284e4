"""The page's ``lang`` attribute in a real browser follows the session's language (Streamlit cannot set it,
#8399: ``kdlab.ui.language.set_page_language``), and the sidebar's control switches the page's language."""

import re

import pytest

from tests.browser.conftest import BROWSER_MARKS, offline_env, serve_app

pytestmark = BROWSER_MARKS
SPANISH_TITLE = "Destilación del conocimiento, en directo con MNIST"
VIETNAMESE_TITLE = "Chưng cất tri thức, trực tiếp trên MNIST"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("language")
    env = offline_env(folder)
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


def test_the_lab_in_the_pseudo_language_shows_no_english_outside_the_markers(server, page):
    """What Chromium draws of the lab (before a run, its teacher not trained yet) under ``?lang=xx``: every word
    the student reads, any chart's SVG text included, inside the markers. Markdown draws a marker's tildes as a strikethrough (``~x~``),
    so in the browser a marker is what is left of it: ``[~x~]`` or ``[x]``."""
    from tests.app.test_pseudo_locale import english_outside_markers, is_model_name

    page.goto(f"{server}/distillation_lab?lang=xx")
    page.get_by_role("button", name=re.compile(r"^\[~?Train~?\]$")).wait_for()
    page.wait_for_timeout(2000)  # the page settles
    main = page.get_by_test_id("stMainBlockContainer").evaluate(
        "node => { const copy = node.cloneNode(true); copy.querySelectorAll('.katex, [data-testid=stIconMaterial], [aria-hidden=true]').forEach(m => m.remove());"
        " document.body.appendChild(copy); const text = copy.innerText; copy.remove(); return text; }"
    )  # aside: formulas (maths) and icons (ligature names, hidden from screen readers too)
    svg = page.locator(".stPlotlyChart .main-svg").evaluate_all("nodes => nodes.map(node => node.textContent)")
    lines = [line.replace("[~", "[").replace("~]", "]") for line in main.splitlines() + svg if line.strip()]
    bracketed = [line.replace("[", "[~").replace("]", "~]") for line in lines]
    leftovers = {
        line[:80]: words
        for line in bracketed
        if not is_model_name(line.strip()) and (words := english_outside_markers(line))
    }
    assert "[~" in "".join(bracketed), "the page did not render in the pseudo-language"
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"
