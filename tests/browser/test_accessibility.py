"""axe-core on every page of the running app, in the light and the dark theme: no serious or critical violation
(minor and moderate ones are printed). The tour (``tests/browser/accessibility_tour.py``) opens each page in the
state a class sees it: the explorer with a drawn digit, the lab with a finished tiny run, the lessons page and the
board with a class code and that run, the runs page with it. ``bench/accessibility.py`` prints the same tour as
the table in docs/accessibility.md.

Skipped, not failed, where /usr/bin/chromium is missing (see ``tests/browser/conftest.py``).
"""

import pytest

from tests.browser.accessibility_tour import THEMES, table, tour
from tests.browser.conftest import BROWSER_MARKS, offline_env, serve_app

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``streamlit run app.py`` offline, on a free localhost port, with a temporary teacher cache."""
    folder = tmp_path_factory.mktemp("browser-accessibility")
    env = offline_env(folder)
    with serve_app(folder, env, tiny_replays=True) as url:
        yield url


@pytest.mark.parametrize("theme", THEMES)
def test_every_page_has_no_serious_or_critical_violation(server, browser, theme):
    reports = list(tour(browser, server, theme, seed=201 + THEMES.index(theme)))
    print(f"\n{table(reports)}")
    failing = [report for report in reports if report.blocking_rules()]
    assert not failing, "\n".join(report.describe() for report in failing)
