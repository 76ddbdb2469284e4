"""Run records: what one lab run produced, the run stores that keep them, and their export.

May import ``kdlab.ml``, ``kdlab.teachers`` and ``kdlab.experiments``."""
