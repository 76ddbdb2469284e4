"""Run records: what one lab run produced.

A ``RunRecord`` is small and self-contained: the config, the results summary
(``DistillationResult.summary()``), the accuracy/loss curves, per-class accuracy, the
confusion matrices and the distilled student's weights as bytes (``torch.save`` of its
``state_dict`` into a ``BytesIO``). Stores keep them (``kdlab.runs.store``); ``kdlab.runs.export``
writes them out.

Curve points are plain dicts (see ``curve_point``), the format ``kdlab.plots.lab`` draws.
"""

from __future__ import annotations

import io
import math
import time
import uuid
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from kdlab.experiments.distill import DistillationResult
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.events import EvalEvent, FeatureViewEvent
from kdlab.ml.export import model_to_bytes
from kdlab.ml.metrics import evaluate_logits
from kdlab.ml.models import build_model

KEEP_WEIGHTS = 5  # a session keeps the student weights of its last few runs only (memory)


def curve_point(event: EvalEvent) -> dict:
    """One point of a live or recorded curve, as a JSON-ready dict."""
    return {
        "epoch": round(event.epoch, 4),
        "step": event.step,
        "test_accuracy": event.test_accuracy,
        "train_accuracy": event.train_accuracy,
        "loss": event.loss,
        "soft_loss": event.soft_loss,
        "hard_loss": event.hard_loss,
        "seconds": round(event.seconds, 3),
    } | (
        ({"tckd": event.tckd, "nckd": event.nckd} if event.tckd is not None else {})
        | ({"feature_loss": event.feature_loss} if event.feature_loss is not None else {})
        | ({"feature_distance": event.feature_distance} if event.feature_distance is not None else {})
        | ({"temperature": round(event.temperature, 4)} if event.temperature is not None else {})
    )


def curves_from_events(events) -> dict[str, list[dict]]:
    """Group the ``EvalEvent``s among ``events`` by run ("teacher", "distilled", "baseline")."""
    curves: dict[str, list[dict]] = {}
    for event in events:
        if isinstance(event, EvalEvent):
            curves.setdefault(event.run, []).append(curve_point(event))
    return curves


def view_point(event: FeatureViewEvent) -> dict:
    """A feature method's live view (``kdlab.ml.methods.views``) as a JSON-ready dict: the curve point it was read
    at, the fixed digits (test-set indices and labels), and each side's arrays as nested lists, by name. The
    format ``kdlab.plots.feature_views`` draws, and a record keeps (``RunRecord.feature_view``)."""
    return {
        "epoch": round(event.epoch, 4),
        "step": event.step,
        "digits": list(event.digits),
        "labels": list(event.labels),
        "teacher": {name: grid.tolist() for name, grid in event.teacher.items()},
        "student": {name: grid.tolist() for name, grid in event.student.items()},
    }


def latest_view(events, run: str = "distilled") -> dict | None:
    """The newest ``FeatureViewEvent`` of ``run`` among ``events`` as a ``view_point``, or None."""
    for event in reversed(events):
        if isinstance(event, FeatureViewEvent) and event.run == run:
            return view_point(event)
    return None


def curves_at(curves: dict[str, list[dict]], seconds: float) -> dict[str, list[dict]]:
    """The ``curves`` as they stood ``seconds`` into the run, by the training time each point recorded: the
    first run's points at their own ``seconds``, each later run's after the last point of the runs before it
    (a lab run trains its students one after another, the distilled one first). "Watch it train again"
    draws a cached run this way."""
    shown, offset = {}, 0.0
    for role, points in curves.items():
        shown[role] = [point for point in points if offset + point["seconds"] <= seconds]
        offset += points[-1]["seconds"] if points else 0.0
    return shown


def curves_seconds(curves: dict[str, list[dict]]) -> float:
    """How long the runs of ``curves`` trained, one after another, by their last points' times."""
    return sum(points[-1]["seconds"] for points in curves.values() if points)


@dataclass
class RunRecord:
    """One lab run of a session, complete or stopped."""

    run_id: str
    number: int  # 1, 2, ... within the session
    created_at: float  # time.time()
    status: str  # "completed", "stopped" or "diverged"
    summary: dict  # DistillationResult.summary()
    curves: dict[str, list[dict]] = field(default_factory=dict)  # "distilled"/"baseline" -> curve points
    per_class_accuracy: dict[str, list[float | None]] = field(default_factory=dict)  # role -> 10 values
    confusion: dict[str, list[list[int]]] = field(default_factory=dict)  # role -> 10 x 10 counts
    student_weights: bytes | None = field(default=None, repr=False)  # torch.save(state_dict); dropped for old runs
    baseline_weights: bytes | None = field(default=None, repr=False)  # the student alone's, kept and dropped alike
    source: str = "trained"  # "trained"; "joined": followed an identical run in progress; "cache": trained earlier
    cache_key: str | None = None  # kdlab.serve.keys key of a completed run

    @property
    def config(self) -> dict:
        return self.summary["config"]

    @property
    def feature_view(self) -> dict | None:
        """The distilled student's last live view (``view_point``) of a feature- or relation-based method; None for
        the other methods (and runs filed before the views)."""
        return self.summary.get("feature_view")

    @property
    def label(self) -> str:
        """Short name for menus and legends, in the current language: "#3 mlp-300x2 from cnn, T=4, α=0.9, 20
        epochs"."""
        c = self.config
        return ngettext(
            "#{number} {student} from {teacher}, T={temperature}, α={alpha}, {epochs} epoch",
            "#{number} {student} from {teacher}, T={temperature}, α={alpha}, {epochs} epochs",
            c["epochs"],
        ).format(
            number=self.number,
            student=c["student"],
            teacher=c["teacher"],
            temperature=number(c["temperature"]),
            alpha=number(c["alpha"]),
            epochs=c["epochs"],
        )

    def accuracy(self, role: str) -> float | None:
        run = self.summary.get("student" if role == "distilled" else role)
        return run["test_accuracy"] if run else None

    def errors(self, role: str) -> int | None:
        run = self.summary.get("student" if role == "distilled" else role)
        return run["test_errors"] if run else None

    def table_row(self) -> dict:
        """A flat row for the runs table and its CSV."""
        c = self.config
        baseline, distilled = self.errors("baseline"), self.errors("distilled")
        return {
            "run": self.number,
            "time": time.strftime("%H:%M:%S", time.localtime(self.created_at)),
            "status": self.status,
            "teacher": c["teacher"],
            "student": c["student"],
            "T": c["temperature"],
            "alpha": c["alpha"],
            "epochs": c["epochs"],
            "learning_rate": c["learning_rate"],
            "batch_size": c["batch_size"],
            "train_images": self.summary["transfer_set"]["size"],
            "seed": c["seed"],
            "teacher_accuracy": self.accuracy("teacher"),
            "baseline_accuracy": self.accuracy("baseline"),
            "distilled_accuracy": self.accuracy("distilled"),
            "teacher_errors": self.errors("teacher"),
            "baseline_errors": baseline,
            "distilled_errors": distilled,
            "errors_saved": baseline - distilled if baseline is not None and distilled is not None else None,
            "seconds": self.summary["seconds"],
            "data": self.summary["data"]["source"],
            "source": self.source,
        }

    def as_dict(self) -> dict:
        """Everything but the weights, JSON-ready (non-finite numbers become null)."""
        weights = None
        if self.student_weights is not None:
            weights = {
                "architecture": self.config["student"],
                "bytes": len(self.student_weights),
                "how_to_load": "model = kdlab.ml.models.build_model(architecture); "
                "model.load_state_dict(torch.load(path, weights_only=True))",
            }
        # The data's location is a server path: it stays on the server.
        data = {key: value for key, value in self.summary.get("data", {}).items() if key not in ("location", "note")}
        return json_ready(
            {
                "run_id": self.run_id,
                "number": self.number,
                "label": self.label,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(self.created_at)),
                "status": self.status,
                "source": self.source,
                "outcome": describe_outcome(self),
                **self.summary,
                "data": data,
                "curves": self.curves,
                "per_class_accuracy": self.per_class_accuracy,
                "confusion": self.confusion,
                "student_weights": weights,
            }
        )


def json_ready(value):
    """``value`` with every NaN or infinity (nested in dicts and lists) replaced by None: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(item) for item in value]
    return value


# The parts of a summary the class board shows (kdlab.classroom.board.class_run reads them).
BOARD_FIELDS = (
    (
        "config",
        ("teacher", "student", "temperature", "alpha", "epochs", "seed", "soft", "beta", "learning_rate", "batch_size"),
    ),
    ("transfer_set", ("size",)),
    ("teacher", ("test_errors",)),  # the share of the gap to the teacher closed; runs filed before lack it
    ("baseline", ("test_errors",)),
    ("student", ("test_errors",)),
    ("data", ("test_size",)),
)


def board_summary(summary: dict) -> dict:
    """The part of ``summary`` the class board shows, in the summary's shape: a few hundred bytes of JSON
    where the whole summary of a default run is 1.7 kB, filed beside it so the board never reads the rest."""
    board = {}
    for part, names in BOARD_FIELDS:
        values = summary.get(part) or {}
        board[part] = {name: values[name] for name in names if name in values}
    return json_ready(board)


def model_from_bytes(blob: bytes, architecture: str) -> nn.Module:
    """Rebuild ``architecture`` and load weights saved by ``model_to_bytes`` (weights only, safe)."""
    model = build_model(architecture)
    model.load_state_dict(torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu"))
    return model.eval()


def record_from_result(
    result: DistillationResult,
    test_labels: torch.Tensor,
    *,
    number: int,
    run_id: str | None = None,
    created_at: float | None = None,
) -> RunRecord:
    """Turn an experiment's result (complete or partial) into a session record."""
    per_class, confusion, curves = {}, {}, {}
    teacher_evaluation = evaluate_logits(result.teacher.test_logits, test_labels)
    runs = {"teacher": teacher_evaluation, "baseline": None, "distilled": None}
    for role, trained in (("distilled", result.student), ("baseline", result.baseline)):
        if trained is not None:
            runs[role] = trained.evaluation
            curves[role] = [curve_point(event) for event in trained.history]
    for role, evaluation in runs.items():
        if evaluation is not None:
            per_class[role] = [None if value != value else value for value in evaluation.per_class_accuracy]
            confusion[role] = [list(row) for row in evaluation.confusion]
    weights = model_to_bytes(result.student.model) if result.student is not None else None
    alone = result.baseline
    baseline_weights = model_to_bytes(alone.model) if alone is not None and alone.status == "completed" else None
    summary = result.summary()
    if result.student is not None and result.student.view is not None:  # kept in the summary: no column of its own
        summary["feature_view"] = view_point(result.student.view)
    return RunRecord(
        run_id=run_id or uuid.uuid4().hex[:8],
        number=number,
        created_at=created_at if created_at is not None else time.time(),
        status=result.status,
        summary=summary,
        curves=curves,
        per_class_accuracy=per_class,
        confusion=confusion,
        student_weights=weights,
        baseline_weights=baseline_weights,
    )


@dataclass(frozen=True)
class BaselinePart:
    """The student trained alone, as a record holds it: what another run with the same baseline key
    (``kdlab.serve.keys.baseline_key``) takes instead of training it again."""

    summary: dict  # the record's summary["baseline"]
    curve: list[dict]
    per_class_accuracy: list[float | None]
    confusion: list[list[int]]
    weights: bytes | None = field(default=None, repr=False)  # the record's baseline_weights


def baseline_part(record: RunRecord) -> BaselinePart | None:
    """``record``'s baseline, or None when it has none that completed (only a whole one is shared)."""
    summary = record.summary.get("baseline")
    if not summary or summary["status"] != "completed" or "baseline" not in record.curves:
        return None
    return BaselinePart(
        summary,
        record.curves["baseline"],
        record.per_class_accuracy["baseline"],
        record.confusion["baseline"],
        record.baseline_weights,
    )


def with_baseline_part(record: RunRecord, part: BaselinePart) -> RunRecord:
    """``record`` (of a run that trained only its distilled student) with the baseline ``part`` trained
    by another run for the same seed: the record that run would have made whole, marked
    ``summary["baseline_shared"]`` so the page can say so."""
    return replace(
        record,
        summary=record.summary | {"baseline": part.summary, "baseline_shared": True},
        curves=record.curves | {"baseline": part.curve},
        per_class_accuracy=record.per_class_accuracy | {"baseline": part.per_class_accuracy},
        confusion=record.confusion | {"baseline": part.confusion},
        baseline_weights=part.weights,
    )


# A run's status (``RunRecord.status``) in words, marked in English: shown with ``_()``.
STATUS_WORDS = {"completed": N_("completed"), "stopped": N_("stopped"), "diverged": N_("diverged")}


def status_text(status: str) -> str:
    """A run's status in the current language (an unknown one as it is)."""
    return _(STATUS_WORDS[status]) if status in STATUS_WORDS else status


def describe_outcome(record: RunRecord) -> str:
    """One or two sentences saying what happened, in words a student understands (in the current language)."""
    config = record.config
    teacher_errors = record.errors("teacher")
    baseline, distilled = record.errors("baseline"), record.errors("distilled")
    total = record.summary["student"]["test_total"] if record.summary.get("student") else None
    if record.status == "diverged":
        return _(
            "The training diverged (the loss became infinite or NaN), so these numbers mean little: "
            "try a smaller learning rate."
        )
    if distilled is None:
        return _("The run was stopped before the student trained, so there is nothing to compare yet.")
    stopped = ""
    if record.status == "stopped":
        stopped = _("Stopped early: the distilled student trained {done} of {epochs} epochs.").format(
            done=number(record.summary["student"]["epochs_done"]), epochs=number(config["epochs"])
        )
    if baseline is None:
        verdict = ngettext(
            "The distilled student made {distilled} error on {total} test images; the run ended before the student "
            "trained alone, so there is no baseline to compare with.",
            "The distilled student made {distilled} errors on {total} test images; the run ended before the student "
            "trained alone, so there is no baseline to compare with.",
            distilled,
        ).format(distilled=number(distilled), total=number(total))
        return " ".join(part for part in (stopped, verdict) if part)
    if record.summary["baseline"]["status"] == "stopped":
        stopped = _("Stopped early, while the student was training alone, so the comparison is unfair.")
    if distilled < baseline:
        fewer = (baseline - distilled) / baseline if baseline else 0.0
        verdict = ngettext(
            "{removed} error ({fewer} fewer) removed by the teacher: the distilled student made {distilled} errors, "
            "the same student trained alone {baseline}. Same architecture, same images in the same order, same seed: "
            "the teacher's soft targets made the difference.",
            "{removed} errors ({fewer} fewer) removed by the teacher: the distilled student made {distilled} errors, "
            "the same student trained alone {baseline}. Same architecture, same images in the same order, same seed: "
            "the teacher's soft targets made the difference.",
            baseline - distilled,
        ).format(
            removed=number(baseline - distilled),
            fewer=percent(fewer),
            distilled=number(distilled),
            baseline=number(baseline),
        )
    elif distilled == baseline:
        verdict = ngettext(
            "No difference: both students made {count} error. Here the soft targets did not help. Try more epochs, "
            "a temperature of 2 to 8, or more training images.",
            "No difference: both students made {count} errors. Here the soft targets did not help. Try more epochs, "
            "a temperature of 2 to 8, or more training images.",
            distilled,
        ).format(count=number(distilled))
    else:
        verdict = ngettext(
            "{more} more error: the distilled student made {distilled}, the student trained alone {baseline}. Here "
            "distillation hurt. Try alpha below 1, a temperature of 2 to 8, or more epochs.",
            "{more} more errors: the distilled student made {distilled}, the student trained alone {baseline}. Here "
            "distillation hurt. Try alpha below 1, a temperature of 2 to 8, or more epochs.",
            distilled - baseline,
        ).format(more=number(distilled - baseline), distilled=number(distilled), baseline=number(baseline))
    teacher = (
        ngettext(
            "The teacher ({name}) made {count} error.", "The teacher ({name}) made {count} errors.", teacher_errors
        ).format(name=config["teacher"], count=number(teacher_errors))
        if teacher_errors is not None
        else ""
    )
    return " ".join(part for part in (stopped, verdict, teacher) if part)


def new_run_id() -> str:
    """A random run id (not a secret: every lookup is also scoped to the student)."""
    return uuid.uuid4().hex[:16]
