import json
import re
import threading
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from kdlab import cli
from kdlab.experiments.schemes import SCHEME_DESCRIPTIONS, SCHEMES, SchemeConfig, compare_schemes
from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import TransferSetSpec, select_transfer_indices
from kdlab.ml.losses import LabelsLoss, PeerLoss, TeacherLoss, mutual_learning_loss
from kdlab.ml.models import build_model
from kdlab.ml.progress import ProgressEvent, ProgressTracker
from kdlab.ml.train import EpochEvent, StepEvent, train_model, train_models

TINY = dict(teacher="lenet5", teacher_epochs=8, assistant="mlp-30x1", student="linear", epochs=1, train_size=400)
# The keys of the "config" object of ``schemes --json``, as before the config held a TrainConfig.
CONFIG_KEYS = {
    "teacher",
    "assistant",
    "student",
    "temperature",
    "alpha",
    "epochs",
    "learning_rate",
    "batch_size",
    "train_size",
    "seed",
    "teacher_epochs",
    "teacher_seed",
    "generations",
    "mutual_temperature",
    "mutual_alpha",
    "evals_per_epoch",
}


def train_peers(transfer, test, config, **kwargs):
    """Deep mutual learning of two linear peers (seeds 0 and 1), as the mutual scheme runs it."""
    peers = [build_model("linear", seed=0), build_model("linear", seed=1)]
    objectives = [PeerLoss(config.temperature, config.alpha) for _ in peers]
    return train_models(peers, transfer, test, config, objectives, runs=["peer 1", "peer 2"], **kwargs)


def test_config_validates_with_messages_a_student_can_act_on():
    with pytest.raises(ValueError, match="generations must be 1 to 5"):
        SchemeConfig(generations=0)
    with pytest.raises(ValueError, match="Unknown architecture"):
        SchemeConfig(assistant="resnet")
    with pytest.raises(ValueError, match="alpha"):
        SchemeConfig(mutual_alpha=1.5)
    with pytest.raises(ValueError, match="at least 1"):
        SchemeConfig(train_size=0)
    with pytest.raises(ValueError, match="Epochs must be"):
        SchemeConfig.build(epochs=0)
    with pytest.raises(ValueError, match="do not jitter"):
        SchemeConfig.build(jitter_pixels=2)


def test_config_holds_one_train_config_and_keeps_its_json_keys():
    config = SchemeConfig.build(epochs=2, train_size=1000, temperature=8.0, seed=3, student="linear")
    assert config.training == TrainConfig(epochs=2, temperature=8.0, seed=3)
    assert config.student == "linear" and config.train_size == 1000
    assert config.mutual_training == TrainConfig(epochs=2, temperature=1.0, alpha=0.5, seed=3)
    values = config.as_dict()
    assert set(values) == CONFIG_KEYS
    assert (values["epochs"], values["temperature"], values["seed"]) == (2, 8.0, 3)


def test_every_scheme_is_described_in_two_sentences():
    assert set(SCHEME_DESCRIPTIONS) == set(SCHEMES)
    for text in SCHEME_DESCRIPTIONS.values():
        sentences = re.split(r"(?<=\.)\s+(?=[A-Z])", text)  # "et al. 2018" is not a sentence end
        assert len(sentences) == 2 and text.endswith("."), text


def test_mutual_loss_is_cross_entropy_plus_kl_to_the_detached_peer():
    torch.manual_seed(0)
    logits = torch.randn(6, 10, requires_grad=True)
    peer = torch.randn(6, 10, requires_grad=True)
    targets = torch.randint(0, 10, (6,))
    loss = mutual_learning_loss(logits, peer, targets)  # T = 1, alpha = 0.5
    peer_probs = F.softmax(peer, 1)
    kl = (peer_probs * (peer_probs.log() - F.log_softmax(logits, 1))).sum(1).mean()
    expected = 0.5 * (F.cross_entropy(logits, targets) + kl)
    assert torch.allclose(loss.total, expected, atol=1e-6)
    loss.total.backward()
    assert peer.grad is None  # the peer is a fixed target for this step
    assert logits.grad is not None


def test_mutual_learning_without_the_peer_term_is_the_student_alone(sample_data):
    """alpha = 0 turns the peer term off: peer 1 must then be exactly the student alone
    (same initial weights, same batches), which pins down the loop's bookkeeping."""
    transfer = sample_data.train.subset(torch.arange(300))
    config = TrainConfig(epochs=2, seed=3, alpha=0.0, temperature=1.0, evals_per_epoch=1)
    alone = train_model(build_model("mlp-30x1", seed=3), transfer, sample_data.test, config)
    first, second = train_models(
        [build_model("mlp-30x1", seed=3), build_model("mlp-30x1", seed=4)],
        transfer,
        sample_data.test,
        config,
        [PeerLoss(1.0, 0.0), PeerLoss(1.0, 0.0)],
        runs=["peer 1", "peer 2"],
    )
    assert torch.allclose(first.test_logits, alone.test_logits, atol=1e-5)
    assert first.status == second.status == "completed"
    assert first.steps == alone.steps == 6
    assert not torch.allclose(first.test_logits, second.test_logits)


def test_two_models_in_one_loop_learn_what_each_learns_alone(sample_data, small_teacher):
    """One loop, N models: a distilled student and a student alone trained side by side get
    exactly what ``train_model`` gives each of them alone (the MLP has no dropout, whose
    generator is the only thing that depends on the model's place in the loop)."""
    indices = torch.arange(300)
    transfer = sample_data.train.subset(indices)
    teacher_logits = small_teacher.train_logits[indices]
    config = TrainConfig(epochs=2, seed=5, evals_per_epoch=2)
    distilled, baseline = train_models(
        [build_model("mlp-30x1", seed=5), build_model("mlp-30x1", seed=5)],
        transfer,
        sample_data.test,
        config,
        [TeacherLoss(teacher_logits, config.temperature, config.alpha), LabelsLoss()],
        runs=["distilled", "baseline"],
    )
    distilled_alone = train_model(
        build_model("mlp-30x1", seed=5), transfer, sample_data.test, config, teacher_logits=teacher_logits
    )
    baseline_alone = train_model(build_model("mlp-30x1", seed=5), transfer, sample_data.test, config)
    assert torch.equal(distilled.test_logits, distilled_alone.test_logits)
    assert torch.equal(baseline.test_logits, baseline_alone.test_logits)
    curves = [[point.test_accuracy for point in run.history] for run in (baseline, baseline_alone)]
    assert curves[0] == curves[1]
    assert not torch.equal(distilled.test_logits, baseline.test_logits)


def test_mutual_learning_honours_jitter(sample_data):
    transfer = sample_data.train.subset(torch.arange(300))
    config = TrainConfig(epochs=1, temperature=1.0, alpha=0.5)
    plain, again = train_peers(transfer, sample_data.test, config), train_peers(transfer, sample_data.test, config)
    jittered = train_peers(transfer, sample_data.test, replace(config, jitter_pixels=2))
    for index in range(2):
        assert torch.equal(plain[index].test_logits, again[index].test_logits)
        assert not torch.allclose(plain[index].test_logits, jittered[index].test_logits)


def test_mutual_learning_reports_events_and_stops(sample_data):
    transfer = sample_data.train.subset(torch.arange(300))
    events, stop = [], threading.Event()
    stop.set()
    first, second = train_peers(
        transfer, sample_data.test, TrainConfig(epochs=3), context=RunContext(on_event=events.append, stop=stop)
    )
    assert first.status == second.status == "stopped"
    assert first.steps == 1
    assert {event.run for event in events} == {"peer 1", "peer 2"}

    events.clear()
    train_peers(transfer, sample_data.test, TrainConfig(epochs=2), context=RunContext(on_event=events.append))
    epoch_ends = [(event.run, event.epoch) for event in events if isinstance(event, EpochEvent)]
    assert epoch_ends == [("peer 1", 1), ("peer 2", 1), ("peer 1", 2), ("peer 2", 2)]


def test_progress_counts_only_the_work_that_runs():
    events = []
    tracker = ProgressTracker(events.append, {"teacher": 3.0, "student": 1.0})
    tracker.start("teacher", "Teacher")
    tracker.finish("teacher")  # loaded from the cache: no step was taken
    report = tracker.start("student", "Student")
    report(StepEvent("student", 5, 10, 0.5, 1.0, 0.5, 0.5, 0.1))
    tracker.finish("student")
    tracker.done("Finished")
    progress = [(event.fraction, event.message) for event in events if isinstance(event, ProgressEvent)]
    assert progress == [(0.0, "Teacher"), (0.0, "Student"), (0.5, "Student: step 5/10"), (1.0, "Finished")]
    assert sum(isinstance(event, StepEvent) for event in events) == 1  # training events are forwarded


def test_transfer_set_is_shared_and_capped(sample_data):
    indices = SchemeConfig(train_size=400).transfer_indices(sample_data)
    assert torch.equal(indices, select_transfer_indices(sample_data.train.labels, TransferSetSpec(size=400, seed=0)))
    assert len(SchemeConfig(train_size=None).transfer_indices(sample_data)) == len(sample_data.train)
    assert len(SchemeConfig(train_size=10**6).transfer_indices(sample_data)) == len(sample_data.train)
    with pytest.raises(ValueError, match="Batch size"):
        SchemeConfig(train_size=50).transfer_indices(sample_data)


def test_short_run_of_every_scheme_against_both_references(sample_data, small_teacher):
    progress = []
    comparison = compare_schemes(
        SchemeConfig.build(**TINY),
        sample_data,
        teacher=small_teacher,
        context=RunContext(on_event=lambda e: progress.append(e) if isinstance(e, ProgressEvent) else None),
    )
    summary = comparison.summary()
    json.dumps(summary, allow_nan=False)
    assert summary["status"] == "completed"
    assert summary["budget"] == {
        "epochs_per_run": 1,
        "train_size": 400,
        "seed": 0,
        "batch_size": 128,
        "learning_rate": 1e-3,
    }
    assert set(summary["config"]) == CONFIG_KEYS
    baseline, offline = summary["student_alone"], summary["offline_kd"]
    assert baseline["arch"] == offline["arch"] == "linear"
    assert (baseline["label"], baseline["role"]) == ("student alone", "baseline")
    schemes = summary["schemes"]
    assert list(schemes) == list(SCHEMES)
    assert [run["label"] for run in schemes["mutual"]["runs"]] == ["peer 1", "peer 2"]
    assert [run["label"] for run in schemes["born-again"]["runs"]] == ["generation 1", "generation 2"]
    assert [run["arch"] for run in schemes["assistant"]["runs"]] == ["mlp-30x1", "linear"]
    assert schemes["offline"]["final"]["test_errors"] == offline["test_errors"]
    for entry in schemes.values():
        final = entry["final"]
        assert entry["vs_student_alone_errors"] == final["test_errors"] - baseline["test_errors"]
        assert entry["vs_offline_kd_errors"] == final["test_errors"] - offline["test_errors"]
        assert final["epochs_done"] == 1.0
    fractions = [event.fraction for event in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_same_seed_same_numbers(sample_data, small_teacher):
    def trained_runs(seed):
        config = SchemeConfig.build(**TINY, seed=seed)
        comparison = compare_schemes(config, sample_data, ("mutual",), teacher=small_teacher)
        return [comparison.baseline, comparison.offline_kd, *comparison.schemes["mutual"].runs]

    first, second, other_seed = trained_runs(0), trained_runs(0), trained_runs(1)
    for run, again, other in zip(first, second, other_seed):
        assert torch.equal(run.result.test_logits, again.result.test_logits), run.label
        assert run.summary()["curve"] == again.summary()["curve"], run.label
        assert not torch.equal(run.result.test_logits, other.result.test_logits), run.label


def test_stopped_comparison_returns_what_finished(sample_data, small_teacher):
    stop = threading.Event()
    stop.set()
    comparison = compare_schemes(
        SchemeConfig.build(**TINY), sample_data, teacher=small_teacher, context=RunContext(stop=stop)
    )
    assert comparison.status == "stopped"
    assert comparison.baseline is None and comparison.offline_kd is None and comparison.schemes == {}
    json.dumps(comparison.summary(), allow_nan=False)

    stop = threading.Event()  # stop during the first scheme: the references stay, the rest is skipped
    stopper = lambda event: stop.set() if getattr(event, "run", "").startswith("mutual") else None  # noqa: E731
    comparison = compare_schemes(
        SchemeConfig.build(**TINY),
        sample_data,
        ("mutual", "born-again"),
        teacher=small_teacher,
        context=RunContext(on_event=stopper, stop=stop),
    )
    assert comparison.status == "stopped"
    assert comparison.offline_kd.result.status == "completed"
    assert comparison.schemes["mutual"].status == "stopped" and "born-again" not in comparison.schemes
    assert comparison.summary()["schemes"]["mutual"]["status"] == "stopped"


def test_unknown_scheme_is_a_clear_error(sample_data):
    with pytest.raises(ValueError, match="Unknown scheme magic: choose from offline"):
        compare_schemes(SchemeConfig.build(**TINY), sample_data, ("magic",))


def test_command_line_prints_one_json_object(capsys, small_teacher):
    code = cli.main(
        [
            "schemes",
            "--json",
            "--scheme",
            "born-again",
            "--teacher",
            "lenet5",
            "--teacher-epochs",
            "8",
            "--student",
            "linear",
            "--epochs",
            "1",
            "--train-size",
            "300",
            "--generations",
            "1",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.count("\n") == 1  # one JSON object, on one line
    summary = json.loads(captured.out)
    assert list(summary["schemes"]) == ["born-again"]
    # The small_teacher fixture trained and cached this very teacher (lenet5, 8 epochs, seed 0): the command reuses it,
    # from memory or, once the bounded teacher memory has dropped it, from the disk cache.
    assert {key: value for key, value in summary["teacher"].items() if key != "from_cache"} == {
        key: value for key, value in small_teacher.summary().items() if key != "from_cache"
    }
    assert summary["budget"]["epochs_per_run"] == 1 and summary["transfer_set"]["size"] == 300
    assert summary["config"]["student"] == "linear" and summary["config"]["generations"] == 1
    runs = summary["schemes"]["born-again"]["runs"]
    assert [(run["label"], run["arch"], run["epochs_done"]) for run in runs] == [("generation 1", "linear", 1.0)]
    assert "generation 1" in captured.err and "vs alone" in captured.err


def test_command_line_rejects_bad_settings_in_one_line(capsys):
    assert cli.main(["schemes", "--generations", "9"]) == 2
    assert "generations must be 1 to 5" in capsys.readouterr().err
