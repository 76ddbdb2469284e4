"""Replays of the MNIST experiments of Hinton, Vinyals & Dean (2015), section 3, and of two papers around it.

Each replay is a function of a frozen config and the data in use, that trains for real
and returns a ``ReplayResult``: a JSON-ready summary (the budget that ran, our numbers, the
paper's numbers beside them) plus the stored test logits, so output biases can be changed
afterwards without retraining.

- ``table`` (``table.py``): the teacher (1200-1200 ReLU, dropout, +-2 pixel jitter), an
  800-800 student trained alone, and the same student distilled at T = 20.
- ``omit-3`` and ``only-7-8`` (``missing_digits.py``): the student is distilled on a transfer
  set with no 3s, or with only 7s and 8s; shifting the output biases of those digits recovers
  much of what the teacher knew.
- ``temperature-width`` (``temperature_width.py``): distilled accuracy over temperature and
  student width, each width also trained alone.
- ``compression`` (``compression.py``): Bucila, Caruana & Niculescu-Mizil (2006), where the field
  starts: an ensemble trained on a small labelled set, compressed into a small student through
  large transfer sets that only the ensemble labels (real images, MUNGE images, noise).
- ``decoupled`` (``decoupled.py``): Zhao et al. (2022), where the dark knowledge lives: the lab's
  student alone, with KD, with its target-class part only (TCKD), its non-target part only (NCKD)
  and with both reweighted (DKD).

The paper's numbers are in ``paper.py`` (``PAPER_NUMBERS``); the budgets and configs in
``config.py``. Budgets: "quick" fits a classroom (minutes on a laptop CPU); "full" is closer to
the paper (still far fewer epochs than the paper's runs). The teacher is cached on disk per
budget, and the temperature-width grid once it completes.
"""

from __future__ import annotations

from kdlab.experiments.replays.bucila import replay_compression
from kdlab.experiments.replays.bucila_settings import (
    COMPRESSION_BUDGETS,
    COMPRESSION_NOTES,
    CompressionBudget,
    CompressionConfig,
    compression_config,
)
from kdlab.experiments.replays.common import ReplayResult, format_value
from kdlab.experiments.replays.config import (
    BUDGET_NOTES,
    BUDGETS,
    PAPER_TEACHER,
    REPLAY_NAMES,
    REPLAY_TITLES,
    Budget,
    HintonSetup,
    MissingDigitsConfig,
    ReplayConfig,
    TableConfig,
    TemperatureWidthConfig,
    get_budget,
)
from kdlab.experiments.replays.config import replay_config as hinton_replay_config
from kdlab.experiments.replays.decoupled import DecoupledConfig, decoupled_config, replay_decoupled
from kdlab.experiments.replays.missing_digits import replay_missing_digits, replay_omit_3, replay_only_7_8
from kdlab.experiments.replays.paper import BUCILA, PAPER, PAPER_NUMBERS, ZHAO
from kdlab.experiments.replays.table import replay_table
from kdlab.experiments.replays.temperature_width import load_cached_temperature_width, replay_temperature_width
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData

REPLAYS = {
    "table": replay_table,
    "omit-3": replay_omit_3,
    "only-7-8": replay_only_7_8,
    "temperature-width": replay_temperature_width,
    "compression": replay_compression,
    "decoupled": replay_decoupled,
}


def replay_config(name: str, budget: str = "quick", **settings) -> ReplayConfig | CompressionConfig | DecoupledConfig:
    """The config of replay ``name`` at the named budget; ``settings`` override fields flat, e.g.
    ``replay_config("omit-3", seed=3)`` or ``replay_config("compression", student="mlp-100x1")``.

    Raises:
        ValueError: an unknown replay or budget, or a bad setting.
    """
    if name == "compression":
        return compression_config(budget, **settings)
    if name == "decoupled":
        return decoupled_config(budget, **settings)
    return hinton_replay_config(name, budget, **settings)


def run_replay(
    name: str,
    data: MnistData,
    budget: str = "quick",
    *,
    config: ReplayConfig | CompressionConfig | DecoupledConfig | None = None,
    context: RunContext | None = None,
    **kwargs,
) -> ReplayResult:
    """Run replay ``name`` at ``budget`` (or with an explicit ``config``).

    Args:
        name: one of ``REPLAY_NAMES``.
        data: the MNIST data in use.
        budget: "quick" or "full"; ignored when ``config`` is given.
        config: the replay's config, e.g. from ``replay_config(name, budget, seed=3)``.
        context: the replay's events, stop flag, device and teacher cache.
        kwargs: for the replay: ``use_cache`` for temperature-width.

    Raises:
        ValueError: an unknown replay or budget, or a config that does not fit the data.
    """
    if name not in REPLAYS:
        raise ValueError(f"Unknown replay '{name}': choose one of {', '.join(REPLAY_NAMES)}.")
    context = context or RunContext()
    # Each replay takes the context's parts as keywords of its own.
    parts = dict(on_event=context.on_event, stop=context.stop, device=context.device, cache_dir=context.cache_dir)
    return REPLAYS[name](config or replay_config(name, budget), data, **parts, **kwargs)


__all__ = [
    "BUCILA",
    "BUDGETS",
    "PAPER_TEACHER",
    "BUDGET_NOTES",
    "PAPER",
    "PAPER_NUMBERS",
    "REPLAYS",
    "REPLAY_NAMES",
    "REPLAY_TITLES",
    "Budget",
    "COMPRESSION_BUDGETS",
    "COMPRESSION_NOTES",
    "CompressionBudget",
    "CompressionConfig",
    "DecoupledConfig",
    "ZHAO",
    "decoupled_config",
    "replay_decoupled",
    "compression_config",
    "replay_compression",
    "HintonSetup",
    "MissingDigitsConfig",
    "ReplayConfig",
    "ReplayResult",
    "TableConfig",
    "TemperatureWidthConfig",
    "format_value",
    "get_budget",
    "load_cached_temperature_width",
    "replay_config",
    "replay_missing_digits",
    "replay_omit_3",
    "replay_only_7_8",
    "replay_table",
    "replay_temperature_width",
    "run_replay",
]
