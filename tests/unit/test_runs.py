"""Run records, the in-memory store, exports, and the lab's background job."""

import csv
import io
import json
import math
import sys
import threading
import time

import pytest
import torch

from kdlab.experiments.distill import StageEvent, run_distillation
from kdlab.ml.export import model_to_bytes
from kdlab.ml.train import EvalEvent, StepEvent
from kdlab.runs.export import run_json, runs_csv
from kdlab.runs.record import (
    RunRecord,
    curves_at,
    curves_from_events,
    curves_seconds,
    describe_outcome,
    model_from_bytes,
    record_from_result,
)
from kdlab.runs.store import MemoryRunStore
from kdlab.serve.lab import TeacherReady, submit_distillation
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner, JobStatus
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def tiny_result(sample_data, linear_teacher):
    return run_distillation(tiny_config(), sample_data, teacher=linear_teacher)


def fake_record(number=1, status="completed", baseline=100, distilled=71, **summary_changes) -> RunRecord:
    def run(errors):
        if errors is None:
            return None
        return {
            "arch": "mlp-300x2",
            "params": 1,
            "status": "completed",
            "epochs_done": 20.0,
            "train_seconds": 9.0,
            "test_accuracy": 1 - errors / 1e4,
            "test_errors": errors,
            "test_total": 10_000,
            "per_class_accuracy": [0.9] * 10,
        }

    summary = {
        "data": {"source": "mnist"},
        "config": tiny_config().as_dict(),
        "transfer_set": {"size": 500},
        "teacher": {"test_accuracy": 0.99, "test_errors": 79},
        "student": run(distilled),
        "baseline": run(baseline),
        "status": status,
        "seconds": 18.0,
        **summary_changes,
    }
    return RunRecord(
        run_id=f"id{number}", number=number, created_at=0.0, status=status, summary=summary, student_weights=b"w" * 10
    )


def test_curves_group_eval_events_by_run():
    events = [
        StageEvent("distilled", "..."),
        EvalEvent("distilled", 1, 10, 0.1, 0.5, 0.6, 1.0, 0.9, 0.1, 0.2),
        StepEvent("distilled", 2, 10, 0.2, 1.0, 0.9, 0.1, 0.3),
        EvalEvent("baseline", 1, 10, 0.1, 0.4, 0.5, 1.2, 0.0, 1.2, 0.2),
    ]
    curves = curves_from_events(events)
    assert list(curves) == ["distilled", "baseline"]
    assert curves["distilled"][0]["test_accuracy"] == 0.6
    assert set(curves["baseline"][0]) >= {"epoch", "test_accuracy", "soft_loss", "hard_loss", "loss"}


def test_record_from_a_real_run(tiny_result, sample_data):
    record = record_from_result(tiny_result, sample_data.test.labels, number=3)
    assert record.status == "completed" and record.number == 3
    assert record.label.startswith("#3 mlp-20x1 from linear")
    assert set(record.curves) == {"distilled", "baseline"}
    assert set(record.per_class_accuracy) == {"teacher", "distilled", "baseline"}
    assert sum(map(sum, record.confusion["distilled"])) == len(sample_data.test)
    assert record.errors("distilled") == tiny_result.student.evaluation.errors
    assert record.accuracy("teacher") == pytest.approx(tiny_result.teacher.record.test_accuracy)


def test_weights_round_trip(tiny_result):
    blob = model_to_bytes(tiny_result.student.model)
    model = model_from_bytes(blob, "mlp-20x1")
    images = torch.randn(4, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(model(images), tiny_result.student.model(images))


def test_csv_and_json_exports(tiny_result, sample_data):
    records = [record_from_result(tiny_result, sample_data.test.labels, number=n) for n in (1, 2)]
    rows = list(csv.DictReader(io.StringIO(runs_csv(records))))
    assert [row["run"] for row in rows] == ["1", "2"]
    assert float(rows[0]["distilled_accuracy"]) == pytest.approx(records[0].accuracy("distilled"))
    exported = json.loads(run_json(records[0]))
    assert exported["config"]["student"] == "mlp-20x1"
    assert exported["student_weights"]["bytes"] == len(records[0].student_weights)
    assert exported["outcome"] == describe_outcome(records[0])
    assert runs_csv([]) == ""


def test_json_export_turns_nan_into_null():
    record = fake_record()
    record.curves = {"distilled": [{"epoch": 1.0, "test_accuracy": 0.9, "loss": math.nan}]}
    assert json.loads(run_json(record))["curves"]["distilled"][0]["loss"] is None


def test_json_export_keeps_server_paths_on_the_server(tiny_result, sample_data):
    record = record_from_result(tiny_result, sample_data.test.labels, number=1)
    assert record.summary["data"]["location"]  # the server knows where its data is ...
    exported = json.loads(run_json(record))
    assert "location" not in exported["data"] and "note" not in exported["data"]  # ... a download does not
    assert exported["data"]["source"] == "mnist-sample" and exported["source"] == "trained"


@pytest.mark.parametrize(
    "baseline, distilled, words",
    [(100, 71, "29 errors (29% fewer)"), (100, 100, "did not help"), (100, 120, "distillation hurt")],
)
def test_outcome_sentence_says_what_happened(baseline, distilled, words):
    sentence = describe_outcome(fake_record(baseline=baseline, distilled=distilled))
    assert words in sentence
    assert "teacher (linear) made 79" in sentence


def test_outcome_of_stopped_and_diverged_runs():
    assert "no baseline" in describe_outcome(fake_record(status="stopped", baseline=None))
    nothing = fake_record(status="stopped", baseline=None, distilled=None)
    assert "before the student trained" in describe_outcome(nothing)
    assert "smaller learning rate" in describe_outcome(fake_record(status="diverged"))


def test_store_numbers_runs_and_keeps_only_recent_weights():
    store = MemoryRunStore(keep_weights=2)
    numbers = [store.reserve_number() for _ in range(3)]
    assert numbers == [1, 2, 3]
    for number in (3, 1, 2):
        store.add(fake_record(number))
    assert [record.number for record in store.records()] == [1, 2, 3]
    assert [record.student_weights is not None for record in store.records()] == [False, True, True]
    assert store.get("id2").number == 2 and store.get("nope") is None


def test_store_accepts_records_and_numbers_from_threads():
    # A switch interval of a microsecond makes the interpreter change threads between the bytecodes
    # of ``self._numbers += 1``: without the store's lock, numbers repeat and records go missing.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    store, numbers = MemoryRunStore(), []

    def reserve_and_add(worker: int) -> None:
        for _ in range(500):
            numbers.append(store.reserve_number())
        store.add(fake_record(1000 + worker))

    try:
        threads = [threading.Thread(target=reserve_and_add, args=(worker,)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)
    assert sorted(numbers) == list(range(1, 4001))
    assert [record.number for record in store.records()] == list(range(1000, 1008))


def test_submitted_run_files_its_record(sample_data, linear_teacher):
    runner, store = JobRunner(1), MemoryRunStore()
    job = submit_distillation(runner, TrainRequest.build(tiny_config(), sample_data), sample_data, store, owner="me")
    assert runner.wait(job, timeout=120)
    assert job.status == JobStatus.COMPLETED, job.error
    [run_id] = job.result.filed
    record = store.get(run_id)
    assert record.status == "completed" and record.number == 1 and record.source == "trained"
    assert record.cache_key is not None and not job.result.unsaved and not job.result.unsaved_records
    assert job.progress == 1.0
    events = job.events()
    assert isinstance(events[0], TeacherReady) and events[0].test_accuracy == linear_teacher.record.test_accuracy
    assert set(curves_from_events(events)) == {"distilled", "baseline"}
    assert not any(isinstance(event, StepEvent) for event in events)  # the log stays small


def test_stopped_run_keeps_its_partial_result(sample_data, linear_teacher):
    runner, store = JobRunner(1), MemoryRunStore()
    job = submit_distillation(
        runner,
        TrainRequest.build(tiny_config(epochs=50, train_size=4000, batch_size=16), sample_data),
        sample_data,
        store,
    )
    deadline = time.time() + 60
    while not any(isinstance(event, EvalEvent) for event in job.events()) and time.time() < deadline:
        time.sleep(0.02)
    job.request_stop()
    assert runner.wait(job, timeout=60)
    assert job.status == JobStatus.STOPPED
    [record] = store.records()
    assert record.status == "stopped" and record.cache_key is None  # never served as "the" result
    assert record.summary["student"]["epochs_done"] < 50
    assert record.summary["baseline"] is None
    assert "Stopped early" in describe_outcome(record)


def test_impossible_settings_fail_before_queueing(sample_data):
    runner = JobRunner(1)
    with pytest.raises(ValueError, match="Batch size 1024"):
        submit_distillation(
            runner, TrainRequest.build(tiny_config(batch_size=1024), sample_data), sample_data, MemoryRunStore()
        )
    assert runner.jobs() == []


def test_curves_at_shows_the_points_recorded_by_then_the_baseline_after_the_distilled_student():
    curves = {
        "distilled": [{"seconds": 1.0, "epoch": 0.5}, {"seconds": 2.0, "epoch": 1.0}],
        "baseline": [{"seconds": 0.5, "epoch": 0.5}, {"seconds": 1.5, "epoch": 1.0}],
    }
    assert curves_seconds(curves) == 3.5
    assert {role: len(points) for role, points in curves_at(curves, 0.9).items()} == {"distilled": 0, "baseline": 0}
    assert {role: len(points) for role, points in curves_at(curves, 2.0).items()} == {"distilled": 2, "baseline": 0}
    assert {role: len(points) for role, points in curves_at(curves, 2.5).items()} == {"distilled": 2, "baseline": 1}
    assert curves_at(curves, 3.5) == curves and curves_seconds({}) == 0
