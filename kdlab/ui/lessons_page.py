"""The Lessons page: a lesson from ``lessons/`` (``?lesson=<file name>``), its steps' links that preset (and lock)
the pages, every link as a full address for a slide, and the lesson as a notebook.

The answer ("What to notice" and the notes for the teacher) shows to a signed-in instructor only on a server
with an instructor key; on one without, behind "Show the answer", or at once for a class code whose results the
board revealed."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.classes import find_class
from kdlab.classroom.glossary import FirstUses
from kdlab.classroom.lessons import Lesson, lessons_dir, load_lessons
from kdlab.classroom.links import parse_class_code, shown, url_value
from kdlab.classroom.notebooks import lesson_notebook, notebook_bytes
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.worksheets import worksheet_file_name, worksheet_html
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import LANGUAGES, N_, PSEUDO, _, current_language, number
from kdlab.ui.instructor_key import instructor_key_set, is_instructor
from kdlab.ui.lesson_plans import render_plans
from kdlab.ui.resources import get_data
from kdlab.ui.session import CLASS_KEY
from kdlab.ui.sharing import render_students_address, shared_link
from kdlab.ui.widgets import page_link

# A step's link, by the page it opens: the whole sentence, and the page's name before a varied value ("T = 4").
# Whole sentences because a page's name takes its own article in a translation ("la réplica", "el laboratorio").
PAGE_LINKS = {
    "explorer": (N_("Open the explorer"), N_("Explorer")),
    "lab": (N_("Open the lab"), N_("Lab")),
    "replays": (N_("Open the replay"), N_("Replay")),
    "lessons": (N_("Open the lessons"), N_("Lessons")),
    "board": (N_("Open the class board"), N_("Class board")),
}


def choose_lesson(lessons: list[Lesson]) -> Lesson:
    """The lesson box: a new ``?lesson=`` link picks the lesson shown, and the address names the lesson shown."""
    by_slug = {lesson.slug: lesson for lesson in lessons}
    asked = url_value(st.query_params.to_dict(), "lesson")  # cut short: it is kept in the session and echoed
    if asked is not None and asked != st.session_state.get("lessons.asked"):  # a new ?lesson= link: show that lesson
        st.session_state["lessons.asked"] = asked
        if asked in by_slug:
            st.session_state["lessons.lesson"] = asked
        else:
            st.warning(_("There is no lesson {slug}; choose one from the list.").format(slug=shown(asked)))
    slug = st.selectbox(
        _("Lesson"),
        list(by_slug),
        key="lessons.lesson",
        format_func=lambda slug: _("{title} ({minutes} min)").format(
            title=by_slug[slug].title, minutes=number(by_slug[slug].minutes)
        ),
    )
    st.query_params["lesson"] = st.session_state["lessons.asked"] = slug
    return by_slug[slug]


def choose_class_code() -> str | None:
    """The class code the lesson's links carry (the session's by default), checked."""
    typed = st.text_input(
        _("Class code for the links (optional)"),
        value=st.session_state.get(CLASS_KEY, ""),
        max_chars=16,
        key="lessons.class",
        # Translators: an example of a class code (letters, digits and dashes): one a class of yours might type.
        placeholder=_("PHYS-7"),
        help=_("Lab and board links then carry it, so the class's runs fill that class board."),
    )
    class_code, problem = parse_class_code(typed)
    if problem:
        st.error(problem.replace("class=", _("The class code") + " ") + ".")
    elif class_code and instructor_key_set():
        class_state(class_code)
    return class_code


def class_state(code: str) -> None:
    """On a server with an instructor key: whether class ``code`` is open, and where to open it if not."""
    try:
        info = find_class(open_database(), code)
    except StorageError as error:
        st.warning(
            _("**Whether class {code} is open cannot be read right now.** {error}").format(code=code, error=error)
        )
        return
    if info is not None and info.is_open:
        st.caption(_("Class {code} is open: runs made through these links appear on its board.").format(code=code))
        return
    state = _("**Class {code} is closed.**") if info else _("**Class {code} is not open yet.**")
    st.warning(
        state.format(code=code)
        + " "
        + _(
            "Open it on the class board (Instructor) before you share these links: until then a student's runs do "
            "not reach its board (the lab joins it on the student's first run after it opens)."
        )
    )
    page_link(
        LINK_PAGES["board"].path,
        _("Open class {code} on the class board").format(code=code),
        ":material/key:",
        query_params={"class": code},
    )


def render_steps(lesson: Lesson, class_code: str | None, words: FirstUses) -> None:
    """Each step's text (glossary words linked where the lesson first uses them) and its links, which open a page
    with the step's settings."""
    for index, step in enumerate(lesson.steps, start=1):
        with st.container(border=True):
            st.markdown(_("**Step {number}.** {text}").format(number=index, text=words.link(step.text)))
            links = step.links(class_code=class_code)
            target = LINK_PAGES.get(step.page)
            for column, (label, params) in zip(st.columns(max(1, len(links))), links):
                with column:
                    opens, name = PAGE_LINKS.get(step.page, (target.link_text, target.link_text))
                    text = _(opens) if label == "Open" else _("{page}: {label}").format(page=_(name), label=label)
                    page_link(target.path, text, ":material/open_in_new:", query_params=params)


def answer_shown(lesson: Lesson, class_code: str | None) -> bool:
    """Whether this session sees the lesson's answer: the instructor, on a server with a key (no one else);
    on a server without one, after "Show the answer" (this lesson, this session) or for a class whose results
    the board revealed."""
    if instructor_key_set():
        if not is_instructor():
            st.caption(
                _(
                    ":material/lock: What to notice and the notes for the teacher show to the instructor, signed in "
                    "on the class board."
                )
            )
            return False
        return True
    shown_key = f"lessons.answer.{lesson.slug}"
    if class_code is not None and not st.session_state.get(shown_key):
        try:
            info = find_class(open_database(), class_code)
        except StorageError:
            info = None
        if info is not None and info.revealed:
            st.caption(
                _("Class {code}'s results are revealed on its board, so the answer shows.").format(code=class_code)
            )
            return True
    if st.session_state.get(shown_key):
        return True
    if st.button(
        _("Show the answer"),
        key="lessons.show_answer",
        icon=":material/visibility:",
        help=_(
            "What to notice and the notes for the teacher. Predict first: the class board's Reveal also shows them."
        ),
    ):
        st.session_state[shown_key] = True
        st.rerun()
    return False


def render_lessons_page() -> None:
    """The lessons below the introduction: the lesson chosen, its steps, the discussion, the links for a
    slide, the teacher's notes, the lesson as a notebook, and its worksheet and answer key to print."""
    lessons, problems = load_lessons(lessons_dir())
    for problem in problems:
        st.error(_("**A lesson file cannot be used.** {problem}").format(problem=problem))
    if not lessons:
        st.info(_("No lessons yet: add a Markdown file with TOML front matter to the lessons/ folder."))
        st.stop()
    base = render_students_address().url
    render_plans(lessons)
    lesson = choose_lesson(lessons)
    class_code = choose_class_code()
    st.header(lesson.title)
    render_language_note(lesson)
    words = FirstUses()
    st.markdown(
        _("**Goal.** {goal}").format(goal=words.link(lesson.goal))
        + "  \n*"
        + _("About {minutes} minutes.").format(minutes=number(lesson.minutes))
        + "*"
    )
    st.markdown(_("**Predict first.** {prediction}").format(prediction=words.link(lesson.prediction)))
    render_steps(lesson, class_code, words)
    st.markdown(_("**Discuss.** {discuss}").format(discuss=words.link(lesson.discuss)))
    with_answer = answer_shown(lesson, class_code)
    if with_answer:
        st.markdown(_("**What to notice.** {notice}").format(notice=lesson.notice))
    with st.expander(_("Links for your slides, with QR codes")):
        for index, step in enumerate(lesson.steps, start=1):
            for label, url in step.urls(base, class_code=class_code):
                shared_link(
                    url,
                    _("Step {number}").format(number=index)
                    if label == "Open"
                    else _("Step {number}, {label}").format(number=index, label=label),
                )
    if lesson.notes and with_answer:
        with st.expander(_("Notes for the teacher")):
            st.markdown(lesson.notes)
    data = get_data()
    st.download_button(
        _("Take this lesson home (Jupyter notebook)"),
        notebook_bytes(lesson_notebook(lesson, data_source=data.source.name, with_answer=with_answer)),
        file_name=f"kdlab-lesson-{lesson.slug}.ipynb",
        mime="application/x-ipynb+json",
        key="lessons.notebook",
        icon=":material/download:",
        on_click="ignore",
    )
    render_worksheets(lesson, with_answer)


def render_worksheets(lesson: Lesson, with_answer: bool) -> None:
    """The lesson's printable worksheet for everyone; its answer key only ``with_answer`` (``answer_shown``)."""
    kinds = [False, True] if with_answer else [False]
    for column, answers in zip(st.columns(len(kinds)), kinds):
        column.download_button(
            _("Answer key for the instructor (HTML to print)") if answers else _("Worksheet to print (HTML)"),
            worksheet_html(lesson, answers=answers).encode("utf-8"),
            file_name=worksheet_file_name(lesson, answers=answers),
            mime="text/html",
            key=f"lessons.{'answer_key' if answers else 'worksheet'}",
            icon=":material/print:",
            on_click="ignore",
        )
    st.caption(_("Open the file in a browser and print it on A4, or save it as PDF."))


def render_language_note(lesson: Lesson) -> None:
    """A line when the lesson is shown in English because it has no translation into the chosen language."""
    chosen = current_language()
    if chosen != PSEUDO and lesson.language != chosen:
        st.caption(
            _(
                ":material/translate: This lesson is not translated into {language} yet, so it is shown in English."
            ).format(language=LANGUAGES[chosen])
        )
