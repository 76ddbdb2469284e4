"""What the browser tests share: Debian's chromium through playwright, ``streamlit run app.py`` on a free
localhost port, and a page of the browser for each test. Skipped, not failed, where /usr/bin/chromium is
missing."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import BRINGS, PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TINY_REPLAYS_SERVER = Path(__file__).parent / "tiny_replays_server.py"
SERVER_START_SECONDS = 90
RUN_SECONDS = 180

BROWSER_MARKS = [  # every browser test module's pytestmark
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason=f"needs Debian's chromium at /usr/bin/chromium: {BRINGS['chromium']}"
    ),
]


def free_port() -> int:
    """A localhost port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    """Return once the server at ``url`` answers its health check; raise with its log if it exits or stays silent."""
    deadline = time.time() + SERVER_START_SECONDS
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer within {SERVER_START_SECONDS} s:\n{log.read_text()}")


def offline_env(folder: Path) -> dict[str, str]:
    """The environment of a test server: offline (the sample's digits), its teacher cache under ``folder``, the
    CPU, and none of this machine's data folder, database, lessons folder or instructor key."""
    env = {**os.environ, "KDLAB_OFFLINE": "1", "KDLAB_CACHE_DIR": str(folder / "cache"), "KDLAB_DEVICE": "cpu"}
    for name in ("KDLAB_DATA_DIR", "KDLAB_DATABASE_URL", "KDLAB_LESSONS_DIR", "KDLAB_INSTRUCTOR_KEY"):
        env.pop(name, None)
    return env


@contextmanager
def serve_app(folder: Path, env: dict[str, str], *, tiny_replays: bool = False) -> Iterator[str]:
    """``streamlit run app.py`` with ``env`` on a free localhost port (log in ``folder``); yields its URL. The
    server trains as it does in class, in worker processes (the suite's own ``KDLAB_PROCESSES=0`` left out).
    With ``tiny_replays`` the replays' quick budget is one epoch each (``tiny_replays_server.py``)."""
    env = {name: value for name, value in env.items() if name != "KDLAB_PROCESSES"}
    port, log = free_port(), folder / "streamlit.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                *([str(TINY_REPLAYS_SERVER)] if tiny_replays else ["-m", "streamlit"]),
                "run",
                "app.py",
                "--server.headless",
                "true",
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium, one for each test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser page, large enough for the lab's two columns."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(30_000)
    yield page
    page.close()


def draw_a_one(page, key: str) -> None:
    """A vertical stroke down the middle of the canvas under the widget ``key``, with the mouse."""
    canvas = page.locator(f".st-key-{key.replace('.', '-')} canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    x, top = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    page.mouse.move(x, top)
    page.mouse.down()
    for step in range(1, 21):
        page.mouse.move(x, top + step * box["height"] * 0.035)
    page.mouse.up()
