"""Teachers trained once and cached (on disk and in memory), and ensembles of them.

May import ``kdlab.ml`` only."""
