"""The lab under AppTest following an assignment link: values set, locks shown and enforced, bad values
explained, a prediction required, stored with the run and shown beside its outcome, and the share control's link."""

from urllib.parse import parse_qs, urlparse

from kdlab.classroom.lab_settings import MLP_WIDTHS
from kdlab.db.database import open_database, runs
from kdlab.experiments.distill import DistillConfig
from tests.app.helpers import open_alone, run_until, texts

LAB = "pages/distillation_lab.py"


def test_the_student_widths_match_the_picker():
    at = open_alone(LAB, query={"student": "mlp-100x1"})
    assert at.select_slider(key="lab.student.width").options == [str(width) for width in MLP_WIDTHS]


def test_the_lab_follows_a_link_locks_it_and_explains_a_bad_value():
    at = open_alone(LAB, query={"T": "abc", "alpha": "0.5", "epochs": "3", "lock": "alpha,epochs", "teacher": "linear"})
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
    at = open_alone(
        LAB,
        query={
            "teacher": "linear",
            "student": "mlp-10x1",
            "epochs": "1",
            "train_size": "500",
            "seed": "41",
            "lock": "all",
            "predict": "1",
            "class": "LINKS-1",
        },
    )
    assert at.button(key="lab.train").disabled and "asks for your prediction first" in texts(at.caption)
    at.radio(key="lab.predict.fewer.0").set_value("Yes, fewer errors")
    at.number_input(key="lab.predict.by.0").set_value(12)
    at.run()
    assert not at.button(key="lab.train").disabled
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
    assert "**You predicted:** fewer errors, by about 12. **Outcome:** the student alone made" in (
        texts(at.success) + texts(at.warning)
    )
    assert at.radio(key="lab.predict.fewer.1").value is None  # the next run starts with an empty prediction

    with open_database().read() as connection:
        stored = connection.execute(runs.select().where(runs.c.class_code == "LINKS-1")).all()
    assert len(stored) == 1 and stored[0].prediction["fewer"] is True and stored[0].prediction["by"] == 12

    reloaded = open_alone(LAB, student=at.query_params["s"])  # a reload: the prediction comes from the database
    assert "**You predicted:** fewer errors, by about 12." in texts(reloaded.success) + texts(reloaded.warning)


def test_the_share_control_writes_a_link_with_the_chosen_locks():
    at = open_alone(LAB)
    at.select_slider(key="lab.temperature").set_value(8.0).run()
    at.multiselect(key="lab.share.lock").set_value(["T"])
    at.checkbox(key="lab.share.predict").check()
    at.text_input(key="lab.share.class").input("phys-7")
    at.run()
    url = at.code[-1].value
    params = {name: values[-1] for name, values in parse_qs(urlparse(url).query).items()}
    assert params["T"] == "8" and params["lock"] == "T" and params["predict"] == "1" and params["class"] == "PHYS-7"
    assert "s" not in params
    follower = open_alone(LAB, query=params)  # the link opens the lab with the same settings, T locked
    assert follower.select_slider(key="lab.temperature").value == 8.0
    assert follower.select_slider(key="lab.temperature").disabled and not follower.warning


def test_a_class_join_is_tried_again_once_when_the_database_fails(monkeypatch):
    from kdlab.classroom import classes
    from kdlab.db.database import StorageError
    from kdlab.ui import assignment

    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)
    failures = {"left": 1}

    def flaky(database, code, *, create):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise StorageError("The run database is locked: it is locked. Runs already stored are kept; try again.")
        return classes.class_for_link(database, code, create=create)

    monkeypatch.setattr(assignment, "class_for_link", flaky)
    at = open_alone(LAB, query={"class": "RETRY-1"})  # fails once, joins on the second try
    assert "cannot be joined" not in texts(at.warning) and "class **RETRY-1**" in texts(at.markdown)
    failures["left"] = 2
    at = open_alone(LAB, query={"class": "RETRY-2"})  # fails twice: the student is told, nothing breaks
    assert not at.exception and "Class RETRY-2 cannot be joined right now." in texts(at.warning)


def test_a_link_sets_the_soft_loss_and_beta_counts_only_with_dkd():
    at = open_alone(LAB, query={"soft": "nckd", "beta": "4", "lock": "soft", "teacher": "linear"})
    assert not at.exception, [e.value for e in at.exception]
    soft, beta = at.radio(key="lab.soft"), at.select_slider(key="lab.beta")
    assert (soft.value, soft.disabled) == ("nckd", True) and "NCKD only" in soft.options
    assert beta.value == 4.0 and beta.disabled  # greyed out: beta weights NCKD in DKD only
    assert any("Method NCKD only" in caption.value for caption in at.caption)
    at.button(key="lab.leave").click().run()
    at.radio(key="lab.soft").set_value("dkd").run()
    assert not at.select_slider(key="lab.beta").disabled and not at.exception


def test_a_link_to_a_class_not_open_yet_joins_it_on_the_first_train_after_it_opens(monkeypatch):
    from kdlab.classroom.classes import open_class

    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", "an-instructor-key-of-some-length")
    link = {
        "teacher": "linear",
        "student": "mlp-10x1",
        "epochs": "1",
        "train_size": "500",
        "seed": "43",
        "class": "LATE-1",
    }
    at = open_alone(LAB, query=link)  # the student is faster than the instructor
    assert "Class LATE-1 is not open on this server yet" in texts(at.warning)
    open_class(open_database(), "LATE-1")
    at.button(key="lab.train").click().run()  # no reload: this Train's rerun joins the class first
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
    with open_database().read() as connection:
        filed = connection.execute(runs.select().where(runs.c.class_code == "LATE-1")).all()
    assert len(filed) == 1


def test_the_method_radio_offers_only_the_methods_that_fit_the_pair_and_says_why_for_the_others():
    at = open_alone(LAB, query={"teacher": "cnn-wide", "student": "mlp-200x1", "advanced": "1"})
    assert not at.exception, [e.value for e in at.exception]
    method = at.radio(key="lab.soft")
    assert method.label.startswith("Method") and "AT" not in method.options and "Hints (FitNets)" in method.options
    assert any("Not offered: AT matches the conv blocks' feature maps" in caption.value for caption in at.caption)
    at.radio(key="lab.student.family").set_value("cnn-small").run()
    assert "AT" in at.radio(key="lab.soft").options and not any("Not offered" in c.value for c in at.caption)
    at.radio(key="lab.soft").set_value("at").run()
    assert not at.select_slider(key="lab.at_weight").disabled  # AT's own setting shows with AT only
    assert at.select_slider(key="lab.hint_weight").disabled
    at.radio(key="lab.student.family").set_value("linear").run()  # AT no longer fits: back to KD, said once
    assert not at.exception and at.radio(key="lab.soft").value == "kd"
    assert [w.value for w in at.warning if "AT matches" in w.value and "back to KD" in w.value]


def test_a_link_that_locks_an_unfit_method_warns_once_and_trains_kd():
    at = open_alone(LAB, query={"soft": "at", "student": "mlp-200x1", "lock": "soft", "teacher": "cnn-wide"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="lab.soft").value == "kd" and at.radio(key="lab.soft").disabled
    assert len([w for w in at.warning if "soft=`at` does not fit this pair" in w.value]) == 1


def test_a_dist_link_selects_dist_and_shows_its_two_weights():
    at = open_alone(LAB, query={"soft": "dist", "dist_inter": "2", "advanced": "1"})
    assert not at.exception, [e.value for e in at.exception]
    assert "DIST" in at.radio(key="lab.soft").options and at.radio(key="lab.soft").value == "dist"
    assert at.select_slider(key="lab.dist_inter").value == 2.0 and not at.select_slider(key="lab.dist_inter").disabled
    assert at.select_slider(key="lab.dist_intra").value == 1.0 and at.select_slider(key="lab.beta").disabled
