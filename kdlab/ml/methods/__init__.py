"""The distillation methods: what a student learns from its teacher's outputs, one module each (``kd``,
``tckd``, ``nckd``, ``dkd``), registered in ``registry``.

A method (``method.Method``) declares its name, the label and one-line summary a student reads, its formula,
its own settings beyond T and alpha (``method.MethodSetting``: label, the lab's values, default, range, help),
its objective, the loss anatomy's parts and the lab's sentence on the wrong digits. The lab's soft-loss control
and each method setting's control, link parameter and lock, the command line's ``--soft`` and its options,
``DistillConfig``'s checks, the loss anatomy, the board's columns and the baseline key all derive from
``registry.METHODS``. Adding a method is a module here, a line in ``registry``, a test and the docs
(CONTRIBUTING.md, "How to add a distillation method").
"""
