"""Is the gain real? The distilled student against the student alone over several seeds, paired.

Each seed trains both students from the same initial weights on the same batches, so the seed's
luck is shared: the per-seed difference (errors alone - errors distilled) cancels it, and a 95%
Student t-interval over those differences says whether the teacher's gain is bigger than what
changing the seed alone does. Pure arithmetic: no torch, no training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kdlab.i18n import N_

MAX_SEEDS = 5

# Two-sided 95% critical values of Student's t, by degrees of freedom (n - 1), from any statistics
# table: a table instead of scipy. 1 to 4 are the lab's seeds; the rest serve the class board, which
# pools every seed a class ran (more than 30: the next smaller tabulated one, so never too narrow).
T_CRITICAL_95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}
T_CRITICAL_95_MORE = {
    5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145,
    15: 2.131, 16: 2.120, 17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069,
    24: 2.064, 25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 40: 2.021, 60: 2.000,
    120: 1.980,
}  # fmt: skip

GAIN_IS_REAL = N_("the gain is bigger than the seed-to-seed spread")
SEED_MATTERS = N_("at this setting the seed matters as much as the teacher")
LOSS_IS_REAL = N_("the student alone did better, by more than the seed-to-seed spread")
ONE_SEED = N_("one seed cannot tell the gain from the seed-to-seed spread: try 3 seeds or more")


@dataclass(frozen=True)
class PairedSeeds:
    """Test errors of the student alone and distilled, one pair per seed, and what they say."""

    seeds: tuple[int, ...]
    alone_errors: tuple[int, ...]
    distilled_errors: tuple[int, ...]

    def __post_init__(self) -> None:
        if not len(self.seeds) == len(self.alone_errors) == len(self.distilled_errors):
            raise ValueError("Give one error count of each student per seed.")
        if not 1 <= len(self.seeds) <= MAX_SEEDS:
            raise ValueError(f"Compare 1 to {MAX_SEEDS} seeds (got {len(self.seeds)}).")

    @property
    def differences(self) -> tuple[int, ...]:
        """Per seed: errors alone - errors distilled (above 0: the teacher helped)."""
        return tuple(alone - distilled for alone, distilled in zip(self.alone_errors, self.distilled_errors))

    @property
    def mean_difference(self) -> float:
        return sum(self.differences) / len(self.differences)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% t-interval of the mean difference; None for one seed (no spread to measure)."""
        return t_interval(self.differences)

    @property
    def wins(self) -> int:
        """Seeds where the distilled student made fewer errors than the student alone."""
        return sum(difference > 0 for difference in self.differences)

    @property
    def verdict(self) -> str:
        """The sentence a student reads: is the gain bigger than the seed-to-seed spread?"""
        interval = self.interval
        if interval is None:
            return ONE_SEED
        low, high = interval
        return GAIN_IS_REAL if low > 0 else LOSS_IS_REAL if high < 0 else SEED_MATTERS

    def summary(self) -> dict:
        """JSON-ready: every seed's errors and difference, the mean with its interval, wins and the verdict."""
        interval = self.interval
        return {
            "runs": [
                {
                    "seed": seed,
                    "student_alone_errors": alone,
                    "distilled_errors": distilled,
                    "difference": alone - distilled,
                }
                for seed, alone, distilled in zip(self.seeds, self.alone_errors, self.distilled_errors)
            ],
            "mean_difference": round(self.mean_difference, 2),
            "interval_95": None if interval is None else [round(interval[0], 2), round(interval[1], 2)],
            "wins": f"distilled won in {self.wins} of {len(self.seeds)} seeds",
            "verdict": self.verdict,
        }


def t_interval(values: tuple[float, ...] | list[float]) -> tuple[float, float] | None:
    """mean +- t_{0.975, n-1} * s / sqrt(n) (s the sample standard deviation); None when n < 2."""
    count = len(values)
    if count < 2:
        return None
    mean = sum(values) / count
    spread = math.sqrt(sum((value - mean) ** 2 for value in values) / (count - 1))
    half_width = t_critical_95(count - 1) * spread / math.sqrt(count)
    return mean - half_width, mean + half_width


def t_critical_95(degrees: int) -> float:
    """Student's t at 0.975 with ``degrees`` of freedom (1 or more); between tabulated ones, the
    next smaller one's (a slightly wider interval)."""
    table = T_CRITICAL_95 | T_CRITICAL_95_MORE
    return table[max(known for known in table if known <= degrees)]
