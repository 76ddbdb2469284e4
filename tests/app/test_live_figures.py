"""The lab's live figures: built once per curve point of a job, shared by every session watching it."""

from dataclasses import dataclass, field

from kdlab.experiments.distill import TRAINING_STAGES, StageEvent
from kdlab.i18n import current_language, use_language
from kdlab.ml.train import EvalEvent
from kdlab.ui.live_figures import LiveFigureCache


def point(run: str, step: int, accuracy: float) -> EvalEvent:
    return EvalEvent(run, step, 100, step / 10, accuracy, accuracy, 0.5, 0.3, 0.2, float(step))


@dataclass
class FakeJob:
    id: str
    log: list = field(default_factory=list)
    is_finished: bool = False

    def events(self) -> list:
        return list(self.log)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_figures_are_rebuilt_only_when_a_curve_point_arrives():
    cache, job = LiveFigureCache(rebuild_seconds=0), FakeJob("a", [point("distilled", 1, 0.8)])
    first = cache.figures(job, 10)
    assert cache.figures(job, 10) is first  # a tick with nothing new: the same figures
    job.log.append("a progress event")  # not shown in the figures
    assert cache.figures(job, 10) is first and cache.builds == 1
    job.log.append(point("baseline", 1, 0.7))
    second = cache.figures(job, 10)
    assert second is not first and cache.builds == 2
    assert [trace.name for trace in second.accuracy.data] == ["Distilled student", "Student alone (baseline)"]
    assert list(second.accuracy.data[1].y) == [0.7]


def test_new_points_wait_for_the_rebuild_interval_but_a_new_stage_shows_at_once():
    clock = Clock()
    cache, job = LiveFigureCache(rebuild_seconds=4, clock=clock), FakeJob("a", [point("distilled", 1, 0.8)])
    first = cache.figures(job, 10)
    clock.now, job.log = 2.0, [*job.log, point("distilled", 2, 0.85)]
    assert cache.figures(job, 10) is first  # 2 s after the build: the new point waits
    clock.now = 4.0
    second = cache.figures(job, 10)
    assert list(second.accuracy.data[0].y) == [0.8, 0.85]
    clock.now = 4.5
    job.log.append(StageEvent("baseline", "Training the student alone ..."))
    assert cache.figures(job, 10).stage == "Training the student alone ..."


def test_sessions_watching_one_job_share_its_figures_and_finished_jobs_are_dropped():
    cache = LiveFigureCache(rebuild_seconds=0)
    done, running = FakeJob("done", [point("distilled", 1, 0.8)]), FakeJob("running", [point("distilled", 1, 0.9)])
    cache.figures(done, 10)
    shared = cache.figures(running, 10)
    assert cache.figures(running, 10) is shared and len(cache) == 2
    done.is_finished = True
    running.log.append(point("distilled", 2, 0.95))
    cache.figures(running, 10)
    assert len(cache) == 1  # the finished job's figures (and the job) are not kept


def test_the_cache_keeps_at_most_max_jobs():
    cache = LiveFigureCache(max_jobs=3)
    for index in range(5):
        cache.figures(FakeJob(str(index), [point("distilled", 1, 0.8)]), 10)
    assert len(cache) == 3


def test_each_language_gets_its_own_figures_of_a_job():
    cache = LiveFigureCache(rebuild_seconds=0)
    job = FakeJob("a", [StageEvent.of("baseline", TRAINING_STAGES["baseline"]), point("baseline", 1, 0.7)])
    before = current_language()
    try:
        english = cache.figures(job, 10)
        use_language("es")  # a second student follows the same run in Spanish
        spanish = cache.figures(job, 10)
        assert spanish is not english and cache.builds == 2
        assert cache.figures(job, 10) is spanish  # and shares it with the other Spanish readers
        assert spanish.stage == "Entrenando el estudiante solo ..."
        assert [trace.name for trace in spanish.accuracy.data] == ["Estudiante solo (referencia)"]
        assert spanish.accuracy.layout.separators == ",."  # 97,5 % on the axis, as in the page's sentences
        use_language("en")
        assert cache.figures(job, 10) is english and english.stage == "Training the student alone ..."
        assert [trace.name for trace in english.accuracy.data] == ["Student alone (baseline)"]
    finally:
        use_language(before)
