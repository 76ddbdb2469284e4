"""AppTest runs of the paper-replay and training-scheme pages, each page on its own, with
tiny budgets so a replay or a comparison trains in seconds on the offline sample."""

import re

import pytest
from streamlit.testing.v1 import AppTest

import kdlab.experiments.replays.config as replay_configs
from kdlab.experiments.replays import REPLAYS, Budget, format_value
from kdlab.ml.metrics import evaluate_bias
from kdlab.serve.jobs import default_runner
from kdlab.ui import replay_cards
from tests.app.helpers import open_alone, open_page
from tests.conftest import PROJECT_ROOT

PAGES = PROJECT_ROOT / "pages"
TIMEOUT = 120
TINY = Budget("test", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200)


@pytest.fixture
def tiny_budget(monkeypatch):
    """The page's quick budget and grid, shrunk; the replay code paths stay the real ones."""
    monkeypatch.setitem(replay_configs.BUDGETS, "quick", TINY)
    monkeypatch.setitem(replay_configs.QUICK_GRID, "widths", (10, 20))
    monkeypatch.setitem(replay_configs.QUICK_GRID, "temperatures", (2.0,))


def paper_errors(name: str, number: str) -> str:
    """A paper number as the comparison table shows it, e.g. "67 of 10,000 wrong (0.67%)"."""
    return format_value(REPLAYS[name].paper_numbers[number], "errors", REPLAYS[name].paper_numbers["test_size"])


def button(app: AppTest, label_start: str):
    return next(b for b in app.button if b.label.startswith(label_start))


def click_and_wait(app: AppTest, label_start: str) -> None:
    """Click a Run button, wait for the background job it starts, then rerun the page.

    The page's live view is an ``st.fragment`` that AppTest never ticks, so the test waits on
    the job itself and reruns the page once it is done, as the fragment would.
    """
    before = {job.id for job in default_runner().jobs()}
    button(app, label_start).click().run()
    assert not app.exception
    (job,) = [job for job in default_runner().jobs() if job.id not in before]  # the one the click started
    assert default_runner().wait(job, timeout=TIMEOUT), "the background job did not finish in time"
    app.run()


def test_replay_page_renders_every_replay_with_the_papers_numbers(tiny_budget):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    assert not app.exception
    assert app.title[0].value.startswith("Paper replays")
    assert len(app.tabs) == len(REPLAYS)
    captions = " ".join(caption.value for caption in app.caption)
    table, omit, only = (
        REPLAYS["table"].paper_numbers,
        REPLAYS["omit-3"].paper_numbers,
        REPLAYS["only-7-8"].paper_numbers,
    )
    shown = [
        f"teacher {table['teacher_errors']} test errors",
        f"student alone {table['student_alone_errors']},",
        f"distilled student {table['distilled_errors']} ",
        f"{omit['errors']} errors, {omit['errors_on_3s']} of",
        f"the {omit['test_3s']:,} test 3s",
        f"{omit['accuracy_on_3s_after_bias']:.1%} of the 3s",
        f"Paper: {only['test_error_rate']:.1%} test error",
        f"{only['test_error_rate_after_bias']:.1%} after",
    ]
    assert [text for text in shown if text not in captions] == []
    assert [b.label for b in app.button if b.label.startswith("Run the")] == [
        "Run the table replay (quick budget)",
        "Run the omit-3 replay (quick budget)",
        "Run the only-7-8 replay (quick budget)",
        "Run the temperature-width replay (quick budget)",
        "Run the compression replay (quick budget)",
        "Run the decoupled replay (quick budget)",
        "Run the knowledge replay (quick budget) at 3 seeds",  # its verdict needs the spread: 3 seeds unless told
        "Run the temperature-schedules replay (quick budget) at 3 seeds",
        "Run the stronger-teacher replay (quick budget) at 3 seeds",
    ]


def test_no_prose_types_the_papers_numbers():
    """The paper's numbers reach the page only through each replay's paper_numbers: none is typed into its text."""
    numbers = [
        value
        for replay in ("table", "omit-3", "only-7-8")
        for key, value in REPLAYS[replay].paper_numbers.items()
        if key not in ("test_size", "temperature")
    ]
    rates = [value for value in numbers if 0 < abs(value) < 1]
    table = REPLAYS["table"].paper_numbers
    gained = table["student_alone_errors"] - table["distilled_errors"]  # the page's "72 of 146, 91% of the gap"
    closed = gained / (table["student_alone_errors"] - table["teacher_errors"])
    words = {f"{abs(value):g}" for value in numbers} | {f"{value:,}" for value in numbers if value >= 1_000}
    words |= (
        {f"{value:.1%}" for value in rates} | {f"{1 - value:.1%}" for value in rates} | {f"{gained}", f"{closed:.0%}"}
    )
    for path in (
        PAGES / "paper_replays.py",
        PROJECT_ROOT / "kdlab" / "ui" / "replays.py",
        PROJECT_ROOT / "kdlab" / "ui" / "replays_page.py",
    ):
        source = path.read_text()
        typed = sorted(word for word in words if re.search(rf"(?<![\w.,-]){re.escape(word)}(?![\w%]|[.,]\d)", source))
        assert typed == [], f"{path.name} types the paper's numbers {typed}: take them from the replay's paper_numbers"


def test_omit_3_runs_in_the_background_and_the_slider_never_retrains(tiny_budget):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    click_and_wait(app, "Run the omit-3")
    assert not app.exception
    slider = app.slider(key=next(s.key for s in app.slider if s.key.endswith(".bias.3")))
    result = default_runner().jobs()[-1].result
    assert slider.value == result.summary["bias_used"]
    jobs_before = len(default_runner().jobs())
    slider.set_value(4.2).run()
    assert not app.exception
    assert len(default_runner().jobs()) == jobs_before  # moving the bias trained nothing
    expected = evaluate_bias(result.test_logits["distilled"], result.test_labels, {3: 4.2})
    assert app.metric[0].value == f"{expected.errors:,} of {expected.total:,}"
    assert app.metric[1].value == f"{expected.class_errors:,} of {expected.class_total:,}"
    table = app.dataframe[0].value
    assert "Paper" in table.columns and paper_errors("omit-3", "errors") in set(table["Paper"])


def test_temperature_width_grid_comes_from_the_cache_on_the_next_visit(tiny_budget):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    click_and_wait(app, "Run the temperature-width")
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1  # the heatmap
    assert "This result: trained for you." in [caption.value for caption in app.caption]
    jobs = len(default_runner().jobs())
    later = open_alone("pages/paper_replays.py", timeout=TIMEOUT)  # a new session
    button(later, "Run the temperature-width").click().run()
    assert not later.exception and len(default_runner().jobs()) == jobs  # no job: the grid comes from the cache
    assert any(caption.value.startswith("This result: from the cache: trained at ") for caption in later.caption)
    # The grid's compression card: each width's architecture measured, with its best temperature's accuracy.
    (measure,) = [b for b in later.button if "temperature-width" in b.key and b.key.endswith(".card.measure")]
    measure.click().run()
    assert not later.exception, [error.value for error in later.exception]
    card = next(frame.value for frame in later.dataframe if "ECE" in frame.value.columns)
    findings = default_runner().jobs()[-1].result.summary["findings"]["by_width"]
    expected = {f"Distilled, width {f['width']} (best T)": 100 * f["best_accuracy"] for f in findings}
    assert dict(zip(card[""], card["test accuracy"])) == pytest.approx(expected)
    assert (card["parameters"] > 0).all() and (card["ms per image"] > 0).all() and card["ECE"].isna().all()


def test_schemes_page_compares_every_scheme_with_the_references():
    app = open_alone("pages/training_schemes.py", timeout=TIMEOUT)
    assert not app.exception
    assert app.title[0].value == "Training schemes"
    app.selectbox(key="schemes.teacher").select("linear")
    app.select_slider(key="schemes.train_size").set_value("1,000")
    app.slider(key="schemes.epochs").set_value(1)
    app.slider(key="schemes.generations").set_value(1)
    click_and_wait(app, "Compare the schemes")
    assert not app.exception
    assert [tab.label for tab in app.tabs] == [
        "Offline KD",
        "Deep mutual learning",
        "Born-again networks",
        "Teacher assistant",
    ]
    labels = [metric.label for metric in app.metric]
    assert labels.count("vs the student alone") == 4 and labels.count("vs offline KD") == 4
    assert len(app.get("plotly_chart")) == 1 + 2 * 4


def test_table_and_only_7_8_show_ours_beside_the_paper(tiny_budget):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    click_and_wait(app, "Run the table")
    assert [metric.label for metric in app.metric[:3]] == ["Teacher", "Student alone", "Distilled, T = 20"]
    paper = REPLAYS["table"].paper_numbers
    assert f"paper: {paper['teacher_errors']} of {paper['test_size']:,}" in app.metric[0].proto.delta
    gained = paper["student_alone_errors"] - paper["distilled_errors"]
    assert (app.info or app.warning) and f"the paper: {gained} of {paper['student_alone_errors']}" in (
        app.info or app.warning
    )[0].value
    numbers = ("teacher_errors", "student_alone_errors", "distilled_errors")
    assert list(app.dataframe[0].value["Paper"]) == [paper_errors("table", number) for number in numbers]
    click_and_wait(app, "Run the only-7-8")
    assert not app.exception
    sliders = [slider.key for slider in app.slider if ".bias." in slider.key]
    assert [key.rsplit(".", 1)[-1] for key in sliders] == ["7", "8"]
    assert any("saw only 7s and 8s" in success.value for success in app.success)


@pytest.fixture
def tiny_compression(monkeypatch):
    """The compression replay's quick budget, shrunk; its ensemble (three small CNNs) stays the real one."""
    import kdlab.experiments.replays.bucila_settings as compression

    tiny = compression.CompressionBudget(
        "test", labelled_size=400, transfer_size=600, teacher_epochs=1, student_epochs=1
    )
    monkeypatch.setitem(compression.COMPRESSION_BUDGETS, "quick", tiny)


def test_compression_tab_shows_the_transfer_images_the_errors_and_the_claim(tiny_compression):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    intro = " ".join(markdown.value for markdown in app.markdown)
    assert "MUNGE" in intro and "Bucila" in intro
    assert REPLAYS["compression"].paper_numbers["claim"] in " ".join(caption.value for caption in app.caption)
    click_and_wait(app, "Run the compression")
    assert not app.exception, [error.value for error in app.exception]
    summary = default_runner().jobs()[-1].result.summary
    assert summary["replay"] == "compression" and summary["status"] == "completed"
    captions = [caption for image in app.get("image") for caption in image.captions]
    assert [caption.split(":")[0] for caption in captions] == [
        "The labelled set",
        "Real MNIST images whose labels are ignored",
        "MUNGE images",
        "Random noise",
    ]
    assert any(chart.proto.id.endswith("errors") for chart in app.get("plotly_chart"))
    verdicts = [element.value for element in app.success] + [element.value for element in app.warning]
    assert any(f"The ensemble makes {summary['ours']['ensemble_errors']:,} errors" in text for text in verdicts)
    table = app.dataframe[-1].value
    assert list(table["Paper"])[-1] == REPLAYS["compression"].paper_numbers["expected"]["noise"]
    assert f"{summary['ours']['noise_errors']:,} of" in list(table["Ours"])[-1]


def test_home_starts_where_the_field_starts_and_links_both_replays():
    from urllib.parse import parse_qs

    app = open_page(timeout=TIMEOUT)
    assert not app.exception
    assert app.subheader[0].value == "Where it comes from"
    story = app.markdown[1].value
    assert story.index("Bucila") < story.index("Hinton") and "MUNGE" in story and "temperature" in story
    tabs = {link.proto.label: parse_qs(link.proto.query_string).get("replay.tab") for link in app.get("page_link")}
    assert tabs["Replay Bucila et al.'s model compression (2006)"] == [REPLAYS["compression"].title]
    assert tabs["Replay Hinton et al.'s MNIST table (2015)"] == [REPLAYS["table"].title]


def test_on_a_classroom_server_only_the_instructor_starts_a_full_budget_replay(monkeypatch):
    def full_budget(query: dict | None = None) -> AppTest:
        app = open_alone("pages/paper_replays.py", query=query, timeout=TIMEOUT)
        app.radio(key="replay.budget").set_value("full").run()
        assert not app.exception
        return app

    at_home = full_budget()  # no instructor key: a laptop, where anyone may
    assert not button(at_home, "Run the table replay (full budget)").disabled

    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", "s3cret-key-of-16-chars")
    student = full_budget()
    assert button(student, "Run the table replay (full budget)").disabled
    assert any("only the instructor starts full-budget replays" in info.value for info in student.info)
    student.radio(key="replay.budget").set_value("quick").run()
    assert not button(student, "Run the table replay (quick budget)").disabled

    instructor = full_budget({"key": "s3cret-key-of-16-chars"})
    assert not button(instructor, "Run the table replay (full budget)").disabled


def test_decoupled_tab_shows_five_students_and_each_claims_verdict(tiny_budget, monkeypatch, linear_teacher):
    """The tab's Run button trains the real replay, with the tests' linear teacher standing in for cnn-wide."""
    from dataclasses import replace

    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.decoupled import decoupled_config
    from tests.conftest import TINY_TEACHER_EPOCHS

    def tiny(budget, **settings):
        small = dict(teacher="linear", teacher_epochs=TINY_TEACHER_EPOCHS, student="mlp-20x1", train_size=500)
        return decoupled_config(budget, **small, **settings)

    monkeypatch.setitem(replays.REPLAYS, "decoupled", replace(replays.REPLAYS["decoupled"], config=tiny))
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    click_and_wait(app, "Run the decoupled")
    assert not app.exception
    paper = REPLAYS["decoupled"].paper_numbers
    # Other tabs may show results of their own (a temperature-width grid cached by an earlier test): take this tab's.
    (claims,) = [frame.value for frame in app.dataframe if "TCKD alone" in list(frame.value.iloc[:, 0])]
    assert list(claims["Paper"]) == [paper["nckd"], paper["tckd"], paper["dkd"]]
    verdicts = list(claims["Ours"])
    assert all(verdict.split(":")[0] in ("holds", "does not hold", "cannot tell") for verdict in verdicts)
    assert any("classical KD weights NCKD by only" in info.value for info in app.info)
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert any("TCKD only" in bars and "NCKD only" in bars for bars in charts)


def test_the_table_replay_shows_a_compression_card_of_its_students(tiny_budget):
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    click_and_wait(app, "Run the table")
    result = default_runner().jobs()[-1].result
    assert sorted(result.student_files) == ["baseline", "distilled"]
    tables = len(app.dataframe)
    (measure,) = [b for b in app.button if b.key.startswith("replay.table.") and b.key.endswith(".card.measure")]
    measure.click().run()
    assert not app.exception, [error.value for error in app.exception]
    assert len(app.dataframe) == tables + 1
    card = next(frame.value for frame in app.dataframe if "ECE" in frame.value.columns)
    assert sorted(card[""]) == ["Distilled student", "Student alone", "Teacher"]
    assert (card["parameters"] > 0).all() and (card["weights (KB)"] > 0).all() and (card["ms per image"] > 0).all()
    assert card["ECE"].between(0, 1).all() and card["test accuracy"].between(0, 100).all()
    errors = result.summary["ours"]
    by_name = dict(zip(card[""], card["test accuracy"]))
    total = errors["test_size"]
    assert abs(by_name["Student alone"] - 100 * (1 - errors["student_alone_errors"] / total)) < 1e-6
    assert abs(by_name["Teacher"] - 100 * (1 - errors["teacher_errors"] / total)) < 1e-6
    assert replay_cards.TEACHER_NOTE in " ".join(caption.value for caption in app.caption)
    assert any("Distilled:" in info.value and "smaller" in info.value for info in app.info)
