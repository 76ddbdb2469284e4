"""Take it home: a run, or a lesson, as a Jupyter notebook that reproduces it with the kdlab API.

Each notebook loads the same data (it checks the source and says so when it differs), builds
the same ``DistillConfig`` (same settings and seed, so the same initial weights and batches),
writes the distillation loss out once in plain PyTorch and checks it against
``kdlab.ml.losses.kd_loss`` on a real batch, then runs ``kdlab.experiments.distill.run_distillation`` and
compares the test errors with the ones recorded on the server. Written with ``nbformat``
(version 4); every cell is plain Python a student can read. The prose (Markdown cells and the code's comments)
is in the language asked for, the page's by default; the code and what it prints stay as they are.

Every value a code cell carries is written with ``repr`` (``_python``), never pasted into the code: a
lesson's labels and values come from a file anyone with write access to ``lessons/`` can change, and
whoever runs the notebook runs its code.
"""

from __future__ import annotations

import pprint
from collections.abc import Mapping

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from kdlab.classroom.lab_settings import config_fields
from kdlab.classroom.lessons import Lesson
from kdlab.classroom.links import parse_explorer_link, parse_lab_link, parse_replay_link
from kdlab.i18n import N_, _, number, speaking

SAMPLE_SOURCE = "mnist-sample"  # kdlab.ml.data's name for the offline 5,000-digit sample
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

LOSS_BY_HAND = '''\
import torch
import torch.nn.functional as F


def kd_loss_by_hand(student_logits, teacher_logits, labels, temperature, alpha):
    """Hinton, Vinyals & Dean (2015): alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE(student, labels)."""
    soft_teacher = F.softmax(teacher_logits / temperature, dim=1)  # {soft_targets}
    log_soft_student = F.log_softmax(student_logits / temperature, dim=1)
    soft = F.kl_div(log_soft_student, soft_teacher, reduction="batchmean") * temperature**2  # {squared}
    hard = F.cross_entropy(student_logits, labels)  # {hard}
    return alpha * soft + (1 - alpha) * hard'''

DATA_CELL = """\
from kdlab.ml.data import load_mnist

data = load_mnist({arguments})
print(data.source.label)
if data.source.name != {source}:
    print("Note: the run used", {source}, "; this machine has", repr(data.source.name), "so the numbers will differ.")"""


ONNX_CELL = """import time

import onnxruntime
from kdlab.ml.data import normalize
from kdlab.ml.export import onnx_bytes

student = result.student.model.eval()
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = 1
session = onnxruntime.InferenceSession(onnx_bytes(student), options, providers=["CPUExecutionProvider"])
images = data.test.images[:8]
pixels = (images.float() / 255).unsqueeze(1).numpy()  # (8, 1, 28, 28) in [0, 1]
answers = session.run(None, {session.get_inputs()[0].name: pixels})[0].argmax(axis=1)
with torch.inference_mode():
    torch_answers = student(normalize(images)).argmax(dim=1)
print("ONNX answers:", answers.tolist(), " labels:", data.test.labels[:8].tolist())
print("ONNX gives PyTorch's answers:", answers.tolist() == torch_answers.tolist())


def per_image_ms(run, repeats=50):
    run()  # warm up
    started = time.perf_counter()
    for _ in range(repeats):
        run()
    return (time.perf_counter() - started) / repeats * 1000


one = pixels[:1]
threads = torch.get_num_threads()
torch.set_num_threads(1)
with torch.inference_mode():
    torch_ms = per_image_ms(lambda: student(normalize(images[:1])))
torch.set_num_threads(threads)
onnx_ms = per_image_ms(lambda: session.run(None, {session.get_inputs()[0].name: one}))
print(f"one image: PyTorch {torch_ms:.3f} ms, onnxruntime {onnx_ms:.3f} ms (one thread)")"""


# The code's comments, translated where a notebook is made (``_comment``).
LOSS_COMMENTS = {
    "soft_targets": N_("the teacher's soft targets at T"),
    "squared": N_("T^2 keeps gradients comparable"),
    "hard": N_("the usual loss on the true labels"),
}


def _comment(message: str) -> str:
    """``message`` translated, on one line: it ends a line of code after ``#``."""
    return " ".join(_(message).split())


def _python(value: object) -> str:
    return pprint.pformat(value, sort_dicts=False, width=100)


LOSS_FORMULA = (
    "$\\mathcal{L} = \\alpha\\,T^2\\,\\mathrm{KL}(\\mathrm{softmax}(z_t/T)\\,\\|\\,\\mathrm{softmax}(z_s/T)) + "
    "(1-\\alpha)\\,\\mathrm{CE}(z_s, y)$"
)


def _data_cell(source: str) -> str:
    # The sample is what kdlab falls back to offline; full MNIST comes from KDLAB_DATA_DIR or the cache.
    return DATA_CELL.format(arguments="offline=True" if source == SAMPLE_SOURCE else "", source=_python(source))


def _notebook(cells: list) -> nbformat.NotebookNode:
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = KERNEL
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _loss_cells(settings_name: str) -> list:
    return [
        new_markdown_cell(
            "## "
            + _("The loss, written out once")
            + "\n\n"
            + _(
                "{formula}. Here it is in plain PyTorch, checked against the library's `kdlab.ml.losses.kd_loss` on "
                "a real batch: the teacher's outputs for 64 training images and a fresh student."
            ).format(formula=LOSS_FORMULA)
        ),
        new_code_cell(LOSS_BY_HAND.format(**{name: _comment(text) for name, text in LOSS_COMMENTS.items()})),
        new_code_cell(
            "from kdlab.ml.data import normalize\n"
            "from kdlab.ml.losses import kd_loss\n"
            "from kdlab.ml.models import build_model\n"
            "from kdlab.teachers.cache import resolve_teacher\n\n"
            f"config = DistillConfig.build(**{settings_name})\n"
            "teacher = resolve_teacher(config.teacher, data, epochs=config.teacher_epochs, "
            "seed=config.teacher_seed)\n"
            "batch = config.transfer_indices(data)[:64]  # "
            + _comment(N_("64 of the student's training images"))
            + "\n"
            "images, labels = data.train.images[batch], data.train.labels[batch]\n"
            "student = build_model(config.student, seed=config.training.seed)\n"
            "with torch.no_grad():\n"
            "    student_logits = student(normalize(images))  # (64, 10)\n"
            "teacher_logits = teacher.logits_at(config.training.temperature)[batch]\n"
            "T, alpha = config.training.temperature, config.training.alpha\n"
            "by_hand = kd_loss_by_hand(student_logits, teacher_logits, labels, T, alpha)\n"
            "library = kd_loss(student_logits, teacher_logits, labels, T, alpha).total\n"
            "torch.testing.assert_close(by_hand, library)\n"
            'print(f"loss by hand {by_hand.item():.6f} = kdlab.ml.losses.kd_loss {library.item():.6f}")'
        ),
    ]


def _settings(config: Mapping) -> dict:
    """The ``DistillConfig.build`` arguments of a stored config (lists, no Nones that mean defaults)."""
    return {name: value for name, value in config.items() if value is not None or name == "train_size"}


def run_notebook(
    config: Mapping,
    *,
    data_source: str,
    recorded: Mapping[str, int | None] | None = None,
    title: str | None = None,
    language: str | None = None,
) -> nbformat.NotebookNode:
    """A notebook that reproduces one lab run.

    Args:
        config: the run's ``DistillConfig.as_dict()`` (a ``RunRecord``'s ``config``).
        data_source: the run's data source name ("mnist" or "mnist-sample").
        recorded: test errors recorded on the server ("teacher", "student alone", "distilled"), compared at the end.
        title: the notebook's heading (the run's label; "A kdlab run" in the notebook's language when None).
        language: the language of the notebook's prose (a code of ``kdlab.i18n.LANGUAGES``; the current one when
            None).
    """
    with speaking(language):
        return _run_notebook(config, data_source, recorded, title)


def _run_notebook(
    config: Mapping, data_source: str, recorded: Mapping[str, int | None] | None, title: str | None
) -> nbformat.NotebookNode:
    settings = _settings(config)
    cells = [
        new_markdown_cell(
            "# "
            + (title or _("A kdlab run"))
            + "\n\n"
            + _(
                "This notebook reproduces a run of the kdlab distillation lab with the `kdlab` API: the same data, "
                "teacher, settings and seed, so the same initial weights and the same batches in the same order. "
                "Install kdlab (`python -m pip install -e .` in its folder) and run the cells in order."
            )
        ),
        new_code_cell(_data_cell(data_source)),
        new_code_cell(
            f"from kdlab.experiments.distill import DistillConfig, run_distillation\n\nsettings = {_python(settings)}"
        ),
        *_loss_cells("settings"),
        new_markdown_cell(
            "## "
            + _("The run")
            + "\n\n"
            + _(
                "The library call does the same as the lab's Train: the teacher (from the cache, or trained first), "
                "the distilled student, and the same student trained alone with the same seed."
            )
        ),
        new_code_cell(
            "result = run_distillation(config, data, teacher=teacher)\n"
            "summary = result.summary()\n"
            'ours = {"teacher": summary["teacher"]["test_errors"],\n'
            '        "student alone": (summary["baseline"] or {}).get("test_errors"),\n'
            '        "distilled": (summary["student"] or {}).get("test_errors")}\n'
            "print(ours)"
        ),
        new_code_cell(
            f"recorded = {_python(dict(recorded or {}))}  # "
            + _comment(N_("test errors of the run on the server"))
            + "\n"
            "for name, errors in recorded.items():\n"
            '    print(f"{name}: server {errors}, here {ours[name]}", "(same)" if errors == ours[name] else "(differs)")\n'
            'print("matches the recorded run:", all(ours[name] == errors for name, errors in recorded.items()))'
        ),
        new_markdown_cell(
            _(
                "Numbers can differ by a few errors on another device or torch version; on the same kind of machine "
                "they match. Change one thing in `settings` (the temperature, alpha, the student) and run again."
            )
        ),
        *_onnx_cells(),
    ]
    return _notebook(cells)


def _onnx_cells() -> list:
    return [
        new_markdown_cell(
            "## "
            + _("Take the student home: ONNX")
            + "\n\n"
            + _(
                "The distilled student as an ONNX graph (images in [0, 1], shaped (N, 1, 28, 28); the normalisation "
                "is inside), run by `onnxruntime` on a few test digits, and its time per image beside PyTorch's, both "
                "on one thread."
            )
        ),
        new_code_cell(ONNX_CELL),
    ]


def _lab_settings(params: Mapping[str, str]) -> dict:
    values = parse_lab_link(params, None).values
    return config_fields(values)


def _step_cells(lesson: Lesson) -> list:
    cells = []
    for index, step in enumerate(lesson.steps, start=1):
        cells.append(new_markdown_cell("## " + _("Step {number}").format(number=index) + f"\n\n{step.text}"))
        for label, params in step.links():
            if step.page == "lab":
                settings = _lab_settings(params)
                cells.append(
                    new_code_cell(
                        f"label = {_python(label)}\nsettings = {_python(settings)}\n"
                        "if QUICK:\n"
                        '    settings |= {"epochs": 1, "train_size": 500}\n'
                        'settings["train_size"] = min(settings["train_size"], len(data.train))\n'
                        "config = DistillConfig.build(**settings)\n"
                        "result = run_distillation(config, data)\n"
                        "summary = result.summary()\n"
                        'alone, distilled = summary["baseline"]["test_errors"], summary["student"]["test_errors"]\n'
                        'print(label + ": student alone", alone, "errors, distilled", distilled, "->", alone - distilled, '
                        '"errors removed")'
                    )
                )
            elif step.page == "explorer":
                values = parse_explorer_link(params).values
                digit, temperature = values.get("digit", 3), values.get("T", 4.0)
                cells.append(
                    new_code_cell(
                        "teacher = resolve_teacher(DistillConfig().teacher, data)\n"
                        f"digit = {_python(digit)}\n"
                        "index = int((data.test.labels == digit).nonzero()[0])  # "
                        + _comment(N_("the first test image of the digit"))
                        + "\n"
                        f"for T in (1.0, {_python(temperature)}):\n"
                        "    probabilities = torch.softmax(teacher.test_logits[index] / T, dim=0)\n"
                        '    print(f"T = {T:g}:", " ".join(f"{d}:{p:.4f}" for d, p in enumerate(probabilities.tolist())))'
                    )
                )
            elif step.page == "replays":
                values = parse_replay_link(params).values
                name, bias = values.get("replay", "omit-3"), values.get("bias")
                code = (
                    f"replay = run_replay({_python(name)}, data, 'quick')  "
                    "# " + _comment(N_("minutes: it trains a teacher and students")) + "\n"
                    "print(replay.summary.get('comparison'))"
                )
                if bias is not None and name in ("omit-3", "only-7-8"):
                    code += (
                        f"\nbias = {_python(bias)}\n"
                        "classes = tuple(replay.summary['bias_classes'])\n"
                        "effect = evaluate_bias(replay.test_logits['distilled'], replay.test_labels, "
                        "{digit: bias for digit in classes})\n"
                        "print(f'with bias {bias:+g}:', effect.errors, 'errors,', effect.class_errors, 'on the', classes)"
                    )
                cells.append(new_code_cell(code))
    return cells


def lesson_notebook(
    lesson: Lesson, *, data_source: str, with_answer: bool = True, language: str | None = None
) -> nbformat.NotebookNode:
    """A notebook that walks through ``lesson`` with the kdlab API: each lab link as a run, each
    explorer link as softmax(z / T), each replay link as ``run_replay``; "What to notice" at the end only
    ``with_answer`` (the Lessons page leaves it out wherever it hides the answer). Its own prose is in
    ``language`` (the current one when None); the lesson's texts are the lesson's, in the language it was
    loaded in."""
    with speaking(language):
        return _lesson_notebook(lesson, data_source, with_answer)


def _lesson_notebook(lesson: Lesson, data_source: str, with_answer: bool) -> nbformat.NotebookNode:
    cells = [
        new_markdown_cell(
            f"# {lesson.title}\n\n"
            + _("**Goal.** {goal}").format(goal=lesson.goal)
            + "\n\n"
            + _("**Predict first.** {prediction}").format(prediction=lesson.prediction)
            + "\n\n"
            + _(
                "*About {minutes} minutes in class; the runs below take longer on a laptop. Set `QUICK = True` for "
                "one epoch on 500 images per run.*"
            ).format(minutes=number(lesson.minutes))
        ),
        new_code_cell(_data_cell(data_source)),
        new_code_cell(
            "import torch\n\n"
            "from kdlab.experiments.distill import DistillConfig, run_distillation\n"
            "from kdlab.ml.metrics import evaluate_bias\n"
            "from kdlab.experiments.replays import run_replay\n"
            "from kdlab.teachers.cache import resolve_teacher\n\n"
            "QUICK = False"
        ),
    ]
    lab_settings = [
        _lab_settings(params) for step in lesson.steps if step.page == "lab" for _label, params in step.links()
    ]
    if lab_settings:
        first = dict(lab_settings[0])
        first["train_size"] = None
        cells += [new_code_cell(f"lesson_settings = {_python(first)}"), *_loss_cells("lesson_settings")]
    cells += _step_cells(lesson)
    cells.append(new_markdown_cell("## " + _("Discuss") + f"\n\n{lesson.discuss}"))
    if with_answer:
        cells.append(new_markdown_cell("## " + _("What to notice") + f"\n\n{lesson.notice}"))
    return _notebook(cells)


def notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    """The notebook as an ``.ipynb`` file's bytes (validated against the nbformat schema)."""
    nbformat.validate(notebook)
    return nbformat.writes(notebook).encode("utf-8")
