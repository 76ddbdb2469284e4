"""Printable worksheets: the student's has the prediction with room to answer, the steps and the discussion,
never the answer; the instructor's key has the answer; lesson text is escaped; the command writes them."""

import subprocess
import sys

from kdlab.classroom.lessons import LESSONS_DIR, load_lessons, parse_lesson
from kdlab.classroom.worksheets import worksheet_html
from kdlab.i18n import speaking
from tests.conftest import PROJECT_ROOT


def test_every_worksheet_has_the_question_and_the_discussion_never_the_notice():
    lessons, problems = load_lessons(LESSONS_DIR)
    assert lessons and not problems
    for lesson in lessons:
        sheet = worksheet_html(lesson)
        key = worksheet_html(lesson, answers=True)
        for text in (lesson.title, lesson.prediction, lesson.discuss, *(step.text for step in lesson.steps)):
            fragment = text.replace("'", "&#x27;").replace('"', "&quot;")[:60]
            assert fragment in sheet and fragment in key, (lesson.slug, text)
        notice = lesson.notice.replace("'", "&#x27;")[:60]
        assert notice not in sheet and "What to notice" not in sheet
        assert notice in key
        assert sheet.count('class="line"') >= 4 and sheet.count("<li>Step ") == len(lesson.steps)
        question = lesson.question  # the student answers the lesson's own question: its choices, or a number
        if question.kind == "choice":
            assert all(f"<li>{choice}</li>" in sheet for choice in question.choices), lesson.slug
        else:
            assert "My prediction:" in sheet and question.unit in sheet
        assert "@page { size: A4" in sheet


def test_lesson_text_is_escaped():
    lesson = parse_lesson(
        '+++\ntitle = "<script>alert(1)</script>"\nminutes = 10\ngoal = "g"\nprediction = "p & q"\n'
        'discuss = "d"\nnotice = "n"\n[[steps]]\ntext = "s"\n+++\n<b>notes</b>',
        "x",
    )
    sheet = worksheet_html(lesson, answers=True)
    assert "<script>" not in sheet and "&lt;script&gt;" in sheet and "p &amp; q" in sheet
    assert "<b>notes</b>" not in sheet


def test_the_command_writes_the_answer_key(tmp_path):
    out = tmp_path / "key.html"
    done = subprocess.run(
        [sys.executable, "-m", "kdlab", "worksheet", "2-does-the-teacher-help", "--answers", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "What to notice" in out.read_text(encoding="utf-8")
    wrong = subprocess.run(
        [sys.executable, "-m", "kdlab", "worksheet", "no-such-lesson"], capture_output=True, text=True, timeout=120
    )
    assert wrong.returncode == 2 and "2-does-the-teacher-help" in wrong.stderr


def test_a_worksheet_speaks_the_language_asked_for_and_says_so():
    lessons, _ = load_lessons(LESSONS_DIR)
    lesson = lessons[0]
    english = worksheet_html(lesson)
    assert '<html lang="en">' in english and "<h2>Goal</h2>" in english
    sheet = worksheet_html(lesson, language="vi")
    assert '<html lang="vi">' in sheet and "<h2>Mục tiêu</h2>" in sheet and "<span>Họ tên</span>" in sheet
    assert "<h2>Goal</h2>" not in sheet and sheet.count("<li>Bước ") == len(lesson.steps)
    with speaking("es"):  # the current language is the default
        key = worksheet_html(lesson, answers=True)
    assert '<html lang="es">' in key and "<h2>Qué observar</h2>" in key and ": solucionario</h1>" in key
    assert lesson.notice.replace("'", "&#x27;")[:60] in key  # the lesson's own text is kept
