"""What a first visitor sees, and when: the time from opening the app in a real browser to its own navigation
and to the first useful paint (the page's content, or the one-line "Starting" notice while PyTorch loads).

    python bench/first_paint.py [--data-dir DIR] [--visits 3] [--json]

Starts ``streamlit run app.py`` on a free localhost port with an empty ``KDLAB_CACHE_DIR``, opens Home in
headless Debian Chromium as soon as the server answers its health check (the cold visit: the server's first
script run, which imports PyTorch), then ``--visits - 1`` more times in fresh browser contexts (warm visits).
The page is read every 25 ms. It also reports whether Streamlit's raw file list ("app", "class board", ...
in lower case, the legacy ``pages/`` navigation) was ever on screen. Stops all it starts.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
CHROMIUM_ARGS += ["--disable-component-update", "--disable-sync", "--no-first-run"]
NAVIGATION = "Dark knowledge explorer"  # a page title of the app's own navigation (kdlab.classroom.pages)
RAW_FILE_LIST = "class board"  # how Streamlit's legacy pages/ navigation names pages/class_board.py
HOME_TITLE = "Knowledge distillation, live on MNIST"
STARTING = "Starting"
READ_PAGE = """() => {
  const sidebar = document.querySelector('[data-testid="stSidebar"]');
  const main = document.querySelector('[data-testid="stMain"]') || document.body;
  const app = document.querySelector('[data-testid="stApp"]');
  return {sidebar: sidebar ? sidebar.innerText : "", main: main ? main.innerText : "", app: !!app};
}"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, limit: float = 120.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < limit:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return time.perf_counter() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("streamlit did not answer its health check")


def visit(browser, url: str, limit: float = 60.0) -> dict:
    """Open ``url`` in a fresh context; seconds to the app's navigation, the first useful paint and Home's title."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    seen: dict[str, float | None] = {
        "frontend_s": None,  # Streamlit's own page (its JavaScript loaded and running): the browser's share
        "navigation_s": None,
        "first_useful_paint_s": None,
        "content_s": None,
    }
    raw_list_seen = False
    started = time.perf_counter()
    page.goto(url, wait_until="commit")
    while time.perf_counter() - started < limit and None in (seen["content_s"], seen["navigation_s"]):
        texts = page.evaluate(READ_PAGE)
        now = round(time.perf_counter() - started, 2)
        raw_list_seen |= RAW_FILE_LIST in texts["sidebar"]
        if seen["frontend_s"] is None and texts["app"]:
            seen["frontend_s"] = now
        if seen["navigation_s"] is None and NAVIGATION in texts["sidebar"]:
            seen["navigation_s"] = now
        useful = HOME_TITLE in texts["main"] or STARTING in texts["main"]
        if seen["first_useful_paint_s"] is None and useful and seen["navigation_s"] is not None:
            seen["first_useful_paint_s"] = now
        if HOME_TITLE in texts["main"]:
            seen["content_s"] = now
        page.wait_for_timeout(25)
    context.close()
    return {**seen, "raw_file_list_seen": raw_list_seen}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="full MNIST (KDLAB_DATA_DIR); default: the offline sample")
    parser.add_argument("--visits", type=int, default=3, help="the cold visit and the warm ones (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="kdlab-first-paint-") as cache:
        env = {**os.environ, "KDLAB_CACHE_DIR": cache}
        env.pop("KDLAB_PROCESSES", None)
        if args.data_dir:
            env["KDLAB_DATA_DIR"] = args.data_dir
        else:
            env.pop("KDLAB_DATA_DIR", None)
            env["KDLAB_OFFLINE"] = "1"
        port = free_port()
        command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
        command += ["--server.address", "127.0.0.1", "--server.headless", "true"]
        with open(Path(cache) / "streamlit.log", "w") as log:
            process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            health_s = wait_healthy(url, process)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                visits = [visit(browser, url) for _ in range(args.visits)]
                browser.close()
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    result = {"server_start_to_health_s": round(health_s, 2), "cold": visits[0], "warm": visits[1:]}
    result["load_average_1min"] = os.getloadavg()[0]
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
