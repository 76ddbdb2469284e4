"""Before class: get the data, train and cache every teacher the pages use by default, read the teacher signals
the lessons' feature and relation runs need (a ``vary`` over methods), and warm the result cache for the default
demo and the lessons' lab runs and the replay cache for the replays the lessons open, so that no page trains a
teacher in front of the class and the lessons' runs answer at once.

Its teachers are pinned in the teacher cache: however many other teachers students name, these stay on disk
(``KDLAB_TEACHER_CACHE_MB``, ``kdlab.teachers.eviction``).

``prepare()`` runs the steps in order, times each, and returns a checklist of ``Step`` records
(``python -m kdlab prepare`` prints it, or ``--json``). It is idempotent: a second run finds the
data, every teacher, the demo's result and the lessons' replays in their caches and reports them "already done" in
seconds. Progress leaves through ``on_event`` as ``ProgressEvent`` objects, one bar per step.

Everything it makes lands in ``KDLAB_CACHE_DIR`` (the data, the teachers) and the run database (the result
cache's index; by default a file in the cache dir): a server finds it only when it runs as the same user
with the same ``KDLAB_CACHE_DIR`` and ``KDLAB_DATABASE_URL``.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from kdlab.classroom.lab_settings import config_fields, lab_defaults, request_fields
from kdlab.classroom.lessons import lessons_dir, load_lessons
from kdlab.classroom.links import parse_lab_link, parse_replay_link
from kdlab.db.database import StorageError, open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student, find_student, new_token
from kdlab.experiments.distill import DEFAULT_TEACHER, DistillConfig
from kdlab.experiments.replays import REPLAYS
from kdlab.experiments.schemes import SchemeConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import (
    RAW_FILES,
    MnistData,
    default_cache_dir,
    download_mnist,
    has_raw_files,
    is_offline,
    load_mnist,
)
from kdlab.ml.files import write_atomically
from kdlab.ml.methods.method import Method
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.progress import ProgressEvent, ProgressTracker
from kdlab.runs.store import RunLimitReached
from kdlab.serve.gate import admit_replay
from kdlab.serve.lab import request_distillation
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner
from kdlab.settings import current_settings
from kdlab.teachers.cache import resolve_teacher, teacher_cache_path
from kdlab.teachers.ensembles import parse_teacher_name
from kdlab.teachers.eviction import pin_teachers, pinned_teachers
from kdlab.teachers.features import signal_name, signal_path, teacher_signal
from kdlab.teachers.teacher import Teacher, default_teacher_epochs

FULL_MNIST_FOR_PREPARE = (
    "The pages use this sample until you run prepare again on a machine that is online (KDLAB_OFFLINE off), or "
    "put the four uncompressed files "
    f"({', '.join(RAW_FILES)}) in DIR/MNIST/raw/ and run python -m kdlab prepare --data-dir DIR"
)
TOKEN_FILE = "prepare-student-token"  # in the cache dir: the demo runs' owner, private to the server
POLL_SECONDS = 0.5


@dataclass
class Step:
    """One line of the checklist."""

    name: str  # "data", "teacher cnn", "result cache"
    purpose: str  # which pages need it
    status: str = "skipped"  # "done", "already done", "skipped", "failed"
    seconds: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class TeacherNeed:
    """A teacher some page uses by default: what to train, on which data, and for whom."""

    name: str
    epochs: int
    seed: int
    jitter_pixels: int
    data: MnistData = field(compare=False, repr=False)
    users: tuple[str, ...] = ()

    @property
    def key(self) -> tuple:
        return (self.name, self.data.source.name, self.epochs, self.seed, self.jitter_pixels)


def lab_runs(data: MnistData) -> dict[DistillConfig, str]:
    """The lab runs a class starts, each with who starts it: the lab's controls untouched, and every
    lab link of the server's lessons (``KDLAB_LESSONS_DIR``, else ``lessons/``), each config exactly as the
    lab submits it (the result cache's key is the whole config)."""
    count = len(data.train)
    runs = dict.fromkeys(lab_link_configs(lab_defaults(count)), "the default demo")
    # A broken lesson is its own test's business, not a reason to stop here.
    lessons, _problems = load_lessons(lessons_dir())
    for lesson in lessons:
        for step in lesson.steps:
            for _label, params in step.links() if step.page == "lab" else ():
                for config in lab_link_configs(parse_lab_link(params, count).values or lab_defaults(count)):
                    runs.setdefault(config, f"lesson {lesson.slug}")
    return runs


def lesson_replays() -> dict[str, str]:
    """The replays the server's lessons open (a step on the replays page whose link names ``replay``), each with
    the first lesson that opens it; ``prepare`` warms each at the quick budget, as the page runs it."""
    found: dict[str, str] = {}
    lessons, _problems = load_lessons(lessons_dir())
    for lesson in lessons:
        for step in lesson.steps:
            for _label, params in step.links() if step.page == "replays" else ():
                name = parse_replay_link(params).values.get("replay")
                if name is not None:
                    found.setdefault(name, f"lesson {lesson.slug}")
    return found


def lab_link_configs(values: dict) -> list[DistillConfig]:
    """The configs that lab values (by URL name) train: one, or one per seed with ``seeds`` above 1
    (each seed is a run of its own, cached on its own), exactly as the lab submits them."""
    config = DistillConfig.build(**config_fields(values))
    seed = config.training.seed
    return [
        replace(config, training=replace(config.training, seed=seed + offset))
        for offset in range(request_fields(values).get("seeds", 1))
    ]


def default_teachers(data: MnistData, *, replays: bool = True) -> list[TeacherNeed]:
    """Every teacher the pages start with: the lab's and the lessons' (``lab_runs``), the explorer's
    (its picker starts at the lab's default teacher), the schemes page's and, with ``replays``, the
    quick replays' teachers."""
    default_epochs = default_teacher_epochs(len(data.train))
    schemes = SchemeConfig()
    needs = [
        TeacherNeed(
            config.teacher,
            config.teacher_epochs or default_epochs,
            config.teacher_seed,
            0,
            data,
            ("lab" if who == "the default demo" else who,),
        )
        for config, who in lab_runs(data).items()
    ]
    needs += [
        TeacherNeed(DEFAULT_TEACHER, default_epochs, 0, 0, data, ("explorer",)),
        TeacherNeed(
            schemes.teacher, schemes.teacher_epochs or default_epochs, schemes.teacher_seed, 0, data, ("schemes",)
        ),
    ]
    for name, replay in REPLAYS.items() if replays else ():
        needs += [
            TeacherNeed(
                teacher.name, teacher.epochs, teacher.seed, teacher.jitter_pixels, teacher.data, (f"replay {name}",)
            )
            for teacher in replay.teachers(replay.config("quick"), data)
        ]
    merged: dict[tuple, TeacherNeed] = {}
    for need in needs:
        known = merged.get(need.key)
        users = known.users + tuple(user for user in need.users if user not in known.users) if known else need.users
        merged[need.key] = replace(known or need, users=users)
    return list(merged.values())


def teacher_files(need: TeacherNeed) -> list[Path]:
    """The cache file of every network of this teacher (jitter included in the file name)."""
    parsed = parse_teacher_name(need.name)
    return [
        teacher_cache_path(default_cache_dir(), architecture, need.data, need.epochs, seed, need.jitter_pixels)
        for architecture, seed in zip(parsed.architectures, parsed.member_seeds(need.seed))
    ]


def is_cached(need: TeacherNeed) -> bool:
    """True when every network of this teacher is on disk."""
    return all(path.exists() for path in teacher_files(need))


def _prepare_student(cache_dir: Path):
    """The database, and the student who owns the warm-up runs (created once; its token in the cache dir)."""
    database = open_database()
    path = cache_dir / TOKEN_FILE
    token = path.read_text().strip() if path.exists() else ""
    student = find_student(database, token) if token else None
    if student is None:
        student, token = create_student(database, new_token())
        write_atomically(path, lambda file: file.write(token.encode()))
    return database, student


def prepare(
    data_dir: str | None = None,
    *,
    replays: bool = True,
    warm: bool = True,
    on_event: Callable[[object], None] | None = None,
) -> tuple[MnistData, list[Step]]:
    """Run every step before class; returns the data and the checklist.

    Args:
        data_dir: MNIST root, copied into the cache (default: ``KDLAB_DATA_DIR``, the cache, a download, the
            sample; see ``_prepare_data``).
        replays: also train the quick replays' teachers (the longest step on a CPU) and, with ``warm``, run the
            replays the lessons open (``lesson_replays``) once at the quick budget.
        warm: run each of ``lab_runs`` once, so that its result comes from the cache in class.
        on_event: receives ``ProgressEvent`` objects (one bar per step) and the trainings' events.

    Raises:
        DataError: the data folder asked for is missing or corrupt.
    """
    emit = on_event or (lambda event: None)
    cache_dir = default_cache_dir()
    emit(ProgressEvent(0.0, "Data"))
    data, data_step = _prepare_data(data_dir, cache_dir)
    steps = [data_step]
    emit(ProgressEvent(1.0, "Data"))
    teachers: dict[tuple, Teacher] = {}  # (name, epochs, seed) -> the lab's teachers, for the result cache's keys
    needs = default_teachers(data, replays=replays)
    # Pinned before any is trained: a full cache never removes what a class needs at once (kdlab.teachers.eviction).
    pin_teachers(cache_dir / "teachers", [path.name for need in needs for path in teacher_files(need)])
    for need in needs:
        step, teacher = _prepare_teacher(need, emit)
        steps.append(step)
        if need.data is data and not need.jitter_pixels:
            teachers[(need.name, need.epochs, need.seed)] = teacher
    if not replays:
        detail = "not asked for (--skip-replays): neither their teachers nor the lessons' replays"
        steps.append(Step("replay teachers", "paper replays", detail=detail))
    signals = signal_needs(data)
    if signals:
        steps.append(_prepare_signals(data, signals, teachers, cache_dir, emit))
    if warm:
        steps.append(_warm_results(data, teachers, cache_dir, emit))
    else:
        steps.append(Step("result cache", "lab", detail="not asked for (--no-warm)"))
    if replays:
        lesson = lesson_replays()
        purpose = "replays: " + (", ".join(f"{name} ({who})" for name, who in lesson.items()) or "none in a lesson")
        steps.append(
            _warm_replays(data, lesson, purpose, emit)
            if warm
            else Step("replay cache", purpose, detail="not asked for (--no-warm)")
        )
    return data, steps


def _prepare_data(data_dir: str | None, cache_dir: Path) -> tuple[MnistData, Step]:
    """The data step: full MNIST from ``data_dir`` (or ``KDLAB_DATA_DIR``), copied into the cache so that a
    server with the same ``KDLAB_CACHE_DIR`` finds it without being told; else the cache's copy; else a
    download into the cache when online; else the offline sample, the step marked failed with what to do
    (unless ``KDLAB_OFFLINE`` asked for no download).

    Raises:
        DataError: the folder asked for is missing, lacks one of the four files, or holds corrupt ones.
    """
    started = time.perf_counter()
    explicit = data_dir or current_settings().data_dir
    status, detail = "already done", ""
    if explicit:
        data = load_mnist(explicit)
        if not has_raw_files(cache_dir):
            status, detail = "done", _copy_raw_files(Path(explicit).expanduser(), cache_dir)
    else:
        failure = None
        if not has_raw_files(cache_dir) and not is_offline():
            failure = download_mnist(cache_dir)
            status, detail = "done", "downloaded into the cache"
        data = load_mnist(offline=True if failure else None)  # after a failed download, not a second try
        if not data.source.is_full and not is_offline():
            why = f"full MNIST could not be downloaded ({failure})" if failure else data.source.note.rstrip(".")
            status, detail = "failed", f"{why}. {FULL_MNIST_FOR_PREPARE}"
        elif not data.source.is_full:
            detail = f"KDLAB_OFFLINE is on, so no download was tried. {FULL_MNIST_FOR_PREPARE}"
    label = data.source.label + (f": {detail}" if detail else "")
    return data, Step("data", "every page", status, round(time.perf_counter() - started, 2), label)


def _copy_raw_files(root: Path, cache_dir: Path) -> str:
    """Copy the four raw files from ``root/MNIST/raw/`` into the cache's; says what happened."""
    target = cache_dir / "MNIST" / "raw"
    try:
        for name in RAW_FILES:
            with open(root / "MNIST" / "raw" / name, "rb") as source:
                write_atomically(target / name, lambda file, source=source: shutil.copyfileobj(source, file))
    except OSError as error:
        return f"not copied into the cache ({error}): start the server with KDLAB_DATA_DIR={root}"
    return f"copied from {root} into the cache, where the server finds it"


def _prepare_teacher(need: TeacherNeed, emit) -> tuple[Step, Teacher]:
    started = time.perf_counter()
    cached = is_cached(need)
    label = f"Teacher {need.name} ({need.epochs} epochs on {len(need.data.train):,} images)"
    progress = ProgressTracker(emit, {"teacher": 1.0})
    on_event = progress.start("teacher", label)
    teacher = resolve_teacher(
        need.name,
        need.data,
        epochs=need.epochs,
        seed=need.seed,
        jitter_pixels=need.jitter_pixels,
        context=RunContext(on_event=on_event),
    )
    progress.done(label)
    status = "already done" if cached else "done"
    detail = f"{teacher.record.test_accuracy:.2%} test accuracy ({teacher.record.test_errors:,} errors)"
    if teacher.status != "completed":  # not cached: a page would train it again
        status, detail = "failed", f"the training ended {teacher.status}; run prepare again"
    if need.jitter_pixels:
        detail += f", +-{need.jitter_pixels} pixel jitter"
    name = f"teacher {need.name}, {need.epochs} epoch{'' if need.epochs == 1 else 's'}"
    step = Step(name, ", ".join(need.users), status, round(time.perf_counter() - started, 2), detail)
    return step, teacher


def signal_needs(data: MnistData) -> dict[tuple, tuple[Method, str, str]]:
    """The teacher signals the lab runs of ``lab_runs`` read (a feature or relation method's, such as a lesson's
    ``vary`` over methods): (teacher, epochs, seed, signal name) -> (the method, the student, who runs it first)."""
    default_epochs = default_teacher_epochs(len(data.train))
    needs: dict[tuple, tuple[Method, str, str]] = {}
    for config, who in lab_runs(data).items():
        method = METHODS[config.soft]
        if method.transfer is not None:
            teacher = (config.teacher, config.teacher_epochs or default_epochs, config.teacher_seed)
            needs.setdefault((*teacher, signal_name(method, config.student)), (method, config.student, who))
    return needs


def _prepare_signals(
    data: MnistData, needs: dict[tuple, tuple[Method, str, str]], teachers: dict[tuple, Teacher], cache_dir: Path, emit
) -> Step:
    """Read each teacher signal of ``signal_needs`` once and keep it beside its teacher (pinned like it), so that no
    feature run reads it in class (``kdlab.teachers.features``: about 22 s of cnn-wide on full MNIST)."""
    started = time.perf_counter()
    users = dict.fromkeys(who for _, _, who in needs.values())
    step = Step("teacher signals", f"{', '.join(users)}: " + ", ".join(sorted({key[3] for key in needs})))
    progress = ProgressTracker(emit, dict.fromkeys(map(str, needs), 1.0))
    outcomes, paths = [], []
    for key, (method, student, _who) in needs.items():
        teacher = teachers.get(key[:3])
        if teacher is None or teacher.status != "completed":
            outcomes.append(f"failed ({key[0]} is not trained: {key[3]} not read)")
            continue
        label = f"Teacher {key[0]}'s {key[3]} for {method.label}"
        progress.start(str(key), label)
        path = signal_path(teacher, method, student, data, cache_dir=cache_dir)
        outcomes.append("already done" if path.exists() else "done")
        teacher_signal(teacher, method, student, data, cache_dir=cache_dir)
        paths.append(path)
        progress.done(label)
    folder = cache_dir / "teachers"
    pin_teachers(folder, pinned_teachers(folder) | {path.name for path in paths})
    failed = [outcome for outcome in outcomes if outcome.startswith("failed")]
    step.status = "failed" if failed else "already done" if set(outcomes) == {"already done"} else "done"
    step.seconds = round(time.perf_counter() - started, 2)
    step.detail = (
        "; ".join(failed) or f"{len(paths)} signal(s) on disk beside their teacher ({outcomes.count('done')} read now)"
    )
    return step


def _warm_results(data: MnistData, teachers: dict[tuple, Teacher], cache_dir: Path, emit) -> Step:
    """Run each of ``lab_runs`` once through the lab's own path, so that its result is in the cache."""
    started = time.perf_counter()
    runs = lab_runs(data)
    step = Step("result cache", f"lab: the default demo and {len(runs) - 1} lesson run(s)")
    default_epochs = default_teacher_epochs(len(data.train))
    outcomes = []
    try:
        database, student = _prepare_student(cache_dir)
        store = DatabaseRunStore(database, student.id)
        runner = JobRunner(max_concurrent=1)
        for number, (config, who) in enumerate(runs.items(), start=1):
            label = f"Run {number}/{len(runs)} ({who}): {config.student} from {config.teacher}"
            teacher = teachers.get((config.teacher, config.teacher_epochs or default_epochs, config.teacher_seed))
            request = TrainRequest.build(config, data)
            if teacher is not None and request.teacher_matches(teacher.record):
                # Cached already: no copy into the prepare student's runs, which would grow by every lesson
                # run at every prepare until KDLAB_MAX_RUNS_PER_STUDENT refused the next one.
                if store.cached_result(request.result_key(teacher.record)) is not None:
                    outcomes.append("already done")
                    continue
            ticket = request_distillation(runner, request, data, store, owner="prepare", teacher=teacher)
            if ticket.job is None:
                outcomes.append("already done")
                continue
            _follow(runner, ticket.job, label, emit)
            outcomes.append("done" if ticket.job.status == "completed" else f"failed ({ticket.job.error or 'stopped'})")
    except StorageError as error:
        step.status, step.detail = "failed", f"the run database is not usable: {error}"
        return step
    except RunLimitReached as error:  # the prepare student's own cap: its runs are the cache's first copies
        step.status, step.detail = "failed", str(error)
        return step
    failed = [outcome for outcome in outcomes if outcome.startswith("failed")]
    step.status = "failed" if failed else "already done" if set(outcomes) == {"already done"} else "done"
    step.seconds = round(time.perf_counter() - started, 2)
    trained = outcomes.count("done")
    step.detail = "; ".join(failed) or f"{len(outcomes)} run(s) answer from the cache in class ({trained} trained now)"
    return step


def _follow(runner: JobRunner, job, label: str, emit) -> None:
    """Wait for ``job``, showing its progress under ``label`` until it ends."""
    while not runner.wait(job, timeout=POLL_SECONDS):
        emit(ProgressEvent(job.progress, label, job.progress_message))
    emit(ProgressEvent(1.0, label))


def _warm_replays(data: MnistData, names: dict[str, str], purpose: str, emit) -> Step:
    """Run each of the lessons' replays once at the quick budget and the page's default seeds (``Replay.seeds``)
    through the page's own path (``kdlab.serve.gate.admit_replay``), so that a class's presses answer from the replay
    cache."""
    started = time.perf_counter()
    runner = JobRunner(max_concurrent=1)
    outcomes = []
    for name in names:
        label = f"Replay {name} (quick budget)"
        try:
            ticket = admit_replay(runner, name, "quick", data, owner="prepare", seeds=REPLAYS[name].seeds, capped=False)
        except ValueError as error:
            outcomes.append(f"{name} failed ({error})")
            continue
        if ticket.job is None:
            outcomes.append("already done")
            continue
        _follow(runner, ticket.job, label, emit)
        status = ticket.job.status
        outcomes.append(
            "done"
            if status == "completed"
            else f"{name} failed ({ticket.job.error_kind if status == 'failed' else status})"
        )
    failed = [outcome for outcome in outcomes if "failed" in outcome]
    status = "failed" if failed else "already done" if set(outcomes) <= {"already done"} else "done"
    detail = (
        "; ".join(failed)
        or f"{len(outcomes)} replay(s) answer from the cache in class ({outcomes.count('done')} run now)"
    )
    return Step("replay cache", purpose, status, round(time.perf_counter() - started, 2), detail)


def checklist(steps: list[Step]) -> dict:
    """The checklist as a JSON-ready dict."""
    return {"steps": [asdict(step) for step in steps], "ready": all("done" in step.status for step in steps)}
