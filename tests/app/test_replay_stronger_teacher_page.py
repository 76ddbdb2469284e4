"""The stronger-teacher replay's tab: three seeds unless told, then the verdict, the gain-against-teacher-errors lines
and each teacher's row (tiny budget, offline, two quick teachers standing in for the four)."""

from dataclasses import replace

from tests.app.helpers import open_alone, texts
from tests.app.test_replay_pages import TIMEOUT, click_and_wait, tiny_budget  # noqa: F401 (a fixture)
from tests.unit.test_replay_stronger_teacher import TINY


def test_the_stronger_teacher_tab_shows_the_verdict_the_lines_and_each_teachers_gains(tiny_budget, monkeypatch):  # noqa: F811
    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.stronger_teacher import stronger_teacher_config

    def tiny(budget, **settings):
        small = {**TINY, "teachers": ("linear", "mlp-20x1"), "train_size": 150}
        return stronger_teacher_config(budget, **small, **settings)

    name = "stronger-teacher"
    monkeypatch.setitem(replays.REPLAYS, name, replace(replays.REPLAYS[name], config=tiny))
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    assert app.slider(key=f"replay.{name}.seeds").value == 3  # the replay's own default
    app.slider(key=f"replay.{name}.seeds").set_value(2).run()
    click_and_wait(app, f"Run the {name} replay (quick budget) at 2 seeds")
    assert not app.exception, [error.value for error in app.exception]
    shown = texts(app.info)
    assert "**Verdict.** KD, mean errors removed by teacher (weakest first): " in shown  # by their own errors
    assert "DIST and KD" in shown or "beat" in shown  # the last sentence compares them at the strongest teacher
    (teachers,) = [frame.value for frame in app.dataframe if "Teacher's test errors" in frame.value.columns]
    assert list(teachers["Teacher"]) == ["linear", "mlp-20x1"]
    assert all(cell.count("[") == 1 for cell in teachers["DIST: errors removed"])  # each gain with its interval
    charts = [chart.proto.spec for chart in app.get("plotly_chart")]
    assert any("Standardised KD" in chart and "teacher's test errors" in chart for chart in charts)
    (table,) = [frame.value for frame in app.dataframe if "Comparison" in frame.value.columns]
    assert "DIST vs KD (mlp-20x1)" in list(table["Comparison"])
