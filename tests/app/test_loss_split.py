"""The soft term's two parts on the pages: the lab's loss anatomy draws TCKD and the weighted NCKD
(live and in the result) and says how much classical KD weighs the wrong digits; the explorer splits
the chosen digit's soft target in the same two parts."""

from kdlab.ml.methods.registry import METHODS
from tests.app.helpers import chart_spec, open_alone, run_until, texts

LAB = "pages/distillation_lab.py"


def test_the_lab_draws_the_two_parts_and_weighs_the_wrong_digits(linear_teacher):
    at = open_alone(LAB, {"lab.teacher": "linear"})
    at.slider(key="lab.epochs").set_value(2)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(71)  # a seed of its own: trained here, not from the cache
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    names = [trace.get("name") for trace in chart_spec(at, "lab.result.loss")["data"]]
    assert all(name in names for _, name in METHODS["kd"].anatomy)
    assert "the weight classical KD gives the wrong digits' ranking" in texts(at.caption)  # the teacher is cached now
    assert "over the 500 transfer images" in texts(at.caption)


def test_the_explorer_shows_both_parts_of_the_chosen_digit():
    at = open_alone("pages/dark_knowledge.py", {"explorer.teacher": "linear"})
    at = run_until(at, lambda at: len(at.select_slider) > 0, timeout=240)
    assert "The two parts of the soft target at T = " in texts(at.markdown)
    assert "what NCKD matches" in texts(at.markdown)
