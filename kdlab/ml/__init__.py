"""The model code: data, models, losses, TrainConfig, the one training loop, metrics, events and progress.

The bottom layer: imports nothing else from kdlab."""
