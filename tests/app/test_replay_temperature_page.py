"""The temperature-schedules replay's tab: three seeds unless told, then the verdict, the bars, how close T = 50
came to logit matching, each seed's learned T and the papers' claims beside ours (tiny budget, offline, a linear
teacher standing in for cnn-wide)."""

from dataclasses import replace

from kdlab.experiments.replays import REPLAYS
from tests.app.helpers import open_alone, texts
from tests.app.test_replay_pages import TIMEOUT, click_and_wait, tiny_budget  # noqa: F401 (a fixture)


def test_the_temperature_tab_shows_the_verdict_the_limit_and_the_learned_t(tiny_budget, monkeypatch):  # noqa: F811
    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.temperature_schedules import temperature_config

    def tiny(budget, **settings):
        small = dict(teacher="linear", teacher_epochs=1, train_size=300, evals_per_epoch=1, curve_test_images=100)
        return temperature_config(budget, **small, **settings)

    name = "temperature-schedules"
    monkeypatch.setitem(replays.REPLAYS, name, replace(replays.REPLAYS[name], config=tiny))
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    assert app.slider(key=f"replay.{name}.seeds").value == 3  # the replay's own default
    app.slider(key=f"replay.{name}.seeds").set_value(2).run()
    click_and_wait(app, f"Run the {name} replay (quick budget) at 2 seeds")
    assert not app.exception, [error.value for error in app.exception]
    assert "**Verdict.**" in texts(app.info) and "Mean errors, fewest first:" in texts(app.info)
    shown = texts(app.markdown)
    assert "**How close the limit comes** (this seed): KD at T = 50 and logit matching" in shown
    assert "**The learned T** ended at " in shown and "(seed by seed)" in shown
    assert "the lab's alpha = 0.9" in shown  # the weighting, declared in the introduction
    (claims,) = [frame.value for frame in app.dataframe if "Paper" in frame.value.columns]
    sun = REPLAYS[name].paper_numbers["sun"]
    assert f"KD {sun['kd']:.2f} -> {sun['standardised']:.2f}" in " ".join(claims["Paper"])
    assert any("fewer errors than KD at T = 4" in ours or "more errors than KD" in ours for ours in claims["Ours"])
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert any("Logit matching (the high-T limit)" in chart and "mean over seeds 0, 1" in chart for chart in charts)
    (table,) = [frame.value for frame in app.dataframe if "Comparison" in frame.value.columns]
    assert "standardised vs T = 4" in list(table["Comparison"])
