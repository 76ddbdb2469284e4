"""The one table of the app's pages: app.py builds the navigation from it, Home links to it."""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the project root, as st.Page and st.page_link take it
    title: str
    icon: str
    section: str  # the navigation's group
    teaches: str  # one line for Home's list


PAGES = [
    PageEntry("pages/home.py", "Home", ":material/home:", "Learn", "Knowledge distillation in one screen."),
    PageEntry(
        "pages/dark_knowledge.py",
        "Dark knowledge explorer",
        ":material/thermostat:",
        "Learn",
        "Pick a digit and slide the temperature: watch the runner-up digits appear and see which digits the "
        "teacher thinks look alike. Two minutes.",
    ),
    PageEntry(
        "pages/distillation_lab.py",
        "Distillation lab",
        ":material/science:",
        "Experiment",
        "Press **Train** with the defaults and watch the distilled student (blue) pull ahead of the same "
        "student trained alone (grey).",
    ),
    PageEntry(
        "pages/runs.py",
        "Runs",
        ":material/table_chart:",
        "Experiment",
        "Compare your runs side by side. Change one thing at a time: the temperature, alpha, the size of the "
        "training set, the student's width.",
    ),
    PageEntry(
        "pages/paper_replays.py",
        "Paper replays",
        ":material/menu_book:",
        "Go further",
        "The MNIST experiments of Hinton et al. (2015), run for real, with the paper's numbers beside ours.",
    ),
    PageEntry(
        "pages/training_schemes.py",
        "Training schemes",
        ":material/account_tree:",
        "Go further",
        "Offline KD against mutual learning, born-again networks and teacher assistants, on equal terms.",
    ),
    PageEntry(
        "pages/lessons.py",
        "Lessons",
        ":material/co_present:",
        "Classroom",
        "Guided lessons of 10 to 15 minutes for a class: goal, steps with links that preset the pages, a "
        "prediction, a question to discuss.",
    ),
    PageEntry(
        "pages/class_board.py",
        "Class board",
        ":material/leaderboard:",
        "Classroom",
        "Everything your class ran under one class code, live: errors removed against T and alpha, and the "
        "predictions beside the outcomes.",
    ),
]


def navigation():
    """``st.navigation`` over every page, grouped by section; Home is the default page."""
    sections: dict[str, list] = {}
    for entry in PAGES:
        page = st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry.path == PAGES[0].path)
        sections.setdefault(entry.section, []).append(page)
    return st.navigation(sections)


def pages_in(section: str) -> list[PageEntry]:
    """The pages of one navigation group, in order."""
    return [entry for entry in PAGES if entry.section == section]
