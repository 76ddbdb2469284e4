"""A learned temperature in the lab: a link sets the schedule and standardised logits, the caption under the formula
says what T means then, the trained run's accuracy figure draws T in a panel under it and the result says where T
went; the runs page (a reload) shows the same."""

import pytest

from kdlab.ml.temperature import SCHEDULES
from kdlab.plots.lab import TEMPERATURE_NAME
from tests.app.helpers import chart_spec, open_alone, run_until, texts

LAB = "pages/distillation_lab.py"
LINK = {"teacher": "linear", "student": "mlp-20x1", "schedule": "learned", "standardise": "1", "epochs": "2"}

pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


def temperature_trace(at, key: str) -> dict:
    traces = [trace for trace in chart_spec(at, key)["data"] if trace.get("name") == TEMPERATURE_NAME]
    assert len(traces) == 1, f"no temperature drawn on {key}"
    return traces[0]


def test_a_learned_temperature_run_draws_t_and_says_where_it_went(linear_teacher):
    at = open_alone(LAB, query=LINK)
    assert "the soft term uses $Z(z)/T$ in place of $z/T$" in texts(at.caption)
    # the schedule as its radio names it, then its line
    assert f"Temperature schedule learned (CTKD): {SCHEDULES['learned']}" in texts(at.caption)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(79)  # a seed of its own: trained here, not from the cache
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
    assert not at.exception, [e.value for e in at.exception]
    trace = temperature_trace(at, "lab.result.accuracy")
    assert len(trace["y"]) >= 2 and trace["y"][0] != trace["y"][-1]  # T moved over the run
    sentence = next(text for text in texts(at.markdown).splitlines() if "T went from 4 to " in text)
    assert "(learned, CTKD" in sentence and "as the student learnt." in sentence
    assert f"to {trace['y'][-1]:.3g} " in sentence  # the figure's last T is the sentence's

    runs = open_alone("pages/runs.py", student=at.query_params["s"])  # a reload: the run from the database
    assert not runs.exception, [e.value for e in runs.exception]
    assert temperature_trace(runs, "accuracy")["y"] == trace["y"]
    assert sentence in texts(runs.markdown)


def test_a_constant_temperature_says_nothing_new():
    at = open_alone(LAB, query={"teacher": "linear", "student": "mlp-20x1"})
    captions = texts(at.caption)
    assert "Standardised logits" not in captions and "Temperature schedule" not in captions
