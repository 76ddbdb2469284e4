"""Every string a translated page shows is marked for translation: the page rendered in the pseudo-language
(``?lang=xx``, every translated message wrapped in ``[~`` ``~]``) leaves no English word outside the markers.

``DONE`` lists the pages whose text is translated; a slice that translates a page adds it here. The sidebar
and the navigation render with each of them (through app.py)."""

from __future__ import annotations

import json
import re
from contextvars import copy_context

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.i18n import LANGUAGES, PSEUDO, use_language
from kdlab.teachers.ensembles import parse_teacher_name
from tests.app.helpers import APP, open_alone, run_until, texts
from tests.conftest import FEWER_BY_10, MORE, PROJECT_ROOT, add_run

DONE = [
    "pages/home.py",
    "pages/lessons.py",
    "pages/class_board.py",
    "pages/distillation_lab.py",
    "pages/glossary.py",
    "pages/paper_replays.py",
    "pages/runs.py",
    "pages/training_schemes.py",
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
    r"|:[a-z]+\["  # a Streamlit Markdown directive: :small[...]
    r"|:material/[a-z_]+:"  # an icon
)
WORD = re.compile(r"[^\W\d_]{2,}")


def in_language(code: str, act, *args) -> None:
    """``act(*args)`` with this thread speaking ``code``, in a context of its own: AppTest writes a radio's or a
    multiselect's choice back through its format_func in the test's thread, and a browser sends the labels it
    shows, in the page's language."""
    context = copy_context()
    context.run(use_language, code)
    context.run(act, *args)


def is_model_name(text: str) -> bool:
    """A teacher's or student's name (cnn-wide, ensemble:cnn*3), an option of the model pickers: code, not English."""
    try:
        parse_teacher_name(text)
    except ValueError:
        return False
    return True


def shown_strings(at: AppTest) -> list[str]:
    """Every string the page shows, from each element's proto (LaTeX formulas aside: their words are maths)."""
    found = []

    def visit(node) -> None:
        found.extend(element_strings(node))
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    return found


def element_strings(node) -> list[str]:
    """The strings one element of the tree shows itself (its children aside), from its proto's text fields."""
    found = []
    proto = getattr(node, "proto", None)
    if proto is not None and getattr(node, "type", "") != "latex":
        for descriptor, value in proto.ListFields():
            if descriptor.name in TEXT_FIELDS:
                found.extend(value if isinstance(value, (list, tuple)) or hasattr(value, "extend") else [value])
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
    assert english_outside_markers(":small[[~Words~]] :material/lock: [~Locked~]") == []
    assert is_model_name("cnn-wide") and is_model_name("ensemble:cnn*3") and not is_model_name("teacher")


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
    strings = [text for text in strings if not text.startswith('<img src="data:')]
    leftovers = {
        text[:80]: words for text in strings if not is_model_name(text) and (words := english_outside_markers(text))
    }
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def leftover_english(at: AppTest) -> dict[str, list[str]]:
    strings = shown_strings(at)
    assert any("[~" in text for text in strings), "the page did not render in the pseudo-language"
    return {text[:80]: words for text in strings if (words := english_outside_markers(text))}


def test_the_board_with_runs_shows_no_english_outside_the_markers(monkeypatch):
    """The class board with finished runs over T and alpha, seeds, predictions and the teacher's errors: the
    groups, the scatter, the heat map, the predictions and their sentences, captions and alternatives."""
    from kdlab.classroom.classes import open_class
    from kdlab.db.database import open_database
    from kdlab.db.runs import DatabaseRunStore
    from kdlab.db.students import create_student

    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)
    database = open_database()
    open_class(database, "XX-BOARD", "7A")
    for seed, (temperature, alpha, distilled, prediction) in enumerate(
        [(2.0, 0.5, 70, FEWER_BY_10), (8.0, 0.5, 60, MORE), (8.0, 0.9, 85, FEWER_BY_10), (2.0, 0.5, 72, None)]
    ):
        store = DatabaseRunStore(database, create_student(database)[0].id)
        add_run(
            store,
            temperature=temperature,
            alpha=alpha,
            alone=80,
            distilled=distilled,
            prediction=prediction,
            code="XX-BOARD",
            teacher_errors=20 if seed else None,
            seed=seed % 2,
        )
    at = open_alone("pages/class_board.py", query={"class": "XX-BOARD", "lang": PSEUDO})
    assert not at.exception, [error.value for error in at.exception]
    keys = {chart.proto.id.rsplit("-", 1)[-1] for chart in at.get("plotly_chart")}
    assert any("heatmap" in key for key in keys) and any("predictions" in key for key in keys), keys
    assert leftover_english(at) == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_the_instructors_panel_and_sign_in_show_no_english_outside_the_markers(monkeypatch):
    """The class board on a server with an instructor key: the sign-in form, then the signed-in panel (open a
    class, the classes' table, the class's actions, the server's state)."""
    from tests.conftest import make_class

    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", "pseudo-locale-instructor-key")
    make_class("XX-TEACH", [[(4.0, 0.5, 60, 40, None)]])
    signed_out = open_alone("pages/class_board.py", query={"class": "XX-TEACH", "lang": PSEUDO})
    assert [element for element in signed_out.expander if "Instructor sign-in" in element.label]
    signed_in = open_alone(
        "pages/class_board.py", query={"class": "XX-TEACH", "key": "pseudo-locale-instructor-key", "lang": PSEUDO}
    )
    assert [element for element in signed_in.expander if element.label == "[~Instructor~]"]
    for at in (signed_out, signed_in):
        assert not at.exception, [error.value for error in at.exception]
        assert leftover_english(at) == {}, "mark these with _() (kdlab.i18n) and add their translations"


def chart_strings(spec: str) -> list[str]:
    """The words a Plotly chart's ``spec`` shows: its title, axis titles, annotations and trace names (hover aside)."""
    figure = json.loads(spec)
    layout = figure.get("layout", {})
    found = [(layout.get("title") or {}).get("text")]
    found += [
        (axis.get("title") or {}).get("text") for name, axis in layout.items() if name.startswith(("xaxis", "yaxis"))
    ]
    found += [annotation.get("text") for annotation in layout.get("annotations", [])]
    found += [trace.get("name") for trace in figure.get("data", [])]
    return [text for text in found if isinstance(text, str) and text.strip()]


def result_strings(at: AppTest, heading: str) -> list[str]:
    """What the page shows from the first string that starts with ``heading`` on, in the page's order, the charts'
    words (``chart_strings``) included."""
    found = []

    def visit(node) -> None:
        if getattr(node, "type", "") == "plotly_chart":
            found.extend(chart_strings(node.proto.spec))
        else:
            found.extend(element_strings(node))
        for child in getattr(node, "children", {}).values():
            visit(child)

    visit(at._tree)
    starts = [index for index, text in enumerate(found) if text.startswith(heading)]
    assert starts, f"no {heading!r} on the page"
    return found[starts[0] :]


@pytest.mark.usefixtures("training_threads_as_in_the_app")
def test_a_finished_lab_result_shows_no_english_outside_the_markers(linear_teacher):
    at = AppTest.from_file(str(PROJECT_ROOT / "pages/distillation_lab.py"), default_timeout=120)
    at.query_params.update({"teacher": "linear", "student": "mlp-20x1", "epochs": "1", "lang": PSEUDO})

    def train() -> None:
        at.run()
        at.select_slider(key="lab.train_size").set_value(500)
        at.number_input(key="lab.seed").set_value(83)  # a seed of its own: trained here, not from the cache
        at.run()
        at.button(key="lab.train").click().run()
        run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=300)

    in_language(PSEUDO, train)
    assert not at.exception, [error.value for error in at.exception]
    strings = result_strings(at, "[~Result of run 1")
    assert len(strings) > 30 and any("[~Loss anatomy" in text for text in strings)  # the sentences and the charts
    leftovers = {text[:80]: words for text in strings if (words := english_outside_markers(text))}
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_the_runs_page_with_a_run_shows_no_english_outside_the_markers(sample_data, linear_teacher):
    """The Runs page of a student with a finished run (a tiny real one): the table's headers and values, the
    overlay, the detail and its downloads, the run's result."""
    from kdlab.db.database import open_database
    from kdlab.db.runs import DatabaseRunStore
    from kdlab.db.students import create_student
    from kdlab.experiments.distill import run_distillation
    from kdlab.runs.record import record_from_result
    from tests.conftest import tiny_config

    database = open_database()
    student, token = create_student(database)
    store = DatabaseRunStore(database, student.id)
    result = run_distillation(tiny_config(), sample_data, teacher=linear_teacher)
    store.add(record_from_result(result, sample_data.test.labels, number=store.reserve_number()))
    at = open_alone("pages/runs.py", query={"lang": PSEUDO}, student=token)
    assert not at.exception, [error.value for error in at.exception]
    table = at.dataframe[0]
    assert set(table.value["status"]) == {"[~completed~]"}
    headers = [column.get("label") for column in json.loads(table.proto.columns).values() if column.get("label")]
    assert headers and all(header.startswith("[~") or header == "α" for header in headers), headers
    leftovers = {text: words for text, words in leftover_english(at).items() if not is_model_name(text)}
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_a_scheme_comparison_shows_no_english_outside_the_markers():
    """The Training schemes page with a finished comparison (1 epoch on 1,000 images, the linear teacher): the
    budget's caption, each scheme's tab, description, paper and metrics."""
    from tests.app.test_replay_pages import click_and_wait

    at = open_alone("pages/training_schemes.py", query={"lang": PSEUDO}, timeout=120)
    at.selectbox(key="schemes.teacher").select("linear")
    at.select_slider(key="schemes.train_size").set_value("1,000")
    at.slider(key="schemes.epochs").set_value(1)
    at.slider(key="schemes.generations").set_value(1)
    in_language(PSEUDO, click_and_wait, at, "[~Compare the schemes~]")
    assert not at.exception, [error.value for error in at.exception]
    assert len(at.tabs) == 4 and all(tab.label.startswith("[~") for tab in at.tabs)
    assert {text: words for text, words in leftover_english(at).items() if not is_model_name(text)} == {}, (
        "mark these with _() (kdlab.i18n) and add their translations"
    )


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
