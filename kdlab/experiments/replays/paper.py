"""The papers the replays cite, and the test set Hinton, Vinyals & Dean (2015) report on.

Each replay's module holds what its paper reports (``Replay.paper_numbers``); summaries, the command line
and the page take the paper's numbers from there, never from prose.
"""

from __future__ import annotations

PAPER = "Hinton, Vinyals & Dean (2015), Distilling the Knowledge in a Neural Network, section 3"
BUCILA = "Bucila, Caruana & Niculescu-Mizil (2006), Model compression, KDD"
ZHAO = "Zhao, Cui, Song, Qiu & Liang (2022), Decoupled Knowledge Distillation, CVPR"
REPDISTILLER = (
    "Tian, Krishnan & Isola (2020), Contrastive Representation Distillation, ICLR: the RepDistiller benchmark "
    "(github.com/HobbitLong/RepDistiller, README)"
)
TORCHDISTILL = (
    "Matsubara (2021), torchdistill, RRPR workshop: its ImageNet benchmark "
    "(github.com/yoshitomo-matsubara/torchdistill, docs/source/benchmarks.rst)"
)
PAPER_TEST_SIZE = 10_000
PAPER_TEST_THREES = 1_010
HINTON_LIMIT = "Hinton, Vinyals & Dean (2015), Distilling the Knowledge in a Neural Network, section 2.1"
SUN = "Sun, Ren, Li, Wang & Cao (2024), Logit Standardization in Knowledge Distillation, CVPR"
CTKD = "Li, Li, Yang, Zhao, Song, Luo, Li & Yang (2023), Curriculum Temperature for Knowledge Distillation, AAAI"
JAFARI = "Jafari, Rezagholizadeh, Sharma & Ghodsi (2021), Annealing Knowledge Distillation, EACL"
HUANG = (
    "Huang, You, Wang, Qian & Xu (2022), Knowledge Distillation from A Stronger Teacher (DIST), NeurIPS; with "
    "Cho & Hariharan (2019), On the Efficacy of Knowledge Distillation, ICCV"
)
