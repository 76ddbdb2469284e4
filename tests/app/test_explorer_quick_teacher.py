"""The explorer on a fresh server (no teacher cached): a quick teacher stands in within seconds, named on every
chart, while the chosen teacher trains; once that one is cached the page's next run (the fragment's tick in a
browser) shows it instead, the student's settings kept; a class opening the page at once starts one quick training.

Each test has an empty cache and a runner of its own (threads). A teacher's training can be held until the test
lets it go, so what the page shows while it trains does not depend on the machine's speed."""

import threading

import pytest

from kdlab.ml.data import default_cache_dir
from kdlab.serve import tasks
from kdlab.serve.runner import JobRunner
from kdlab.serve.tasks import TEACHER_JOBS
from kdlab.teachers import quick
from kdlab.teachers.cache import is_teacher_cached
from kdlab.teachers.quick import QUICK_TEACHER, QuickTeacher, quick_teacher_epochs
from tests.app.helpers import chart_spec, open_alone, run_until, texts

PAGE = "pages/dark_knowledge.py"
CHARTS = ("explorer.bars", "explorer.entropy", "explorer.similarity")


pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


class HeldTeachers:
    """Teachers whose training job waits (``hold``) until the test lets it go (``release``)."""

    def __init__(self, train_teacher) -> None:
        self._train_teacher, self._gates = train_teacher, {}

    def hold(self, name: str) -> None:
        self._gates[name] = threading.Event()

    def release(self, name: str | None = None) -> None:
        for held, gate in self._gates.items():
            if name in (None, held):
                gate.set()

    def train_teacher(self, context, name, data, **options):
        gate = self._gates.get(name)
        if gate is not None:
            gate.wait(120)
        return self._train_teacher(context, name, data, **options)


def fresh_server(monkeypatch, tmp_path, slots: int) -> tuple[JobRunner, HeldTeachers]:
    """An empty teacher cache and a runner with ``slots`` slots, as on a server just started."""
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path))
    runner, held = JobRunner(slots), HeldTeachers(tasks.train_teacher)
    monkeypatch.setattr("kdlab.ui.resources.default_runner", lambda: runner)
    monkeypatch.setattr(tasks, "train_teacher", held.train_teacher)
    return runner, held


def stop_all(runner: JobRunner, held: HeldTeachers) -> None:
    for job in runner.jobs():
        job.request_stop()
    held.release()
    for job in runner.jobs():
        assert runner.wait(job, timeout=120)


def subtitles(at) -> list[str]:
    return [chart_spec(at, key)["layout"]["title"]["subtitle"]["text"] for key in CHARTS]


def has_charts(at) -> bool:
    return bool(at.get("plotly_chart"))


def test_a_fresh_server_shows_a_quick_teacher_first_and_says_so_on_every_chart(monkeypatch, tmp_path, sample_data):
    runner, held = fresh_server(monkeypatch, tmp_path, slots=2)
    held.hold("cnn-wide")  # the default teacher: minutes on this machine
    try:
        at = open_alone(PAGE)
        quick, epochs = QUICK_TEACHER.architecture, quick_teacher_epochs(sample_data)
        assert f"Training a quick teacher first** ({quick}, {epochs} epochs" in texts(at.info)
        assert [job.name for job in runner.jobs()] == [f"Teacher {quick} ({epochs} epochs)", "Teacher cnn-wide"]
        run_until(at, has_charts, timeout=120)
        assert not at.exception
        warning = texts(at.warning)
        assert f"Everything below comes from a quick teacher, {quick}**: " in warning
        assert f"trained {epochs} epochs on 4,000 images" in warning and "**cnn-wide**, is training" in warning
        assert all(
            title.startswith(f"Quick teacher {quick}: {epochs} epochs, ")
            and title.endswith("(standing in for cnn-wide, in training)")
            for title in subtitles(at)
        )
        assert "What the quick teacher knows" in texts(at.subheader)
        assert f"**{quick} has no feature maps to show: it has no conv blocks.**" in texts(at.info)
        assert "The teacher you chose, cnn-wide, has conv blocks: its maps show here when it is ready." in texts(
            at.info
        )
        assert not any(caption.value.startswith("Teacher cnn-wide:") for caption in at.caption)
        assert "Training teacher cnn-wide" in at.get("progress")[0].proto.text  # the chosen teacher's progress
        assert not is_teacher_cached("cnn-wide", sample_data)  # the quick one took no teacher's place in the cache
    finally:
        stop_all(runner, held)


def test_the_chosen_teacher_replaces_the_quick_one_on_the_same_page(monkeypatch, tmp_path, sample_data):
    runner, held = fresh_server(monkeypatch, tmp_path, slots=2)
    # A quick teacher of one linear epoch, so that a teacher of the menu that trains in seconds needs it
    monkeypatch.setattr(quick, "QUICK_TEACHER", QuickTeacher("linear", images=4_000, stand_in_ratio=2.0))
    chosen = "ensemble:linear*3"
    held.hold(chosen)
    try:
        at = run_until(open_alone(PAGE, query={"explorer.teacher": chosen}), has_charts, timeout=120)
        assert all(title.startswith("Quick teacher linear: 1 epoch, ") for title in subtitles(at))
        at.select_slider(key="explorer.temperature").set_value(10.0).run()  # the student's own settings
        at.radio(key="explorer.digit").set_value(7).run()
        held.release(chosen)
        job = TEACHER_JOBS.existing(runner, chosen, sample_data, default_cache_dir())
        assert runner.wait(job, timeout=120) and job.status == "completed"
        at.run()  # in a browser: the fragment's next tick sees the job end and reruns the page
        assert not at.exception and not at.warning and not at.get("progress")
        caption = next(caption.value for caption in at.caption if caption.value.startswith(f"Teacher {chosen}:"))
        assert "trained 20 epochs on 4,000 images, each of its 3 members." in caption
        assert all(title.startswith(f"Teacher {chosen}: 20 epochs, ") for title in subtitles(at))
        members = chart_spec(at, "explorer.members")["layout"]["title"]["subtitle"]["text"]
        assert members.startswith(f"Teacher {chosen}: ")
        assert "What the teacher knows" in texts(at.subheader)
        assert at.select_slider(key="explorer.temperature").value == 10.0  # kept through the swap
        assert at.radio(key="explorer.digit").value == 7
        assert chart_spec(at, "explorer.bars")["data"][1]["name"] == "T = 10"
    finally:
        stop_all(runner, held)


def test_a_class_opening_the_explorer_at_once_starts_one_quick_training(monkeypatch, tmp_path, sample_data):
    runner, held = fresh_server(monkeypatch, tmp_path, slots=1)
    release = threading.Event()
    runner.submit("someone else's run", lambda context: release.wait(60), owner="student:other")  # all wait
    try:
        for _ in range(6):  # six students, each in a session of their own
            at = open_alone(PAGE)
            assert not at.exception and "Training a quick teacher first" in texts(at.info)
        waiting = [job.name for job in runner.jobs() if not job.is_finished]
        epochs = quick_teacher_epochs(sample_data)
        assert waiting == [
            "someone else's run",
            f"Teacher {QUICK_TEACHER.architecture} ({epochs} epochs)",
            "Teacher cnn-wide",
        ]
    finally:
        release.set()
        stop_all(runner, held)
