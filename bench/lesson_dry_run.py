"""A class dry run of one lesson: N students in real browsers follow the lesson's links, answer its question,
press Train (or Run), and the instructor projects the board before and after Reveal.

Starts ``streamlit run app.py`` with an instructor key on a free localhost port, with a temporary cache and
database (the cached teachers copied in, ``kdlab prepare --no-warm`` training any missing one: no result is
cached, so every run really trains), and opens a class (``DRY-RUN``) with its results hidden. Then:

1. the students open the lesson's first step that trains (its links dealt round the room: browser ``i``
   takes link ``i mod n``; with ``--pairs`` two students share a browser, as pairs share a laptop), each
   answers the lesson's question (the answers drawn with a fixed seed) and saves it, and all press Train
   (lab) or Run (replays) within a second;
2. the instructor's board (signed in with the key) is photographed while the results are hidden, the
   instructor presses **Reveal the results**, and the board is photographed again, whole page;
3. the report gives each browser's wait from the click to its result and how it came (the replay page says
   it under the result; a lab run's comes from the class board's runs, ``board_sources``: trained, joined,
   cache), the server's CPU, and the screenshots' paths.

    python bench/lesson_dry_run.py --lesson 2-does-the-teacher-help --students 30 --data-dir ../shared/data
    python bench/lesson_dry_run.py --lesson 4-the-missing-3 --students 30 --pairs --data-dir ../shared/data

Localhost only, N and the time are capped, the server is stopped at the end whatever happens. Run it on an
otherwise idle machine: the browsers share its CPU with the server (in a class they run on the students'
laptops), so the waits are an upper bound.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from classroom_load import (  # noqa: E402  (the load benchmark's server and browser helpers)
    CHROMIUM,
    CHROMIUM_ARGS,
    IDLE,
    ROOT,
    free_port,
    prepared_cache,
    server_cpu_seconds,
    server_env,
    start_server,
    stop_server,
)

from kdlab.classroom.lessons import lessons_dir, load_lesson  # noqa: E402
from kdlab.classroom.urls import link_url  # noqa: E402

CLASS_CODE = "DRY-RUN"
KEY = "dry-run-instructor-key"
MAX_BROWSERS = 40
LAB_DONE = "Result of run"
REPLAY_DONE = ("This result:",)  # the replay page's caption over a result: where it came from
FAILED = (
    "These settings cannot run",
    "The run cannot start",
    "The run failed",
    "The training queue is full",
    "The replay failed",
)
HOW = {  # the replay page's words under a result -> how it came
    "This result: joined a run in progress": "joined",
    "This result: from the cache": "cache",
}


def training_step(lesson):
    """(number, step) of the lesson's first step that trains: a lab or a replays page."""
    for number, step in enumerate(lesson.steps, start=1):
        if step.page in ("lab", "replays"):
            return number, step
    raise SystemExit(f"lesson {lesson.slug} has no lab or replays step to run")


def answers(lesson, count: int, seed: int = 0) -> list:
    """Each browser's answer to the lesson's question, drawn with a fixed seed (a class that leans one way)."""
    question, generator = lesson.question, random.Random(seed)
    if question is None:
        return [None] * count
    if question.kind == "choice":
        weights = [len(question.choices) - index for index in range(len(question.choices))]
        return generator.choices(question.choices, weights=weights, k=count)
    low, high = question.bounds
    return [int(min(max(generator.gauss(20, 15), low), high)) for _ in range(count)]


async def student(browser, url: str, page_name: str, answer, timeout_ms: int):
    """A new browser on ``url``: answers the lesson's question, saves it; returns the page, ready to press."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    await page.goto(url)
    await page.locator(IDLE).wait_for()
    await page.wait_for_timeout(500)
    await page.locator(IDLE).wait_for()
    if answer is not None:
        box = page.locator(f".st-key-{page_name}-lesson-question")
        await box.wait_for()
        if isinstance(answer, str):
            await box.get_by_text(answer, exact=True).click()
        else:
            await box.locator("input").fill(str(answer))
            await box.locator("input").press("Enter")
        await page.locator(IDLE).wait_for()
        await box.get_by_role("button", name="Save my prediction").click()
        await box.get_by_text("Saved for class").wait_for()
    return page


def press_button(page, page_name: str):
    if page_name == "lab":
        return page.get_by_role("button", name="Train", exact=True)
    return page.locator("button:visible").filter(has_text="Run the ").first


async def wait_for_result(page, page_name: str, clicked: float, deadline: float) -> dict:
    done = (LAB_DONE,) if page_name == "lab" else REPLAY_DONE
    while time.monotonic() < deadline:
        for text in done:
            if await page.get_by_text(text).count():
                how = "trained"
                for marker, kind in HOW.items():
                    if await page.get_by_text(marker).count():
                        how = kind
                return {"seconds": round(time.monotonic() - clicked, 1), "how": how, "error": None}
        for message in FAILED:
            if await page.get_by_text(message).count():
                text = await page.get_by_text(message).first.inner_text()
                return {"seconds": round(time.monotonic() - clicked, 1), "how": None, "error": text[:300]}
        if await page.get_by_test_id("stException").count():
            return {"seconds": round(time.monotonic() - clicked, 1), "how": None, "error": "exception on the page"}
        await asyncio.sleep(0.5)
    return {"seconds": None, "how": None, "error": "no result before the time limit"}


async def board(browser, base: str, lesson, timeout_ms: int):
    """The instructor's board for the class and the lesson, signed in with the key in the link."""
    # Tall: Streamlit scrolls inside its own container, so a screenshot shows the viewport, not the "full page"
    context = await browser.new_context(viewport={"width": 1600, "height": 3000})
    page = await context.new_page()
    page.set_default_timeout(timeout_ms)
    await page.goto(link_url(base, "board", {"class": CLASS_CODE, "lesson": lesson.slug, "key": KEY}))
    await page.locator(IDLE).wait_for()
    await page.get_by_text(f"Class {CLASS_CODE}").first.wait_for()
    return page


async def photograph(page, path: Path) -> str:
    await page.mouse.move(0, 0)  # no button's tooltip over the board
    await page.wait_for_timeout(1500)  # the board's fragment redraws every 5 s: let the last one settle
    await page.locator(IDLE).wait_for()
    charts = page.locator('[data-testid="stPlotlyChart"]')
    for index in range(await charts.count()):  # plotly draws after the script has ended
        await charts.nth(index).locator(".main-svg").first.wait_for()
    await page.wait_for_timeout(1000)
    await page.screenshot(path=str(path), full_page=True)
    return str(path)


async def drive(base: str, lesson, browsers: int, shots: Path, limit: float, server_pid: int) -> dict:
    from playwright.async_api import async_playwright

    number, step = training_step(lesson)
    links = step.links(class_code=CLASS_CODE)
    urls = [link_url(base, step.page, links[index % len(links)][1]) for index in range(browsers)]
    chosen = answers(lesson, browsers)
    timeout_ms = int(limit * 1000)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            instructor = await board(chromium, base, lesson, timeout_ms)
            pages = [await student(chromium, url, step.page, answer, timeout_ms) for url, answer in zip(urls, chosen)]
            await pages[0].screenshot(path=str(shots / f"dry-run-{lesson.slug}-student.png"))
            deadline, clicks = time.monotonic() + limit, []
            cpu_at_click = server_cpu_seconds(server_pid)
            for page in pages:
                await press_button(page, step.page).click()
                clicks.append(time.monotonic())
            results = await asyncio.gather(
                *(wait_for_result(page, step.page, clicked, deadline) for page, clicked in zip(pages, clicks))
            )
            class_cpu = server_cpu_seconds(server_pid) - cpu_at_click
            hidden = await photograph(instructor, shots / f"dry-run-{lesson.slug}-board-hidden.png")
            await instructor.get_by_role("button", name="Reveal the results").click()
            await instructor.get_by_role("button", name="Hide the results").wait_for()
            revealed = await photograph(instructor, shots / f"dry-run-{lesson.slug}-board-revealed.png")
        finally:
            await chromium.close()
    served = [result for result in results if result["seconds"] is not None and not result["error"]]
    return {
        "step": number,
        "page": step.page,
        "browsers": browsers,
        "results": [{"url": url, "answer": answer, **result} for url, answer, result in zip(urls, chosen, results)],
        "served": len(served),
        # A replay says under its result how it came; a lab run's result does not (board_sources counts those)
        "how": None
        if step.page == "lab"
        else {kind: sum(result["how"] == kind for result in served) for kind in ("trained", "joined", "cache")},
        "last_result_seconds": max((result["seconds"] for result in served), default=None),
        "class_server_cpu_seconds": round(class_cpu, 1),
        "screenshots": {"hidden": hidden, "revealed": revealed},
    }


def open_hidden_class(env: dict) -> None:
    """The instructor's preparation: class ``CLASS_CODE`` open, its results hidden (as the Instructor panel
    does), in the server's database."""
    os.environ.update(env)
    from kdlab.classroom.classes import open_class, set_class
    from kdlab.db.database import open_database

    database = open_database()
    open_class(database, CLASS_CODE, "Dry run")
    set_class(database, CLASS_CODE, results_hidden=True)


def board_sources() -> dict[str, int]:
    """The class's runs on its board by how each came: trained (a training of its own), joined (followed an
    identical run in progress), cache (copied from one trained earlier). Replays file no runs."""
    from collections import Counter

    from kdlab.classroom.classes import class_runs
    from kdlab.db.database import open_database

    return dict(Counter(run.source for run in class_runs(open_database(), CLASS_CODE)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--lesson", required=True, help="a lesson's file name without .md, e.g. 2-does-the-teacher-help"
    )
    parser.add_argument("--students", type=int, default=30, help="students in the class (default: 30)")
    parser.add_argument("--pairs", action="store_true", help="two students share a browser (a laptop per pair)")
    parser.add_argument("--data-dir", help="MNIST root for the server (KDLAB_DATA_DIR); default: the sample")
    parser.add_argument(
        "--teachers-from",
        default=str(Path.home() / ".cache" / "kdlab"),
        help="cache dir whose teachers/ are copied in first (default: ~/.cache/kdlab)",
    )
    parser.add_argument("--shots", default=str(ROOT / "docs" / "images"), help="folder for the screenshots")
    parser.add_argument("--limit", type=float, default=900.0, help="seconds the runs may take (default: 900)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    browsers = args.students // 2 if args.pairs else args.students
    if not 1 <= browsers <= MAX_BROWSERS:
        parser.error(f"1 to {MAX_BROWSERS} browsers")
    lesson = load_lesson(lessons_dir() / f"{args.lesson}.md")
    folder = prepared_cache(args.data_dir, args.teachers_from)
    env = {**server_env(folder, args.data_dir), "KDLAB_INSTRUCTOR_KEY": KEY}
    open_hidden_class(env)
    port = free_port()
    server = start_server(folder, args.data_dir, port, env)
    cpu_before, wall_before = server_cpu_seconds(server.pid), time.monotonic()
    shots = Path(args.shots)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        run = drive(f"http://127.0.0.1:{port}", lesson, browsers, shots, args.limit, server.pid)
        report = asyncio.run(asyncio.wait_for(run, timeout=args.limit + 600))
    finally:
        server_cpu = server_cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        stop_server(server)
    report |= {
        "board_sources": board_sources(),
        "lesson": lesson.slug,
        "students": args.students,
        "pairs": args.pairs,
        "data": "full MNIST" if args.data_dir else "offline sample",
        "server_cpu_seconds": round(server_cpu, 1),
        "wall_seconds": round(wall, 1),
        "log": str(folder / "streamlit.log"),
    }
    print(
        f"{lesson.slug}: {report['served']} of {browsers} browsers served ({report['how'] or report['board_sources']}), "
        f"last result "
        f"{report['last_result_seconds']} s; server CPU over the class {report['class_server_cpu_seconds']} s; "
        f"screenshots {report['screenshots']['hidden']}, {report['screenshots']['revealed']}",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(report))
    return 0 if report["served"] == browsers else 1


if __name__ == "__main__":
    sys.exit(main())
