"""The lab result's compression card, measured on request: headline, table, reliability and speed charts."""

from tests.app.helpers import chart_spec, open_alone, run_until, texts

TEACHER = "linear"


def test_measuring_the_card_of_a_lab_run_shows_its_numbers():
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(31)  # a seed of its own: not served from the result cache
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))
    assert "Distilled:" not in texts(at.info)  # timing costs seconds: only on request
    assert "Takes a few seconds" in texts(at.caption)
    at.button(key="lab.card.measure").click().run()
    assert not at.exception
    assert "Takes a few seconds" not in texts(at.caption)  # the offer goes once the card is measured
    headline = next(text for text in texts(at.info).splitlines() if "Distilled:" in text)
    assert "smaller" in headline and "faster per image" in headline and "accurate than its teacher" in headline
    table = at.dataframe[-1].value
    assert list(table[""]) == ["Teacher", "Distilled student", "Student alone"]
    assert (table["ms per image"] > 0).all() and (table["ONNX (KB)"] > 0).all()
    assert table["ECE"].isna().tolist() == [False, False, True]  # the student alone's answers are not kept
    reliability = chart_spec(at, "lab.card.reliability")
    assert [trace["name"].split(" (")[0] for trace in reliability["data"]][1:] == ["Teacher", "Distilled student"]
    speed = chart_spec(at, "lab.card.speed")
    assert len(speed["data"]) == 3
    assert "distilled student's weights only" in texts(at.caption)
