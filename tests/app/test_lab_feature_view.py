"""The lab's view of a feature method: an attention run (cnn-small from lenet5) shows the teacher's and the
student's attention maps for the fixed test digits, the AT distance over the run, each with its sentence, and the
loss anatomy's attention term."""

import pytest

from kdlab.ml.methods.registry import METHODS
from tests.app.helpers import chart_spec, open_alone, run_until, texts

LAB = "pages/distillation_lab.py"

pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


def test_an_attention_run_shows_both_networks_maps_and_their_distance():
    at = open_alone(LAB, query={"teacher": "lenet5", "student": "cnn-small", "soft": "at", "epochs": "2"})
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(73)  # a seed of its own: trained here, not from the cache
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=600)
    assert not at.exception, [e.value for e in at.exception]
    view = chart_spec(at, "lab.result.feature.view")
    titles = [annotation["text"] for annotation in view["layout"]["annotations"]]
    assert titles == ["digit", *(f"{side}<br>block {block}" for block in (1, 2) for side in ("teacher", "student"))]
    maps = [trace for trace in view["data"] if trace["type"] == "heatmap"]
    assert len(maps) == 4 * 5  # four digits: the digit, then both networks' maps at both blocks
    assert len(maps[1]["z"]) == len(maps[2]["z"]) == 12  # lenet5's 14 x 14 block pooled to cnn-small's 12 x 12
    captions = texts(at.caption)
    assert "The teacher's and the student's attention maps for the test digits 2, 3, 4, 7" in captions
    assert "AT distance: the mean squared gap between the maps" in captions
    distance = chart_spec(at, "lab.result.feature.distance")
    assert len(distance["data"][0]["y"]) >= 2 and all(value > 0 for value in distance["data"][0]["y"])
    names = [trace.get("name") for trace in chart_spec(at, "lab.result.loss")["data"]]
    assert METHODS["at"].transfer.part in names  # the term beside the soft and hard ones
