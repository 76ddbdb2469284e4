"""The model code: data, models, losses, TrainConfig, the one training loop, metrics, events and progress.

The lowest package: imports only ``kdlab.settings`` (the environment's settings) from kdlab."""
