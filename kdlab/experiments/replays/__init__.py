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
- ``compression`` (``bucila.py``): Bucila, Caruana & Niculescu-Mizil (2006), where the field
  starts: an ensemble trained on a small labelled set, compressed into a small student through
  large transfer sets that only the ensemble labels (real images, MUNGE images, noise).
- ``decoupled`` (``decoupled.py``): Zhao et al. (2022), where the dark knowledge lives: the lab's
  student alone, with KD, with its target-class part only (TCKD), its non-target part only (NCKD)
  and with both reweighted (DKD).
- ``knowledge`` (``knowledge.py``): which knowledge transfers? A small conv student alone, with KD, with each
  feature (hints, AT) or relation (RKD, SP) term and with KD + AT, on the lab's transfer set and on 1,000 images,
  over 3 seeds, beside RepDistiller's and torchdistill's published numbers.
- ``temperature-schedules`` (``temperature_schedules.py``): is one temperature right? The lab's student alone, with
  KD at fixed T from 1 to 50, logit matching (the high-T limit), standardised logits, an annealed and a learned T,
  over 3 seeds, beside Hinton et al.'s section 2.1, Sun et al. (2024), CTKD (2023) and annealing KD (2021).
- ``stronger-teacher`` (``stronger_teacher.py``): does a stronger teacher teach better? The lab's student alone and
  from four teachers of rising strength (linear, mlp-1200x2, cnn-wide, ensemble:cnn*3) by KD, standardised KD and
  DIST, over 3 seeds: each method's gain over the student alone against the teacher's own errors (Huang et al. 2022).

Each module declares its replay (``replay.Replay``: title, the paper's numbers, config, run, teachers,
cost, words for the page) and ``registry.REPLAYS`` lists them; the command line, the page, ``kdlab prepare``
and the gate derive from it. The shared budgets and configs are in ``config.py``. Budgets: "quick" fits a classroom (minutes on a laptop CPU); "full" is closer to
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
from kdlab.experiments.replays.common import ReplayResult, format_value, shown_quantity
from kdlab.experiments.replays.config import (
    BUDGET_NOTES,
    BUDGETS,
    PAPER_TEACHER,
    Budget,
    HintonSetup,
    MissingDigitsConfig,
    TableConfig,
    TemperatureWidthConfig,
    get_budget,
)
from kdlab.experiments.replays.decoupled import DecoupledConfig, decoupled_config, replay_decoupled
from kdlab.experiments.replays.knowledge import KnowledgeConfig, knowledge_config, replay_knowledge
from kdlab.experiments.replays.missing_digits import replay_missing_digits, replay_omit_3, replay_only_7_8
from kdlab.experiments.replays.paper import BUCILA, PAPER, ZHAO
from kdlab.experiments.replays.registry import REPLAYS, get_replay, replay_config, run_over_seeds, run_replay
from kdlab.experiments.replays.replay import Replay, ReplayTeacher
from kdlab.experiments.replays.table import replay_table
from kdlab.experiments.replays.temperature_schedules import TemperatureConfig, replay_temperature, temperature_config
from kdlab.experiments.replays.temperature_width import load_cached_temperature_width, replay_temperature_width

__all__ = [
    "BUCILA",
    "BUDGETS",
    "PAPER_TEACHER",
    "BUDGET_NOTES",
    "PAPER",
    "REPLAYS",
    "Budget",
    "COMPRESSION_BUDGETS",
    "COMPRESSION_NOTES",
    "CompressionBudget",
    "CompressionConfig",
    "DecoupledConfig",
    "KnowledgeConfig",
    "ZHAO",
    "decoupled_config",
    "knowledge_config",
    "replay_knowledge",
    "replay_decoupled",
    "compression_config",
    "replay_compression",
    "HintonSetup",
    "MissingDigitsConfig",
    "Replay",
    "ReplayResult",
    "ReplayTeacher",
    "TableConfig",
    "TemperatureWidthConfig",
    "format_value",
    "shown_quantity",
    "get_budget",
    "get_replay",
    "load_cached_temperature_width",
    "replay_config",
    "replay_missing_digits",
    "replay_omit_3",
    "replay_only_7_8",
    "replay_table",
    "replay_temperature_width",
    "TemperatureConfig",
    "temperature_config",
    "replay_temperature",
    "run_over_seeds",
    "run_replay",
]
