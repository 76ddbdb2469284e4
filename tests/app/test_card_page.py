"""The lab result's compression card, measured on request: headline, table, reliability and speed charts,
and the class's runs on the speed chart."""

from kdlab.classroom.classes import set_class
from kdlab.db.database import open_database
from tests.app.helpers import chart_spec, open_alone, run_until, texts
from tests.conftest import make_class

TEACHER = "linear"


def measured_card(seed: int, query: dict | None = None):
    """The lab page with a finished run of its own ``seed`` (not served from the result cache), its card measured."""
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER}, query)
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(seed)
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))
    assert "Distilled:" not in texts(at.info)  # timing costs seconds: only on request
    assert "Takes a few seconds" in texts(at.caption)
    at.button(key="lab.card.measure").click().run()
    assert not at.exception
    return at


def test_measuring_the_card_of_a_lab_run_shows_its_three_models():
    at = measured_card(31)
    assert "Takes a few seconds" not in texts(at.caption)  # the offer goes once the card is measured
    headline = next(text for text in texts(at.info).splitlines() if "Distilled:" in text)
    assert "smaller" in headline and "faster per image" in headline and "accurate than its teacher" in headline
    table = at.dataframe[-1].value
    assert list(table[""]) == ["Teacher", "Distilled student", "Student alone"]
    assert (table["ms per image"] > 0).all() and (table["ONNX (KB)"] > 0).all()
    assert table["ECE"].notna().all()  # the student alone measured from its own weights, like the others
    assert table["ECE"][1] != table["ECE"][2]
    reliability = chart_spec(at, "lab.card.reliability")
    assert [trace["name"].split(" (")[0] for trace in reliability["data"]][1:] == [
        "Teacher",
        "Distilled student",
        "Student alone",
    ]
    speed = chart_spec(at, "lab.card.speed")
    assert [trace["name"] for trace in speed["data"]] == ["Teacher", "Distilled student", "Student alone"]
    assert "Open circles" not in texts(at.caption)  # this student's runs count for no class


def test_the_speed_chart_shows_the_classs_other_runs():
    make_class("CARD-1", [[(2.0, 0.5, 80, 60, None)], [(8.0, 0.5, 80, 75, None)]])
    at = measured_card(34, {"class": "CARD-1"})
    speed = chart_spec(at, "lab.card.speed")
    names = [trace["name"] for trace in speed["data"]]
    assert names[:2] == ["Class: distilled students", "Class: students alone"]
    distilled = speed["data"][0]
    assert sorted(distilled["y"]) == [92.5, 94.0]  # 1 - 75/1000 and 1 - 60/1000: this run is not among them
    assert len(set(distilled["x"])) == 1 and distilled["x"][0] > 0  # mlp-100x1's speed, measured once
    assert "the other runs of class CARD-1 (2 runs)" in texts(at.caption)
    set_class(open_database(), "CARD-1", results_hidden=True)  # the teacher hides the results: so does the card
    at.run()
    assert [trace["name"] for trace in chart_spec(at, "lab.card.speed")["data"]] == [
        "Teacher",
        "Distilled student",
        "Student alone",
    ]
