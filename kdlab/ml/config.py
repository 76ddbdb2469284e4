"""Training hyper-parameters, and how experiment configs hold them.

``TrainConfig`` is what one training run needs (the loop in ``kdlab.ml.train`` takes it); every
experiment config (``DistillConfig``, ``SchemeConfig``, the replay configs) holds one as its
``training`` field instead of re-declaring temperature, alpha, epochs and the rest, and gets
``build`` and ``as_dict`` from ``HoldsTraining``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

EVALUATION_POINTS_PER_RUN = 40


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run. Validates itself on creation.

    ``temperature`` and ``alpha`` only matter when the run is given teacher logits;
    ``alpha`` weights the soft (teacher) term of the loss, see ``losses.kd_loss``.
    """

    epochs: int = 5
    learning_rate: float = 1e-3
    batch_size: int = 128
    seed: int = 0
    temperature: float = 4.0
    alpha: float = 0.9
    jitter_pixels: int = 0
    evals_per_epoch: int | None = None  # None: about 40 points over the run, 1 to 10 per epoch
    # Curve points are measured on this many test images (a fixed stratified subset, the same
    # for every run); the final numbers always use the whole test set. None: the whole set.
    curve_test_images: int | None = None

    def __post_init__(self) -> None:
        checks = [
            (
                isinstance(self.epochs, int) and 1 <= self.epochs <= 500,
                f"Epochs must be a whole number from 1 to 500 (got {self.epochs}).",
            ),
            (
                math.isfinite(self.learning_rate) and 0 < self.learning_rate <= 1,
                f"Learning rate must be above 0 and at most 1 (got {self.learning_rate}); 0.001 is a good start.",
            ),
            (
                isinstance(self.batch_size, int) and 1 <= self.batch_size <= 60_000,
                f"Batch size must be a whole number from 1 to 60,000 (got {self.batch_size}).",
            ),
            (
                isinstance(self.seed, int) and 0 <= self.seed < 2**31,
                f"Seed must be a whole number from 0 to 2,147,483,647 (got {self.seed}).",
            ),
            (
                math.isfinite(self.temperature) and self.temperature > 0,
                f"Temperature T must be above 0 (got {self.temperature}); T = 1 is the plain softmax.",
            ),
            (
                0.0 <= self.alpha <= 1.0,
                f"alpha must be between 0 and 1 (got {self.alpha}): it is the weight of the soft-target term.",
            ),
            (
                isinstance(self.jitter_pixels, int) and 0 <= self.jitter_pixels <= 4,
                f"Jitter must be 0 to 4 pixels (got {self.jitter_pixels}).",
            ),
            (
                self.evals_per_epoch is None
                or (isinstance(self.evals_per_epoch, int) and 1 <= self.evals_per_epoch <= 50),
                f"Evaluations per epoch must be 1 to 50 (got {self.evals_per_epoch}).",
            ),
            (
                self.curve_test_images is None
                or (isinstance(self.curve_test_images, int) and 100 <= self.curve_test_images),
                f"The curves need at least 100 test images (got {self.curve_test_images}).",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def evaluations_per_epoch(self) -> int:
        """Test evaluations per epoch: enough points for a smooth curve, few enough to stay cheap."""
        if self.evals_per_epoch is not None:
            return self.evals_per_epoch
        return max(1, min(10, math.ceil(EVALUATION_POINTS_PER_RUN / self.epochs)))


class HoldsTraining:
    """For experiment configs that hold their training hyper-parameters as ``training: TrainConfig``.

    ``build(**settings)`` takes the flat settings a command line, a page or a link gives
    (``temperature=8, epochs=2, teacher="cnn"``), sends the ``TrainConfig`` ones into
    ``training`` (over the class's default) and the rest to the config itself; ``as_dict()``
    flattens it back, without the training fields listed in ``HIDDEN_TRAINING_FIELDS``.
    """

    HIDDEN_TRAINING_FIELDS: tuple[str, ...] = ("jitter_pixels",)

    @classmethod
    def build(cls, **settings):
        names = {item.name for item in fields(TrainConfig)}
        training = {name: settings.pop(name) for name in list(settings) if name in names}
        default = next(item.default for item in fields(cls) if item.name == "training")
        return cls(training=replace(settings.pop("training", default), **training), **settings)

    def as_dict(self) -> dict:
        values = {item.name: getattr(self, item.name) for item in fields(self) if item.name != "training"}
        training = {
            name: value for name, value in asdict(self.training).items() if name not in self.HIDDEN_TRAINING_FIELDS
        }
        return {name: list(value) if isinstance(value, tuple) else value for name, value in (values | training).items()}
