"""Experiments built on the training loop: the lab's distillation, the paper replays, the training schemes, MUNGE.

May import ``kdlab.ml`` and ``kdlab.teachers``."""
