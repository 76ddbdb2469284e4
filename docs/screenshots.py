"""Take the docs' screenshots in headless Chromium: a lab result's compression card and the run's three models on
a drawn digit (``docs/images/lab-compression-card.png``, ``docs/images/lab-your-digit.png``), the explorer's
look inside the teacher, its high-temperature limit and its standardised soft targets
(``docs/images/explorer-attention.png``, ``explorer-limit.png``, ``explorer-standardised.png``), the live views
of an attention run and of a relational KD run (``docs/images/live-attention.png``,
``docs/images/live-relations.png``), and a learned temperature drawn live on the curves
(``docs/images/live-temperature.png``), and Home, the explorer and a lab result in Spanish and Vietnamese (``docs/images/home-es.png``,
``explorer-es.png``, ``lab-es.png``, and the same with ``-vi``); ``--only`` takes one page's.

Run from the repository root with full MNIST and its cached teacher (cnn-wide, 4 epochs):

    PYTHONPATH=$PWD python docs/screenshots.py --data-dir ../shared/data --teachers ~/.cache/kdlab/teachers [--only lab|explorer|views|temperature|languages]

``--only explorer`` (or ``--only lab``) takes one page's screenshots.

It serves the app (``tests.browser.conftest.serve_app``) with a temporary cache holding a copy of the
teachers and a database with class DOCS-1, whose made-up runs (``CLASS_RUNS``, illustrative numbers)
stand for a class on the card's speed chart; it trains one small lab run for that class, measures its
card, draws a "1" and saves the two PNGs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from pathlib import Path

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, draw_a_one, serve_app

IMAGES = Path(__file__).parent / "images"
CLASS = "DOCS-1"
LINK = (
    f"distillation_lab?teacher=cnn-wide&student=mlp-100x1&epochs=3&train_size=10000&T=4&alpha=0.5&seed=7&class={CLASS}"
)
CLASS_RUNS = [  # (student, T, student alone's errors, distilled errors) of 10,000: made up, for the picture
    ("mlp-10x1", 4.0, 1010, 930),
    ("mlp-10x1", 8.0, 1010, 905),
    ("mlp-300x2", 4.0, 420, 365),
    ("mlp-300x2", 2.0, 420, 390),
    ("lenet5", 4.0, 170, 150),
    ("mlp-100x1", 4.0, 640, 590),
]


def seed_class(cache: Path) -> None:
    """Class ``CLASS`` in the database under ``cache``, one made-up student per run of ``CLASS_RUNS``."""
    import time

    from kdlab.classroom.classes import open_class
    from kdlab.db.database import open_database
    from kdlab.db.runs import DatabaseRunStore
    from kdlab.db.students import create_student
    from kdlab.runs.record import RunRecord, new_run_id

    database = open_database(f"sqlite:///{cache / 'kdlab.sqlite3'}")
    open_class(database, CLASS, "The docs' class")
    for student, temperature, alone, distilled in CLASS_RUNS:
        store = DatabaseRunStore(database, create_student(database)[0].id)
        config = {"teacher": "cnn-wide", "student": student, "temperature": temperature, "alpha": 0.5}
        summary = {
            "config": {**config, "epochs": 3, "seed": 0, "learning_rate": 0.001, "batch_size": 128},
            "transfer_set": {"size": 10_000},
            "data": {"source": "mnist", "test_size": 10_000},
            "baseline": {"test_errors": alone},
            "student": {"test_errors": distilled},
            "seconds": 1.0,
        }
        record = RunRecord(new_run_id(), store.reserve_number(), time.time(), "completed", summary)
        store.tagged(class_code=CLASS, prediction=None).add(record)


WAIT_MS = 300_000  # a run and its card on a shared 2-core machine


def clip_between(page, top_locator, bottom_locator, margin: int = 12) -> dict:
    """The page region from the top of one element to the bottom of another, across the main column."""
    main = page.get_by_test_id("stMainBlockContainer").first.bounding_box()
    top = top_locator.bounding_box()["y"] - margin
    bottom_box = bottom_locator.bounding_box()
    bottom = bottom_box["y"] + bottom_box["height"] + margin
    return {"x": main["x"], "y": top, "width": main["width"], "height": bottom - top}


def shrink(path: Path) -> None:
    """The PNG with a 64-colour palette: a third of the bytes, no visible loss on flat UI colours."""
    from PIL import Image

    Image.open(path).convert("RGB").quantize(colors=64).save(path, optimize=True)


def take(url: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # Tall enough for the whole result without scrolling: Streamlit scrolls its own container, not the page.
        page = browser.new_page(viewport={"width": 1400, "height": 5200})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/{LINK}")
        train = page.get_by_role("button", name="Train", exact=True)
        train.wait_for()
        page.wait_for_timeout(1000)  # the page settles (the teacher loads) before the press
        train.click()
        try:
            page.get_by_text("Result of run 1").wait_for(timeout=WAIT_MS)
        except Exception:
            page.screenshot(
                path=out / "failed.png",
            )
            raise
        page.get_by_role("button", name="Measure size, speed and calibration").click()
        page.get_by_text("Distilled:").first.wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(2000)  # the charts draw
        card_top = page.get_by_text("Compression card").first
        charts = [page.locator(".stPlotlyChart", has_text=title).first for title in ("Reliability", "Accuracy against")]
        for chart in charts:
            chart.wait_for()
        page.wait_for_timeout(1000)
        speed = max(charts, key=lambda chart: chart.bounding_box()["y"] + chart.bounding_box()["height"])
        page.screenshot(path=out / "lab-compression-card.png", clip=clip_between(page, card_top, speed))

        page.get_by_text("Try the models on a digit you draw").click()
        page.wait_for_timeout(5000)  # the canvas component loads
        draw_a_one(page, "lab.drawing.canvas")
        try:
            page.get_by_text("Your digit as the model sees it").wait_for(timeout=60_000)
        except Exception:
            page.screenshot(path=out / "failed.png")
            raise
        page.get_by_text("sure", exact=False).first.wait_for(timeout=60_000)  # the three answers are in
        page.wait_for_timeout(3000)
        page.wait_for_timeout(2000)
        toggle = page.get_by_text("Try the models on a digit you draw").first
        answers = page.locator(".stPlotlyChart", has_text="What each model says").first
        answers.wait_for()
        page.screenshot(path=out / "lab-your-digit.png", clip=clip_between(page, toggle, answers))
        browser.close()


EXPLORER_LINK = "dark_knowledge?explorer.teacher=cnn-wide&digit=3"


def take_explorer(url: str, out: Path) -> None:
    """The explorer's look inside cnn-wide for the first test 3 (its attention maps, feature maps and hidden layer),
    then its high-temperature limit and its soft targets standardised."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 4000})
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{url}/{EXPLORER_LINK}")
        heading = page.get_by_text("What the teacher's features hold").first
        heading.wait_for()
        hidden = page.get_by_test_id("stMarkdown").filter(has_text="Its last hidden layer has").first
        hidden.wait_for()
        for title in ("Where the teacher's conv blocks attend", "most active feature maps"):
            page.locator(".stPlotlyChart", has_text=title).first.wait_for()
        page.wait_for_timeout(3000)  # the charts draw
        page.screenshot(path=out / "explorer-attention.png", clip=clip_between(page, heading, hidden))
        page.goto(f"{url}/{EXPLORER_LINK}&standardise=1")  # the toggle on, for the standardised soft targets
        limit = page.get_by_text("The high-temperature limit").first
        limit.wait_for()
        table = page.get_by_text("The numbers as a table").first
        page.locator(".stPlotlyChart", has_text="How close KD at T comes").first.wait_for()
        toggle = page.get_by_text("Standardise the logits").first
        effective = page.get_by_test_id("stMarkdown").filter(has_text="effective temperature of").first
        page.locator(".stPlotlyChart", has_text="as they are and standardised").first.wait_for()
        effective.wait_for()
        page.wait_for_timeout(3000)  # the charts draw
        page.screenshot(path=out / "explorer-limit.png", clip=clip_between(page, limit, table))
        page.screenshot(path=out / "explorer-standardised.png", clip=clip_between(page, toggle, effective))
        browser.close()


VIEW_LINKS = {  # the default run's size, fewer epochs; seeds of their own, so they train live
    "live-attention.png": "distillation_lab?teacher=cnn-wide&student=cnn-small&soft=at&epochs=20&seed=11",
    "live-relations.png": "distillation_lab?teacher=cnn-wide&student=mlp-200x1&soft=rkd&epochs=20&seed=11",
}


def take_views(url: str, out: Path) -> None:
    """Each run of ``VIEW_LINKS`` trained, its live view photographed a few curve points after it first shows."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.set_default_timeout(60_000)
        for name, link in VIEW_LINKS.items():
            page.goto(f"{url}/{link}")
            train = page.get_by_role("button", name="Train", exact=True)
            train.wait_for()
            page.wait_for_timeout(1000)
            train.click()
            view = page.locator(".st-key-lab-live-feature-view")
            view.locator("g.hm, g.heatmaplayer, g.scatterlayer").first.wait_for(timeout=WAIT_MS)
            page.wait_for_timeout(8000)  # a few curve points on
            note = page.get_by_text("The same test digits at every curve point").first
            page.screenshot(path=out / name, clip=clip_between(page, view, note))
            page.get_by_text("Result of run 1").wait_for(timeout=WAIT_MS)  # each link opens a new session
        browser.close()


TEMPERATURE_LINK = (
    "distillation_lab?teacher=cnn-wide&student=mlp-100x1&schedule=learned&epochs=16&train_size=10000&seed=11"
)


def take_temperature(url: str, out: Path) -> None:
    """A learned-temperature run's result: its accuracy curves with the distilled student's T drawn in the panel
    under them, from its first curve point to its last (the run of 16 epochs on 10,000 images takes seconds, so
    the result, not the live view, holds the whole T curve)."""
    from playwright.sync_api import sync_playwright

    from kdlab.plots.lab import TEMPERATURE_NAME

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 3000})
        page.set_default_timeout(60_000)
        page.goto(f"{url}/{TEMPERATURE_LINK}")
        train = page.get_by_role("button", name="Train", exact=True)
        train.wait_for()
        page.wait_for_timeout(1000)
        train.click()
        try:
            page.get_by_text("Result of run 1").wait_for(timeout=WAIT_MS)
            page.get_by_text(TEMPERATURE_NAME).first.wait_for(timeout=WAIT_MS)
        except Exception:
            page.screenshot(path=out / "failed.png")
            raise
        page.wait_for_timeout(1500)  # the figures drawn
        sentence = page.get_by_text("T went from").first
        limit = page.get_by_text("How close is KD at this T to logit matching?").first
        page.screenshot(path=out / "live-temperature.png", clip=clip_between(page, sentence, limit))
        browser.close()


HOME_TITLES = {  # the title each language's Home waits for
    "es": "Destilación del conocimiento, en directo con MNIST",
    "vi": "Chưng cất tri thức, trực tiếp trên MNIST",
}


LANGUAGE_RUN = "distillation_lab?teacher=cnn-wide&student=mlp-100x1&epochs=3&train_size=10000&T=4&alpha=0.5&seed={seed}"


def take_languages(url: str, out: Path) -> None:
    """In each translated language (``?lang=``): Home's first screen, sidebar included; the explorer's first screen
    for the first test 3; the lab's result of a short run, trained live."""
    from playwright.sync_api import sync_playwright

    from kdlab.i18n import _, speaking

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(WAIT_MS)
        for seed, (code, title) in enumerate(HOME_TITLES.items(), 31):
            page.goto(f"{url}/?lang={code}")
            page.get_by_role("heading", name=title).wait_for()
            page.wait_for_function(f"() => document.documentElement.lang === '{code}'")
            page.wait_for_timeout(2000)  # the formulas and the sidebar's captions settle
            page.screenshot(path=out / f"home-{code}.png")

            page.goto(f"{url}/{EXPLORER_LINK}&lang={code}")
            page.wait_for_function(f"() => document.documentElement.lang === '{code}'")
            page.locator(".stPlotlyChart").first.wait_for()
            page.wait_for_timeout(3000)  # the charts draw
            page.screenshot(path=out / f"explorer-{code}.png")
            shrink(out / f"explorer-{code}.png")

            page.goto(f"{url}/{LANGUAGE_RUN.format(seed=seed)}&lang={code}")
            with speaking(code):
                train_label = _("Train")
            page.get_by_role("button", name=train_label, exact=True).click()
            metrics = page.get_by_test_id("stMetric")
            metrics.nth(2).wait_for(timeout=WAIT_MS)  # the result: teacher, student alone, distilled student
            page.locator(".stPlotlyChart >> visible=true").last.wait_for()
            page.wait_for_timeout(3000)
            metrics.first.scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            page.screenshot(path=out / f"lab-{code}.png")
            shrink(out / f"lab-{code}.png")
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="a folder with MNIST/raw/ inside (full MNIST)")
    parser.add_argument("--teachers", required=True, help="a teacher cache folder to copy (cnn-wide inside)")
    parser.add_argument("--out", default=str(IMAGES), help=f"where the PNGs go (default {IMAGES})")
    parser.add_argument(
        "--only",
        choices=("lab", "explorer", "views", "temperature", "languages"),
        help="one page's screenshots (default: all of them)",
    )
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder) / "cache"
        shutil.copytree(Path(arguments.teachers).expanduser(), cache / "teachers")
        seed_class(cache)
        env = {
            **os.environ,
            "KDLAB_DATA_DIR": str(Path(arguments.data_dir).resolve()),
            "KDLAB_CACHE_DIR": str(cache),
            "KDLAB_DEVICE": "cpu",
        }
        names = []
        with serve_app(Path(folder), env) as url:
            if arguments.only in (None, "lab"):
                take(url, Path(arguments.out))
                names += ["lab-compression-card.png", "lab-your-digit.png"]
            if arguments.only in (None, "explorer"):
                take_explorer(url, Path(arguments.out))
                names += ["explorer-attention.png", "explorer-limit.png", "explorer-standardised.png"]
            if arguments.only in (None, "views"):
                take_views(url, Path(arguments.out))
                names += list(VIEW_LINKS)
            if arguments.only in (None, "temperature"):
                take_temperature(url, Path(arguments.out))
                names.append("live-temperature.png")
            if arguments.only in (None, "languages"):
                take_languages(url, Path(arguments.out))
                names += [f"home-{code}.png" for code in HOME_TITLES]
    for name in names:
        shrink(Path(arguments.out) / name)


if __name__ == "__main__":
    main()
