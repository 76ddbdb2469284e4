"""The student file and the ONNX export: the ONNX graph gives the run's own answers, outside PyTorch."""

import io
import json

import numpy as np
import onnxruntime
import pytest
import torch

from kdlab.experiments.distill import run_distillation
from kdlab.ml.data import load_mnist, normalize
from kdlab.ml.export import INPUT_NAME, load_student_file, onnx_bytes, student_file_bytes
from kdlab.ml.models import build_model
from tests.conftest import tiny_config
from tests.unit.test_cli import run_cli


@pytest.fixture(scope="module")
def tiny_run(sample_data, linear_teacher):
    return run_distillation(tiny_config(student="lenet5", epochs=1), sample_data, teacher=linear_teacher)


def onnx_logits(blob: bytes, images: torch.Tensor) -> np.ndarray:
    """Logits from onnxruntime for uint8 images (N, 28, 28), fed as float32 in [0, 1]."""
    session = onnxruntime.InferenceSession(blob, providers=["CPUExecutionProvider"])
    pixels = (images.float() / 255.0).unsqueeze(1).numpy()  # (N, 1, 28, 28)
    return session.run(None, {INPUT_NAME: pixels})[0]


def test_onnx_model_makes_exactly_the_runs_test_errors(tiny_run, sample_data):
    student = tiny_run.student
    test = sample_data.test
    exported = onnx_logits(onnx_bytes(student.model), test.images)
    with torch.inference_mode():
        expected = student.model(normalize(test.images)).numpy()
    assert exported.shape == (len(test), 10)  # the batch axis is dynamic: exported with one image
    assert np.abs(exported - expected).max() < 1e-4
    assert (exported.argmax(1) == expected.argmax(1)).all()
    errors = int((exported.argmax(1) != test.labels.numpy()).sum())
    assert errors == student.evaluation.errors == tiny_run.summary()["student"]["test_errors"]


def test_student_file_round_trip_keeps_every_weight(tiny_run, tmp_path):
    path = tmp_path / "student.pt"
    path.write_bytes(student_file_bytes(tiny_run.student.model, "lenet5"))
    model, architecture = load_student_file(path)
    assert architecture == "lenet5"
    for key, tensor in tiny_run.student.model.state_dict().items():
        assert torch.equal(model.state_dict()[key], tensor)


def test_bad_student_files_explain_themselves(tmp_path):
    bare = tmp_path / "bare.pt"
    buffer = io.BytesIO()
    torch.save(build_model("linear").state_dict(), buffer)
    bare.write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="name its architecture"):
        load_student_file(bare)
    assert load_student_file(bare, "linear")[1] == "linear"
    with pytest.raises(ValueError, match="do not fit the architecture mlp-20x1"):
        load_student_file(bare, "mlp-20x1")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a PyTorch weights file"):
        load_student_file(junk)


def test_distill_saves_a_student_that_export_turns_into_onnx(linear_teacher, tmp_path):
    weights, exported = tmp_path / "student.pt", tmp_path / "student.onnx"
    common = ["--teacher", "linear", "--teacher-epochs", "2", "--student", "mlp-20x1", "--epochs", "1"]
    completed = run_cli("distill", *common, "--train-size", "500", "--save-student", str(weights), "--json")
    assert completed.returncode == 0, completed.stderr
    errors = json.loads(completed.stdout)["student"]["test_errors"]
    completed = run_cli("export", str(weights), "--onnx", str(exported), "--json")
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["onnx_bytes"] == exported.stat().st_size
    test = load_mnist(offline=True).test
    predicted = onnx_logits(exported.read_bytes(), test.images).argmax(1)
    assert int((predicted != test.labels.numpy()).sum()) == errors


@pytest.mark.parametrize(
    "args,message",
    [
        (["export", "/nonexistent/student.pt", "--onnx", "out.onnx"], "no such file"),
        (["export", "student.pt", "--onnx", "/nonexistent/folder/out.onnx"], "does not exist"),
        (["export", "student.pt"], "--onnx"),
        (["distill", "--save-student", "/nonexistent/folder/s.pt"], "folder does not exist"),
    ],
)
def test_export_user_errors_exit_2_with_one_line(args, message):
    completed = run_cli(*args)
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in completed.stderr
