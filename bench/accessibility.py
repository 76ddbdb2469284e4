"""axe-core on every page of the app, in the light and the dark theme: violating elements by impact (minor,
moderate, serious, critical) and the serious and critical rule ids, as the table in docs/accessibility.md.

    python bench/accessibility.py [--json]

Starts ``streamlit run app.py`` offline on a free localhost port with an empty teacher cache, and takes the
tour of ``tests/browser/accessibility_tour.py`` (the explorer with a drawn digit, the lab with a finished tiny
run, the lessons page and the board with a class code and that run, ...) in headless Debian Chromium, once per
theme. Stops all it starts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the tour and the server helper live with the browser tests

from tests.browser.accessibility_tour import THEMES, table, tour  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, offline_env, serve_app  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the violations as JSON instead of the table")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        with (
            serve_app(Path(folder), offline_env(Path(folder)), tiny_replays=True) as url,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                reports = [r for seed, theme in enumerate(THEMES, 101) for r in tour(browser, url, theme, seed)]
            finally:
                browser.close()
    if args.json:
        print(json.dumps([{"page": r.page, "theme": r.theme, "violations": r.violations} for r in reports], indent=1))
    else:
        print(table(reports))
        for report in reports:
            if report.describe():
                print(report.describe())


if __name__ == "__main__":
    main()
