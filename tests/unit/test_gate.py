"""``kdlab.serve.gate``: teacher trainings and scheme comparisons within the cost cap, owned by who asked."""

import threading

import pytest

from kdlab.experiments.schemes import SchemeConfig
from kdlab.serve.gate import PRESET_TEACHERS, admit_schemes, admit_teacher, scheme_comparison_cost
from kdlab.serve.limits import CostTooHigh, default_run_cost
from kdlab.serve.runner import SHARED_OWNER, JobRunner, OwnerBusy


@pytest.fixture
def busy_runner():
    """A one-slot runner kept busy by another student's job, so whatever is admitted waits in its queue."""
    runner, release = JobRunner(1), threading.Event()
    runner.submit("someone else's run", lambda context: release.wait(60), owner="student:other")
    yield runner
    release.set()
    for job in runner.jobs():
        job.request_stop()
        runner.wait(job, timeout=60)


def test_a_teacher_asked_for_by_name_is_the_askers_job_and_one_at_a_time(busy_runner, sample_data, tmp_path):
    first = admit_teacher(busy_runner, "mlp-037x1", sample_data, tmp_path, owner="student:alice")
    assert first.owner == "student:alice" and first.name == "Teacher mlp-37x1"  # the canonical name
    assert admit_teacher(busy_runner, "mlp-37x1", sample_data, tmp_path, owner="student:bob") is first  # followed
    with pytest.raises(OwnerBusy):  # a second forged link of alice's queues nothing
        admit_teacher(busy_runner, "mlp-38x1", sample_data, tmp_path, owner="student:alice")
    assert [job.name for job in busy_runner.jobs(owner="student:alice")] == ["Teacher mlp-37x1"]


def test_a_preset_teacher_is_shared_work(busy_runner, sample_data, tmp_path):
    assert "linear" in PRESET_TEACHERS and "ensemble:linear*3" in PRESET_TEACHERS
    assert admit_teacher(busy_runner, "linear", sample_data, tmp_path, owner="student:alice").owner == SHARED_OWNER


def test_a_teacher_over_the_cap_is_refused_before_it_queues(monkeypatch, busy_runner, sample_data, tmp_path):
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "0.5x")
    with pytest.raises(CostTooHigh, match="Training the teacher mlp-1200x3 is too big for the shared server"):
        admit_teacher(busy_runner, "mlp-1200x3", sample_data, tmp_path, owner="student:alice")
    assert busy_runner.jobs(owner="student:alice") == []


def test_a_forged_scheme_comparison_over_the_cap_is_refused(monkeypatch, busy_runner, sample_data):
    config = SchemeConfig.build(teacher="linear", epochs=50, train_size=None, generations=5)  # forged maxima
    schemes = ("offline", "mutual", "born-again", "assistant")
    cost = scheme_comparison_cost(config, schemes, sample_data)
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", f"{cost / default_run_cost() / 2:g}x")
    with pytest.raises(CostTooHigh, match="This comparison is too big"):
        admit_schemes(busy_runner, config, schemes, sample_data, owner="student:alice")
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", f"{cost / default_run_cost() * 2:g}x")
    assert admit_schemes(busy_runner, config, schemes, sample_data, owner="student:alice").owner == "student:alice"


def test_the_schemes_pages_defaults_are_admitted_under_the_default_cap(busy_runner, sample_data):
    config, schemes = SchemeConfig(), ("offline", "mutual", "born-again", "assistant")
    assert admit_schemes(busy_runner, config, schemes, sample_data, owner="student:alice").owner == "student:alice"


def test_a_typed_ensemble_teacher_counts_in_a_comparisons_cost(sample_data):
    preset = scheme_comparison_cost(SchemeConfig(teacher="lenet5"), ("offline",), sample_data)
    typed = scheme_comparison_cost(SchemeConfig(teacher="ensemble:lenet5,mlp-800x1"), ("offline",), sample_data)
    assert typed > preset  # the typed ensemble trains first, on the student's account
