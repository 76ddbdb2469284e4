"""The model zoo: names, shapes, sizes and seeded construction."""

import pytest
import torch

from kdlab.ml.models import ARCHITECTURES, build_model, canonical_architecture, describe_model, get_architecture


@pytest.mark.parametrize("name", list(ARCHITECTURES) + ["mlp-10x1", "mlp-300x2", "mlp-1200x3"])
def test_every_architecture_maps_images_to_ten_logits(name):
    model = build_model(name, seed=0).eval()
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)


def test_known_sizes():
    assert describe_model("linear").parameters == 784 * 10 + 10
    assert describe_model("linear").flops_per_image == 2 * 784 * 10
    hinton = describe_model("mlp-1200x2")
    assert hinton.parameters == 784 * 1200 + 1200 + 1200 * 1200 + 1200 + 1200 * 10 + 10
    assert describe_model("mlp-800x2").flops_per_image == 2 * (784 * 800 + 800 * 800 + 800 * 10)
    assert describe_model("lenet5").parameters == 61706
    assert describe_model("cnn").flops_per_image > describe_model("lenet5").flops_per_image


def test_unknown_or_out_of_range_names_list_the_valid_ones():
    with pytest.raises(ValueError, match="Valid names: cnn, cnn-wide, lenet5"):
        get_architecture("resnet50")
    with pytest.raises(ValueError, match="width must be 10..1200"):
        get_architecture("mlp-5000x2")
    with pytest.raises(ValueError, match="depth 1..3"):
        get_architecture("mlp-100x4")


def test_seeded_build_is_reproducible_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    expected_next = torch.rand(1)
    torch.manual_seed(123)
    first = build_model("mlp-50x2", seed=7)
    assert torch.equal(torch.rand(1), expected_next)
    second = build_model("mlp-50x2", seed=7)
    third = build_model("mlp-50x2", seed=8)
    for a, b in zip(first.parameters(), second.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, c) for a, c in zip(first.parameters(), third.parameters()))


def test_hinton_teacher_has_dropout_and_students_do_not():
    teacher = build_model("mlp-1200x2").train()
    x = torch.randn(2, 1, 28, 28)
    assert not torch.equal(teacher(x), teacher(x))  # dropout active in training mode
    student = build_model("mlp-800x2").train()
    assert torch.equal(student(x), student(x))


@pytest.mark.parametrize(
    ("name", "canonical"), [("mlp-0100x1", "mlp-100x1"), (" mlp-00100x01 ", "mlp-100x1"), ("cnn", "cnn")]
)
def test_spellings_of_one_model_share_its_canonical_name(name, canonical):
    assert canonical_architecture(name) == canonical
    assert describe_model(name).name == canonical  # one name, so one cache entry


@pytest.mark.parametrize(
    "name", ["mlp-\u0661\u0660\u0660x1", "mlp-100x\u0661", "mlp-\uff11\uff10x1", "mlp-" + "0" * 60 + "10x1"]
)
def test_other_scripts_digits_and_overlong_names_are_refused(name):
    with pytest.raises(ValueError, match="Unknown architecture|at most 40"):
        get_architecture(name)
