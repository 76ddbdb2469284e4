"""The model code: data, models, losses, TrainConfig, the one training loop and stacked training through it,
metrics, events, the run context and progress.

The lowest package: imports only ``kdlab.settings`` (the environment's settings) and ``kdlab.i18n`` (marking
messages for translation) from kdlab."""
