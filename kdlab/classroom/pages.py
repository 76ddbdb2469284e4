"""The one table of the app's pages: the navigation and Home's list (``kdlab.ui.pages``), the pages a
lesson or an assignment link may open, and their URL paths. Plain Python, no Streamlit. A page's title, section and
line are English marked with ``N_`` and translated where they are shown (``kdlab.i18n``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from kdlab.i18n import N_


@dataclass(frozen=True)
class PageEntry:
    """One page of the app: its file, how the navigation shows it, and how links name it."""

    path: str  # relative to the project root, as st.Page and st.page_link take it
    title: str
    icon: str
    section: str  # the navigation's group
    teaches: str  # one line for Home's list
    link_name: str | None = None  # how lesson files and assignment links name the page ("lab"); None: not linked
    link_text: str = ""  # how a lesson's link names it: "Open the {link_text}"

    def __post_init__(self):
        if not (self.path.startswith("pages/") and self.path.endswith(".py")):
            raise ValueError(f"page {self.path!r}: a page is a pages/<name>.py file")
        if self.link_name and not self.link_text:
            raise ValueError(f"page {self.path!r}: a page that links name needs a link_text")

    @property
    def url_path(self) -> str:
        """The page's URL path: Streamlit names it after the page's file (``distillation_lab``)."""
        return PurePosixPath(self.path).stem


PAGES = (
    PageEntry("pages/home.py", N_("Home"), ":material/home:", N_("Learn"), N_("Knowledge distillation in one screen.")),
    PageEntry(
        "pages/dark_knowledge.py",
        N_("Dark knowledge explorer"),
        ":material/thermostat:",
        N_("Learn"),
        N_(
            "Pick a digit and slide the temperature: watch the runner-up digits appear and see which digits the "
            "teacher thinks look alike. Two minutes."
        ),
        link_name="explorer",
        link_text="explorer",
    ),
    PageEntry(
        "pages/distillation_lab.py",
        N_("Distillation lab"),
        ":material/science:",
        N_("Experiment"),
        N_(
            "Press **Train** with the defaults and watch the distilled student (blue) pull ahead of the same "
            "student trained alone (grey)."
        ),
        link_name="lab",
        link_text="lab",
    ),
    PageEntry(
        "pages/runs.py",
        N_("Runs"),
        ":material/table_chart:",
        N_("Experiment"),
        N_(
            "Compare your runs side by side. Change one thing at a time: the temperature, alpha, the size of the "
            "training set, the student's width."
        ),
    ),
    PageEntry(
        "pages/paper_replays.py",
        N_("Paper replays"),
        ":material/menu_book:",
        N_("Go further"),
        N_("The MNIST experiments of Hinton et al. (2015), run for real, with the paper's numbers beside ours."),
        link_name="replays",
        link_text="replay",
    ),
    PageEntry(
        "pages/training_schemes.py",
        N_("Training schemes"),
        ":material/account_tree:",
        N_("Go further"),
        N_("Offline KD against mutual learning, born-again networks and teacher assistants, on equal terms."),
    ),
    PageEntry(
        "pages/lessons.py",
        N_("Lessons"),
        ":material/co_present:",
        N_("Classroom"),
        N_(
            "Guided lessons of 10 to 25 minutes for a class: goal, steps with links that preset the pages, a "
            "prediction, a question to discuss."
        ),
        link_name="lessons",
        link_text="lessons",
    ),
    PageEntry(
        "pages/class_board.py",
        N_("Class board"),
        ":material/leaderboard:",
        N_("Classroom"),
        N_(
            "Everything your class ran under one class code, live: errors removed against T and alpha, and the "
            "predictions beside the outcomes."
        ),
        link_name="board",
        link_text="class board",
    ),
    PageEntry(
        "pages/glossary.py",
        N_("Glossary"),
        ":material/dictionary:",
        N_("Help"),
        N_("Every word the app uses, in a sentence or two: teacher, logit, temperature, dark knowledge ..."),
    ),
)
# Link name in a lesson file ("lab") -> its page, in the order a message lists them (the lab first: most
# links open it).
LINK_PAGES = {
    name: next(entry for entry in PAGES if entry.link_name == name)
    for name in ("lab", "explorer", "replays", "board", "lessons")
}
