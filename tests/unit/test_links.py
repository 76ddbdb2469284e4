"""Assignment links: every URL value checked (kdlab.classroom.links), and the lab under AppTest following a
link: values set, locks shown and enforced, bad values explained, a prediction required,
stored with the run and shown beside its outcome, and the share control's link."""

import time
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.classroom.links import (
    LAB_PARAMETERS,
    MLP_WIDTHS,
    check_link,
    lab_defaults,
    parse_class_code,
    parse_explorer_link,
    parse_lab_link,
    parse_replay_link,
)
from kdlab.classroom.urls import lab_link_params, link_url
from kdlab.db.database import open_database, runs
from kdlab.experiments.distill import DistillConfig
from kdlab.ui import widgets
from tests.conftest import PROJECT_ROOT

LAB = str(PROJECT_ROOT / "pages" / "distillation_lab.py")
TRAIN_COUNT = 4000  # the offline sample


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def open_lab(params: dict, state: dict | None = None) -> AppTest:
    at = AppTest.from_file(LAB, default_timeout=60)
    for key, value in (state or {}).items():
        at.session_state[key] = value
    at.query_params.update(params)
    return at.run()


def test_good_values_become_the_controls_values():
    link = parse_lab_link(
        {
            "T": "8",
            "alpha": "0.5",
            "epochs": "3",
            "lr": "1e-3",
            "batch": "64",
            "train_size": "500",
            "seed": "7",
            "teacher": "linear",
            "student": "mlp-100x1",
        },
        TRAIN_COUNT,
    )
    assert link.problems == ()
    assert link.values == {
        "teacher": "linear",
        "student": "mlp-100x1",
        "T": 8.0,
        "alpha": 0.5,
        "epochs": 3,
        "lr": 0.001,
        "batch": 64,
        "train_size": 500,
        "seed": 7,
    }


def test_a_link_with_one_setting_resets_the_others_to_the_defaults():
    link = parse_lab_link({"T": "8"}, TRAIN_COUNT)
    assert link.values == lab_defaults(TRAIN_COUNT) | {"T": 8.0}
    config = DistillConfig()
    assert link.values["student"] == config.student and link.values["epochs"] == config.training.epochs


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"T": "abc"}, "T=`abc` is not a number; using T = {T}"),
        ({"T": "7"}, "T=`7` is not one of the lab's temperatures (1, 1.5, 2,"),
        ({"T": "inf"}, "T=`inf` is not a number"),
        ({"alpha": "1.5"}, "alpha=`1.5` must be from 0 to 1 in steps of 0.05"),
        ({"alpha": "0.33"}, "alpha=`0.33` must be from 0 to 1 in steps of 0.05"),
        ({"epochs": "0"}, "epochs=`0` is outside 1 to"),
        ({"epochs": "2.5"}, "epochs=`2.5` is not a whole number"),
        ({"lr": "0.5"}, "lr=`0.5` is not one of the lab's learning rates"),
        ({"batch": "100"}, "batch=`100` is not one of the lab's batch sizes"),
        ({"train_size": "1234"}, "train_size=`1234` is not one of the lab's training-set sizes"),
        ({"seed": "-1"}, "seed=`-1` is outside 0 to 9999"),
        ({"teacher": "resnet"}, "teacher=`resnet` is not a teacher kdlab knows"),
        ({"student": "mlp-64x1"}, "student=`mlp-64x1` has a width the lab does not offer"),
        ({"student": "gpt"}, "student=`gpt` is not a student kdlab knows"),
        ({"lock": "T,colour"}, "lock=`colour` is not a setting of this page"),
        ({"class": "no spaces!"}, "class=`no spaces!` is not a class code"),
    ],
)
def test_each_bad_value_is_named_with_what_is_allowed(params, message):
    link = parse_lab_link(params, TRAIN_COUNT)
    expected = message.format(T=f"{DistillConfig().training.temperature:g}")
    assert any(problem.startswith(expected) for problem in link.problems), link.problems
    name = next(iter(params))
    if name in LAB_PARAMETERS:  # the control keeps the default
        assert link.values[name] == lab_defaults(TRAIN_COUNT)[name]


def test_a_size_the_data_lacks_becomes_all_of_it_with_a_note():
    link = parse_lab_link({"train_size": "10000"}, TRAIN_COUNT)
    assert link.values["train_size"] == TRAIN_COUNT
    assert "only 4,000 training images" in link.problems[0]
    assert parse_lab_link({"train_size": "all"}, TRAIN_COUNT).values["train_size"] == TRAIN_COUNT


def test_a_hostile_value_is_echoed_short_and_without_markdown():
    link = parse_lab_link({"T": "![x](http://evil.example/a.png)`" + "9" * 100}, TRAIN_COUNT)
    problem = link.problems[0]
    assert problem.startswith("T=`![x](http://evil.example/a.png...` is not a number")  # a code span: no image
    assert problem.count("`") == 2 and len(problem) < 200


def test_locks_and_the_extras():
    link = parse_lab_link({"lock": "all", "class": "phys-7", "predict": "1"}, TRAIN_COUNT)
    assert link.locked == set(LAB_PARAMETERS) and link.values == lab_defaults(TRAIN_COUNT)
    assert link.class_code == "PHYS-7" and link.predict
    only_class = parse_lab_link({"class": "X1"}, TRAIN_COUNT)
    assert not only_class.sets_controls and only_class.values == {}
    assert parse_class_code("a") == (
        None,
        "class=`a` is not a class code (2 to 16 letters, digits or dashes, such as PHYS-7)",
    )


def test_explorer_and_replay_parameters():
    link = parse_explorer_link({"digit": "3", "T": "0.5", "lock": "T"})
    assert link.values == {"digit": 3, "T": 0.5} and link.locked == {"T"}
    assert parse_explorer_link({"digit": "11"}).problems[0].startswith("digit=`11` is outside 0 to 9")
    assert parse_replay_link({"replay": "omit-3", "bias": "3.5"}).values == {"replay": "omit-3", "bias": 3.5}
    assert parse_replay_link({"bias": "99"}).problems[0].startswith("bias=`99` is outside -15 to 15")
    assert parse_replay_link({"replay": "omit-4"}).problems[0].startswith("replay=`omit-4` is not a replay")


def test_check_link_knows_pages_and_parameter_names():
    assert check_link("lab", {"T": "8", "lock": "T"}) == []
    assert check_link("lab", {"temperature": "8"})[0].startswith("`temperature` is not a parameter of the lab page")
    assert check_link("kitchen", {})[0].startswith("page `kitchen` is not one of")


def test_built_links_round_trip_and_never_carry_the_student_code():
    settings = {
        "teacher": "linear",
        "student": "mlp-100x1",
        "T": 8.0,
        "alpha": 0.5,
        "epochs": 3,
        "lr": 0.001,
        "batch": 64,
        "train_size": 500,
        "seed": 7,
        "s": "secret-student-token-0123456789",
    }
    url = link_url(
        "http://class.example:8501/",
        "lab",
        lab_link_params(settings, lock=["T", "alpha"], class_code="PHYS-7", predict=True),
    )
    parsed = urlparse(url)
    assert parsed.path == "/distillation_lab" and "secret" not in url
    params = {name: values[-1] for name, values in parse_qs(parsed.query).items()}
    link = parse_lab_link(params, TRAIN_COUNT)
    assert link.problems == () and link.locked == {"T", "alpha"} and link.class_code == "PHYS-7" and link.predict
    assert link.values == {name: value for name, value in settings.items() if name != "s"}
    assert lab_link_params(settings, lock=list(LAB_PARAMETERS))["lock"] == "all"


def test_the_student_widths_match_the_picker():
    assert list(MLP_WIDTHS) == widgets.MLP_WIDTHS


def test_the_lab_follows_a_link_locks_it_and_explains_a_bad_value():
    at = open_lab({"T": "abc", "alpha": "0.5", "epochs": "3", "lock": "alpha,epochs", "teacher": "linear"})
    assert not at.exception, [e.value for e in at.exception]
    assert "T=`abc` is not a number; using T = " in texts(at.warning)
    alpha, epochs, temperature = (
        at.slider(key="lab.alpha"),
        at.slider(key="lab.epochs"),
        at.select_slider(key="lab.temperature"),
    )
    assert (alpha.value, alpha.disabled, epochs.value, epochs.disabled) == (0.5, True, 3, True)
    assert "locked" in alpha.label and "Locked by your teacher's assignment link at alpha = 0.5" in alpha.help
    assert temperature.value == DistillConfig().training.temperature and not temperature.disabled
    assert "alpha = 0.5, epochs = 3" in texts(at.markdown)  # the assignment note says what is locked and why

    temperature.set_value(8.0).run()  # an unlocked control stays the student's
    assert at.select_slider(key="lab.temperature").value == 8.0 and not at.warning
    at.session_state["lab.alpha"] = 0.2  # a locked one goes back to the link's value
    at.run()
    assert at.slider(key="lab.alpha").value == 0.5

    at.button(key="lab.leave").click().run()  # leaving the assignment unlocks everything
    assert not at.slider(key="lab.alpha").disabled and "lock" not in at.query_params


def test_a_required_prediction_is_stored_with_the_run_and_shown_beside_the_outcome(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)  # without a key, a class is made on first use
    at = open_lab(
        {
            "teacher": "linear",
            "student": "mlp-10x1",
            "epochs": "1",
            "train_size": "500",
            "seed": "41",
            "lock": "all",
            "predict": "1",
            "class": "LINKS-1",
        }
    )
    assert at.button(key="lab.train").disabled and "asks for your prediction first" in texts(at.caption)
    at.radio(key="lab.predict.fewer.0").set_value("Yes, fewer errors")
    at.number_input(key="lab.predict.by.0").set_value(12)
    at.run()
    assert not at.button(key="lab.train").disabled
    at.button(key="lab.train").click().run()
    deadline = time.time() + 180
    while "Result of run 1" not in texts(at.subheader):
        assert time.time() < deadline and not at.exception
        time.sleep(0.3)
        at.run()
    assert "**You predicted:** fewer errors, by about 12. **Outcome:** the student alone made" in (
        texts(at.success) + texts(at.warning)
    )
    assert at.radio(key="lab.predict.fewer.1").value is None  # the next run starts with an empty prediction

    with open_database().read() as connection:
        stored = connection.execute(runs.select().where(runs.c.class_code == "LINKS-1")).all()
    assert len(stored) == 1 and stored[0].prediction["fewer"] is True and stored[0].prediction["by"] == 12

    reloaded = AppTest.from_file(LAB, default_timeout=60)  # a reload: the prediction comes from the database
    reloaded.query_params["s"] = at.query_params["s"]
    reloaded.run()
    assert "**You predicted:** fewer errors, by about 12." in texts(reloaded.success) + texts(reloaded.warning)


def test_the_share_control_writes_a_link_with_the_chosen_locks():
    at = open_lab({})
    at.select_slider(key="lab.temperature").set_value(8.0).run()
    at.multiselect(key="lab.share.lock").set_value(["T"])
    at.checkbox(key="lab.share.predict").check()
    at.text_input(key="lab.share.class").input("phys-7")
    at.run()
    url = at.code[-1].value
    params = {name: values[-1] for name, values in parse_qs(urlparse(url).query).items()}
    assert params["T"] == "8" and params["lock"] == "T" and params["predict"] == "1" and params["class"] == "PHYS-7"
    assert "s" not in params
    follower = open_lab(params)  # the link opens the lab with the same settings, T locked
    assert follower.select_slider(key="lab.temperature").value == 8.0
    assert follower.select_slider(key="lab.temperature").disabled and not follower.warning
