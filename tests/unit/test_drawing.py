"""A drawn digit becomes an MNIST digit: 20 x 20 box, centred by mass, grey edges, uint8."""

import json
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from kdlab.ml.drawing import IMAGE_SIZE, CanvasError, canvas_from_png, digit_from_canvas, max_png_bytes
from tests.conftest import PROJECT_ROOT
from tests.unit.png_bombs import canvas_png, chunk, png

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


# The server's own decoding path, in a fresh process so that its peak memory is its own: the component's
# value is a forged message's bomb, read through kdlab.ui.drawing as a page reads it.
MEMORY_PROBE = """
import json, resource, sys, types
import numpy as np
from kdlab.ml.drawing import digit_from_canvas
from kdlab.ui import drawing
from tests.unit.png_bombs import CanvasValue, bomb, canvas_png, data_url

def read(url):
    sys.modules["streamlit_drawable_canvas"] = types.SimpleNamespace(st_canvas=lambda **kwargs: CanvasValue(url))
    pixels = drawing.canvas_pixels("probe")
    return pixels, None if pixels is None else digit_from_canvas(pixels)

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

canvas = np.zeros((drawing.CANVAS_SIZE, drawing.CANVAS_SIZE, 4), np.uint8)
canvas[..., 3], canvas[40:240, 130:150, :3] = 255, 255
_, real = read(data_url(canvas_png(canvas)))  # a real drawing first: every import and buffer is warm
forged = data_url(bomb())
before = peak_mb()
pixels, _ = read(forged)
print(json.dumps({"real": real is not None, "refused": pixels is None, "grew_mb": round(peak_mb() - before, 1)}))
"""


def test_a_decompression_bomb_is_refused_before_it_is_decoded():
    """A 12 kB PNG that says 10,000 x 10,000 pixels: the server refuses it and its peak memory grows by less
    than 5 MB (it grew by about 1 GB when the component's image_data decoded it)."""
    probe = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    outcome = json.loads(probe.stdout.strip().splitlines()[-1])
    assert outcome["real"] and outcome["refused"]
    assert outcome["grew_mb"] < 5, outcome


def test_a_canvas_png_comes_back_as_its_pixels():
    canvas = np.zeros((CANVAS, CANVAS, 4), np.uint8)
    canvas[..., 3], canvas[30:230, 40:60, :3] = 255, 255
    assert np.array_equal(canvas_from_png(canvas_png(canvas), (CANVAS, CANVAS)), canvas)


@pytest.mark.parametrize(
    "data, words",
    [
        (png(CANVAS, CANVAS + 1), "280 x 281 pixels, not the 280 x 280 canvas"),
        (png(10_000, 10_000, bit_depth=1, colour_type=0), "10,000 x 10,000 pixels"),
        (png(CANVAS, CANVAS, extra=chunk(b"zTXt", b"note\0\0" + zlib.compress(b"x" * 10**6))), "not a PNG image"),
        (b"GIF89a" + b"\0" * 100, "not a PNG image"),
        (png(CANVAS, CANVAS)[:60], "not a PNG image"),  # cut off inside a chunk
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (max_png_bytes((CANVAS, CANVAS)) + 1), "larger than a 280 x 280 canvas"),
    ],
)
def test_a_png_that_is_not_this_canvas_is_refused_with_a_message(data, words):
    with pytest.raises(CanvasError, match="draw again") as refusal:
        canvas_from_png(data, (CANVAS, CANVAS))
    assert words in str(refusal.value)


def test_a_corrupt_png_of_the_right_size_is_refused():
    data = bytearray(png(CANVAS, CANVAS))
    data[-20:-12] = b"garbage!"  # inside the pixel data
    with pytest.raises(CanvasError, match="could not be read"):
        canvas_from_png(bytes(data), (CANVAS, CANVAS))


@pytest.mark.parametrize(
    "canvas",
    [np.zeros((2000, 2000), np.uint8), np.zeros((28, 28), np.float64), np.zeros((28, 28, 2), np.uint8)],
)
def test_a_canvas_of_another_shape_type_or_too_big_is_refused_before_floats_are_made(canvas):
    with pytest.raises(ValueError, match="canvas"):
        digit_from_canvas(canvas)
