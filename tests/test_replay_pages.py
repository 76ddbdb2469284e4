"""AppTest runs of the paper-replay and training-scheme pages, each page on its own, with
tiny budgets so a replay or a comparison trains in seconds on the offline sample."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdlab import replays
from kdlab.jobs import default_runner
from kdlab.replays import Budget, evaluate_bias

PAGES = Path(__file__).resolve().parent.parent / "pages"
TIMEOUT = 120
TINY = Budget("test", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200)


@pytest.fixture
def tiny_budget(monkeypatch):
    """The page's quick budget and grid, shrunk; the replay code paths stay the real ones."""
    monkeypatch.setitem(replays.BUDGETS, "quick", TINY)
    monkeypatch.setitem(replays.QUICK_GRID, "widths", (10, 20))
    monkeypatch.setitem(replays.QUICK_GRID, "temperatures", (2.0,))


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / name), default_timeout=TIMEOUT)


def button(app: AppTest, label_start: str):
    return next(b for b in app.button if b.label.startswith(label_start))


def click_and_wait(app: AppTest, label_start: str) -> None:
    """Click a Run button, wait for the background job it starts, then rerun the page.

    The page's live view is an ``st.fragment`` that AppTest never ticks, so the test waits on
    the job itself and reruns the page once it is done, as the fragment would.
    """
    button(app, label_start).click().run()
    assert not app.exception
    job = default_runner().jobs()[-1]
    assert default_runner().wait(job, timeout=TIMEOUT), "the background job did not finish in time"
    app.run()


def test_replay_page_renders_every_replay_with_the_papers_numbers(tiny_budget):
    app = page("paper_replays.py").run()
    assert not app.exception
    assert app.title[0].value.startswith("Paper replays")
    assert len(app.tabs) == 4
    captions = " ".join(caption.value for caption in app.caption)
    assert "67" in captions and "206" in captions and "47.3%" in captions
    assert [b.label for b in app.button if b.label.startswith("Run the")] == [
        "Run the table replay (quick budget)", "Run the omit-3 replay (quick budget)",
        "Run the only-7-8 replay (quick budget)", "Run the temperature-width replay (quick budget)"]


def test_omit_3_runs_in_the_background_and_the_slider_never_retrains(tiny_budget):
    app = page("paper_replays.py").run()
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
    assert "Paper" in table.columns and "206 of 10,000 wrong (2.06%)" in set(table["Paper"])


def test_temperature_width_grid_is_shown_from_the_cache_on_the_next_visit(tiny_budget):
    app = page("paper_replays.py").run()
    click_and_wait(app, "Run the temperature-width")
    assert not app.exception
    assert len(app.get("plotly_chart")) == 1  # the heatmap
    later = page("paper_replays.py").run()  # a new session: no job, the grid comes from the disk cache
    assert not later.exception
    assert any("computed once and stored" in caption.value for caption in later.caption)


def test_schemes_page_compares_every_scheme_with_the_references():
    app = page("training_schemes.py").run()
    assert not app.exception
    assert app.title[0].value == "Training schemes"
    app.selectbox(key="schemes.teacher").select("linear")
    app.select_slider(key="schemes.train_size").set_value("1,000")
    app.slider(key="schemes.epochs").set_value(1)
    app.slider(key="schemes.generations").set_value(1)
    click_and_wait(app, "Compare the schemes")
    assert not app.exception
    assert [tab.label for tab in app.tabs] == ["Offline KD", "Deep mutual learning", "Born-again networks",
                                               "Teacher assistant"]
    labels = [metric.label for metric in app.metric]
    assert labels.count("vs the student alone") == 4 and labels.count("vs offline KD") == 4
    assert len(app.get("plotly_chart")) == 1 + 2 * 4


def test_table_and_only_7_8_show_ours_beside_the_paper(tiny_budget):
    app = page("paper_replays.py").run()
    click_and_wait(app, "Run the table")
    assert [metric.label for metric in app.metric[:3]] == ["Teacher", "Student alone", "Distilled, T = 20"]
    assert "paper: 67 of 10,000" in app.metric[0].proto.delta
    assert (app.info or app.warning) and "the paper: 72 of 146" in (app.info or app.warning)[0].value
    click_and_wait(app, "Run the only-7-8")
    assert not app.exception
    sliders = [slider.key for slider in app.slider if ".bias." in slider.key]
    assert [key.rsplit(".", 1)[-1] for key in sliders] == ["7", "8"]
    assert any("saw only 7s and 8s" in success.value for success in app.success)
