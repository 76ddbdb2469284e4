"""The replay page's Seeds control: the decoupled replay at two seeds from one Run, then which
differences are bigger than the seed-to-seed spread, in words and in a table (tiny budget, offline)."""

from tests.app.helpers import open_alone, texts
from tests.app.test_replay_pages import TIMEOUT, click_and_wait, tiny_budget  # noqa: F401 (a fixture)


def test_the_decoupled_replay_at_two_seeds_says_which_differences_beat_the_spread(
    tiny_budget,  # noqa: F811
    monkeypatch,
    linear_teacher,
):
    from dataclasses import replace

    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.decoupled import decoupled_config
    from tests.conftest import TINY_TEACHER_EPOCHS

    def tiny(budget, **settings):
        small = dict(teacher="linear", teacher_epochs=TINY_TEACHER_EPOCHS, student="mlp-20x1", train_size=500)
        return decoupled_config(budget, **small, **settings)

    monkeypatch.setitem(replays.REPLAYS, "decoupled", replace(replays.REPLAYS["decoupled"], config=tiny))
    app = open_alone("pages/paper_replays.py", timeout=TIMEOUT)
    assert app.slider(key="replay.decoupled.seeds").value == 1
    app.slider(key="replay.decoupled.seeds").set_value(2).run()
    click_and_wait(app, "Run the decoupled replay (quick budget) at 2 seeds")
    assert not app.exception, [e.value for e in app.exception]
    assert "Over seeds: which differences are bigger than the spread?" in texts(app.subheader)
    assert "Over seeds 0, 1" in texts(app.markdown)
    (table,) = [frame.value for frame in app.dataframe if "Comparison" in frame.value.columns]
    assert "nckd vs kd" in list(table["Comparison"]) and set(table["Bigger than the spread"]) <= {"yes", "no"}
