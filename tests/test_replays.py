import json
import threading

import pytest
import torch

from kdlab import cli, replays
from kdlab.metrics import apply_class_bias
from kdlab.replays import (BUDGETS, REPLAY_NAMES, Budget, MissingDigitsConfig, TableConfig, TemperatureWidthConfig,
                           best_bias, bias_sweep, evaluate_bias, format_value, load_cached_temperature_width,
                           replay_config, replay_omit_3, run_replay)
from kdlab.schemes import ProgressEvent

# Small stand-ins for the paper's networks so each replay runs in seconds on the 4,000-image sample.
TINY_BUDGET = Budget("test", teacher_epochs=2, student_epochs=1, sweep_epochs=1, sweep_train_size=300)
SMALL = dict(budget=TINY_BUDGET, teacher="mlp-100x1", student="mlp-30x1")


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
    assert replay_config("table", seed=4).seed == 4


@pytest.mark.parametrize(("make", "message"), [
    (lambda: replay_config("omit-4"), "Unknown replay 'omit-4'"),
    (lambda: replay_config("table", "medium"), "Unknown budget 'medium': choose quick or full"),
    (lambda: Budget("x", teacher_epochs=0, student_epochs=1, sweep_epochs=1, sweep_train_size=None), "Teacher epochs"),
    (lambda: MissingDigitsConfig(omit_classes=(3,), only_classes=(7,)), "either omit"),
    (lambda: MissingDigitsConfig(omit_classes=(11,)), "Digit 11"),
    (lambda: TableConfig(temperature=0), "Temperature"),
    (lambda: TableConfig(budget="quick"), "budget must be a Budget"),
    (lambda: TemperatureWidthConfig(widths=(5,)), "out of range"),
    (lambda: TemperatureWidthConfig(temperatures=()), "at least one"),
])
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


def test_format_value():
    assert format_value(74, "errors", 10_000) == "74 of 10,000 wrong (0.74%)"
    assert format_value(3.5, "bias") == "+3.5"
    assert format_value(0.986, "accuracy") == "98.6%"
    assert format_value(None, "errors", 10) == "-"


# ---------------------------------------------------------------- short runs


def _assert_monotone_progress(events):
    fractions = [event.fraction for event in events if isinstance(event, ProgressEvent)]
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_table_replay_short_run(sample_data):
    events = []
    result = run_replay("table", sample_data, config=TableConfig(**SMALL), on_event=events.append)
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["status"] == "completed" and summary["budget"]["name"] == "test"
    assert [row["paper"] for row in summary["comparison"]] == [67, 146, 74]
    assert summary["ours"]["distilled_errors"] == summary["distilled"]["test_errors"]
    assert summary["teacher"]["jitter_pixels"] == 2
    assert summary["transfer_set"]["size"] == len(sample_data.train)
    assert set(result.test_logits) == {"teacher", "alone", "distilled"}
    _assert_monotone_progress(events)


def test_omit_3_never_shows_a_3_and_biases_without_retraining(sample_data):
    result = replay_omit_3(MissingDigitsConfig(**SMALL, omit_classes=(3,)), sample_data)
    summary = result.summary
    json.dumps(summary, allow_nan=False)
    assert summary["replay"] == "omit-3" and summary["status"] == "completed"
    counts = summary["transfer_set"]["class_counts"]
    assert counts[3] == 0 and all(count > 0 for digit, count in enumerate(counts) if digit != 3)
    validation = summary["validation_set"]["class_counts"]
    assert validation[3] > 0
    assert sum(counts) + sum(validation) <= len(sample_data.train) - sample_data.train.class_counts()[3] + validation[3]
    assert summary["before_bias"]["class_total"] == sample_data.test.class_counts()[3]
    for key in ("bias_used", "test_optimal_bias"):
        assert isinstance(summary[key], float)
    # The stored logits reproduce the summary, so a page slider needs no retraining.
    stored = result.test_logits["distilled"]
    again = evaluate_bias(stored, result.test_labels, {3: summary["bias_used"]})
    assert again.errors == summary["after_bias"]["errors"]
    assert again.class_accuracy == summary["after_bias"]["class_accuracy"]
    optimal = evaluate_bias(stored, result.test_labels, {3: summary["test_optimal_bias"]})
    assert optimal.errors <= summary["before_bias"]["errors"]


def test_only_7_8_replay_short_run(sample_data):
    config = MissingDigitsConfig(**SMALL, omit_classes=(), only_classes=(7, 8))
    summary = run_replay("only-7-8", sample_data, config=config).summary
    counts = summary["transfer_set"]["class_counts"]
    assert [digit for digit, count in enumerate(counts) if count] == [7, 8]
    assert summary["bias_classes"] == [7, 8]
    assert summary["comparison"][0]["paper"] == 4730
    assert set(summary["after_bias"]["biases"]) == {"7", "8"}
    with pytest.raises(ValueError, match="only-7-8 replay keeps exactly"):
        run_replay("only-7-8", sample_data, config=MissingDigitsConfig(**SMALL))


def test_temperature_width_grid_is_cached_once_complete(sample_data, tmp_path):
    config = TemperatureWidthConfig(**SMALL, widths=(10, 30), temperatures=(2.0, 8.0))
    events = []
    first = run_replay("temperature-width", sample_data, config=config, cache_dir=tmp_path, on_event=events.append)
    summary = first.summary
    assert summary["status"] == "completed" and not summary["from_cache"]
    assert [(cell["width"], cell["temperature"]) for cell in summary["grid"]] == [
        (10, None), (10, 2.0), (10, 8.0), (30, None), (30, 2.0), (30, 8.0)]
    assert [entry["width"] for entry in summary["findings"]["by_width"]] == [10, 30]
    _assert_monotone_progress(events)
    cached = run_replay("temperature-width", sample_data, config=config, cache_dir=tmp_path)
    assert cached.summary["from_cache"] and cached.summary["grid"] == summary["grid"]
    assert load_cached_temperature_width(config, sample_data, tmp_path) is not None
    other = TemperatureWidthConfig(**SMALL, widths=(10,), temperatures=(2.0,))
    assert load_cached_temperature_width(other, sample_data, tmp_path) is None


def test_stopped_replays_are_partial_and_not_cached(sample_data, tmp_path):
    stop = threading.Event()
    stop.set()
    table = run_replay("table", sample_data, config=TableConfig(**SMALL), stop=stop, cache_dir=tmp_path)
    assert table.status == "stopped"
    json.dumps(table.summary, allow_nan=False)
    config = TemperatureWidthConfig(**SMALL, widths=(10,), temperatures=(2.0,))
    grid = run_replay("temperature-width", sample_data, config=config, stop=stop, cache_dir=tmp_path)
    assert grid.status == "stopped" and grid.summary["grid"] == []
    assert load_cached_temperature_width(config, sample_data, tmp_path) is None


def test_command_line_replay_json(capsys, monkeypatch):
    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    code = cli.main(["replay", "only-7-8", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["replay"] == "only-7-8" and summary["budget"]["name"] == "test"
    assert "paper" in captured.err and "Output bias" in captured.err
    assert cli.main(["replay", "omit-9"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_replay_has_paper_numbers():
    assert set(replays.PAPER_NUMBERS) == set(REPLAY_NAMES)
    assert replays.PAPER_NUMBERS["omit-3"]["bias"] == 3.5
