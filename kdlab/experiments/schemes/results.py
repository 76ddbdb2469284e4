"""What a scheme comparison produced: each trained network, each scheme's runs, the whole
comparison, and its JSON-ready summary (the ``schemes --json`` output)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kdlab.experiments.schemes.config import SCHEME_DESCRIPTIONS, SCHEME_PAPERS, SCHEME_TITLES, SchemeConfig
from kdlab.ml.data import DataSource
from kdlab.ml.train import TrainResult, run_summary
from kdlab.teachers.teacher import Teacher


@dataclass
class SchemeRun:
    """One trained network of a scheme, with its place in the comparison."""

    label: str  # "student alone", "offline KD", "peer 1", "generation 2", ...
    role: str  # colour role: "baseline", "distilled", "assistant", "peer", "generation", "scheme"
    architecture: str
    result: TrainResult

    def summary(self) -> dict:
        """``train.run_summary`` with the run's label, role and test-accuracy curve."""
        summary = run_summary(self.architecture, self.result)
        summary.pop("per_class_accuracy")  # the comparison reports whole-test-set numbers only
        curve = [
            {"epoch": round(event.epoch, 3), "test_accuracy": event.test_accuracy} for event in self.result.history
        ]
        return {"label": self.label, "role": self.role, **summary, "curve": curve}


@dataclass
class SchemeResult:
    """The runs one scheme produced; ``final`` is the network the scheme hands over."""

    scheme: str
    runs: list[SchemeRun] = field(default_factory=list)
    training_runs: int = 0  # training runs of the budget this scheme cost beyond the references
    final_label: str | None = None  # None: the last run

    @property
    def final(self) -> SchemeRun | None:
        return next((run for run in self.runs if run.label == self.final_label), self.runs[-1] if self.runs else None)

    @property
    def status(self) -> str:
        return next((run.result.status for run in self.runs if run.result.status != "completed"), "completed")


@dataclass
class SchemeComparison:
    """The references and the schemes, all on the same transfer set, seed and budget.

    ``baseline`` is the student trained alone (on the labels), ``offline_kd`` the student
    distilled from the teacher: every scheme is measured against both.
    """

    config: SchemeConfig
    data_source: DataSource
    transfer_class_counts: list[int]
    teacher: Teacher | None = None
    baseline: SchemeRun | None = None
    offline_kd: SchemeRun | None = None
    schemes: dict[str, SchemeResult] = field(default_factory=dict)
    requested: tuple[str, ...] = ()
    stopped: bool = False
    seconds: float = 0.0

    @property
    def status(self) -> str:
        statuses = [run.result.status for run in (self.baseline, self.offline_kd) if run is not None]
        statuses += [scheme.status for scheme in self.schemes.values()]
        if self.stopped or (self.teacher is not None and self.teacher.status != "completed"):
            statuses.append("stopped")
        if self.baseline is None or self.offline_kd is None or set(self.schemes) != set(self.requested):
            statuses.append("stopped")
        return next((status for status in statuses if status != "completed"), "completed")

    def summary(self) -> dict:
        """JSON-ready: data, budget, teacher, both references and each scheme's runs."""
        baseline = self.baseline.summary() if self.baseline else None
        offline = self.offline_kd.summary() if self.offline_kd else None
        schemes = {}
        for name, scheme in self.schemes.items():
            final = scheme.final.summary() if scheme.final else None
            schemes[name] = {
                "title": SCHEME_TITLES[name],
                "description": SCHEME_DESCRIPTIONS[name],
                "paper": SCHEME_PAPERS[name],
                "runs": [run.summary() for run in scheme.runs],
                "final": final,
                "extra_training_runs": scheme.training_runs,
                "status": scheme.status,
                "vs_student_alone_errors": _difference(final, baseline),
                "vs_offline_kd_errors": _difference(final, offline),
            }
        training = self.config.training
        size = sum(self.transfer_class_counts)
        return {
            "data": self.data_source.as_dict(),
            "budget": {
                "epochs_per_run": training.epochs,
                "train_size": size,
                "seed": training.seed,
                "batch_size": training.batch_size,
                "learning_rate": training.learning_rate,
            },
            "config": self.config.as_dict(),
            "transfer_set": {"size": size, "class_counts": self.transfer_class_counts},
            "teacher": self.teacher.summary() if self.teacher else None,
            "student_alone": baseline,
            "offline_kd": offline,
            "schemes": schemes,
            "status": self.status,
            "seconds": round(self.seconds, 2),
        }


def _difference(run: dict | None, reference: dict | None) -> int | None:
    """Test errors of ``run`` minus those of ``reference`` (negative: fewer errors)."""
    if run is None or reference is None:
        return None
    return run["test_errors"] - reference["test_errors"]
