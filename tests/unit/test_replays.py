import json
import threading

import pytest
import torch

from kdlab.cli import main
from kdlab.cli.replay import comparison_lines
from kdlab.experiments import replays
from kdlab.experiments.replays import (
    BUDGETS,
    REPLAYS,
    Budget,
    MissingDigitsConfig,
    TableConfig,
    TemperatureWidthConfig,
    format_value,
    load_cached_temperature_width,
    replay_config,
    replay_omit_3,
    run_replay,
)
from kdlab.experiments.replays.paper import PAPER_TEST_SIZE
from kdlab.ml.context import RunContext
from kdlab.ml.data import stratified_split
from kdlab.ml.metrics import BIAS_GRID, apply_class_bias, best_bias, bias_sweep, evaluate_bias, evaluate_logits
from kdlab.ml.progress import ProgressEvent
from kdlab.ml.train import EpochEvent

# Small stand-ins for the paper's networks so each replay runs in seconds on the 4,000-image sample.
TINY_BUDGET = Budget("test", teacher_epochs=2, student_epochs=1, sweep_epochs=1, sweep_train_size=300)
SMALL = dict(budget=TINY_BUDGET, teacher="mlp-100x1", student="mlp-30x1")
# The keys of every summary's "config": the JSON users and the grid cache read.
SETUP_KEYS = {
    "budget",
    "teacher",
    "student",
    "temperature",
    "alpha",
    "jitter_pixels",
    "learning_rate",
    "batch_size",
    "seed",
    "teacher_seed",
}


# ---------------------------------------------------------------- configs


def test_named_budgets_and_configs():
    assert set(BUDGETS) == {"quick", "full"}
    assert BUDGETS["full"].teacher_epochs > BUDGETS["quick"].teacher_epochs
    assert isinstance(replay_config("table"), TableConfig)
    assert replay_config("omit-3").bias_classes == (3,)
    only = replay_config("only-7-8", "full")
    assert only.bias_classes == (7, 8) and only.budget.name == "full"
    full_grid = replay_config("temperature-width", "full")
    assert len(full_grid.temperatures) > len(replay_config("temperature-width").temperatures)
    assert replay_config("table", seed=4).training.seed == 4


def test_configs_hold_the_students_training_and_take_epochs_from_the_budget():
    omit = replay_config("omit-3", "quick", seed=3, temperature=8)
    assert (omit.training.seed, omit.training.temperature) == (3, 8)
    assert omit.training.epochs == BUDGETS["quick"].student_epochs and omit.training.jitter_pixels == 0
    assert omit.transfer_spec().seed == 3
    grid = replay_config("temperature-width", "full")
    cell = grid.cell_training(2.5)
    assert (cell.epochs, cell.temperature, cell.seed) == (BUDGETS["full"].sweep_epochs, 2.5, 0)
    assert grid.cell_training(None).temperature == grid.training.temperature


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("table", set()),
        ("omit-3", {"omit_classes", "only_classes", "validation_fraction"}),
        ("temperature-width", {"widths", "temperatures", "depth", "with_baseline"}),
    ],
)
def test_config_json_keeps_its_keys(name, extra):
    values = replay_config(name, teacher_jitter_pixels=1).as_dict()
    assert set(values) == SETUP_KEYS | extra
    assert values["jitter_pixels"] == 1 and values["budget"] == "quick"  # the teacher's jitter
    json.dumps(values, allow_nan=False)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: replay_config("omit-4"), "Unknown replay 'omit-4'"),
        (lambda: replay_config("table", "medium"), "Unknown budget 'medium': choose quick or full"),
        (
            lambda: Budget("x", teacher_epochs=0, student_epochs=1, sweep_epochs=1, sweep_train_size=None),
            "Teacher epochs",
        ),
        (lambda: MissingDigitsConfig(omit_classes=(3,), only_classes=(7,)), "either omit"),
        (lambda: MissingDigitsConfig(omit_classes=(11,)), "Digit 11"),
        (lambda: TableConfig.build(temperature=0), "Temperature"),
        (lambda: TableConfig.build(jitter_pixels=2), "Students do not jitter"),
        (lambda: TableConfig(teacher_jitter_pixels=9), "Jitter must be 0 to 4"),
        (lambda: TableConfig(budget="quick"), "budget must be a Budget"),
        (lambda: TemperatureWidthConfig(widths=(5,)), "out of range"),
        (lambda: TemperatureWidthConfig(temperatures=()), "at least one"),
    ],
)
def test_bad_settings_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---------------------------------------------------------------- biases


def test_evaluate_bias_counts_errors_overall_and_on_the_class():
    logits = torch.tensor([[2.0, 0.0, 1.0], [0.0, 3.0, 2.5], [1.0, 0.0, 0.5], [0.0, 0.0, 4.0]])
    labels = torch.tensor([2, 2, 0, 2])
    logits = torch.cat([logits, torch.full((4, 7), -10.0)], 1)  # (4, 10)
    before = evaluate_bias(logits, labels, {}, classes=(2,))
    assert (before.errors, before.class_errors, before.class_total) == (2, 2, 3)
    after = evaluate_bias(logits, labels, {2: 1.1})
    assert (after.errors, after.class_errors) == (1, 0)  # image 3 (a 0) now reads as a 2
    assert after.class_accuracy == 1.0 and after.error_rate == 0.25
    json.dumps(after.as_dict(), allow_nan=False)


def test_bias_sweep_matches_brute_force():
    torch.manual_seed(1)
    logits, labels = torch.randn(200, 10) * 3, torch.randint(0, 10, (200,))
    grid = torch.tensor([-6.0, -1.5, 0.0, 0.7, 4.0])
    for classes in [(3,), (7, 8)]:
        sweep = bias_sweep(logits, labels, classes, grid)
        for bias, errors, class_errors in zip(sweep["bias"], sweep["errors"], sweep["class_errors"]):
            predictions = apply_class_bias(logits, dict.fromkeys(classes, bias)).argmax(1)
            wrong = predictions != labels
            assert errors == int(wrong.sum())
            assert class_errors == int(wrong[torch.isin(labels, torch.tensor(classes))].sum())


def test_best_bias_recovers_a_suppressed_class():
    torch.manual_seed(2)
    labels = torch.arange(10).repeat(30)
    logits = torch.randn(300, 10) + 4 * torch.nn.functional.one_hot(labels, 10)
    logits[:, 3] -= 5.0  # the student never saw a 3: its logit is far too low
    assert evaluate_bias(logits, labels, {}, (3,)).class_accuracy < 0.3
    bias = best_bias(logits, labels, (3,))
    assert 3.0 <= bias <= 7.0
    assert evaluate_bias(logits, labels, {3: bias}).class_accuracy > 0.9
    with pytest.raises(ValueError, match="empty"):
        best_bias(logits[:0], labels[:0], (3,))


def test_format_value_and_comparison_lines():
    assert format_value(74, "errors", 10_000) == "74 of 10,000 wrong (0.74%)"
    assert format_value(3.5, "bias") == "+3.5"
    assert format_value(0.986, "accuracy") == "98.6%"
    assert format_value(None, "errors", 10) == "-"
    row = {
        "quantity": "Student alone",
        "paper": 146,
        "ours": 52,
        "unit": "errors",
        "paper_total": 10_000,
        "ours_total": 1_000,
    }
    header, line = comparison_lines({"comparison": [row]})
    assert header.split() == ["paper", "ours"]
    assert line.index("146 of 10,000") == header.index("paper") and line.endswith("52 of 1,000 wrong (5.20%)")
    assert comparison_lines({"comparison": []}) == []


# ---------------------------------------------------------------- short runs


def _assert_monotone_progress(events):
    fractions = [event.fraction for event in events if isinstance(event, ProgressEvent)]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_table_replay_short_run(sample_data):
    events = []
    result = run_replay("table", sample_data, config=TableConfig(**SMALL), context=RunContext(on_event=events.append))
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["status"] == "completed" and summary["budget"]["name"] == "test"
    paper = REPLAYS["table"].paper_numbers
    expected = [paper["teacher_errors"], paper["student_alone_errors"], paper["distilled_errors"]]
    assert [row["paper"] for row in summary["comparison"]] == expected
    assert summary["ours"]["distilled_errors"] == summary["distilled"]["test_errors"]
    assert summary["ours"]["student_alone_errors"] == summary["student_alone"]["test_errors"]
    assert summary["teacher"]["jitter_pixels"] == summary["config"]["jitter_pixels"] == 2
    assert summary["transfer_set"]["size"] == len(sample_data.train)
    assert set(result.test_logits) == {"teacher", "baseline", "distilled"}
    assert {event.run for event in events if isinstance(event, EpochEvent)} == {"teacher", "baseline", "distilled"}
    _assert_monotone_progress(events)


def test_omit_3_never_shows_a_3_and_biases_without_retraining(sample_data, monkeypatch):
    import kdlab.experiments.replays.missing_digits as missing_digits

    predicted = []  # the student's logits on the held-out images, as the replay computed them

    def predict_and_keep(*args):
        predicted.append(real_predict(*args))
        return predicted[-1]

    real_predict = missing_digits.predict_logits
    monkeypatch.setattr(missing_digits, "predict_logits", predict_and_keep)
    config = MissingDigitsConfig(**SMALL, omit_classes=(3,))
    result = replay_omit_3(config, sample_data)
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["replay"] == "omit-3" and summary["status"] == "completed"

    # The transfer set has no 3 at all; the held-out images, which never train, do.
    counts, validation = summary["transfer_set"]["class_counts"], summary["validation_set"]["class_counts"]
    assert counts[3] == 0 and all(count > 0 for digit, count in enumerate(counts) if digit != 3)
    assert validation[3] > 0
    train_counts = sample_data.train.class_counts()
    assert all(counts[digit] + validation[digit] == train_counts[digit] for digit in range(10) if digit != 3)

    # The bias we use is the one with the fewest errors on the held-out images.
    _, held_out = stratified_split(sample_data.train.labels, config.validation_fraction, seed=config.training.seed)
    held_out_sweep = bias_sweep(predicted[0], sample_data.train.labels[held_out], (3,))
    chosen_errors = held_out_sweep["errors"][held_out_sweep["bias"].index(summary["bias_used"])]
    assert chosen_errors == min(held_out_sweep["errors"])

    # The stored logits reproduce every number of the summary, so a page slider needs no retraining.
    stored, labels = result.test_logits["distilled"], result.test_labels
    assert summary["before_bias"] == evaluate_bias(stored, labels, {}, (3,)).as_dict()
    assert summary["before_bias"]["errors"] == summary["distilled"]["test_errors"]
    assert summary["before_bias"]["class_total"] == sample_data.test.class_counts()[3]
    assert summary["after_bias"] == evaluate_bias(stored, labels, {3: summary["bias_used"]}).as_dict()
    optimal = evaluate_bias(stored, labels, {3: summary["test_optimal_bias"]})
    assert summary["after_test_optimal_bias"] == optimal.as_dict()
    assert (
        optimal.errors == min(bias_sweep(stored, labels, (3,), BIAS_GRID)["errors"]) <= summary["before_bias"]["errors"]
    )

    paper = REPLAYS["omit-3"].paper_numbers
    rows = {row["quantity"]: row for row in summary["comparison"]}
    assert rows["Test errors, no bias change"]["paper"] == paper["errors"]
    assert rows["Errors on the test 3s"]["paper_total"] == paper["test_3s"]
    assert rows["Test errors after the bias change"]["ours"] == summary["after_bias"]["errors"]


def test_only_7_8_replay_short_run(sample_data):
    config = MissingDigitsConfig(**SMALL, omit_classes=(), only_classes=(7, 8))
    summary = run_replay("only-7-8", sample_data, config=config).summary
    counts = summary["transfer_set"]["class_counts"]
    assert [digit for digit, count in enumerate(counts) if count] == [7, 8]
    assert summary["bias_classes"] == [7, 8]
    assert summary["comparison"][0]["paper"] == round(
        REPLAYS["only-7-8"].paper_numbers["test_error_rate"] * PAPER_TEST_SIZE
    )
    assert set(summary["after_bias"]["biases"]) == {"7", "8"}
    with pytest.raises(ValueError, match="only-7-8 replay keeps exactly"):
        run_replay("only-7-8", sample_data, config=MissingDigitsConfig(**SMALL))


def test_a_batch_larger_than_the_transfer_set_fails_before_training(sample_data):
    config = MissingDigitsConfig.build(**SMALL, omit_classes=(), only_classes=(7, 8), batch_size=5_000)
    with pytest.raises(ValueError, match="Batch size 5000 is larger"):
        run_replay("only-7-8", sample_data, config=config)


def test_temperature_width_grid_is_cached_once_complete(sample_data, tmp_path):
    config = TemperatureWidthConfig(**SMALL, widths=(10, 30), temperatures=(2.0, 8.0))
    events = []
    first = run_replay(
        "temperature-width", sample_data, config=config, context=RunContext(on_event=events.append, cache_dir=tmp_path)
    )
    summary = first.summary
    assert summary["status"] == "completed" and not summary["from_cache"]
    assert [(cell["width"], cell["temperature"]) for cell in summary["grid"]] == [
        (10, None),
        (10, 2.0),
        (10, 8.0),
        (30, None),
        (30, 2.0),
        (30, 8.0),
    ]
    assert [entry["width"] for entry in summary["findings"]["by_width"]] == [10, 30]
    runs = {event.run for event in events if isinstance(event, EpochEvent)}
    assert {"mlp-10x2 baseline", "mlp-10x2 T = 2", "mlp-30x2 T = 8"} <= runs
    _assert_monotone_progress(events)
    cached = run_replay("temperature-width", sample_data, config=config, context=RunContext(cache_dir=tmp_path))
    assert cached.summary["from_cache"] and cached.summary["grid"] == summary["grid"]
    assert load_cached_temperature_width(config, sample_data, tmp_path) is not None
    other = TemperatureWidthConfig(**SMALL, widths=(10,), temperatures=(2.0,))
    assert load_cached_temperature_width(other, sample_data, tmp_path) is None
    assert list(tmp_path.glob("replays/*.tmp")) == []


def test_stopped_replays_are_partial_and_not_cached(sample_data, tmp_path):
    stop = threading.Event()
    stop.set()
    table = run_replay(
        "table", sample_data, config=TableConfig(**SMALL), context=RunContext(stop=stop, cache_dir=tmp_path)
    )
    assert table.status == "stopped"
    json.dumps(table.summary, allow_nan=False)
    config = TemperatureWidthConfig(**SMALL, widths=(10,), temperatures=(2.0,))
    grid = run_replay(
        "temperature-width", sample_data, config=config, context=RunContext(stop=stop, cache_dir=tmp_path)
    )
    assert grid.status == "stopped" and grid.summary["grid"] == []
    assert load_cached_temperature_width(config, sample_data, tmp_path) is None


def test_command_line_replay_json(capsys, monkeypatch):
    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    code = main(["replay", "only-7-8", "--json", "--seed", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["replay"] == "only-7-8" and summary["budget"]["name"] == "test"
    assert summary["config"]["seed"] == 2
    assert "paper" in captured.err and "Output bias" in captured.err
    assert main(["replay", "omit-9"]) == 2
    assert "invalid choice" in capsys.readouterr().err


# ---------------------------------------------------------------- compression (Bucila et al. 2006)

# Two linear members and a tiny student: the whole replay runs in seconds on the 4,000-image sample.
TINY_COMPRESSION = replays.CompressionBudget(
    "test", labelled_size=500, transfer_size=1_500, teacher_epochs=2, student_epochs=1
)
SMALL_COMPRESSION = dict(budget=TINY_COMPRESSION, teacher="ensemble:linear*2", student="mlp-30x1")


def test_compression_replay_short_run(sample_data, tmp_path):
    config = replays.CompressionConfig(**SMALL_COMPRESSION)
    events = []
    result = run_replay(
        "compression", sample_data, config=config, context=RunContext(on_event=events.append, cache_dir=tmp_path)
    )
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["replay"] == "compression" and summary["status"] == "completed"
    assert summary["paper"] == REPLAYS["compression"].paper_numbers and summary["paper_source"] == replays.BUCILA

    # The sizes of every set: the labelled set, the real images outside it, the generated sets, the test set.
    sets = summary["sets"]
    assert sets["labelled"]["size"] == 500 and sum(sets["labelled"]["class_counts"]) == 500
    assert sets["real"]["size"] == 1_500 <= len(sample_data.train) - 500
    assert sets["munge"]["size"] == sets["noise"]["size"] == 1_500 and sets["test"]["size"] == len(sample_data.test)
    for kind in ("labelled", "real", "munge", "noise"):
        assert sum(sets[kind]["ensemble_label_counts"]) == sets[kind]["size"]  # labelled by the ensemble only

    # Every error count is the one its stored test logits give.
    labels, logits = result.test_labels, result.test_logits
    ours = summary["ours"]
    assert ours["ensemble_errors"] == evaluate_logits(logits["ensemble"], labels).errors
    assert ours["best_member_errors"] == min(member["test_errors"] for member in summary["teacher"]["members"])
    assert ours["best_member_errors"] == evaluate_logits(logits["best member"], labels).errors
    for run, key in (
        ("alone", "student_alone_errors"),
        ("labelled", "labelled_errors"),
        ("real", "real_errors"),
        ("munge", "munge_errors"),
        ("noise", "noise_errors"),
    ):
        assert ours[key] == evaluate_logits(logits[run], labels).errors == summary["students"][run]["test_errors"]
    assert [row["ours"] for row in summary["comparison"]] == [
        ours["ensemble_errors"],
        ours["best_member_errors"],
        ours["student_alone_errors"],
        ours["labelled_errors"],
        ours["real_errors"],
        ours["munge_errors"],
        ours["noise_errors"],
    ]

    # The claim is read with the stated rule.
    for kind, claim in summary["claim"].items():
        fewer = (ours["student_alone_errors"] - ours[f"{kind}_errors"]) / ours["student_alone_errors"]
        assert claim["fewer_errors_than_alone"] == round(fewer, 3)
        assert claim["beats_alone_widely"] == (fewer >= 0.25)

    # Example images of each kind, for the page; the students trained alone and distilled for one epoch each.
    assert set(result.images) == {"labelled", "real", "munge", "noise"}
    assert all(images.shape[1:] == (28, 28) and images.dtype == torch.uint8 for images in result.images.values())
    runs = {event.run for event in events if isinstance(event, EpochEvent)}
    assert runs == {"teacher", "alone", "labelled", "real", "munge", "noise"}
    _assert_monotone_progress(events)

    # A second run trains no member again and loads the generated sets from the cache.
    later = []
    again = run_replay(
        "compression", sample_data, config=config, context=RunContext(on_event=later.append, cache_dir=tmp_path)
    ).summary
    assert not [event for event in later if isinstance(event, EpochEvent) and event.run == "teacher"]
    assert again["sets"]["munge"]["from_cache"] and again["sets"]["noise"]["from_cache"]
    assert again["ours"]["ensemble_errors"] == ours["ensemble_errors"]


def test_compression_students_learn_only_from_the_ensemble(sample_data, tmp_path, monkeypatch):
    import kdlab.experiments.replays.bucila as compression

    seen = {}
    real_train = compression.train_model

    def capture(model, transfer, test, training, **kwargs):
        seen[kwargs["run"]] = (transfer, kwargs.get("teacher_logits"), training)
        return real_train(model, transfer, test, training, **kwargs)

    monkeypatch.setattr(compression, "train_model", capture)
    config = replays.CompressionConfig(**SMALL_COMPRESSION, transfer_kinds=("munge",))
    result = run_replay("compression", sample_data, config=config, context=RunContext(cache_dir=tmp_path))
    transfer, targets, training = seen["munge"]
    assert training.alpha == 1.0  # no weight on any label
    assert torch.equal(transfer.labels, targets.argmax(1))  # the only "labels" are the ensemble's answers
    alone_set, alone_targets, alone_training = seen["alone"]
    assert alone_targets is None and alone_training.epochs == 3  # 1 epoch of 1,500 images = 3 of 500
    labelled, _ = compression.labelled_subset(config, sample_data)
    assert torch.equal(alone_set.images, labelled.train.images) and torch.equal(alone_set.labels, labelled.train.labels)
    assert set(result.summary["sets"]) == {"labelled", "munge", "test"}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (dict(teacher="ensemble:linear*1"), "2 to 5 members"),
        (dict(student="ensemble:cnn*2"), "Unknown architecture"),
        (dict(transfer_kinds=("real", "gan")), "Unknown transfer set gan"),
        (dict(swap_probability=2.0), "between 0 and 1"),
        (dict(spread=0.0), "spread s must be above 0"),
        (dict(jitter_pixels=1), "Students do not jitter"),
    ],
)
def test_compression_config_rejects_bad_settings(settings, message):
    with pytest.raises(ValueError, match=message):
        replays.compression_config("quick", **settings)
    with pytest.raises(ValueError, match="Unknown budget 'medium'"):
        replay_config("compression", "medium")


def test_compression_needs_a_pool_beyond_the_labelled_set(sample_data):
    budget = replays.CompressionBudget(
        "big", labelled_size=len(sample_data.train), transfer_size=100, teacher_epochs=1, student_epochs=1
    )
    with pytest.raises(ValueError, match="must be smaller than the training set"):
        run_replay("compression", sample_data, config=replays.CompressionConfig(budget=budget))


def test_command_line_compression_json(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(replays.COMPRESSION_BUDGETS, "quick", TINY_COMPRESSION)
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path))
    code = main(["replay", "compression", "--json", "--teacher", "ensemble:linear*2", "--student", "mlp-10x1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["replay"] == "compression" and summary["config"]["teacher"] == "ensemble:linear*2"
    assert {"labelled", "real", "munge", "noise", "test"} == set(summary["sets"])
    assert "Claim:" in captured.err and "labelled 500" in captured.err
    assert main(["replay", "compression", "--teacher", "ensemble:linear*1"]) == 2
    assert "2 to 5 members" in capsys.readouterr().err
    assert main(["replay", "table", "--teacher", "cnn"]) == 2
    assert "compression and decoupled replays only" in capsys.readouterr().err


def test_every_compression_student_sees_as_many_images():
    quick = replays.COMPRESSION_BUDGETS["quick"]
    assert (quick.epochs_for(20_000), quick.epochs_for(2_000), quick.epochs_for(4_000)) == (20, 200, 100)
    assert quick.epochs_for(10) == 500  # capped, like any run's epochs
    with pytest.raises(ValueError, match="at least 10 images"):
        replays.CompressionBudget("x", labelled_size=5, transfer_size=100, teacher_epochs=1, student_epochs=1)


def test_a_single_network_can_be_compressed_too(sample_data, tmp_path):
    config = replays.CompressionConfig(**(SMALL_COMPRESSION | {"teacher": "linear"}), transfer_kinds=("real",))
    result = run_replay("compression", sample_data, config=config, context=RunContext(cache_dir=tmp_path))
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["status"] == "completed" and summary["ours"]["best_member_errors"] is None
    assert "best member" not in result.test_logits and summary["comparison"][1]["ours"] is None
