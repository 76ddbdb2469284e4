"""The paired seed statistics: the t table, the interval by hand, wins and the verdict."""

import math

import pytest

from kdlab.experiments.seeds import (
    GAIN_IS_REAL,
    LOSS_IS_REAL,
    ONE_SEED,
    SEED_MATTERS,
    T_CRITICAL_95,
    PairedSeeds,
    t_interval,
)


def test_t_critical_values_are_the_two_sided_95_percent_table():
    # Student's t, 0.975 quantile, from any statistics table.
    assert T_CRITICAL_95 == {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776}


def test_interval_by_hand_on_made_up_differences():
    # 10, 20, 30: mean 20, s = sqrt((100 + 0 + 100) / 2) = 10, s / sqrt(3) = 5.7735, t(2) = 4.303.
    low, high = t_interval([10, 20, 30])
    assert low == pytest.approx(20 - 4.303 * 10 / math.sqrt(3))
    assert (round(low, 2), round(high, 2)) == (-4.84, 44.84)
    # 30, 32, 34, 36: mean 33, s = sqrt(20 / 3) = 2.582, s / 2 = 1.291, t(3) = 3.182.
    low, high = t_interval([30, 32, 34, 36])
    assert (round(low, 2), round(high, 2)) == (28.89, 37.11)
    assert t_interval([7]) is None


def test_differences_wins_and_verdicts():
    clear = PairedSeeds((0, 1, 2, 3), alone_errors=(130, 132, 134, 136), distilled_errors=(100, 100, 100, 100))
    assert clear.differences == (30, 32, 34, 36) and clear.wins == 4 and clear.verdict == GAIN_IS_REAL
    noisy = PairedSeeds((5, 6, 7), alone_errors=(110, 100, 130), distilled_errors=(100, 80, 100))
    assert noisy.mean_difference == 20 and noisy.verdict == SEED_MATTERS
    worse = PairedSeeds((0, 1, 2), alone_errors=(100, 100, 100), distilled_errors=(120, 121, 119))
    assert worse.wins == 0 and worse.verdict == LOSS_IS_REAL
    single = PairedSeeds((0,), alone_errors=(100,), distilled_errors=(90,))
    assert single.interval is None and single.verdict == ONE_SEED
    summary = noisy.summary()
    assert summary["runs"][1] == {"seed": 6, "student_alone_errors": 100, "distilled_errors": 80, "difference": 20}
    assert summary["interval_95"] == [-4.84, 44.84] and summary["wins"] == "distilled won in 3 of 3 seeds"


def test_seed_counts_outside_the_table_are_refused():
    with pytest.raises(ValueError, match="1 to 5 seeds"):
        PairedSeeds(tuple(range(6)), (1,) * 6, (1,) * 6)
    with pytest.raises(ValueError, match="one error count"):
        PairedSeeds((0, 1), (1, 2), (1,))
