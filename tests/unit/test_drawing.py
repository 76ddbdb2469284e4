"""A drawn digit becomes an MNIST digit: 20 x 20 box, centred by mass, grey edges, uint8."""

import numpy as np
import torch
import torch.nn.functional as F

from kdlab.ml.drawing import IMAGE_SIZE, digit_from_canvas

CANVAS = 280  # the lab's canvas: ten screen pixels per MNIST pixel


def test_a_vertical_bar_becomes_a_centred_one_of_mnist_size():
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[..., 3] = 255  # an opaque black background
    canvas[30:230, 40:60, :3] = 255  # a white bar, off centre, 200 x 20 screen pixels
    digit = digit_from_canvas(canvas)
    assert digit.dtype == torch.uint8 and digit.shape == (IMAGE_SIZE, IMAGE_SIZE)
    rows, columns = np.nonzero(digit.numpy())
    assert rows.max() - rows.min() + 1 == 20  # the long side fills MNIST's 20-pixel box
    assert columns.max() - columns.min() + 1 <= 3  # the aspect kept: 10:1
    mass = digit.double()
    centre = [float((mass.sum(axis) * torch.arange(IMAGE_SIZE)).sum() / mass.sum()) for axis in (1, 0)]
    assert all(abs(value - 14) <= 0.5 for value in centre)  # where MNIST puts the centre of mass
    assert digit.max() == 255


def test_empty_and_nearly_empty_canvases_give_none():
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    assert digit_from_canvas(canvas) is None
    canvas[100:102, 100:102] = 255  # a speck
    assert digit_from_canvas(canvas) is None


def test_test_digits_drawn_large_come_back_close(sample_data, linear_teacher):
    images = sample_data.test.images[:100]
    drawn = F.interpolate(images.float()[:, None], size=(CANVAS, CANVAS), mode="bilinear")[:, 0]  # (100, 280, 280)
    back = torch.stack([digit_from_canvas(image.round().clamp(0, 255).to(torch.uint8).numpy()) for image in drawn])
    differences = (back.float() - images.float()).abs().mean(dim=(1, 2))  # per image, of 255
    one_pixel_shift = (torch.roll(images.float(), 1, dims=2) - images.float()).abs().mean()
    assert differences.mean() < 0.75 * one_pixel_shift  # measured: 12.2 against a shift of 21.1
    same = (linear_teacher.predict(back).argmax(1) == linear_teacher.predict(images).argmax(1)).float().mean()
    assert same >= 0.9
