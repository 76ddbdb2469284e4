"""Every string a translated page shows is marked for translation: the page rendered in the pseudo-language
(``?lang=xx``, every translated message wrapped in ``[~`` ``~]``) leaves no English word outside the markers.

``DONE`` lists the pages whose text is translated; a slice that translates a page adds it here. The sidebar
and the navigation render with each of them (through app.py)."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.i18n import LANGUAGES, PSEUDO
from kdlab.ml.models import ARCHITECTURES
from kdlab.teachers.ensembles import ENSEMBLE_PRESETS
from tests.app.helpers import APP

DONE = [
    "pages/home.py",
    "pages/dark_knowledge.py",
]
# Words that are the same in every language: names, units, code. Keep it short: a word here is never translated.
ALLOWED = {"MNIST", "KD", "PyTorch", "CPU", "GPU", "MLP", "mlxtend", "Apple", "MPS", "kdlab"}
ALLOWED |= {word for name in LANGUAGES.values() for word in name.split()}  # the control names each language
# What an element says, by its proto's field: text, headings, alerts, captions, widget labels, help and options.
TEXT_FIELDS = ("body", "label", "help", "placeholder", "options", "caption", "alt")
INNERMOST = re.compile(r"\[~(?:(?!\[~|~\]).)*~\]", re.DOTALL)
NOT_WORDS = re.compile(
    r"\]\([^)]*\)"  # a Markdown link's target
    r"|`[^`]*`"  # code
    r"|\$[^$]*\$"  # inline maths
    r"|https?://\S+"
)
WORD = re.compile(r"[^\W\d_]{2,}")
# A model's name is data, the same in every language (a teacher box's options are the bare names a link carries).
MODEL_NAMES = set(ARCHITECTURES) | set(ENSEMBLE_PRESETS)


def shown_strings(at: AppTest) -> list[str]:
    """Every string the page shows, from each element's proto (LaTeX formulas aside: their words are maths)."""
    found = []

    def visit(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None and getattr(node, "type", "") != "latex":
            for descriptor, value in proto.ListFields():
                if descriptor.name in TEXT_FIELDS:
                    found.extend(value if isinstance(value, (list, tuple)) or hasattr(value, "extend") else [value])
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return [text for text in found if isinstance(text, str) and text.strip()]


def english_outside_markers(text: str) -> list[str]:
    """The words of ``text`` outside every ``[~ ~]`` marker (nested ones too) that ``ALLOWED`` does not name."""
    while True:
        stripped = INNERMOST.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    return [word for word in WORD.findall(NOT_WORDS.sub(" ", text)) if word not in ALLOWED]


def test_the_check_finds_english_left_outside():
    assert english_outside_markers("[~Teacher~] and [~[~Data~]: {n} images~]") == ["and"]
    assert english_outside_markers("1. [~Runs~] `pip` [~a [link](glossary#logit)~] MNIST") == []


@pytest.mark.parametrize("page", DONE)
def test_a_done_page_shows_no_english_outside_the_markers(page):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = PSEUDO
    at.run()
    if page != "pages/home.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, [error.value for error in at.exception]
    assert_no_english_outside_the_markers(shown_strings(at))


def assert_no_english_outside_the_markers(strings: list[str]) -> None:
    assert any("[~" in text for text in strings), "the page did not render in the pseudo-language"
    leftovers = {
        text[:80]: words for text in strings if text not in MODEL_NAMES and (words := english_outside_markers(text))
    }
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_the_explorer_with_a_chosen_digit_shows_no_english_outside_the_markers(monkeypatch, small_teacher):
    """The explorer once its teacher is ready and a student picked a digit, with the standardised logits and the log
    scale on: every sentence with its numbers, the limit's table and the features' texts."""
    monkeypatch.setattr("kdlab.ui.explorer.teacher_or_stand_in", lambda name, key: (small_teacher, None))
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = PSEUDO
    # the student's choices, in the session as their clicks leave them: AppTest finds a widget's value among the
    # options as shown, and the mode radio's are translated (in the browser its index travels instead)
    for key, value in {"explorer.digit": 7, "explorer.standardise": True, "explorer.log": True}.items():
        at.session_state[key] = value
    at.run()
    at.switch_page("pages/dark_knowledge.py")
    at.run()
    assert not at.exception, [error.value for error in at.exception]
    captions = [caption for image in at.image for caption in image.captions]  # st.image's, not in the element
    assert any(caption.startswith("[~Test image #") and caption.endswith("labelled 7~]") for caption in captions)
    strings = shown_strings(at) + captions
    # the toggle's sentence with its numbers (its first words link to the glossary)
    assert any(text.startswith("[~**") and "Standardised logits" in text for text in strings)
    assert_no_english_outside_the_markers(strings)
