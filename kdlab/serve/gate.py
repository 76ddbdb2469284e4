"""The gate for the jobs a page starts beside the lab's runs: teacher trainings, scheme comparisons, replays.

The lab's Train has the same rules in ``kdlab.serve.lab.request_distillation``. Here:

- **the cost cap** (``KDLAB_MAX_RUN_COST``) applies to each job's whole training work, a teacher
  trained first included; a job above it is refused with ``CostTooHigh`` and its size;
- **one job at a time per student**: a job is owned by the student who asked for it, so the
  runner's one-per-owner rule and queue limit apply (``OwnerBusy``, ``QueueFull``), and the fair
  queue gives its owner their turn like any other job;
- **a limit per client address** (``KDLAB_MAX_JOBS_PER_CLIENT``, ``ClientBusy``): sixty tabs of one
  machine are sixty students to the rules above, but one address (``kdlab.serve.clients``);
- **shared work** is only what nobody asked for by name: the teachers the menus offer
  (``PRESET_TEACHERS``), trained by ``kdlab prepare`` or by the first request, as a shared job.
  Any other teacher (``?explorer.teacher=mlp-37x1``) trains within the cap and counts against the
  student who asked; other sessions asking for the same teacher follow the same job. A replay's
  teacher is shared work too: the server's budget names it, trained once and cached for everyone, and so
  is the quick teacher that stands in on the explorer while a teacher trains (``kdlab.teachers.quick``:
  fixed by the server, a fifth of the default lab run's work). A replay that several students run with the
  same settings is counted once, for the student who started it: those who join it in progress or get it
  from the replay cache pay nothing (``admit_replay``, ``kdlab.serve.replays``), as the lab's "joined" and
  "cache" runs do.
"""

from __future__ import annotations

from pathlib import Path

from kdlab.experiments.replays import get_replay
from kdlab.experiments.schemes import SchemeConfig
from kdlab.experiments.schemes.compare import scheme_plan
from kdlab.ml.data import MnistData
from kdlab.ml.models import ARCHITECTURES
from kdlab.serve.limits import CostTooHigh, default_run_cost, max_run_cost
from kdlab.serve.replays import ReplayRequest, ReplayTicket, follow_or_submit, load_cached_replay
from kdlab.serve.runner import SHARED_OWNER, Job, JobRunner
from kdlab.serve.tasks import TEACHER_JOBS, schemes_task
from kdlab.teachers import quick
from kdlab.teachers.cache import is_teacher_cached
from kdlab.teachers.ensembles import ENSEMBLE_PRESETS, parse_teacher_name, training_cost
from kdlab.teachers.teacher import default_teacher_epochs

PRESET_TEACHERS = frozenset(ARCHITECTURES) | frozenset(ENSEMBLE_PRESETS)


def teacher_training_cost(teacher: str, data: MnistData, epochs: int | None = None, seed: int = 0) -> float:
    """The work of training ``teacher`` on ``data`` first, 0 when it is cached."""
    epochs = epochs or default_teacher_epochs(len(data.train))
    if is_teacher_cached(teacher, data, epochs=epochs, seed=seed):
        return 0.0
    return training_cost(teacher, len(data.train), epochs)


def check_job_cost(cost: float, what: str, advice: str) -> float:
    """``cost`` when it is within the cap; else ``CostTooHigh`` saying how big ``what`` is and ``advice``."""
    cap = max_run_cost()
    if cost <= cap:
        return cost
    unit = default_run_cost()
    raise CostTooHigh(
        f"{what} is too big for the shared server: about {cost / unit:,.0f} times the work of the default lab run, "
        f"and the limit your instructor set is {cap / unit:,.0f} times. {advice}"
    )


def admit_teacher(
    runner: JobRunner, teacher: str, data: MnistData, cache_dir: Path, *, owner: str, client: str | None = None
) -> Job:
    """The job training ``teacher`` for ``owner``: the one already training it, else a new one, shared for
    a preset teacher and ``owner``'s own (within the cap) for any other.

    Raises:
        ValueError: a bad name; ``CostTooHigh``; ``OwnerBusy``, ``ClientBusy`` or ``QueueFull`` for a student's job.
    """
    name = parse_teacher_name(teacher).name
    existing = TEACHER_JOBS.existing(runner, name, data, cache_dir)
    if existing is not None and not existing.is_finished:
        return existing  # following a job costs nothing
    if name in PRESET_TEACHERS:
        return TEACHER_JOBS.start(runner, name, data, cache_dir, owner=SHARED_OWNER)
    check_job_cost(
        teacher_training_cost(name, data),
        f"Training the teacher {name}",
        "Choose one of the teachers in the menu, or a smaller one.",
    )
    return TEACHER_JOBS.start(runner, name, data, cache_dir, owner=owner, client=client)


def admit_quick_teacher(runner: JobRunner, data: MnistData, cache_dir: Path) -> Job:
    """The one shared job training the quick teacher (``kdlab.teachers.quick``) on ``data``: the one already
    training it, else a new one, never refused (shared work). However many sessions ask at once, one job
    trains it."""
    architecture, epochs = quick.QUICK_TEACHER.architecture, quick.quick_teacher_epochs(data)
    return TEACHER_JOBS.start(runner, architecture, data, cache_dir, epochs=epochs, owner=SHARED_OWNER)


def scheme_comparison_cost(config: SchemeConfig, schemes: tuple[str, ...], data: MnistData) -> float:
    """The work of a scheme comparison: its students' trainings and, for a teacher that is neither cached nor
    a preset (shared work, trained once for everyone), the teacher's. Measured on full MNIST: the default
    comparison's students are 2.5 default runs; its preset teacher cnn-wide would add 18 more, which would put
    the page's defaults over the default cap of 20 on a server where ``kdlab prepare`` was not run."""
    size = len(config.transfer_indices(data))
    students = sum(scheme_plan(config, schemes, size, with_teacher=False).values())
    if config.teacher in PRESET_TEACHERS:
        return students
    return students + teacher_training_cost(config.teacher, data, config.teacher_epochs, config.teacher_seed)


def admit_schemes(
    runner: JobRunner,
    config: SchemeConfig,
    schemes: tuple[str, ...],
    data: MnistData,
    *,
    owner: str,
    client: str | None = None,
) -> Job:
    """A scheme comparison for ``owner``, within the cap.

    Raises:
        ValueError: the config does not fit the data; ``CostTooHigh``; ``OwnerBusy``, ``ClientBusy`` or ``QueueFull``.
    """
    check_job_cost(
        scheme_comparison_cost(config, schemes, data),
        "This comparison",
        "Compare fewer schemes, with fewer epochs or images, or a teacher that is already trained.",
    )
    return runner.submit("Training schemes", schemes_task(config, schemes, data), owner=owner, client=client)


def replay_cost(name: str, budget: str, data: MnistData) -> float:
    """The students' work of replay ``name`` at ``budget`` on ``data`` (its ``Replay.cost``, from the sizes its
    config gives). Its teacher is shared work (see the module docstring). On full MNIST, in default runs: quick
    table 48, omit-3 19.8, only-7-8 4.5, temperature-width 6.7, compression 2.5, decoupled 1.2; the full budget
    3.8 to 325 (2026-12-03); knowledge 7.4 a seed (2026-12-07)."""
    replay = get_replay(name)
    return replay.cost(replay.config(budget), data)


def admit_replay(
    runner: JobRunner,
    name: str,
    budget: str,
    data: MnistData,
    *,
    owner: str,
    client: str | None = None,
    seeds: int = 1,
    capped: bool = True,
) -> ReplayTicket:
    """Replay ``name`` at ``budget`` for ``owner`` (at ``seeds`` seeds, one after another: each counted): the
    same replay completed earlier (from the replay cache, at once), else the identical one in progress
    (followed), else a new job within the cap unless not ``capped``: the instructor's own replay, or anyone's on
    a server without an instructor key (a laptop), as for the full budget
    (``kdlab.ui.instructor.may_start_long_jobs``). A replay's work is fixed by the server, so the cap decides
    which replays a student may start: on full MNIST at the default cap of 20, every quick one but the table
    (48: the instructor runs it on the projector). A result from the cache or a run joined costs nothing: no
    cap, no place in the queue (``kdlab.serve.replays``).

    Raises:
        ValueError: an unknown replay or budget; ``CostTooHigh``; ``OwnerBusy``, ``ClientBusy`` or ``QueueFull``.
    """
    request = ReplayRequest.build(name, budget, data, seeds)
    cached = load_cached_replay(request.key)
    if cached is not None:
        return ReplayTicket("cache", request, cached=cached[0], trained_at=cached[1])
    cost = replay_cost(name, budget, data) * seeds

    def checks() -> None:
        if capped:
            check_job_cost(
                cost, f"The {name} replay at the {budget} budget", "Ask your instructor to run it on the projector."
            )

    return follow_or_submit(runner, request, data, owner=owner, client=client, submit_checks=checks, cost=cost)
