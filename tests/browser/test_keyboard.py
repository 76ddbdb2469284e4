"""Keyboard only, in headless Chromium: after the link opens the lab, a student sets the temperature T, presses
Train and reaches the result with Tab, Shift+Tab, the arrow keys and Enter; no mouse, no click. The number of Tab
presses is found by pressing Tab until the wanted control has the focus, not written down.

Skipped, not failed, where /usr/bin/chromium is missing (see ``tests/browser/conftest.py``).
"""

import pytest

from kdlab.classroom.lab_settings import LAB_SETTINGS
from tests.browser.accessibility_tour import RUN_MS, TINY_RUN, settle
from tests.browser.conftest import BROWSER_MARKS, offline_env, serve_app

pytestmark = BROWSER_MARKS
MAX_PRESSES = 80  # Tab from the page's top reaches Train in about 50 (sidebar, chips, every lab control)
TEMPERATURE = next(setting for setting in LAB_SETTINGS if setting.url == "T")
SLIDER = ".st-key-" + TEMPERATURE.key.replace(".", "-")  # the slider's container: its help button and its input
SHOWN = f"{SLIDER} [data-testid=stSliderThumbValue]"  # the value drawn above the thumb

# The focused element: its name (aria-label, else its text's last line: a button's icon name comes first), its
# value for a screen reader, whether it sits in the T slider, whether it follows the result's heading (the
# heading's own anchor link not counted).
FOCUS_JS = """(slider) => {
    const active = document.activeElement;
    const lines = (active.innerText || "").trim().split("\\n");
    const heading = [...document.querySelectorAll("h3")].find(h => h.textContent.startsWith("Result of run 1"));
    return {
        name: active.getAttribute("aria-label") || lines[lines.length - 1],
        tag: active.tagName,
        value: active.getAttribute("aria-valuetext"),
        in_slider: Boolean(active.closest(slider)),
        after_result: Boolean(heading) && !heading.contains(active)
            && Boolean(heading.compareDocumentPosition(active) & Node.DOCUMENT_POSITION_FOLLOWING),
    };
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser-keyboard")
    env = offline_env(folder)
    with serve_app(folder, env) as url:
        yield url


def focused(page) -> dict:
    """The focused element as ``FOCUS_JS`` describes it."""
    return page.evaluate(FOCUS_JS, SLIDER)


def on_slider(now: dict) -> bool:
    """The T slider's range input has the focus (its help button, in the same container, comes before it)."""
    return now["in_slider"] and now["name"] == TEMPERATURE.label


def on_train(now: dict) -> bool:
    return now["tag"] == "BUTTON" and now["name"] == "Train"


def press_until(page, wanted, what: str, key: str = "Tab") -> dict:
    """Press ``key`` until ``wanted(focused(page))``; fail after ``MAX_PRESSES``, naming where the focus went."""
    went = []
    for _ in range(MAX_PRESSES):
        page.keyboard.press(key)
        now = focused(page)
        if wanted(now):
            return now
        went.append(now["name"] or now["tag"])
    raise AssertionError(f"{MAX_PRESSES} presses of {key} never reached {what}; the focus went through {went}")


def test_a_student_sets_t_trains_and_reads_the_result_with_the_keyboard_only(server, page):
    page.goto(f"{server}/distillation_lab?{TINY_RUN}&seed=31")
    page.locator(SHOWN).wait_for(timeout=RUN_MS)
    settle(page)
    before = page.locator(SHOWN).inner_text()

    slider = press_until(page, on_slider, "the Temperature T slider")
    assert slider["value"] == before  # a screen reader hears the value the page shows
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([shown, before]) => document.querySelector(shown).innerText !== before", arg=[SHOWN, before]
    )
    after = page.locator(SHOWN).inner_text()
    assert float(after) > float(before), (before, after)  # one step up the lab's temperatures
    settle(page)

    if not on_slider(focused(page)):  # Streamlit 1.67's rerun leaves the focus on <body>: back to the slider
        press_until(page, on_slider, "the Temperature T slider again", key="Shift+Tab")
    assert page.locator(SHOWN).inner_text() == after
    press_until(page, on_train, "the Train button")
    page.keyboard.press("Enter")

    page.get_by_text("Result of run 1").wait_for(timeout=RUN_MS)
    settle(page)
    assert page.locator(SHOWN).inner_text() == after  # the run used the T the keyboard set
    reached = press_until(page, lambda now: now["after_result"], "anything after the result's heading")
    assert reached["name"], reached  # a named control: a screen reader can say what it is
