"""The compression card: what distillation bought, measured on the models themselves, never estimated.

For each model (teacher, distilled student, student alone): parameters, forward FLOPs per image,
bytes of its saved state dict (``torch.save``) and of its ONNX file, CPU latency for one image and
for a batch of 256 (median of repeated timings under ``torch.inference_mode`` on one thread), test
accuracy and the expected calibration error (15 equal-width confidence bins) with the
reliability-diagram data behind it.
"""

from __future__ import annotations

import io
import math
import statistics
import time
from dataclasses import asdict, dataclass, replace

import torch
from torch import nn

from kdlab.experiments.distill import DistillationResult
from kdlab.experiments.replays.common import ReplayResult
from kdlab.i18n import _, number
from kdlab.ml.data import ImageSet
from kdlab.ml.export import load_student_file, model_to_bytes, onnx_bytes
from kdlab.ml.models import build_model, mlp_name
from kdlab.teachers.ensembles import describe_teacher, parse_teacher_name

ECE_BINS = 15
LATENCY_THREADS = 1  # one thread: what one request gets on a busy classroom server, and comparable between models
BATCH_SIZE = 256
ROLES = ("teacher", "student", "baseline")  # the JSON's names: teacher, distilled student, student alone


@dataclass(frozen=True)
class ReliabilityBin:
    """One confidence bin: its range, how many test images fell in it, their mean confidence and accuracy."""

    low: float
    high: float
    count: int
    confidence: float | None  # None for an empty bin
    accuracy: float | None


def calibration(probabilities: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS):
    """Expected calibration error and its reliability bins.

    ECE = sum over bins of (images in the bin / all images) x |accuracy - mean confidence|, where an
    image's confidence is its largest probability and bin b holds confidences in (b/bins, (b+1)/bins]
    (the first bin also holds 0).

    Args:
        probabilities: (N, C), each row summing to 1.
        labels: (N,) true classes.

    Returns:
        (ece, list of ``bins`` ``ReliabilityBin``).
    """
    confidence, predicted = probabilities.double().max(dim=1)
    correct = (predicted == labels).double()
    which = (confidence * bins).ceil().long().clamp(1, bins) - 1  # (N,) bin index
    ece, table = 0.0, []
    for index in range(bins):
        inside = which == index
        count = int(inside.sum())
        mean_confidence = float(confidence[inside].mean()) if count else None
        accuracy = float(correct[inside].mean()) if count else None
        if count:
            ece += count / len(labels) * abs(accuracy - mean_confidence)
        table.append(ReliabilityBin(index / bins, (index + 1) / bins, count, mean_confidence, accuracy))
    return ece, table


@torch.inference_mode()
def latency_ms(model: nn.Module, batch_size: int, repeats: int, threads: int = LATENCY_THREADS) -> float:
    """Median wall time in milliseconds of ``model`` on ``batch_size`` images, on ``threads`` threads.

    torch's thread count is process-wide: it is set for the timing and restored after it.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = model.eval()
        images = torch.zeros(batch_size, 1, 28, 28)
        for _ in range(2):  # warm-up: the first calls allocate
            model(images)
        timings = []
        for _ in range(repeats):
            started = time.perf_counter()
            model(images)
            timings.append(time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous)
    return 1000 * statistics.median(timings)


@dataclass(frozen=True)
class ModelCard:
    """One model's measured numbers; ``ece`` and ``reliability`` are None where its answers are not known."""

    architecture: str
    parameters: int
    flops_per_image: int
    bytes: int
    onnx_bytes: int
    latency_ms_one: float
    latency_ms_batch256: float
    threads: int
    accuracy: float | None
    ece: float | None
    reliability: tuple[ReliabilityBin, ...] | None

    def as_dict(self) -> dict:
        """The JSON fields (the reliability bins as a list of dicts)."""
        return asdict(self)


def measure_card(
    model: nn.Module,
    architecture: str,
    *,
    test_logits: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
    repeats: int = 30,
) -> ModelCard:
    """Measure ``model``; with its ``test_logits`` (N, 10) and the ``labels``, also accuracy and calibration.

    ``repeats`` timings for one image, a fifth as many (at least 3) for a batch of 256.
    """
    accuracy = ece = reliability = None
    if test_logits is not None and labels is not None:
        accuracy = float((test_logits.argmax(1) == labels).double().mean())
        ece, table = calibration(test_logits.softmax(dim=1), labels)
        reliability = tuple(table)
    return ModelCard(
        architecture=architecture,
        parameters=sum(parameter.numel() for parameter in model.parameters()),
        flops_per_image=describe_teacher(architecture).flops_per_image,
        bytes=len(model_to_bytes(model)),
        onnx_bytes=len(onnx_bytes(model)),
        latency_ms_one=latency_ms(model, 1, repeats),
        latency_ms_batch256=latency_ms(model, BATCH_SIZE, max(3, repeats // 5)),
        threads=LATENCY_THREADS,
        accuracy=accuracy,
        ece=ece,
        reliability=reliability,
    )


def result_cards(result: DistillationResult, test: ImageSet) -> dict[str, ModelCard]:
    """The card of each model ``result`` trained or used, by the JSON's role names (``ROLES``)."""
    cards = {"teacher": measure_card(result.teacher.model, result.config.teacher, **_answers(result.teacher, test))}
    for role, trained in (("student", result.student), ("baseline", result.baseline)):
        if trained is not None:
            cards[role] = measure_card(trained.model, result.config.student, **_answers(trained, test))
    return cards


def replay_cards(result: ReplayResult, *, repeats: int = 30) -> dict[str, ModelCard]:
    """The card of each replay student whose weights ``result`` kept (``student_files``), by run name,
    with accuracy and calibration from its stored test logits; first the teacher's ("teacher"), when
    its test logits are stored and it is one network: measured on its architecture freshly built (the
    same parameters, bytes and speed as the trained one; a replay keeps no teacher weights)."""
    cards = {}
    architecture = (result.summary.get("teacher") or {}).get("arch")
    if "teacher" in result.test_logits and architecture and not parse_teacher_name(architecture).is_ensemble:
        cards["teacher"] = measure_card(
            build_model(architecture),
            architecture,
            test_logits=result.test_logits["teacher"],
            labels=result.test_labels,
            repeats=repeats,
        )
    for run, blob in result.student_files.items():
        model, architecture = load_student_file(io.BytesIO(blob))
        cards[run] = measure_card(
            model, architecture, test_logits=result.test_logits.get(run), labels=result.test_labels, repeats=repeats
        )
    return cards


def grid_cards(result: ReplayResult, *, repeats: int = 30) -> dict[str, ModelCard]:
    """The temperature-width replay's card of each width (``"width <W>"``): ``mlp-<W>x<depth>`` measured
    freshly built (the grid keeps no weights; parameters, bytes and speed depend on the architecture
    alone), with the test accuracy of that width's best temperature; no calibration (the grid keeps
    accuracies, not test answers)."""
    depth = result.summary["config"]["depth"]
    cards = {}
    for finding in result.summary.get("findings", {}).get("by_width", []):
        architecture = mlp_name(finding["width"], depth)
        card = measure_card(build_model(architecture), architecture, repeats=repeats)
        cards[f"width {finding['width']}"] = replace(card, accuracy=finding["best_accuracy"])
    return cards


def _answers(model_result, test: ImageSet) -> dict:
    return {"test_logits": model_result.test_logits, "labels": test.labels}


def headline(teacher: ModelCard, distilled: ModelCard) -> str:
    """ "Distilled: 7x smaller, 30x less compute, 12x faster per image, 1.9 points less accurate than its teacher",
    in the current language."""
    ratios = {
        "smaller": _ratio(teacher.parameters, distilled.parameters),
        "compute": _ratio(teacher.flops_per_image, distilled.flops_per_image),
        "faster": _ratio(teacher.latency_ms_one, distilled.latency_ms_one),
    }
    if teacher.accuracy is None or distilled.accuracy is None:
        return _("Distilled: {smaller} smaller, {compute} less compute, {faster} faster per image").format(**ratios)
    points = 100 * (teacher.accuracy - distilled.accuracy)
    if not round(points, 1):
        message = _(
            "Distilled: {smaller} smaller, {compute} less compute, {faster} faster per image, as accurate as its "
            "teacher"
        )
    elif points > 0:
        message = _(
            "Distilled: {smaller} smaller, {compute} less compute, {faster} faster per image, {points} points less "
            "accurate than its teacher"
        )
    else:
        message = _(
            "Distilled: {smaller} smaller, {compute} less compute, {faster} faster per image, {points} points more "
            "accurate than its teacher"
        )
    return message.format(points=number(abs(points), 1), **ratios)


def _ratio(big: float, small: float) -> str:
    ratio = big / small if small else float("inf")
    if not math.isfinite(ratio):
        return f"{ratio:.0f}x"
    return _("{ratio}x").format(ratio=number(ratio, 0 if ratio >= 10 else 1))
