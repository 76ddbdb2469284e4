"""The keys of the shared result cache: everything that decides a lab run, hashed.

A lab run is deterministic for its seed, so everything that decides it names it: the data
(source, sizes and a hash of every image and label), the teacher (architecture, epochs,
seed, and its test errors and size from its record, so a retrained teacher that came out
differently is a different run), the full ``DistillConfig``, the torch and kdlab versions,
the device type, and ``RESULT_CACHE_SALT``. ``result_key`` hashes that canonical JSON; the
database maps a key to the first completed run with it (``kdlab.db.runs``), and a later request
for the same key copies that run instead of training (``kdlab.serve.lab.request_distillation``).

``baseline_key`` names the student trained alone: the same without the teacher and the settings of
its soft targets (T, alpha), which the baseline never sees, so a lesson's thirty temperatures on one
seed share one baseline (``kdlab.serve.baselines``).

``request_key`` is the same without the teacher's results, known before the teacher is
loaded: ``kdlab.serve.live.LIVE_RUNS`` maps it to the job training that run right now and to
every student following it, so thirty students pressing Train on the defaults start one training.

``replay_key`` names a paper replay's result the same way: the replay, its whole config (budget included),
its number of seeds, the data, the versions, the device type and the salt. ``kdlab.serve.replays`` keeps a
completed replay's result under it on disk and follows a replay in progress by it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import weakref

import torch

import kdlab
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import method_settings
from kdlab.ml.train import pick_device
from kdlab.teachers.teacher import TeacherRecord, default_teacher_epochs

# Bump when a change to the training code changes the numbers a run produces: every cached
# result then stops matching and is trained again (the old rows stay, unused).
RESULT_CACHE_SALT = "kdlab-results-2"  # 2: curves on a fixed test subset

# Bounded: a dead entry is dropped with each new one, so it holds the data sets alive now (one or two).
_FINGERPRINTS: dict[int, tuple[weakref.ref, dict]] = {}
_FINGERPRINTS_LOCK = threading.Lock()


def data_fingerprint(data: MnistData) -> dict:
    """Source, sizes and a sha256 of the train and test images and labels; computed once per
    ``MnistData`` object (about 0.1 s on full MNIST)."""
    with _FINGERPRINTS_LOCK:
        known = _FINGERPRINTS.get(id(data))
        if known is not None and known[0]() is data:
            return known[1]
    digest = hashlib.sha256()
    for tensor in (data.train.images, data.train.labels, data.test.images, data.test.labels):
        digest.update(str((tuple(tensor.shape), str(tensor.dtype))).encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    fingerprint = {
        "source": data.source.name,
        "train_size": len(data.train),
        "test_size": len(data.test),
        "sha256": digest.hexdigest(),
    }
    with _FINGERPRINTS_LOCK:
        for key in [key for key, (ref, _) in _FINGERPRINTS.items() if ref() is None]:
            del _FINGERPRINTS[key]
        _FINGERPRINTS[id(data)] = (weakref.ref(data), fingerprint)
    return fingerprint


def run_identity(config: DistillConfig, data: MnistData, teacher: TeacherRecord | None = None) -> dict:
    """Everything that decides a lab run, as a JSON-ready dict; with ``teacher`` its results too."""
    identity = {
        "data": data_fingerprint(data),
        "teacher": {
            "architecture": config.teacher,
            "epochs": config.teacher_epochs or default_teacher_epochs(len(data.train)),
            "seed": config.teacher_seed,
        },
        "config": config.as_dict(),
        "torch": str(torch.__version__),
        "kdlab": kdlab.__version__,
        "device": pick_device().type,
        "salt": RESULT_CACHE_SALT,
    }
    return identity if teacher is None else with_teacher_results(identity, teacher)


# What the student alone never sees: the teacher and its soft targets. Everything else of the config
# stays in the baseline's key (a setting wrongly kept only costs sharing; one wrongly dropped would
# serve a wrong baseline).
# The distillation method and its own settings (dkd's beta) shape the distilled student only.
NOT_IN_BASELINE = (
    "teacher",
    "teacher_epochs",
    "teacher_seed",
    "temperature",
    "alpha",
    "soft",
    *method_settings(),
    "standardise",
    "schedule",
    "with_baseline",
)


def baseline_identity(config: DistillConfig, data: MnistData) -> dict:
    """Everything that decides the student trained alone (the run's baseline), as a JSON-ready dict:
    the data, the student, its training settings and seed, the versions; not T, alpha or the teacher."""
    student = {name: value for name, value in config.as_dict().items() if name not in NOT_IN_BASELINE}
    return {
        "data": data_fingerprint(data),
        "student_alone": student | {"jitter_pixels": config.training.jitter_pixels},
        "torch": str(torch.__version__),
        "kdlab": kdlab.__version__,
        "device": pick_device().type,
        "salt": RESULT_CACHE_SALT,
    }


def with_teacher_results(identity: dict, teacher: TeacherRecord) -> dict:
    """``identity`` (a request's) with the results of the teacher that trained it: a retrained teacher
    that came out differently makes a different result."""
    results = {"test_errors": teacher.test_errors, "parameters": teacher.parameters}
    return identity | {"teacher": identity["teacher"] | results}


def key_of(identity: dict) -> str:
    """The sha256 of ``identity``'s canonical JSON."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def request_key(config: DistillConfig, data: MnistData) -> str:
    """The key of a run request, before its teacher is loaded: identical requests share it."""
    return key_of(run_identity(config, data))


def baseline_key(config: DistillConfig, data: MnistData) -> str | None:
    """The key of the run's student trained alone (None: the run trains none); runs of any T, alpha or
    teacher share it."""
    return key_of(baseline_identity(config, data)) if config.with_baseline else None


def result_key(config: DistillConfig, data: MnistData, teacher: TeacherRecord) -> str:
    """The key of a run's result, with the teacher that trained it."""
    return key_of(run_identity(config, data, teacher))


def replay_identity(name: str, config, data: MnistData, seeds: int = 1) -> dict:
    """Everything that decides a replay's result, as a JSON-ready dict: the replay, its config (with its
    budget and seed), how many seeds it runs, the data and the versions. A replay's teacher is fixed by its
    config (architecture, epochs, seed, jitter), so, unlike a lab run's, its results are not in the key."""
    return {
        "replay": name,
        "config": config.as_dict() | {"budget": config.budget.as_dict()},  # as_dict names the budget only
        "seeds": seeds,
        "data": data_fingerprint(data),
        "torch": str(torch.__version__),
        "kdlab": kdlab.__version__,
        "device": pick_device().type,
        "salt": RESULT_CACHE_SALT,
    }


def replay_key(name: str, config, data: MnistData, seeds: int = 1) -> str:
    """The key of a replay's result (``replay_identity``): students who run the same replay share it."""
    return key_of(replay_identity(name, config, data, seeds))


def teacher_matches(identity: dict, teacher: TeacherRecord) -> bool:
    """True when ``teacher`` is the one the request ``identity`` asks for (architecture, data, epochs, seed)."""
    wanted, data = identity["teacher"], identity["data"]
    return (teacher.architecture, teacher.epochs, teacher.seed, teacher.data_source, teacher.train_size) == (
        wanted["architecture"],
        wanted["epochs"],
        wanted["seed"],
        data["source"],
        data["train_size"],
    )
