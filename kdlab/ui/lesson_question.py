"""The lesson's question on a page a lesson's step opens: the lab, the explorer and the replays.

A step's link carries ``lesson=<slug>`` (``kdlab.classroom.lessons.Step.links``). The page checks it on the
server (a slug in form, a lesson that exists: else one warning, and no question), keeps it for the session
(a navigation link drops the URL's parameters; it is put back), and asks the lesson's question once, above
the page's content: a radio for a choice, a number box with its unit for a number, and "Save my prediction".
In a class the answer is filed for the class (``kdlab.classroom.predictions``), changeable until the class's
results are revealed; without one it is kept in the session, and the box says so.
"""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.classes import find_class
from kdlab.classroom.lessons import Lesson, lessons_dir, load_lessons
from kdlab.classroom.links import parse_class_code, parse_lesson_slug, shown, url_value
from kdlab.classroom.predictions import PredictionsClosed, save_prediction, student_prediction
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import N_, _
from kdlab.ui.assignment import join_class
from kdlab.ui.session import CLASS_KEY, STUDENT_KEY, session_runs, student_runs_for_action

SESSION_ANSWERS = "lesson.answers"  # lesson slug -> the answer of a student without a class
NO_CLASS = N_(
    "You are not in a class, so your prediction is kept in this browser tab only: your teacher's board does not "
    "see it. A link with your class's code files it for the class."
)


def page_lesson(page: str) -> Lesson | None:
    """The lesson the page's link names (``?lesson=``, checked once per new value, kept for the session), or
    None. An unknown or malformed one gets one warning and is ignored."""
    raw = url_value(st.query_params.to_dict(), "lesson")  # cut short: it is kept in the session and echoed
    key, asked = f"{page}.lesson", f"{page}.lesson.asked"
    if raw is not None and raw != st.session_state.get(asked):
        st.session_state[asked] = raw
        st.session_state.pop(key, None)
        slug, problem = parse_lesson_slug(raw)
        if slug is not None and slug in lessons_by_slug():
            st.session_state[key] = slug
        elif raw.strip():
            problem = problem or _("there is no lesson {slug} on this server; no question is asked").format(
                slug=shown(raw)
            )
            st.warning(
                _("**This link's lesson was not used.** {problem}.").format(problem=problem[0].upper() + problem[1:])
            )
    slug = st.session_state.get(key)
    if slug is None:
        return None
    if raw is None:
        st.query_params["lesson"] = slug  # a navigation link dropped it
    return lessons_by_slug().get(slug)


def lessons_by_slug() -> dict[str, Lesson]:
    """The lessons that load, by slug, in the current language (small files, each with its translation: read on each
    run, so a teacher's edit shows at once)."""
    return {lesson.slug: lesson for lesson in load_lessons(lessons_dir())[0]}


def class_from_link(page: str) -> None:
    """The explorer's and the replays' ``class=`` (a lesson's link carries it): joined once per new value,
    as the lab joins its link's class."""
    raw = url_value(st.query_params.to_dict(), "class")
    if raw is None or raw == st.session_state.get(f"{page}.class.asked"):
        return
    st.session_state[f"{page}.class.asked"] = raw
    code, problem = parse_class_code(raw)
    if problem:
        st.warning(_("**This link's class was not used.** {problem}.").format(problem=problem))
    elif code and code != st.session_state.get(CLASS_KEY):
        join_class(code)


def render_lesson_question(page: str, *, joins_class: bool = True) -> bool:
    """The question of the lesson the page's link names, once, above the page's content (nothing without one).
    ``joins_class``: the page's ``class=`` is the question's to join (the lab joins its own). Returns whether the
    student still owes the prediction (a question asked, none saved): a page can keep its answer folded till then."""
    lesson = page_lesson(page)
    if lesson is None or lesson.question is None:
        return False
    if joins_class:
        class_from_link(page)
    code = st.session_state.get(CLASS_KEY)
    with st.container(border=True, key=f"{page}-lesson-question"):
        st.markdown(
            _(":material/quiz: **Predict first ({title}).** {prediction}").format(
                title=lesson.title, prediction=lesson.prediction
            )
        )
        if code is None:
            saved, closed = st.session_state.get(SESSION_ANSWERS, {}).get(lesson.slug), False
        else:
            try:
                saved, closed = stored_answer(code, lesson)
            except StorageError as error:
                st.warning(_("**Your prediction cannot be read right now.** {error}").format(error=error))
                return False
        if closed:
            st.info(
                _("Class {code}'s results are revealed, so the predictions are closed.").format(code=code)
                + " "
                + (
                    _("Yours: **{answer}**.").format(answer=shown_answer(lesson, saved))
                    if saved is not None
                    else _("You made none for this lesson.")
                )
            )
            return False
        value = answer_widget(page, lesson, saved)
        if st.button(_("Save my prediction"), key=f"{page}.question.save", icon=":material/how_to_vote:"):
            if save(lesson, value, code):
                saved = value
        elif saved is not None:
            st.caption(
                _("Your prediction: **{answer}**.").format(answer=shown_answer(lesson, saved))
                + (" " + _("You may change it until the results are revealed.") if code else "")
            )
        if code is None:
            st.caption(_(NO_CLASS))
    return saved is None


def stored_answer(code: str, lesson: Lesson) -> tuple[object, bool]:
    """The student's stored answer in class ``code`` (None if none), and whether the class's results are
    revealed (its predictions closed)."""
    session_runs()  # signs the URL's student in, creating nobody
    student = st.session_state.get(STUDENT_KEY)
    database = open_database()
    info = find_class(database, code)
    saved = student_prediction(database, code, lesson, student.id) if student is not None else None
    return saved, info is not None and info.revealed


def shown_answer(lesson: Lesson, answer: object) -> str:
    """An answer as the student reads it: a choice in the lesson's language (a number as it is)."""
    return lesson.question.label(answer) if lesson.question.kind == "choice" else str(answer)


def answer_widget(page: str, lesson: Lesson, saved: object):
    """A radio over the choices, or a number box with the unit; starts at the saved answer."""
    question = lesson.question
    key = f"{page}.question.{lesson.slug}"
    if question.kind == "choice":
        index = question.choices.index(saved) if saved in question.choices else None
        return st.radio(_("Your prediction"), question.choices, index=index, key=key, format_func=question.label)
    low, high = question.bounds
    if question.whole:
        low, high, step = int(low), int(high), 1
    else:
        low, high, step = float(low), float(high), None
    return st.number_input(
        _("Your prediction ({unit})").format(unit=question.unit),
        min_value=low,
        max_value=high,
        value=saved,
        step=step,
        key=key,
        placeholder=_("{low} to {high}").format(low=f"{low:g}", high=f"{high:g}"),
    )


def save(lesson: Lesson, value: object, code: str | None) -> bool:
    """Check ``value`` against the lesson's question and keep it: for the class, or in the session. Returns whether
    it was kept."""
    try:
        answer = lesson.question.answer(value)
    except ValueError as error:
        message = _("**Choose an answer first.** {error}.") if value is None else _("**Not saved.** {error}.")
        st.error(message.format(error=error))
        return False
    if code is None:
        st.session_state.setdefault(SESSION_ANSWERS, {})[lesson.slug] = answer
        st.success(_("Saved in this tab: **{answer}**.").format(answer=shown_answer(lesson, answer)))
        return True
    if student_runs_for_action() is None:  # over the limit of new students: said why
        return False
    student = st.session_state.get(STUDENT_KEY)
    try:
        if student is None:
            raise StorageError(
                _("The run database cannot be reached, so your prediction was not saved; try again soon.")
            )
        save_prediction(open_database(), code, lesson, student.id, answer)
    except (PredictionsClosed, StorageError) as error:
        st.warning(_("**Not saved.** {error}").format(error=error))
        return False
    st.success(
        _("Saved for class {code}: **{answer}**. You may change it until the results are revealed.").format(
            code=code, answer=shown_answer(lesson, answer)
        )
    )
    return True
