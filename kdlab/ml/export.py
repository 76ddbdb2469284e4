"""A trained model leaving kdlab: the student file (``.pt``) and ONNX.

The student file is ``torch.save`` of ``{"architecture": name, "state_dict": ...}``: strings and
tensors only, so ``torch.load(file, weights_only=True, map_location="cpu")`` reads it safely and
``build_model(architecture)`` rebuilds the network.

The ONNX graph takes what any image tool has, float32 images (N, 1, 28, 28) with pixels in [0, 1],
and returns logits (N, 10). MNIST's standardisation is inside the graph (``NormalisedModel``), the
same arithmetic as ``kdlab.ml.data.normalize`` after its division by 255, so the file needs no kdlab
to be used.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch
from torch import nn

from kdlab.ml.data import MNIST_MEAN, MNIST_STD
from kdlab.ml.models import build_model

ONNX_OPSET = 17
INPUT_NAME, OUTPUT_NAME = "images", "logits"


class NormalisedModel(nn.Module):
    """``model`` behind MNIST's standardisation: float images in [0, 1] -> logits."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> torch.Tensor:  # (N, 1, 28, 28) in [0, 1] -> (N, 10)
        return self.model((images - MNIST_MEAN) / MNIST_STD)


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {key: tensor.detach().cpu() for key, tensor in model.state_dict().items()}


def model_to_bytes(model: nn.Module) -> bytes:
    """The model's ``state_dict`` as bytes, written by ``torch.save`` (the lab's weights download)."""
    buffer = io.BytesIO()
    torch.save(_cpu_state(model), buffer)
    return buffer.getvalue()


def student_file_bytes(model: nn.Module, architecture: str) -> bytes:
    """The student file: architecture name and CPU state dict, written by ``torch.save``."""
    buffer = io.BytesIO()
    torch.save({"architecture": architecture, "state_dict": _cpu_state(model)}, buffer)
    return buffer.getvalue()


def load_student_file(path: Path | str, architecture: str | None = None) -> tuple[nn.Module, str]:
    """Rebuild the model saved in ``path`` (eval mode, on the CPU) and return it with its architecture.

    ``path`` holds a student file, or a bare state dict (the lab's weights download) when
    ``architecture`` names its architecture.

    Raises:
        ValueError: the file is not a student file or state dict, the architecture is unknown or
            missing, or the weights do not fit it.
    """
    try:
        saved = torch.load(path, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        raise ValueError(f"no such file: {path}") from None
    except Exception as error:  # a truncated or foreign file: pickle, zip or torch errors alike
        raise ValueError(f"{path} is not a PyTorch weights file ({type(error).__name__})") from None
    if isinstance(saved, dict) and "state_dict" in saved:
        architecture = architecture or saved.get("architecture")
        saved = saved["state_dict"]
    if not isinstance(saved, dict) or not all(isinstance(value, torch.Tensor) for value in saved.values()):
        raise ValueError(f"{path} holds no state dict")
    if not architecture:
        raise ValueError(f"{path} is a bare state dict: name its architecture (for example --arch mlp-300x2)")
    model = build_model(architecture)
    try:
        model.load_state_dict(saved)
    except RuntimeError:
        raise ValueError(f"the weights in {path} do not fit the architecture {architecture}") from None
    return model.eval(), architecture


def onnx_bytes(model: nn.Module) -> bytes:
    """``model`` (which takes normalised images) as a checked ONNX graph taking images in [0, 1].

    The batch axis is dynamic. Raises ``onnx.checker.ValidationError`` if the graph is invalid.
    """
    import onnx  # here, not at the top: importing it took 1.5 s (2026-12-02, this 2-core machine)

    wrapped = NormalisedModel(model).eval()
    buffer = io.BytesIO()
    # The TorchScript exporter (dynamo=False): the torch.export one, torch's default, also needs
    # onnxscript, which kdlab does not install; these networks have no control flow to lose.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # An ensemble's log(member count) becomes a constant of the graph, as it should: the tracer's warning is noise.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            wrapped,
            (torch.zeros(1, 1, 28, 28),),
            buffer,
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    blob = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(blob), full_check=True)
    return blob
