"""The Lessons page's plans for a 50-minute class (``kdlab.classroom.plans``): each a timetable."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.lessons import Lesson, lessons_dir
from kdlab.classroom.plans import CLASS_MINUTES, load_plans


def render_plans(lessons: list[Lesson]) -> None:
    """An expander per plan: its parts with their start minute and length, the lessons by title."""
    plans, problems = load_plans(lessons_dir(), lessons)
    for problem in problems:
        st.error(f"**The class plans cannot be used.** {problem}")
    if not plans:
        return
    st.markdown(f"**Plans for a {CLASS_MINUTES}-minute class.**")
    for plan in plans:
        with st.expander(f"{plan.title} ({plan.minutes} min)"):
            st.caption(plan.audience)
            st.table(
                [
                    {
                        "from": f"{item.start // 60}:{item.start % 60:02d}",
                        "minutes": item.minutes,
                        "part": item.title if item.lesson is None else f"Lesson: {item.title}",
                        "what happens": item.text,
                    }
                    for item in plan.items
                ]
            )
