"""Lessons: guided 10 to 15 minute lessons for a class, each from a data file in ``lessons/``.

Thin page: ``kdlab.classroom.lessons.load_lessons`` -> a lesson (``?lesson=<file name>``) -> its goal,
steps with links that preset (and lock) the pages, the prediction, the question to discuss, what
to notice; every link also as a full address for a slide, and the lesson as a notebook.
"""

import streamlit as st

from kdlab import ui
from kdlab.classroom.lessons import lessons_dir, load_lessons
from kdlab.classroom.links import PAGES, parse_class_code, shown
from kdlab.classroom.notebooks import lesson_notebook, notebook_bytes
from kdlab.ui.assignment import base_url

PAGE_NAMES = {"lab": "lab", "explorer": "explorer", "replays": "replay", "board": "class board", "lessons": "lessons"}

ui.ensure_entrypoint()
st.title("Lessons")
st.markdown(
    "Short lessons for a class. Each step opens a page with the lesson's settings (and locks what the class should "
    "not change); lab links ask for a prediction first and send the runs to your class board."
)
lessons, problems = load_lessons(lessons_dir())
for problem in problems:
    st.error(f"**A lesson file cannot be used.** {problem}")
if not lessons:
    st.info("No lessons yet: add a Markdown file with TOML front matter to the lessons/ folder.")
    st.stop()

by_slug = {lesson.slug: lesson for lesson in lessons}
asked = st.query_params.get("lesson")
if asked is not None and asked != st.session_state.get("lessons.asked"):  # a new ?lesson= link: show that lesson
    st.session_state["lessons.asked"] = asked
    if asked in by_slug:
        st.session_state["lessons.lesson"] = asked
    else:
        st.warning(f"There is no lesson {shown(asked)}; choose one from the list.")
slug = st.selectbox(
    "Lesson",
    list(by_slug),
    key="lessons.lesson",
    format_func=lambda slug: f"{by_slug[slug].title} ({by_slug[slug].minutes} min)",
)
st.query_params["lesson"] = st.session_state["lessons.asked"] = slug  # the address names the lesson shown
lesson = by_slug[slug]
typed = st.text_input(
    "Class code for the links (optional)",
    value=st.session_state.get("kdlab.class", ""),
    max_chars=16,
    key="lessons.class",
    placeholder="PHYS-7",
    help="Lab and board links then carry it, so the class's runs fill that class board.",
)
class_code, problem = parse_class_code(typed)
if problem:
    st.error(problem.replace("class=", "The class code ") + ".")

st.header(lesson.title)
st.markdown(f"**Goal.** {lesson.goal}  \n*About {lesson.minutes} minutes.*")
st.markdown(f"**Predict first.** {lesson.prediction}")
for number, step in enumerate(lesson.steps, start=1):
    with st.container(border=True):
        st.markdown(f"**Step {number}.** {step.text}")
        links = step.links(class_code=class_code)
        for column, (label, params) in zip(st.columns(max(1, len(links))), links):
            with column:
                text = f"Open the {PAGE_NAMES[step.page]}" if label == "Open" else f"{PAGE_NAMES[step.page]}: {label}"
                ui.page_link(PAGES[step.page][0], text, ":material/open_in_new:", query_params=params)
st.markdown(f"**Discuss.** {lesson.discuss}")
st.markdown(f"**What to notice.** {lesson.notice}")
with st.expander("Links for your slides"):
    for number, step in enumerate(lesson.steps, start=1):
        for label, url in step.urls(base_url(), class_code=class_code):
            st.caption(f"Step {number}" + (f", {label}" if label != "Open" else ""))
            st.code(url, language=None, wrap_lines=True)
if lesson.notes:
    with st.expander("Notes for the teacher"):
        st.markdown(lesson.notes)
data = ui.get_data()
st.download_button(
    "Take this lesson home (Jupyter notebook)",
    notebook_bytes(lesson_notebook(lesson, data_source=data.source.name)),
    file_name=f"kdlab-lesson-{lesson.slug}.ipynb",
    mime="application/x-ipynb+json",
    key="lessons.notebook",
    icon=":material/download:",
    on_click="ignore",
)
