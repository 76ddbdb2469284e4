"""What the AppTest tests share: the app or one page opened, its elements read as text, a chart's spec, and
reruns until the page shows what a test waits for."""

from __future__ import annotations

import json
import time

from streamlit.testing.v1 import AppTest

from tests.conftest import PROJECT_ROOT

APP = str(PROJECT_ROOT / "app.py")


def open_page(page: str | None = None, state: dict | None = None, *, timeout: float = 60) -> AppTest:
    """The app through app.py (navigation and sidebar), switched to ``page``. Buttons are
    clicked in ``open_alone`` instead (see ``kdlab.ui.ensure_entrypoint``)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(page)
        at.run()
    return at


def open_alone(
    page: str,
    state: dict | None = None,
    query: dict | None = None,
    *,
    student: str | None = None,
    timeout: float = 60,
) -> AppTest:
    """One page file on its own, as the style guide tests pages, run once: ``state`` preset in the session,
    ``query`` in the URL (an assignment link), ``student`` the ``?s=`` of the URL."""
    at = AppTest.from_file(str(PROJECT_ROOT / page), default_timeout=timeout)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.query_params.update(query or {})
    if student is not None:
        at.query_params["s"] = student
    return at.run()


def run_until(at: AppTest, done, timeout: float = 120.0) -> AppTest:
    """Rerun the page (as the browser's polling would) until ``done(at)`` or the timeout."""
    deadline = time.time() + timeout
    while not done(at):
        assert not at.exception, [e.value for e in at.exception]
        assert time.time() < deadline, "timed out waiting for the page"
        time.sleep(0.2)
        at.run()
    return at


def chart_spec(at: AppTest, key: str) -> dict:
    """The Plotly spec of the chart whose widget key ends with ``key``."""
    charts = [chart for chart in at.get("plotly_chart") if chart.proto.id.endswith(key)]
    assert charts, f"no chart {key}"
    return json.loads(charts[0].proto.spec)


def texts(elements) -> str:
    """The values of a list of elements (``at.markdown``, ``at.warning``, ...) as one text, a line each."""
    return "\n".join(str(element.value) for element in elements)
