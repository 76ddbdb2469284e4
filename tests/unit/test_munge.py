"""MUNGE for images and the other generated transfer sets: shape, value range, the label-free
contract, the per-pixel rule, seeding and the disk cache."""

import inspect

import pytest
import torch

from kdlab.experiments.munge import cached_transfer_images, munge_images, nearest_neighbours, noise_images


def random_images(count: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 28, 28), generator=generator, dtype=torch.uint8)


def test_munge_keeps_the_image_shape_and_value_range(sample_data):
    images = sample_data.train.images[:300]
    made = munge_images(images, 1_000, seed=1)
    assert made.shape == (1_000, 28, 28) and made.dtype == torch.uint8
    assert not torch.equal(made[:300], images)  # it changed something


def test_munge_clips_wild_draws_instead_of_wrapping_around():
    # Two images that differ by 255 everywhere, and a tiny s: the normal's sd is 255 / 0.01.
    images = torch.stack([torch.zeros(28, 28), torch.full((28, 28), 255.0)]).to(torch.uint8)
    made = munge_images(images, 2, swap_probability=1.0, spread=0.01, seed=0)
    # Nearly every draw is far outside 0..255; clipped, it lands on 0 or 255 (a wrap-around would not).
    at_the_ends = ((made == 0) | (made == 255)).float().mean()
    assert at_the_ends > 0.95 and (made == 0).any() and (made == 255).any()


def test_munge_never_sees_a_label(sample_data):
    assert list(inspect.signature(munge_images).parameters) == ["images", "size", "swap_probability", "spread", "seed"]
    images = sample_data.train.images[:200]
    # The same images give the same set, whatever their labels are: there is nowhere to pass them.
    assert torch.equal(munge_images(images, 400, seed=2), munge_images(images.clone(), 400, seed=2))


def test_nearest_neighbours_match_brute_force_and_are_never_the_image_itself():
    images = random_images(50)
    flat = images.flatten(1).float()
    distances = torch.cdist(flat, flat)
    distances.fill_diagonal_(float("inf"))
    found = nearest_neighbours(images)
    assert torch.equal(distances[torch.arange(50), found], distances.min(1).values)
    assert (found != torch.arange(50)).all()


def test_the_per_pixel_rule_at_its_limits(sample_data):
    images = sample_data.train.images[:100]
    neighbours = nearest_neighbours(images)
    order = torch.arange(250) % 100
    # p = 0: nothing is swapped, so the set walks the images over and over.
    assert torch.equal(munge_images(images, 250, swap_probability=0.0), images[order])
    # p = 1 with a huge s (sd near 0): every pixel takes the neighbour's value.
    assert torch.equal(munge_images(images, 250, swap_probability=1.0, spread=1e9), images[neighbours[order]])


def test_pixels_where_image_and_neighbour_agree_never_change(sample_data):
    images = sample_data.train.images[:300]
    made = munge_images(images, 300, swap_probability=0.5, spread=1.0, seed=3)
    agree = images == images[nearest_neighbours(images)]  # (300, 28, 28): the sd is 0 there
    assert agree.float().mean() > 0.5  # mostly the shared black background
    assert torch.equal(made[agree], images[agree])
    differ = ~agree
    assert (made[differ] != images[differ]).float().mean() > 0.2  # about half are redrawn


def test_munge_is_seeded():
    images = random_images(40)
    assert torch.equal(munge_images(images, 80, seed=5), munge_images(images, 80, seed=5))
    assert not torch.equal(munge_images(images, 80, seed=5), munge_images(images, 80, seed=6))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: munge_images(random_images(5).float(), 10), "uint8 images"),
        (lambda: munge_images(random_images(1), 10), "at least 2 images"),
        (lambda: munge_images(random_images(5), 0), "at least one image"),
        (lambda: munge_images(random_images(5), 10, swap_probability=1.5), "between 0 and 1"),
        (lambda: munge_images(random_images(5), 10, spread=0.0), "spread s must be above 0"),
        (lambda: noise_images(0), "at least one image"),
        (lambda: cached_transfer_images("gan", 10), "Unknown transfer set 'gan'"),
        (lambda: cached_transfer_images("munge", 10), "pass images="),
    ],
)
def test_bad_requests_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_noise_images_cover_the_range_and_are_seeded():
    noise = noise_images(200, seed=1)
    assert noise.shape == (200, 28, 28) and noise.dtype == torch.uint8
    assert int(noise.min()) == 0 and int(noise.max()) == 255
    assert torch.equal(noise, noise_images(200, seed=1)) and not torch.equal(noise, noise_images(200, seed=2))


def test_generated_sets_are_cached_atomically_and_remade_when_damaged(tmp_path):
    images = random_images(30)
    first, cached = cached_transfer_images("munge", 60, images=images, seed=1, cache_dir=tmp_path, spread=2.0)
    assert not cached
    again, cached = cached_transfer_images("munge", 60, images=images, seed=1, cache_dir=tmp_path, spread=2.0)
    assert cached and torch.equal(first, again)
    files = list((tmp_path / "transfer_sets").iterdir())
    assert len(files) == 1 and not list(tmp_path.rglob("*.tmp"))
    # Other images, parameters or seeds are other files.
    cached_transfer_images("munge", 60, images=random_images(30, seed=9), seed=1, cache_dir=tmp_path, spread=2.0)
    cached_transfer_images("munge", 60, images=images, seed=1, cache_dir=tmp_path, spread=3.0)
    assert len(list((tmp_path / "transfer_sets").iterdir())) == 3
    files[0].write_bytes(b"not a tensor")
    remade, cached = cached_transfer_images("munge", 60, images=images, seed=1, cache_dir=tmp_path, spread=2.0)
    assert not cached and torch.equal(remade, first)
