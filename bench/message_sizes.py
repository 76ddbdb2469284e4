"""The largest websocket messages a real class sends and receives: the measurement behind
``server.maxMessageSize`` in .streamlit/config.toml.

Fills a fresh database with a class board of RUNS runs (as bench/board_refresh.py does), starts
``streamlit run app.py`` on a free localhost port (offline sample, CPU), and drives headless Chromium
(Debian's /usr/bin/chromium through playwright) the way a class does: the board of that class, the lab
and its share link, the explorer with a digit drawn on the canvas and then a canvas scribbled full
(STROKES strokes of 60 points, far more ink than a digit), the lessons, the runs page. Every websocket
frame is measured as it passes: the largest the browser sent (the canvas's drawing is one) and the
largest the server sent, per page. Then one message of 3 MB, just over ``server.maxMessageSize``, on a
fresh websocket: the server must close the connection. The server is stopped at the end, whatever happens.

    python bench/message_sizes.py [--runs 5000] [--strokes 40] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent))

import board_refresh  # noqa: E402  (sets a temporary KDLAB_CACHE_DIR, offline, on the CPU)
from classroom_load import CHROMIUM, CHROMIUM_ARGS, free_port, start_server, stop_server  # noqa: E402

RUN_SECONDS = 240
QUIET_SECONDS = 3.0  # a page is done when no frame has passed for this long (its figures come after its text)
FORGED_MB = 3  # a message just over .streamlit/config.toml's server.maxMessageSize (2 MB)


class Frames:
    """The size of every websocket frame, by direction and by the page open when it passed."""

    def __init__(self) -> None:
        self.page = "start"
        self.largest: dict[tuple[str, str], int] = defaultdict(int)
        self.last = time.monotonic()

    def watch(self, websocket) -> None:
        websocket.on("framesent", lambda payload: self.count("sent", payload))
        websocket.on("framereceived", lambda payload: self.count("received", payload))

    def count(self, direction: str, payload) -> None:
        key = (direction, self.page)
        self.largest[key] = max(self.largest[key], len(payload))
        self.last = time.monotonic()

    def settle(self) -> None:
        """Wait until no frame has passed for ``QUIET_SECONDS`` (at most ``RUN_SECONDS``), so that each frame
        is counted for the page that caused it."""
        deadline = time.monotonic() + RUN_SECONDS
        while time.monotonic() - self.last < QUIET_SECONDS and time.monotonic() < deadline:
            time.sleep(0.2)


def scribble(page, key: str, strokes: int) -> None:
    """``strokes`` zig-zag strokes of 60 points each across the canvas under the widget ``key``."""
    canvas = page.locator(f".st-key-{key.replace('.', '-')} canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    for stroke in range(strokes):
        top = box["y"] + box["height"] * (0.05 + 0.9 * stroke / max(strokes, 1))
        page.mouse.move(box["x"] + 5, top)
        page.mouse.down()
        for step in range(60):
            page.mouse.move(box["x"] + 5 + step * (box["width"] - 10) / 60, top + (step % 2) * 12)
        page.mouse.up()


def visit(page, frames: Frames, name: str, url: str, ready: str) -> None:
    print(f"{name} ...", file=sys.stderr, flush=True)
    frames.page = name
    page.goto(url)
    page.get_by_text(ready).first.wait_for(timeout=RUN_SECONDS * 1000)
    frames.settle()


def drive(url: str, strokes: int) -> Frames:
    from playwright.sync_api import sync_playwright

    frames = Frames()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(RUN_SECONDS * 1000)  # a loaded machine is slow, not stuck
            page.on("websocket", frames.watch)
            visit(page, frames, "board", f"{url}/class_board?class={board_refresh.CODE}", "runs by")
            visit(page, frames, "lab", f"{url}/distillation_lab?teacher=linear", "Train")
            visit(page, frames, "explorer", f"{url}/dark_knowledge?explorer.teacher=linear", "Teacher linear:")
            page.get_by_text("Draw your own", exact=True).click()
            page.get_by_text("Draw a digit in the black square").wait_for()
            frames.page = "canvas, a digit"
            scribble(page, "explorer.canvas", 1)
            page.get_by_text("for your drawing").wait_for(timeout=60_000)
            frames.settle()
            frames.page = f"canvas, {strokes} strokes"
            scribble(page, "explorer.canvas", strokes)
            frames.settle()
            visit(page, frames, "lessons", f"{url}/lessons", "Predict first")
            visit(page, frames, "runs", f"{url}/runs", "Runs")
        finally:
            browser.close()
    return frames


def forged_message_closes(url: str) -> str:
    """Send one ``FORGED_MB`` message on a fresh websocket, as a script would; what the server answered."""
    import asyncio

    import websockets

    async def send() -> str:
        async with websockets.connect(url.replace("http", "ws") + "/_stcore/stream", max_size=None) as socket:
            await socket.send(b"\0" * (FORGED_MB * 1_000_000))
            try:
                await asyncio.wait_for(socket.recv(), timeout=30)
            except websockets.ConnectionClosed as closed:
                return f"closed by the server ({closed.rcvd.code if closed.rcvd else 'no code'})"
            return "kept open"

    return asyncio.run(send())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000, help="runs on the class board (default 5000, the class cap)")
    parser.add_argument("--students", type=int, default=60, help="students who made them (default 60)")
    parser.add_argument("--strokes", type=int, default=40, help="strokes of the scribbled canvas (default 40)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    board_refresh.fill(args.runs, args.students)
    folder = Path(tempfile.mkdtemp())
    cache = Path(os.environ["KDLAB_CACHE_DIR"])
    (folder / "cache").symlink_to(cache)  # the server's cache is the filled one
    port = free_port()
    server = start_server(folder, None, port, {"KDLAB_OFFLINE": "1", "KDLAB_DEVICE": "cpu"})
    try:
        frames = drive(f"http://127.0.0.1:{port}", args.strokes)
        forged = forged_message_closes(f"http://127.0.0.1:{port}")
    finally:
        stop_server(server)
    result = {
        "runs": args.runs,
        "sent_kb": {page: round(size / 1000, 1) for (way, page), size in frames.largest.items() if way == "sent"},
        "received_kb": {
            page: round(size / 1000, 1) for (way, page), size in frames.largest.items() if way == "received"
        },
        "forged_message": f"{FORGED_MB} MB: {forged}",
        "load_average": round(os.getloadavg()[0], 1),
    }
    largest_sent = max(result["sent_kb"].values())
    largest_received = max(result["received_kb"].values())
    if args.json:
        print(json.dumps(result))
    else:
        for way in ("sent_kb", "received_kb"):
            print(
                f"largest frame {way[:-3]} by the browser" if way == "sent_kb" else "largest frame sent by the server"
            )
            for page, size in sorted(result[way].items(), key=lambda item: -item[1]):
                print(f"  {page:28s} {size:9.1f} kB")
        print(f"a forged message of {result['forged_message']}")
    print(
        f"summary: {args.runs} runs on the board; largest frame from the browser {largest_sent:.1f} kB, "
        f"to the browser {largest_received:.1f} kB; forged {result['forged_message']} "
        f"(load average {result['load_average']})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
