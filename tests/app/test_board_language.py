"""The class board in the students' languages: its sentences and figures in the viewer's language, and two viewers
of one class in two languages, within the moment the board's figures are shared, each see their own."""

import pytest

from tests.app.helpers import chart_spec, open_alone, texts
from tests.conftest import FEWER_BY_10, MORE, make_class

BOARD = "pages/class_board.py"


@pytest.fixture(autouse=True)
def no_instructor_key(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)


def test_two_viewers_in_two_languages_see_the_board_each_in_their_own():
    make_class("LANG-1", [[(2.0, 0.5, 80, 60, FEWER_BY_10)], [(8.0, 0.5, 80, 75, MORE)], [(8.0, 0.9, 80, 70, None)]])
    spanish = open_alone(BOARD, query={"class": "LANG-1", "lang": "es"})
    english = open_alone(BOARD, query={"class": "LANG-1"})  # at once: the same shared snapshot's moment
    vietnamese = open_alone(BOARD, query={"class": "LANG-1", "lang": "vi"})
    for at in (spanish, english, vietnamese):
        assert not at.exception, [e.value for e in at.exception]
    assert "3 ejecuciones de 3 estudiantes" in texts(spanish.markdown)
    assert "T = 2: +20,0 (1 entrenamiento); T = 8: +7,5 (2 entrenamientos)" in texts(spanish.markdown)
    assert "3 runs by 3 students" in texts(english.markdown)
    assert "3 lần chạy của 3 học sinh" in texts(vietnamese.markdown)
    titles = {
        name: chart_spec(at, "board.scatter")["layout"]["title"]["text"]
        for name, at in (("es", spanish), ("en", english), ("vi", vietnamese))
    }
    assert titles == {
        "es": "Errores eliminados al destilar, por temperatura",
        "en": "Errors removed by distilling, by temperature",
        "vi": "Số lỗi bớt được nhờ chưng cất, theo nhiệt độ",
    }
    assert chart_spec(spanish, "board.groups")["layout"]["yaxis"]["title"]["text"] == "media de errores eliminados"
