"""The class board pools the runs of one T x alpha cell over their seeds: one result per seed, of the
settings run at the most seeds, with the 95% t-interval and the number of seeds (records built here)."""

import math

import pytest

from kdlab.classroom.board import ClassRun, heat_cells, mean_by_temperature, seed_pool, trainings
from kdlab.experiments.seeds import t_critical_95, t_interval
from kdlab.plots import board as board_plots


def run(seed, alone, distilled, *, student_id=1, temperature=4.0, alpha=0.9, epochs=40, source="trained", **more):
    return ClassRun(
        nickname=f"Student {student_id}",
        student_id=student_id,
        created_at=float(seed),
        status="completed",
        source=source,
        teacher="cnn-wide",
        student="mlp-200x1",
        temperature=temperature,
        alpha=alpha,
        epochs=epochs,
        train_images=5000,
        seed=seed,
        baseline_errors=alone,
        distilled_errors=distilled,
        test_size=10_000,
        learning_rate=more.get("learning_rate", 0.001),
        batch_size=128,
    )


def test_students_at_different_seeds_build_one_interval_and_copies_of_a_seed_count_once():
    runs = [
        run(0, 586, 393, student_id=1),  # removed 193
        run(0, 586, 393, student_id=2, source="cache"),  # the same run, copied: still seed 0 once
        run(1, 596, 429, student_id=3),  # 167
        run(2, 569, 395, student_id=3),  # 174
    ]
    pool = seed_pool(runs)
    assert pool.seeds == 3 and pool.mean == pytest.approx((193 + 167 + 174) / 3)
    assert pool.interval == pytest.approx(t_interval([193, 167, 174]))
    assert pool.text().endswith(", 3 seeds") and pool.text().startswith("+178.0 [")
    assert seed_pool([run(5, 100, 90)]).interval is None and seed_pool([run(5, 100, 90)]).text() == "+10.0, 1 seed"
    assert seed_pool([]) is None


def test_other_settings_are_not_pooled_with_them_and_the_cell_shows_the_seeds():
    cell = [run(0, 600, 400), run(1, 600, 410), run(2, 600, 420)]  # removed 200, 190, 180
    other = [run(7, 600, 300, epochs=10), run(8, 600, 350, learning_rate=0.01)]  # other settings, same cell
    elsewhere = [run(0, 500, 520, temperature=8.0), run(1, 500, 510, temperature=8.0)]  # -20, -10 at T = 8
    cells = heat_cells(cell + other + elsewhere)
    assert (cells.temperatures, cells.alphas, cells.counts) == ([4.0, 8.0], [0.9], [[5, 2]])
    at_4, at_8 = cells.pools[0]
    assert at_4.seeds == 3 and at_4.mean == 190.0 and at_4.interval == pytest.approx(t_interval([200, 190, 180]))
    low, high = at_8.interval  # -15 +- 12.706 * 7.07 / sqrt(2): the seed matters as much as the teacher
    assert at_8.seeds == 2 and low < 0 < high and high == pytest.approx(-15 + 12.706 * math.sqrt(50) / math.sqrt(2))
    text = board_plots.improvement_heatmap(cells).data[0].text
    assert (
        text[0][0] == f"+{cells.means[0][0]:.0f}<br>n=5<br>3 seeds: [+{at_4.interval[0]:.0f}, +{at_4.interval[1]:.0f}]"
    )


def test_the_t_table_serves_a_whole_class():
    assert t_critical_95(4) == 2.776 and t_critical_95(29) == 2.045
    assert t_critical_95(35) == 2.042 and t_critical_95(500) == 1.980  # between rows: the wider one
    assert t_interval(list(range(40))) is not None


def test_copies_of_one_training_weigh_once_in_the_heat_map_and_the_curve():
    lesson_link = [run(0, 600, 400, student_id=n, source="cache" if n else "trained") for n in range(30)]  # +200
    own_seed = [run(1, 600, 500, student_id=31)]  # +100, a training of its own
    cells = heat_cells(lesson_link + own_seed)
    assert cells.counts == [[2]] and cells.means == [[150.0]]  # not 30 copies of +200 against one +100
    assert mean_by_temperature(lesson_link + own_seed) == [(4.0, 150.0, 2)]
    assert len(trainings(lesson_link + own_seed)) == 2 and trainings(lesson_link)[0][0].source == "trained"
    other_alpha = run(0, 600, 450, student_id=32, alpha=0.5)  # same seed, another alpha: another training
    assert len(trainings(lesson_link + [other_alpha])) == 2
