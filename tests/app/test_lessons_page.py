"""The lessons page renders a lesson with its slide links; a lesson's links open the explorer, the lab and the
replay page with their settings set and locked."""

from urllib.parse import parse_qs, urlparse

from kdlab.classroom.classes import open_class, set_class
from kdlab.classroom.lessons import LESSONS_DIR, load_lesson
from kdlab.db.database import open_database
from kdlab.experiments.replays import REPLAYS
from tests.app.helpers import open_alone, run_until, texts


def test_the_lessons_page_renders_a_lesson_with_slide_links():
    at = open_alone("pages/lessons.py", query={"lesson": "3-too-cold-too-hot"})
    assert not at.exception, [e.value for e in at.exception]
    assert "Too cold, too hot" in texts(at.header)
    at.text_input(key="lessons.class").input("phys-7").run()
    urls = [element.value for element in at.code]
    assert len([url for url in urls if "/distillation_lab?" in url]) == 5
    assert all("class=PHYS-7" in url for url in urls)
    assert not any("s" in parse_qs(urlparse(url).query) for url in urls)  # never the teacher's student code
    assert "Take this lesson home" in at.get("download_button")[0].proto.label
    assert "**Predict first.**" in texts(at.markdown) and "**Discuss.**" in texts(at.markdown)


def test_every_lab_link_of_a_lesson_opens_the_lab_locked_without_a_warning():
    lesson = load_lesson(LESSONS_DIR / "3-too-cold-too-hot.md")
    for _, params in lesson.steps[0].links():
        at = open_alone("pages/distillation_lab.py", query=params)
        assert not at.exception and not at.warning, texts(at.warning)
        temperature = at.select_slider(key="lab.temperature")
        assert temperature.value == float(params["T"]) and temperature.disabled
        assert at.button(key="lab.train").disabled  # the lesson asks for a prediction first


def test_explorer_and_replay_links_set_their_pages():
    at = open_alone(
        "pages/dark_knowledge.py", query={"explorer.teacher": "linear", "digit": "7", "T": "1", "lock": "T,digit"}
    )
    # the page trains the linear teacher first if this test session has none
    run_until(at, lambda at: len(at.select_slider) > 0, timeout=180)
    slider = at.select_slider(key="explorer.temperature")
    assert slider.value == 1.0 and slider.disabled and "locked" in slider.label
    assert at.radio(key="explorer.digit").value == 7 and at.radio(key="explorer.digit").disabled
    assert "labelled 7" in " ".join(caption for image in at.image for caption in image.captions)

    replays = open_alone("pages/paper_replays.py", query={"replay": "omit-3", "bias": "3.5"})
    assert not replays.exception and not replays.warning
    assert replays.session_state["replay.tab"] == REPLAYS["omit-3"].title
    wrong = open_alone("pages/paper_replays.py", query={"replay": "omit-4", "bias": "x"})
    assert "replay=`omit-4` is not a replay" in texts(wrong.warning) and "bias=`x` is not a number" in texts(
        wrong.warning
    )


KEY = "correct-horse-battery-staple"
NOTICE = "**What to notice.**"


def notes_expander(at) -> list:
    return [element for element in at.expander if element.label == "Notes for the teacher"]


def test_the_answer_shows_to_the_instructor_and_never_to_a_student_on_a_server_with_a_key(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    student = open_alone("pages/lessons.py", query={"lesson": "4-the-missing-3"})
    assert not student.exception, [e.value for e in student.exception]
    assert NOTICE not in texts(student.markdown) and not notes_expander(student)
    assert not [button for button in student.button if button.key == "lessons.show_answer"]
    assert "show to the instructor" in texts(student.caption)
    instructor = open_alone("pages/lessons.py", query={"lesson": "4-the-missing-3", "key": KEY})
    assert NOTICE in texts(instructor.markdown) and notes_expander(instructor)


def test_without_a_key_the_answer_waits_for_show_the_answer_or_the_board_reveal(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)
    at = open_alone("pages/lessons.py", query={"lesson": "4-the-missing-3"})
    assert NOTICE not in texts(at.markdown) and not notes_expander(at)
    at.button(key="lessons.show_answer").click().run()
    assert NOTICE in texts(at.markdown) and notes_expander(at)

    open_class(open_database(), "SHOW-1")
    other = open_alone("pages/lessons.py", query={"lesson": "4-the-missing-3"})
    other.text_input(key="lessons.class").input("SHOW-1").run()
    assert NOTICE not in texts(other.markdown)  # the class exists, but nothing is revealed yet
    set_class(open_database(), "SHOW-1", results_hidden=False)  # the board's Reveal
    other.run()
    assert NOTICE in texts(other.markdown) and "SHOW-1's results are revealed" in texts(other.caption)


def test_the_lessons_page_shows_each_plan_as_a_timetable_of_its_lessons():
    at = open_alone("pages/lessons.py")
    assert not at.exception, [e.value for e in at.exception]
    labels = [expander.label for expander in at.expander]
    plans = [label for label in labels if label.startswith(("An introduction (", "A deeper class ("))]
    assert len(plans) == 2
    rows = [row for table in at.table for row in table.value.to_dict("records")]
    assert any(row["part"] == "Lesson: Does the teacher help?" for row in rows)
    assert rows[0]["from"] == "0:00" and rows[0]["part"] == "Opening"


def test_the_lessons_page_in_spanish_shows_the_spanish_lesson_with_the_english_links():
    at = open_alone("pages/lessons.py", query={"lesson": "3-too-cold-too-hot", "lang": "es"})
    assert not at.exception, [e.value for e in at.exception]
    assert "¿Demasiado frío, demasiado caliente?" in texts(at.header)
    assert "**Primero predice.** ¿Qué temperatura quitará más errores" in texts(at.markdown)
    assert "**Paso 1.** Da un enlace a cada grupo" in texts(at.markdown)
    assert "not translated" not in texts(at.caption) and "traducida" not in texts(at.caption)
    english = open_alone("pages/lessons.py", query={"lesson": "3-too-cold-too-hot"})
    assert [element.value for element in at.code] == [element.value for element in english.code]  # the same links


def test_a_lesson_without_a_translation_is_shown_in_english_and_says_so(tmp_path, monkeypatch):
    (tmp_path / "vi").mkdir()
    source = LESSONS_DIR / "3-too-cold-too-hot.md"
    (tmp_path / source.name).write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("KDLAB_LESSONS_DIR", str(tmp_path))
    at = open_alone("pages/lessons.py", query={"lang": "vi"})
    assert not at.exception, [e.value for e in at.exception]
    assert "Too cold, too hot?" in texts(at.header)
    assert "Bài học này chưa được dịch sang Tiếng Việt" in texts(at.caption)
