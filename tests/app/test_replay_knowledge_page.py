"""The knowledge replay's tab: three seeds unless told, then each transfer set's verdict, the bars and the
published numbers beside ours (tiny budget, offline, lenet5 standing in for cnn-wide)."""

from dataclasses import replace

from kdlab.experiments.replays import REPLAYS
from tests.app.helpers import open_alone, texts
from tests.app.test_replay_pages import TIMEOUT, click_and_wait, tiny_budget  # noqa: F401 (a fixture)


def test_the_knowledge_tab_shows_the_verdict_the_bars_and_the_published_numbers(tiny_budget, monkeypatch):  # noqa: F811
    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.knowledge import knowledge_config

    def tiny(budget, **settings):
        small = dict(teacher="lenet5", teacher_epochs=1, train_sizes=(150,), evals_per_epoch=1, curve_test_images=100)
        return knowledge_config(budget, **small, **settings)

    monkeypatch.setitem(replays.REPLAYS, "knowledge", replace(replays.REPLAYS["knowledge"], config=tiny))
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    assert app.slider(key="replay.knowledge.seeds").value == 3  # the replay's own default
    app.slider(key="replay.knowledge.seeds").set_value(2).run()
    click_and_wait(app, "Run the knowledge replay (quick budget) at 2 seeds")
    assert not app.exception, [error.value for error in app.exception]
    shown = texts(app.info)
    assert "**Verdict.** With 150 transfer images:" in shown and "Mean errors, fewest first:" in shown
    assert "Each feature or relation term alone with the labels" in texts(app.markdown)  # the weighting, declared
    paper = REPLAYS["knowledge"].paper_numbers["repdistiller"]
    (published,) = [
        frame.value
        for frame in app.dataframe
        if "Hints (FitNets: the last hidden layer)" in list(frame.value.iloc[:, 0])
    ]
    assert f"RepDistiller {paper['hints']:.2f}%" in published["Paper"].iloc[1]
    assert all(ours.endswith(" of 5)") for ours in published["Ours"])
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert any("KD + AT" in chart and "150 transfer images" in chart for chart in charts)
    (table,) = [frame.value for frame in app.dataframe if "Comparison" in frame.value.columns]
    assert "AT vs KD (150 images)" in list(table["Comparison"])
