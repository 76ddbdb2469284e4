"""Soak: a day of classes on one server; does the server's memory come back after each class?

Starts ``streamlit run app.py`` as ``bench/classroom_load.py`` does (temporary cache and SQLite
database, the teachers copied or prepared first), then runs K classes in turn. In each class N
students arrive at once, each in a browser context of their own (headless Chromium): the home
page, a lab link with a seed of their own and a small run (``--epochs``, ``--train-size``), Train,
the result, the Runs page; then the context closes, as a student closes the tab. After each
class the script waits ``--settle`` seconds and reads the server's resident memory (RSS, from
/proc). Target: after the last class within 20 % of after the first (``growth`` in the report):
closed sessions must not keep memory. Each class's wall time and the server's CPU seconds are
reported beside it. Localhost only, sizes and times capped, the server stopped at the end.

    python bench/soak.py --classes 4 --students 30 [--data-dir ../shared/data] [--json]
    python bench/soak.py --classes 2 --students 5          # a quick look

The last line on stderr is a one-line summary; ``--json`` prints the whole report on stdout.
Run it on an otherwise idle machine: the browsers share the server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # classroom_load's server and browser helpers
from classroom_load import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    FIRST_SEED,
    IDLE,
    MemorySampler,
    free_port,
    open_lab,
    prepared_cache,
    server_cpu_seconds,
    server_env,
    server_rss_megabytes,
    start_server,
    stop_server,
    wait_for_result,
)

MAX_CLASSES, MAX_STUDENTS = 20, 40
TARGET_GROWTH = 0.20  # after the last class at most 20 % above after the first


async def student(browser, url: str, params: dict, limit: float) -> dict:
    """One student's lesson: home, the lab link, Train, the result, the Runs page, then the tab closes."""
    timeout_ms = int(limit * 1000)
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = await context.new_page()
        page.set_default_timeout(timeout_ms)
        await page.goto(url)
        await page.locator(IDLE).wait_for()
        await context.close()  # the home page's session ends with its tab, as a link opens a new one
        page = await open_lab(browser, url, params, timeout_ms)
        context = page.context
        await page.get_by_role("button", name="Train", exact=True).click()
        result = await wait_for_result(page, time.monotonic(), time.monotonic() + limit)
        if result["error"] is None:
            await page.locator(".st-key-navigation").get_by_text("Runs", exact=True).click()
            await page.locator("h1").filter(has_text="Runs").first.wait_for()
            await page.locator(IDLE).wait_for()
        return result
    except Exception as error:  # a timeout is a result here, not a crash
        return {"seconds": None, "how": None, "error": type(error).__name__}
    finally:
        await context.close()


async def day(url: str, args, server_pid: int) -> list[dict]:
    from playwright.async_api import async_playwright

    classes = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for number in range(1, args.classes + 1):
                started, cpu_before = time.monotonic(), server_cpu_seconds(server_pid)
                links = [
                    {
                        "seed": FIRST_SEED + number * MAX_STUDENTS + index,  # every run trains
                        "epochs": args.epochs,
                        "train_size": args.train_size,
                    }
                    for index in range(args.students)
                ]
                results = await asyncio.gather(*(student(browser, url, link, args.limit) for link in links))
                await asyncio.sleep(args.settle)
                rss = server_rss_megabytes(server_pid)
                classes.append(
                    {
                        "class": number,
                        "rss_mb": round(rss or 0.0),
                        "wall_seconds": round(time.monotonic() - started, 1),
                        "server_cpu_seconds": round(server_cpu_seconds(server_pid) - cpu_before, 1),
                        "results": sum(1 for result in results if result["error"] is None),
                        "errors": sorted({result["error"] for result in results if result["error"]}),
                    }
                )
                print(f"class {number}: {classes[-1]}", file=sys.stderr)
        finally:
            await browser.close()
    return classes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classes", type=int, default=4, help=f"classes in turn (1..{MAX_CLASSES}; default 4)")
    parser.add_argument("--students", type=int, default=30, help=f"sessions per class (1..{MAX_STUDENTS}; default 30)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each student's run (default 2)")
    parser.add_argument("--train-size", type=int, default=1000, help="training images of each run (default 1000)")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds after a class before reading RSS (15)")
    parser.add_argument("--data-dir", help="MNIST root for the server (KDLAB_DATA_DIR); default: the sample")
    parser.add_argument(
        "--teachers-from",
        default=str(Path.home() / ".cache" / "kdlab"),
        help="cache dir whose teachers/ are copied in first (default: ~/.cache/kdlab)",
    )
    parser.add_argument("--limit", type=float, default=600.0, help="seconds a student's run may take (600)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    if not 1 <= args.classes <= MAX_CLASSES or not 1 <= args.students <= MAX_STUDENTS:
        parser.error(f"--classes must be 1 to {MAX_CLASSES} and --students 1 to {MAX_STUDENTS}")
    if not Path(CHROMIUM).exists():
        parser.error(f"needs Debian's chromium at {CHROMIUM}")
    folder = prepared_cache(args.data_dir, args.teachers_from)
    port = free_port()
    server = start_server(folder, args.data_dir, port, server_env(folder, args.data_dir))
    sampler = MemorySampler(server.pid)
    sampler.start()
    started_rss = server_rss_megabytes(server.pid)
    try:
        run = day(f"http://127.0.0.1:{port}", args, server.pid)
        classes = asyncio.run(asyncio.wait_for(run, timeout=args.classes * (args.limit + 120)))
    finally:
        sampler.stop()
        stop_server(server)
    first, last = classes[0]["rss_mb"], classes[-1]["rss_mb"]
    growth = (last - first) / first if first else None
    report = {
        "classes": args.classes,
        "students": args.students,
        "run": {"epochs": args.epochs, "train_size": args.train_size},
        "data": "full MNIST" if args.data_dir else "offline sample",
        "cores": len(os.sched_getaffinity(0)),
        "server_rss_mb_at_start": round(started_rss or 0.0),
        "per_class": classes,
        "growth": round(growth, 3) if growth is not None else None,
        "target_growth": TARGET_GROWTH,
        "load_average": round(statistics.mean(sampler.loads or [0.0]), 1),
        "log": str(folder / "streamlit.log"),
    }
    after = ", ".join(f"{entry['rss_mb']}" for entry in classes)
    verdict = "within" if growth is not None and growth <= TARGET_GROWTH else "OVER"
    print(
        f"soak {args.classes} x {args.students} ({report['data']}, {args.epochs} epochs on {args.train_size} images): "
        f"server RSS after each class {after} MB (start {report['server_rss_mb_at_start']} MB); "
        f"last vs first {'unknown' if growth is None else f'{growth:+.0%}'} ({verdict} the {TARGET_GROWTH:.0%} target); "
        f"{sum(entry['results'] for entry in classes)} of {args.classes * args.students} results; "
        f"load average {report['load_average']}",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(report))
    failed = any(entry["errors"] for entry in classes)
    return 1 if failed or verdict == "OVER" else 0


if __name__ == "__main__":
    sys.exit(main())
