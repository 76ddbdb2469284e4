"""The words and lines of the soft term's two parts: the lab's sentence on the weight classical KD gives
the wrong digits, the explorer's two parts of a digit's soft target, the loss anatomy's lines."""

import torch

from kdlab.ml.methods.registry import METHODS
from kdlab.ml.metrics import softened_probabilities
from kdlab.plots import lab as plots
from kdlab.ui.explorer import order_text, soft_parts_text
from kdlab.ui.lab_split import non_target_text


def test_the_lab_says_how_much_the_wrong_digits_weigh():
    sure = non_target_text(0.004, 4.0, 5000, "kd", {})
    assert "**0.004: the weight classical KD gives the wrong digits' ranking (NCKD)**" in sure
    assert "The teacher is sure" in sure and "5,000 transfer" in sure
    assert "a real share" in non_target_text(0.189, 8.0, 5000, "kd", {})
    assert "DKD weights it by beta = 4 instead" in non_target_text(0.2, 4.0, 500, "dkd", {"beta": 4.0})
    assert "beta = 8 instead" in non_target_text(0.2, 4.0, 500, "dkd", {"beta": None})  # unset: the default
    assert "NCKD only, keeps that part alone" in non_target_text(0.2, 4.0, 500, "nckd", {})
    assert "TCKD only, leaves that part out" in non_target_text(0.2, 4.0, 500, "tckd", {})


def test_the_explorer_splits_a_digits_soft_target_in_its_two_parts():
    logits = torch.tensor([0.0, 1, 2, 9, 0, 4, 0, 0, 3, 0])
    softened = torch.softmax(logits / 4, 0)
    text = soft_parts_text(softened, 3, 4.0)
    right = float(softened[3])
    assert f"the right digit (3) against the rest, what TCKD matches: {right:.1%}" in text
    # the wrong digits renormalised: 5's share among them is p_5 / (1 - p_3)
    assert (
        f"5: {float(softened[5]) / (1 - right):.1%}" in text and f"weights this second part by {1 - right:.3g}" in text
    )
    assert "its answer (3)" in soft_parts_text(softened, None, 4.0)


def point(epoch, tckd, nckd):
    return {"epoch": epoch, "soft_loss": tckd + nckd, "hard_loss": 0.1, "loss": 1.0, "tckd": tckd, "nckd": nckd}


def test_the_loss_anatomy_draws_the_parts_the_runs_method_declares_where_the_points_have_them():
    names = lambda figure: [trace.name for trace in figure.data]  # noqa: E731
    points = {"distilled": [point(1, 0.3, 0.02), point(2, 0.2, 0.01)]}
    split = plots.loss_anatomy(points)  # classical KD
    kd_names = [name for _, name in METHODS["kd"].anatomy]
    assert names(split)[-2:] == kd_names and "weighted by 1 - p(right digit)" in kd_names[1]
    assert list(split.data[-1].y) == [0.02, 0.01]
    assert "weighted by beta" in names(plots.loss_anatomy(points, "dkd"))[-1]
    only_nckd = plots.loss_anatomy({"distilled": [point(1, 0.0, 0.5)]}, "nckd")  # a part the method leaves out
    assert names(only_nckd)[-1] == METHODS["nckd"].anatomy[0][1] and not set(kd_names) & set(names(only_nckd))
    older = {"distilled": [{"epoch": 1, "soft_loss": 0.3, "hard_loss": 0.1, "loss": 0.4}]}  # points without parts
    assert len(plots.loss_anatomy(older).data) == 2  # soft and hard terms only


def test_the_explorer_says_the_order_holds_for_one_network_and_names_an_ensembles_reordering():
    members = torch.tensor([[10.0, 8.0, 5.0] + [0.0] * 7, [10.0, -20.0, 5.0] + [0.0] * 7])
    plain, hot = (softened_probabilities(members, temperature).mean(0) for temperature in (1.0, 20.0))
    assert "never changes their order" in order_text(plain, hot, 20.0, is_ensemble=False)
    assert "ranks **2** above **1**" in order_text(plain, hot, 20.0, is_ensemble=True)
    one = softened_probabilities(members[0], 1.0)
    assert "same as at T = 1 here" in order_text(one, softened_probabilities(members[0], 4.0), 4.0, is_ensemble=True)
