"""Ensemble teachers on the pages: the explorer shows each member beside the ensemble, a bad ensemble in a
link gets a message, and the lab reports the ensemble's accuracy beside its best member's."""

from kdlab.teachers.cache import is_teacher_cached, resolve_teacher
from tests.app.helpers import open_alone


def test_the_explorer_shows_each_member_beside_the_ensemble(sample_data):
    from kdlab.serve.jobs import default_runner
    from kdlab.teachers.teacher import default_teacher_epochs

    name = "ensemble:linear*3"  # a preset of the menu: AppTest cannot rerun a selectbox holding a typed-in option
    epochs = default_teacher_epochs(len(sample_data.train))
    at = open_alone("pages/dark_knowledge.py", {"explorer.teacher": name}, timeout=120)
    if not is_teacher_cached(name, sample_data, epochs=epochs):  # the page trains it in a shared job first
        assert default_runner().wait(default_runner().jobs()[-1], timeout=120)
        at.run()
    assert not at.exception, [error.value for error in at.exception]
    assert any(chart.proto.id.endswith("explorer.members") for chart in at.get("plotly_chart"))
    text = " ".join(markdown.value for markdown in at.markdown)
    teacher = resolve_teacher(name, sample_data, epochs=epochs)
    best = teacher.best_member()
    assert (
        f"its best member ({best.record.architecture}, seed {best.record.seed}) **{best.record.test_errors:,}**" in text
    )
    assert f"on **{teacher.summary()['test_disagreement']['any']:.1%}** of the test images" in text


def test_a_bad_ensemble_in_a_link_gets_a_message_not_a_traceback():
    at = open_alone("pages/dark_knowledge.py", query={"explorer.teacher": "ensemble:cnn*40"}, timeout=120)
    assert not at.exception
    assert any("2 to 5 members" in error.value for error in at.error)


def test_the_lab_reports_the_ensembles_accuracy_beside_its_best_members(sample_data):
    teacher = resolve_teacher("ensemble:linear*3", sample_data)  # the default epochs, as the app trains it
    best = teacher.best_member()
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": "ensemble:linear*3"}, timeout=120)
    assert not at.exception, [error.value for error in at.exception]
    captions = " ".join(caption.value for caption in at.caption)
    assert f"Cached teacher: {teacher.record.test_accuracy:.2%} test accuracy" in captions
    assert f"Its best member, linear seed {best.record.seed}: {best.record.test_accuracy:.2%}" in captions
    assert "Teacher ensemble:linear*3: 23,550 parameters" in captions  # three members of 7,850
