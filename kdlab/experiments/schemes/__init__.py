"""Training schemes built on distillation, compared on equal terms.

- **Offline KD** (Hinton, Vinyals & Dean 2015): a fixed, pre-trained teacher; the student
  learns from its softened outputs. This is the reference every other scheme is held against.
- **Deep mutual learning** (Zhang et al. 2018): no pre-trained teacher; two students train
  at the same time and each also matches the other's current predictions.
- **Born-again networks** (Furlanello et al. 2018): the student architecture is trained
  alone, then each generation of the *same* architecture is distilled from the previous one.
- **Teacher assistant** (Mirzadeh et al. 2020): a mid-sized assistant is distilled from the
  teacher, then the small student from the assistant, to bridge a large capacity gap.

``config`` holds the schemes' names, words and papers and the shared budget
(``SchemeConfig``), ``results`` what a comparison produced, ``compare`` how it runs
(``compare_schemes``).
"""

from kdlab.experiments.schemes.compare import compare_schemes
from kdlab.experiments.schemes.config import (
    DEFAULT_ASSISTANT,
    DEFAULT_STUDENT,
    DEFAULT_TEACHER,
    MAX_GENERATIONS,
    SCHEME_DESCRIPTIONS,
    SCHEME_PAPERS,
    SCHEME_TITLES,
    SCHEMES,
    SchemeConfig,
)
from kdlab.experiments.schemes.results import SchemeComparison, SchemeResult, SchemeRun

__all__ = [
    "DEFAULT_ASSISTANT",
    "DEFAULT_STUDENT",
    "DEFAULT_TEACHER",
    "MAX_GENERATIONS",
    "SCHEME_DESCRIPTIONS",
    "SCHEME_PAPERS",
    "SCHEME_TITLES",
    "SCHEMES",
    "SchemeComparison",
    "SchemeConfig",
    "SchemeResult",
    "SchemeRun",
    "compare_schemes",
]
