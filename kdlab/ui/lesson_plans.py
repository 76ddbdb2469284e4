"""The Lessons page's plans for a 50-minute class (``kdlab.classroom.plans``): each a timetable."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.lessons import Lesson, lessons_dir
from kdlab.classroom.plans import CLASS_MINUTES, load_plans
from kdlab.i18n import _, number


def render_plans(lessons: list[Lesson]) -> None:
    """An expander per plan: its parts with their start minute and length, the lessons by title."""
    plans, problems = load_plans(lessons_dir(), lessons)
    for problem in problems:
        st.error(_("**The class plans cannot be used.** {problem}").format(problem=problem))
    if not plans:
        return
    st.markdown(_("**Plans for a {minutes}-minute class.**").format(minutes=number(CLASS_MINUTES)))
    for plan in plans:
        with st.expander(_("{title} ({minutes} min)").format(title=plan.title, minutes=number(plan.minutes))):
            st.caption(plan.audience)
            st.table(
                [
                    {
                        _("from"): f"{item.start // 60}:{item.start % 60:02d}",
                        _("minutes"): item.minutes,
                        _("part"): _(item.title)
                        if item.lesson is None
                        else _("Lesson: {title}").format(title=item.title),
                        _("what happens"): item.text,
                    }
                    for item in plan.items
                ]
            )
