"""``python -m kdlab``: JSON output, exit codes and one-line errors."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


def run_cli(*args, timeout=300, lang="C.UTF-8"):
    """``python -m kdlab *args`` with ``LANG=lang`` (the other locale variables unset: English by default)."""
    quiet = {name: "" for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    return subprocess.run(
        [sys.executable, "-m", "kdlab", *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **quiet, "LANG": lang},
    )


def test_data_command_reports_the_offline_sample():
    completed = run_cli("data", "--json")
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["data"]["source"] == "mnist-sample"
    assert (report["data"]["train_size"], report["data"]["test_size"]) == (4000, 1000)
    assert report["device"] == "cpu"


def test_distill_json_has_the_promised_fields(small_teacher):
    completed = run_cli(
        "distill",
        "--teacher",
        "lenet5",
        "--teacher-epochs",
        "8",
        "--student",
        "mlp-50x1",
        "--epochs",
        "2",
        "--train-size",
        "500",
        "--omit",
        "3",
        "--baseline",
        "--json",
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)  # exactly one JSON object on stdout
    assert set(report) >= {"data", "config", "teacher", "student", "baseline", "seconds"}
    assert report["teacher"]["from_cache"] is True  # trained by the fixture in the same cache
    assert report["teacher"]["test_errors"] == small_teacher.record.test_errors
    for role in ("student", "baseline"):
        run = report[role]
        assert run["arch"] == "mlp-50x1" and run["params"] == 784 * 50 + 50 + 50 * 10 + 10
        assert run["status"] == "completed" and len(run["per_class_accuracy"]) == 10
        assert run["test_errors"] == round((1 - run["test_accuracy"]) * 1000)
    assert report["config"]["omit_classes"] == [3] and report["transfer_set"]["class_counts"][3] == 0
    assert "epoch 2/2" in completed.stderr  # progress goes to stderr


def test_train_size_all_uses_every_image_the_filters_leave(small_teacher):
    completed = run_cli(
        "distill",
        "--teacher",
        "lenet5",
        "--teacher-epochs",
        "8",
        "--student",
        "linear",
        "--epochs",
        "1",
        "--only",
        "7",
        "8",
        "--train-size",
        "all",
        "--json",
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["transfer_set"]["size"] == 800 and report["baseline"] is None


def test_a_student_name_with_leading_zeros_runs_under_its_canonical_name(small_teacher):
    completed = run_cli(
        "distill",
        "--teacher",
        "lenet5",
        "--teacher-epochs",
        "8",
        "--student",
        "mlp-010x01",
        "--epochs",
        "1",
        "--train-size",
        "200",
        "--json",
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["config"]["student"] == "mlp-10x1" and report["student"]["arch"] == "mlp-10x1"
    assert "Student mlp-010x01 runs as mlp-10x1." in completed.stderr


@pytest.mark.parametrize(
    "args,message",
    [
        (["distill", "--alpha", "1.5"], "alpha must be between 0 and 1"),
        (["distill", "--temperature", "0"], "Temperature T must be above 0"),
        (["distill", "--student", "resnet"], "Unknown architecture 'resnet'"),
        (["distill", "--train-size", "9000"], "only 4,000 match"),
        (["distill", "--train-size", "50", "--batch-size", "64"], "Batch size 64 is larger"),
        (["distill", "--omit", "12"], "12 is not a digit"),
        (["distill", "--epochs", "many"], "invalid int value"),
        (["teacher", "--arch", "mlp-1x1"], "out of range"),
        (["distill", "--student", "mlp-\u0661\u0660\u0660x1"], "Unknown architecture"),  # Arabic-Indic 100
        (["teacher", "--arch", "ensemble:cnn-wide*10"], "2 to 5 members"),
        (["teacher", "--arch", "ensemble:cnn*\u0663"], "is not a number of seeds"),
        (["data", "--data-dir", "/nonexistent/mnist"], "does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_user_errors_exit_2_with_one_line(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2
    assert completed.stdout == ""
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in completed.stderr


def test_distill_seeds_pairs_each_seed_and_states_a_verdict(linear_teacher):
    from kdlab.experiments.seeds import PairedSeeds

    args = ["distill", "--teacher", "linear", "--teacher-epochs", "2", "--student", "mlp-20x1", "--epochs", "1"]
    completed = run_cli(*args, "--train-size", "300", "--seed", "4", "--seeds", "2", "--json")
    assert completed.returncode == 0, completed.stderr
    seeds = json.loads(completed.stdout)["seeds"]
    assert [run["seed"] for run in seeds["runs"]] == [4, 5]
    for run in seeds["runs"]:
        assert run["difference"] == run["student_alone_errors"] - run["distilled_errors"]
    paired = PairedSeeds(
        (4, 5),
        tuple(run["student_alone_errors"] for run in seeds["runs"]),
        tuple(run["distilled_errors"] for run in seeds["runs"]),
    )
    assert seeds["verdict"] == paired.verdict and seeds["wins"].endswith("of 2 seeds")
    refused = run_cli(*args, "--seeds", "6")
    assert refused.returncode == 2 and "from 1 to 5" in refused.stderr and "Traceback" not in refused.stderr


def test_distill_help_lists_each_schedule_and_standardise_and_a_learned_run_reports_its_temperature(linear_teacher):
    from kdlab.ml.temperature import SCHEDULES

    shown = " ".join(run_cli("distill", "--help").stdout.split())  # argparse wraps the help
    assert "--schedule {" + ",".join(SCHEDULES) + "}" in shown and "--standardise {on,off}" in shown
    args = ["distill", "--teacher", "linear", "--teacher-epochs", "2", "--student", "mlp-20x1", "--epochs", "2"]
    completed = run_cli(*args, "--train-size", "2000", "--schedule", "learned", "--standardise", "off", "--json")
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert (report["config"]["schedule"], report["config"]["standardise"]) == ("learned", False)
    temperature = report["student"]["final_temperature"]
    assert isinstance(temperature, float) and temperature > 1.0  # T = 1 + 20 sigmoid(theta): above 1 always
    assert abs(temperature - report["config"]["temperature"]) > 0.05  # the learned T moved from where it started


def test_the_help_speaks_the_language_of_the_environment():
    """LANG=es_ES.UTF-8: the description, the commands' and options' help and argparse's own words in Spanish;
    LANG=C: English. The option names stay as they are."""
    from kdlab.i18n import translations

    spanish = translations("es").gettext
    words = ("Knowledge-distillation lab on MNIST.", "usage: ", "options", "show this help message and exit")
    words += ("compare offline KD, mutual learning, born-again and teacher-assistant training",)
    english = " ".join(run_cli("--help", lang="C").stdout.split())  # argparse wraps the help
    shown = " ".join(run_cli("--help", lang="es_ES.UTF-8").stdout.split())
    for word in words:
        assert spanish(word) != word, f"{word!r} has no Spanish translation"
        assert " ".join(word.split()) in english and " ".join(spanish(word).split()) in shown
    assert shown.startswith(" ".join(spanish("usage: ").split())) and "{data,teacher,distill," in shown
    option = " ".join(run_cli("export", "--help", lang="es_ES.UTF-8").stdout.split())
    assert "--onnx FILE" in option and " ".join(spanish("the ONNX file to write").split()) in option
