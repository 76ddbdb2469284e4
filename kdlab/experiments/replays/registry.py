"""Every replay, by name (``REPLAYS``, in the page's tab order), and the calls that look one up by name."""

from __future__ import annotations

import time

from kdlab.experiments.replays import (
    bucila,
    decoupled,
    knowledge,
    missing_digits,
    stronger_teacher,
    table,
    temperature_schedules,
    temperature_width,
)
from kdlab.experiments.replays.common import ReplayResult
from kdlab.experiments.replays.over_seeds import seeded_configs
from kdlab.experiments.replays.replay import Replay
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData

REPLAYS: dict[str, Replay] = {
    replay.name: replay
    for replay in (
        table.REPLAY,
        missing_digits.OMIT_3,
        missing_digits.ONLY_7_8,
        temperature_width.REPLAY,
        bucila.REPLAY,
        decoupled.REPLAY,
        knowledge.REPLAY,
        temperature_schedules.REPLAY,
        stronger_teacher.REPLAY,
    )
}


def get_replay(name: str) -> Replay:
    """The replay called ``name``.

    Raises:
        ValueError: an unknown replay, listing the known ones.
    """
    if name not in REPLAYS:
        raise ValueError(f"Unknown replay '{name}': choose one of {', '.join(REPLAYS)}.")
    return REPLAYS[name]


def replay_config(name: str, budget: str = "quick", **settings):
    """The config of replay ``name`` at the named budget; ``settings`` override fields flat, e.g.
    ``replay_config("omit-3", seed=3)`` or ``replay_config("compression", student="mlp-100x1")``.

    Raises:
        ValueError: an unknown replay or budget, or a bad setting.
    """
    return get_replay(name).config(budget, **settings)


def run_replay(
    name: str, data: MnistData, budget: str = "quick", *, config=None, context: RunContext | None = None, **kwargs
) -> ReplayResult:
    """Run replay ``name`` at ``budget`` (or with an explicit ``config``).

    Args:
        name: a key of ``REPLAYS``.
        data: the MNIST data in use.
        budget: "quick" or "full"; ignored when ``config`` is given.
        config: the replay's config, e.g. from ``replay_config(name, budget, seed=3)``.
        context: the replay's events, stop flag, device and teacher cache.
        kwargs: for the replay: ``use_cache`` for temperature-width.

    Raises:
        ValueError: an unknown replay or budget, or a config that does not fit the data.
    """
    replay = get_replay(name)
    return replay.run(config or replay.config(budget), data, context=context, **kwargs)


def seeded_replays() -> tuple[str, ...]:
    """The replays that compare settings, so ``--seeds`` applies to them."""
    return tuple(name for name, replay in REPLAYS.items() if replay.over_seeds is not None)


def run_over_seeds(name: str, config, seeds: int, run) -> dict:
    """Replay ``name`` at ``config``'s seed and the next ``seeds - 1`` (``run(config)`` -> its summary): the
    first seed's summary, with ``seeds`` (the replay's ``over_seeds``: spreads and paired comparisons) and the
    total time.

    Raises:
        ValueError: ``name`` does not compare settings, or ``seeds`` is not 1 to ``MAX_SEEDS``.
    """
    replay = get_replay(name)
    if replay.over_seeds is None:
        raise ValueError(f"--seeds applies to the {' and '.join(seeded_replays())} replays, not {name}.")
    started = time.perf_counter()
    summaries = []
    for seeded in seeded_configs(config, seeds):
        summary = run(seeded)
        summaries.append(summary)
        if summary["status"] != "completed":
            break
    if len(summaries) < 2 or summaries[-1]["status"] != "completed":
        return summaries[0] | {"seconds": round(time.perf_counter() - started, 2)}
    return summaries[0] | {"seeds": replay.over_seeds(summaries), "seconds": round(time.perf_counter() - started, 2)}
