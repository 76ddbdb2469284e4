"""Data sources, the offline sample, transfer sets and normalisation."""

import shutil

import pytest
import torch

from kdlab.ml.data import DataError, TransferSetSpec, load_mnist, normalize, select_transfer_indices, stratified_split


def test_offline_sample_is_real_stratified_mnist(sample_data):
    source = sample_data.source
    assert source.name == "mnist-sample" and not source.is_full
    assert (len(sample_data.train), len(sample_data.test)) == (4000, 1000)
    assert sample_data.train.class_counts() == [400] * 10
    assert sample_data.test.class_counts() == [100] * 10
    assert sample_data.train.images.dtype == torch.uint8 and sample_data.train.images.shape[1:] == (28, 28)
    # Real digits: dark background, bright strokes, and each image has ink.
    assert sample_data.train.images.float().mean() < 60
    assert (sample_data.train.images.flatten(1).max(dim=1).values > 200).all()
    assert "Offline MNIST sample" in source.label and "4,000 train" in source.label
    assert "KDLAB_DATA_DIR" in source.note  # tells the user how to get the full set


def test_sample_split_is_deterministic_and_disjoint():
    labels = torch.arange(100) % 10
    first, second = stratified_split(labels, 0.2, seed=0), stratified_split(labels, 0.2, seed=0)
    assert torch.equal(first[0], second[0]) and torch.equal(first[1], second[1])
    assert len(set(first[0].tolist()) & set(first[1].tolist())) == 0
    assert torch.bincount(labels[first[1]], minlength=10).tolist() == [2] * 10


def test_explicit_missing_folder_is_an_error_not_a_fallback(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_mnist(tmp_path / "nowhere")
    (tmp_path / "MNIST" / "raw").mkdir(parents=True)
    with pytest.raises(DataError, match="lacks"):
        load_mnist(tmp_path)


def test_env_folder_counts_as_explicit(tmp_path, monkeypatch):
    monkeypatch.setenv("KDLAB_DATA_DIR", str(tmp_path / "missing"))
    with pytest.raises(DataError):
        load_mnist()


def test_corrupt_folder_is_reported(tmp_path, full_data):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    source_raw = __import__("pathlib").Path(full_data.source.location) / "MNIST" / "raw"
    for name in ("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        shutil.copy(source_raw / name, raw / name)
    (raw / "train-images-idx3-ubyte").write_bytes((source_raw / "train-images-idx3-ubyte").read_bytes()[:5000])
    with pytest.raises(DataError, match="corrupt|truncated|images"):
        load_mnist(tmp_path)


def test_corrupt_cache_falls_back_to_the_sample_with_a_note(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        (raw / name).write_bytes(b"garbage")
    data = load_mnist(cache_dir=tmp_path, offline=True)
    assert data.source.name == "mnist-sample"
    assert "unusable" in data.source.note


def test_full_mnist_from_shared_folder(full_data):
    assert full_data.source.is_full and (len(full_data.train), len(full_data.test)) == (60000, 10000)
    assert full_data.test.class_counts()[3] == 1010  # the paper's 1,010 test 3s
    assert full_data.source.label == "Full MNIST: 60,000 train / 10,000 test images"


def test_data_is_loaded_once_per_process(sample_data):
    assert load_mnist(offline=True) is sample_data


def test_normalize_shapes_and_statistics(full_data):
    batch = normalize(full_data.train.images[:5000])
    assert batch.shape == (5000, 1, 28, 28) and batch.dtype == torch.float32
    assert batch.mean().item() == pytest.approx(0.0, abs=0.05)
    assert batch.std().item() == pytest.approx(1.0, abs=0.05)


def test_transfer_set_filters_and_size(sample_data):
    labels = sample_data.train.labels
    no_threes = select_transfer_indices(labels, TransferSetSpec(omit_classes=(3,)))
    assert len(no_threes) == 3600 and not (labels[no_threes] == 3).any()
    sevens_eights = select_transfer_indices(labels, TransferSetSpec(only_classes=(8, 7)))
    assert set(labels[sevens_eights].tolist()) == {7, 8} and len(sevens_eights) == 800
    subset = select_transfer_indices(labels, TransferSetSpec(size=250, omit_classes=(3,), seed=5))
    assert len(subset) == 250 and not (labels[subset] == 3).any()
    assert torch.equal(subset, select_transfer_indices(labels, TransferSetSpec(size=250, omit_classes=(3,), seed=5)))
    assert not torch.equal(
        subset, select_transfer_indices(labels, TransferSetSpec(size=250, omit_classes=(3,), seed=6))
    )


@pytest.mark.parametrize(
    "spec_kwargs,message",
    [
        (dict(omit_classes=tuple(range(10))), "empty"),
        (dict(omit_classes=(3,), only_classes=(7,)), "either"),
        (dict(only_classes=(11,)), "not a class"),
        (dict(size=0), "at least 1"),
    ],
)
def test_bad_transfer_specs_explain_themselves(spec_kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransferSetSpec(**spec_kwargs)


def test_transfer_set_larger_than_available_is_an_error(sample_data):
    with pytest.raises(ValueError, match="only 400"):
        select_transfer_indices(sample_data.train.labels, TransferSetSpec(size=1000, only_classes=(4,)))
