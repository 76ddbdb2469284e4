"""Every page opened with hostile URL parameters (tests/strategies.py): each answers with its page and a few
warnings, never an exception. AppTest takes seconds a page run, so each page gets a handful of examples; the
parsers behind them get hundreds in tests/unit/test_fuzz.py."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kdlab.classroom.lab_settings import LAB_NAMES
from kdlab.classroom.links import (
    ADVANCED,
    BOARD_PARAMETERS,
    EXPLORER_PARAMETERS,
    LESSON_EXTRAS,
    LINK_EXTRAS,
    MAX_MESSAGES,
    REPLAY_PARAMETERS,
)
from kdlab.teachers.ensembles import parse_teacher_name
from tests.app.helpers import open_alone
from tests.strategies import hostile_text, url_params

EVERYWHERE = ("s", "key", "lang")  # every page reads the student code and its language, and takes an instructor key out
PAGES = {
    "pages/distillation_lab.py": (*LAB_NAMES, *LINK_EXTRAS, "lesson"),
    "pages/dark_knowledge.py": (*EXPLORER_PARAMETERS, "lock", ADVANCED, *LESSON_EXTRAS),
    "pages/paper_replays.py": (*REPLAY_PARAMETERS, "replay.tab", *LESSON_EXTRAS),
    "pages/class_board.py": (*BOARD_PARAMETERS, "lesson"),
    "pages/lessons.py": ("lesson",),
    "pages/runs.py": (),
    "pages/home.py": (),
    "pages/training_schemes.py": (),
    "pages/glossary.py": (),
}
STATE = {"lab.teacher": "linear", "explorer.teacher": "linear"}  # cached teachers: no training in a page run
PAGE_RUNS = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


def is_teacher(name: str) -> bool:
    try:
        parse_teacher_name(name)
    except ValueError:
        return False
    return True


# The explorer's teacher box is bound to the URL: a hostile name is fuzzed, a real one would start a training.
not_a_teacher = hostile_text.filter(lambda name: not is_teacher(name))


@pytest.mark.parametrize("page", list(PAGES))
@PAGE_RUNS
@given(data=st.data())
def test_a_page_with_hostile_url_parameters_shows_warnings_never_an_exception(page, data):
    query = data.draw(url_params((*PAGES[page], *EVERYWHERE), max_size=8), label="query")
    if page == "pages/dark_knowledge.py" and data.draw(st.booleans(), label="hostile teacher"):
        query["explorer.teacher"] = data.draw(not_a_teacher, label="explorer.teacher")
    query = {name: value for name, value in query.items() if value != []}
    at = open_alone(page, STATE, query=query, timeout=180)  # a shared, loaded machine: slow, not stuck
    assert not at.exception, [exception.value for exception in at.exception]
    link_warnings = [element.value for element in at.warning if "link" in element.value.lower()]
    assert len(link_warnings) <= MAX_MESSAGES + 2  # a link's few messages, and the student code's
    assert all(len(element.value) < 2000 for element in [*at.warning, *at.error])
