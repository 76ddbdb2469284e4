"""The explorer on a fresh server: seconds from opening it to its first chart, and to the full teacher's.

Starts ``streamlit run app.py`` on a free localhost port with an empty temporary ``KDLAB_CACHE_DIR`` (no
teacher cached, a fresh SQLite database), the offline sample (``KDLAB_OFFLINE=1``) or full MNIST
(``--data-dir``), trainings in worker processes as in class. Once the server answers its health check, one
headless Chromium (Debian's /usr/bin/chromium through playwright; never ``playwright install``) opens the
explorer, ``/dark_knowledge`` (with ``--teacher``, a teacher of the menu, else the default), and never reloads it:

- ``first_progress_or_chart_seconds``: from opening the page to a teacher's progress bar (or a chart): the
  app loaded, the data read, a training started;
- ``first_chart_seconds``: from opening the page to its first Plotly chart on screen, and
  ``first_teacher``: the caption that says which teacher drew it;
- ``full_teacher_seconds``: to the caption of the chosen teacher at full strength (its architecture and its
  default epochs, "trained N epochs"), in the same page, without a reload (None if it did not come within
  ``--limit``); ``same_page_as_first_chart``: true when the browser did not load the page again meanwhile.

Localhost only, bounded by ``--limit`` seconds, and the server (with its workers) and the browser are stopped
at the end whatever happens. Prints one JSON object on stdout.

    python bench/explorer_first_chart.py                           # the offline sample
    python bench/explorer_first_chart.py --data-dir ../shared/data  # full MNIST

Run it on an otherwise idle machine: the browser shares the CPU with the server and its trainings.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's kdlab

from kdlab.experiments.distill import DEFAULT_TEACHER  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.teachers.teacher import default_teacher_epochs  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SERVER_START_SECONDS = 90
CHART = '[data-testid="stPlotlyChart"]'
CAPTIONS = '[data-testid="stCaptionContainer"]'
ALERTS = '[data-testid="stAlert"]'
PROGRESS = '[data-testid="stProgress"]'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(folder: Path, data_dir: str | None) -> tuple[subprocess.Popen, str, float]:
    """The app on a free localhost port with an empty cache; returns it, its URL and the seconds it took."""
    env = {**os.environ, "KDLAB_CACHE_DIR": str(folder / "cache"), "KDLAB_DEVICE": "cpu"}
    for name in ("KDLAB_DATABASE_URL", "KDLAB_PROCESSES", "KDLAB_DATA_DIR", "KDLAB_OFFLINE"):
        env.pop(name, None)
    env |= {"KDLAB_DATA_DIR": str(Path(data_dir).resolve())} if data_dir else {"KDLAB_OFFLINE": "1"}
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    started = time.monotonic()
    with open(folder / "streamlit.log", "w") as log:
        # its own session, so that stopping it stops its training workers too
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() - started < SERVER_START_SECONDS:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}:\n{(folder / 'streamlit.log').read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return process, url, time.monotonic() - started
        except OSError:
            time.sleep(0.3)
    stop_server(process)
    raise RuntimeError(f"streamlit did not answer within {SERVER_START_SECONDS} s")


def stop_server(process: subprocess.Popen) -> None:
    """The server and everything it started (its session's process group)."""
    for sent, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def teacher_captions(page) -> list[str]:
    """The captions and alerts that say which teacher the page shows."""
    texts = page.locator(CAPTIONS).all_inner_texts() + page.locator(ALERTS).all_inner_texts()
    return [text.strip() for text in texts if text.startswith("Teacher ") or "quick teacher" in text]


def watch_explorer(url: str, teacher: str, epochs: int, limit: float) -> dict:
    """Open the explorer once and time its first chart and the caption of ``teacher`` trained ``epochs``
    epochs, the full one (no reload)."""
    from playwright.sync_api import sync_playwright

    report: dict = {"first_chart_seconds": None, "first_teacher": None, "full_teacher_seconds": None}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            opened = time.monotonic()
            page.goto(f"{url}/dark_knowledge?explorer.teacher={urllib.parse.quote(teacher)}", timeout=limit * 1000)
            page.locator(f"{CHART}, {PROGRESS}").first.wait_for(state="visible", timeout=limit * 1000)
            report["first_progress_or_chart_seconds"] = round(time.monotonic() - opened, 1)
            page.locator(CHART).first.wait_for(state="visible", timeout=limit * 1000)
            report["first_chart_seconds"] = round(time.monotonic() - opened, 1)
            report["first_teacher"] = teacher_captions(page)
            page.evaluate("window.benchMark = 'first chart'")  # gone if the page were reloaded
            while time.monotonic() - opened < limit:
                full = [text for text in teacher_captions(page) if text.startswith(f"Teacher {teacher}:")]
                if any(f"trained {epochs} epochs" in text for text in full):
                    if page.locator(CHART).count():
                        report["full_teacher_seconds"] = round(time.monotonic() - opened, 1)
                        report["full_teacher"] = teacher_captions(page)
                        report["same_page_as_first_chart"] = page.evaluate("window.benchMark") == "first chart"
                        break
                time.sleep(0.5)
        finally:
            browser.close()
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="full MNIST (torchvision's layout); default: the offline sample")
    parser.add_argument("--teacher", default=DEFAULT_TEACHER, help=f"a teacher of the menu (default {DEFAULT_TEACHER})")
    parser.add_argument("--log", help="copy the server's log to this file at the end")
    parser.add_argument("--limit", type=float, default=600, help="seconds to wait in all (default 600, at most 1800)")
    args = parser.parse_args()
    limit = min(max(args.limit, 10.0), 1800.0)
    data = load_mnist(args.data_dir) if args.data_dir else load_mnist(offline=True)
    epochs = default_teacher_epochs(len(data.train))
    folder = Path(tempfile.mkdtemp(prefix="kdlab-explorer-"))
    report: dict = {
        "teacher": args.teacher,
        "data": data.source.name,
        "train_images": len(data.train),
        "cpu_count": os.cpu_count(),
    }
    try:
        server, url, start_seconds = start_server(folder, args.data_dir)
        report["server_start_seconds"] = round(start_seconds, 1)
        try:
            report |= watch_explorer(url, args.teacher, epochs, limit)
        finally:
            stop_server(server)
            if args.log:
                shutil.copyfile(folder / "streamlit.log", args.log)
        report["load_average_1min"] = round(os.getloadavg()[0], 2)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
