"""kdlab: an interactive knowledge-distillation lab on real MNIST.

A plain PyTorch library (data, models, losses, training, metrics, plots, runs,
jobs, command line). Importing it never imports Streamlit: the Streamlit layer
lives in ``app.py``, ``pages/`` and ``kdlab/ui/``.
"""

__version__ = "0.1.0"
