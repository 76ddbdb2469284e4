"""Every page of the running app checked by axe-core (axe-playwright-python bundles it), in the light and the
dark theme: the tour a student and a teacher take, with the states that matter (the explorer with a drawn
digit, the lab with a finished tiny run, the lessons page and the board with a class code and its run, the
replays page with the table replay's result).

Shared by ``tests/browser/test_accessibility.py`` (which asserts) and ``bench/accessibility.py`` (which
prints the table in docs/accessibility.md). The theme is the browser's own preference
(``prefers-color-scheme``, playwright's ``color_scheme``): .streamlit/config.toml keeps both of Streamlit's
themes and the browser picks one, as a student's laptop does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tests.browser.conftest import draw_a_one

RUN_MS = 180_000
THEMES = ("light", "dark")
IMPACTS = ("minor", "moderate", "serious", "critical")
BLOCKING = ("serious", "critical")  # what the test fails on; minor and moderate are reported
CLASS_CODE = "AXE-1"
TINY_RUN = "teacher=linear&student=mlp-10x1&epochs=1&train_size=500"  # trains in seconds on the offline sample

# Violations inside Streamlit's own frontend that the app cannot fix (docs/accessibility.md): (rule id, the
# element's data-testid) -> why. The assertion skips exactly these elements for exactly this rule; the table
# still counts them.
STREAMLIT_EXCEPTIONS: dict[tuple[str, str], str] = {
    # Streamlit draws a slider's value in the primary colour on the background, and white text on the primary
    # colour (primary buttons, chosen tags). On the dark background (#171614) no colour gives both 4.5:1: that
    # needs a luminance of at least 0.21 for the first and at most 0.18 for the second. The accent serves the
    # buttons and tags (5.2:1); the slider's value reads 3.5:1 on the dark theme only.
    ("color-contrast", "stSliderThumbValue"): "slider value in the primary colour on the dark background",
}


@dataclass(frozen=True)
class PageReport:
    """axe's violations on one page in one theme: the page's name, the theme and axe's violation dicts."""

    page: str
    theme: str
    violations: tuple[dict, ...]

    def counts(self) -> Counter:
        """Violating elements by impact (a rule that fails on three elements counts three)."""
        return Counter({impact: 0 for impact in IMPACTS}) + Counter(
            {v["impact"]: len(v["nodes"]) for v in self.violations}
        )

    def blocking_rules(self, allowed: dict[tuple[str, str], str] | None = None) -> list[str]:
        """The serious or critical rule ids with an element outside the ``allowed`` (rule id, data-testid)."""
        allowed = STREAMLIT_EXCEPTIONS if allowed is None else allowed

        def excused(rule: str, node: dict) -> bool:
            return any(rule == id_ and f'data-testid="{test_id}"' in str(node["target"]) for id_, test_id in allowed)

        return sorted(
            {
                v["id"]
                for v in self.violations
                if v["impact"] in BLOCKING and not all(excused(v["id"], node) for node in v["nodes"])
            }
        )

    def describe(self) -> str:
        """Each serious or critical violation with its elements: what a failing test prints."""
        lines = []
        for v in self.violations:
            if v["impact"] in BLOCKING:
                lines.append(f"{self.page}/{self.theme}: {v['id']} ({v['impact']}): {v['help']}")
                for node in v["nodes"][:6]:
                    lines.append(f"    {node['target']}: {node['html'][:160]}")
                    lines.append(f"      {node.get('failureSummary', '')[:300]}")
        return "\n".join(lines)


def check(page, name: str, theme: str) -> PageReport:
    """axe on the page as it is now (its iframes too: axe is injected into each frame first)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for frame in page.frames[1:]:
        try:
            frame.evaluate(axe.axe_script)
        except Exception:  # a frame that went away or is not ours to script: axe skips it
            pass
    results = axe.run(page, options={"resultTypes": ["violations"]})
    return PageReport(name, theme, tuple(results.response["violations"]))


def settle(page) -> None:
    """Wait until Streamlit's script run is over (its status widget gone) and the page has painted."""
    page.wait_for_function("() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=RUN_MS)
    page.wait_for_timeout(500)


def tour(browser, url: str, theme: str, seed: int) -> Iterator[PageReport]:
    """Every page in ``theme``, each in the state a class sees it; yields one report per page. ``seed`` keeps
    this tour's run its own (a second tour gets its run from the result cache otherwise)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, color_scheme=theme)
    page.set_default_timeout(30_000)
    try:
        yield from visit_all(page, url, theme, seed)
    finally:
        page.close()


def visit_all(page, url: str, theme: str, seed: int) -> Iterator[PageReport]:
    def at(name: str, path: str, ready: Callable[[], None]) -> PageReport:
        page.goto(f"{url}/{path}")
        ready()
        settle(page)
        return check(page, name, theme)

    yield at("home", "", lambda: page.get_by_text("Knowledge distillation, live on MNIST").wait_for(timeout=RUN_MS))

    def drawn() -> None:
        page.get_by_text("Teacher linear:").wait_for(timeout=RUN_MS)
        page.get_by_text("Draw your own", exact=True).click()
        page.get_by_text("Draw a digit in the black square").wait_for()
        draw_a_one(page, "explorer.canvas")
        page.get_by_text("for your drawing").wait_for(timeout=60_000)

    yield at("explorer (drawn digit)", "dark_knowledge?explorer.teacher=linear", drawn)

    def class_open() -> None:
        code = page.locator(".st-key-lessons-class input")
        code.fill(CLASS_CODE)
        code.press("Enter")
        page.get_by_text(f"class={CLASS_CODE}").first.wait_for(state="attached")

    yield at("lessons (class code)", "lessons", class_open)

    def trained() -> None:
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Result of run 1").wait_for(timeout=RUN_MS)
        page.get_by_test_id("stMetric").filter(has_text="Distilled student").wait_for()

    yield at("lab (finished run)", f"distillation_lab?{TINY_RUN}&seed={seed}&class={CLASS_CODE}", trained)

    page.locator(".st-key-navigation").get_by_text("Runs").click()  # the navigation keeps ?s=: this session's run
    page.get_by_test_id("stDataFrame").wait_for()
    settle(page)
    yield check(page, "runs (one run)", theme)

    def board() -> None:
        page.get_by_text(re.compile(r"^\d+ runs? by \d+ students?$")).wait_for()  # the other theme's run too
        page.locator(".st-key-board-groups .main-svg").first.wait_for()

    yield at("board (class, one run)", f"class_board?class={CLASS_CODE}", board)

    def replayed() -> None:  # the server's quick budget is one epoch each (tests/browser/tiny_replays_server.py)
        page.get_by_role("button", name=re.compile(r"^Run the table replay \(quick budget\)")).click()
        page.get_by_text(re.compile(r"^This result: ")).wait_for(timeout=RUN_MS)  # trained, or the other theme's

    yield at("replays (table result)", "paper_replays", replayed)

    for name, path, title in (
        ("training schemes", "training_schemes", "Training schemes"),
        ("glossary", "glossary", "Glossary"),
    ):
        yield at(name, path, lambda title=title: page.get_by_role("heading", name=title).first.wait_for())


def table(reports: list[PageReport]) -> str:
    """A Markdown table: page, theme, violating elements by impact, the serious and critical rule ids."""
    rows = ["| page | theme | minor | moderate | serious | critical | serious/critical rules |", "|---" * 7 + "|"]
    for report in reports:
        counts = report.counts()
        rules = ", ".join(report.blocking_rules(allowed={})) or "-"
        rows.append(
            f"| {report.page} | {report.theme} | " + " | ".join(str(counts[i]) for i in IMPACTS) + f" | {rules} |"
        )
    return "\n".join(rows)
