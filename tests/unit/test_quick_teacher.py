"""``kdlab.teachers.quick``: the quick teacher that stands in on the explorer, its own cached teacher; its one shared
job through the gate (``admit_quick_teacher``); the subtitle that names a chart's teacher."""

import threading

import plotly.graph_objects as go
import pytest
import torch

from kdlab.ml.context import RunContext
from kdlab.plots.lab import probability_bars
from kdlab.plots.style import with_source
from kdlab.serve.gate import admit_quick_teacher, admit_teacher
from kdlab.serve.runner import SHARED_OWNER, JobRunner
from kdlab.teachers.cache import is_teacher_cached, teacher_cache_path
from kdlab.teachers.quick import (
    QUICK_TEACHER,
    QuickTeacher,
    is_quick_teacher_ready,
    needs_a_stand_in,
    quick_teacher_epochs,
    resolve_quick_teacher,
)
from kdlab.teachers.teacher import default_teacher_epochs


@pytest.fixture
def one_thread():
    """One torch thread, as each training of the app gets on 2 cores (``kdlab.serve.jobs.torch_threads``): two
    threads on a busy 2-core machine took 88 s to train the quick teacher here, one thread 8 s."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_the_quick_teacher_sees_about_the_same_images_on_any_training_set():
    quick = QuickTeacher("mlp-300x1", images=30_000, stand_in_ratio=2.0)
    assert quick.epochs(4_000) == 8  # the offline sample
    assert quick.epochs(60_000) == 1  # full MNIST: at least one epoch
    assert quick.epochs(500_000) == 1
    assert quick.epochs(0) == 30_000  # no division by zero


def test_a_quick_teacher_stands_in_only_for_a_teacher_that_takes_long(sample_data):
    for slow in ("cnn-wide", "cnn", "mlp-1200x2", "ensemble:cnn*3", "mlp-400x1"):
        assert needs_a_stand_in(slow, sample_data), slow
    for quick in ("linear", "mlp-100x1", "mlp-37x1"):  # about as quick to train, or quicker: trained alone
        assert not needs_a_stand_in(quick, sample_data), quick


def test_the_quick_teacher_is_a_teacher_of_its_own_that_leaves_the_labs_teachers_alone(
    sample_data, tmp_path, one_thread
):
    assert not is_quick_teacher_ready(sample_data, cache_dir=tmp_path)
    teacher = resolve_quick_teacher(sample_data, context=RunContext(cache_dir=tmp_path))
    epochs = quick_teacher_epochs(sample_data)
    assert (teacher.record.architecture, teacher.record.epochs, teacher.status) == (
        QUICK_TEACHER.architecture,
        4,  # the sample's 4,000 images: 16,000 image passes (docs/classroom.md says 4 epochs)
        "completed",
    )
    assert teacher.record.test_accuracy > 0.85  # a real teacher, if a small one: measured 92.2%
    assert teacher.test_logits.shape == (len(sample_data.test), 10)
    assert is_quick_teacher_ready(sample_data, cache_dir=tmp_path)
    assert teacher_cache_path(tmp_path, QUICK_TEACHER.architecture, sample_data, epochs, 0).exists()
    # the lab's teachers (default epochs) are other files, and none of them was written
    assert default_teacher_epochs(len(sample_data.train)) != epochs
    for name in (QUICK_TEACHER.architecture, "cnn-wide"):
        assert not is_teacher_cached(name, sample_data, cache_dir=tmp_path)
    assert [path.name for path in (tmp_path / "teachers").glob("*.pt")] == [
        teacher_cache_path(tmp_path, QUICK_TEACHER.architecture, sample_data, epochs, 0).name
    ]


def test_a_class_asking_for_the_quick_teacher_at_once_starts_one_job(sample_data, tmp_path):
    runner, release = JobRunner(1), threading.Event()
    runner.submit("someone else's run", lambda context: release.wait(60), owner="student:other")  # all wait
    start, jobs = threading.Barrier(30), []

    def student() -> None:
        start.wait()
        jobs.append(admit_quick_teacher(runner, sample_data, tmp_path))

    threads = [threading.Thread(target=student) for _ in range(30)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert len(jobs) == 30 and len({job.id for job in jobs}) == 1
        assert (
            jobs[0].owner == SHARED_OWNER
            and jobs[0].name == f"Teacher {QUICK_TEACHER.architecture} ({quick_teacher_epochs(sample_data)} epochs)"
        )
        # the same architecture at its default epochs (the lab's teacher) is another job, another cache file
        lab_teacher = admit_teacher(runner, QUICK_TEACHER.architecture, sample_data, tmp_path, owner="student:a")
        assert lab_teacher is not jobs[0] and lab_teacher.name == f"Teacher {QUICK_TEACHER.architecture}"
        assert len(runner.jobs()) == 3
    finally:
        release.set()
        for job in runner.jobs():
            job.request_stop()
            runner.wait(job, timeout=60)


def test_a_subtitle_names_the_teacher_under_the_figures_title():
    figure = with_source(probability_bars([0.1] * 10, [0.1] * 10, 4.0), "Quick teacher mlp-300x1: 8 epochs")
    assert figure.layout.title.text.startswith("Teacher's probabilities")
    assert figure.layout.title.subtitle.text == "Quick teacher mlp-300x1: 8 epochs"
    assert figure.layout.margin.t == 70  # room for it: the bars' own top margin is 50
    assert with_source(go.Figure(), "teacher").layout.margin.t > 0
