"""Take it home: a run's notebook, executed in a real Jupyter kernel, reproduces the run's test
errors and checks the hand-written loss against the library's; every lesson's notebook is valid
and its code parses."""

import ast
import os

import nbformat
import torch
from nbclient import NotebookClient

from kdlab.classroom.lessons import load_lessons
from kdlab.classroom.notebooks import lesson_notebook, notebook_bytes, run_notebook
from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.i18n import speaking
from kdlab.runs.record import record_from_result
from tests.conftest import PROJECT_ROOT


def outputs(notebook) -> str:
    return "".join(
        output.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
    )


def test_a_run_notebook_executes_and_reproduces_the_run(sample_data, tmp_path):
    config = DistillConfig.build(teacher="linear", student="mlp-10x1", epochs=1, train_size=500, seed=3)
    record = record_from_result(run_distillation(config, sample_data), sample_data.test.labels, number=1)
    recorded = {
        "teacher": record.errors("teacher"),
        "student alone": record.errors("baseline"),
        "distilled": record.errors("distilled"),
    }
    notebook = run_notebook(
        record.config, data_source=record.summary["data"]["source"], recorded=recorded, title=record.label
    )
    path = tmp_path / "run.ipynb"
    path.write_bytes(notebook_bytes(notebook))

    executed = nbformat.read(path, as_version=4)
    # The kernel gets this process's environment (offline, CPU, the test's teacher cache) and thread count,
    # so the same data, teacher and arithmetic give the same numbers.
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads()), "PYTHONPATH": str(PROJECT_ROOT)}
    NotebookClient(
        executed, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(PROJECT_ROOT)}}
    ).execute(env=env)
    text = outputs(executed)
    assert "Offline MNIST sample" in text and "Note: the run used" not in text
    assert "loss by hand" in text and "= kdlab.ml.losses.kd_loss" in text
    assert "matches the recorded run: True" in text, text
    assert "ONNX gives PyTorch's answers: True" in text and "one image: PyTorch" in text, text


def test_the_notebook_writes_the_loss_out_once_beside_the_library_call():
    notebook = run_notebook(DistillConfig().as_dict(), data_source="mnist")
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert code.count("def kd_loss_by_hand") == 1 and "F.kl_div" in code and "temperature**2" in code
    assert "run_distillation(config, data" in code and "load_mnist()" in code
    assert "load_mnist(offline=True)" in "\n".join(
        cell.source for cell in run_notebook(DistillConfig().as_dict(), data_source="mnist-sample").cells
    )


def test_every_lesson_has_a_valid_notebook_whose_code_parses():
    lessons, _ = load_lessons()
    for lesson in lessons:
        notebook = nbformat.reads(notebook_bytes(lesson_notebook(lesson, data_source="mnist")).decode(), as_version=4)
        nbformat.validate(notebook)
        code = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
        for source in code:
            ast.parse(source)
        assert lesson.title in notebook.cells[0].source and lesson.discuss in notebook.cells[-2].source
        lab_links = sum(len(step.links()) for step in lesson.steps if step.page == "lab")
        assert sum("run_distillation(config, data)" in source for source in code) == lab_links
        assert lesson.notice in notebook.cells[-1].source
        hidden = lesson_notebook(lesson, data_source="mnist", with_answer=False)  # for a student: no answer
        assert not any(lesson.notice in cell.source for cell in hidden.cells)


def test_a_lessons_labels_and_values_reach_the_notebook_as_data_never_as_code():
    """A lesson file anyone with write access to lessons/ can edit: a label crafted to close the string it
    was pasted into and call os.system (it did, in the lab step's print) stays a string constant."""
    from kdlab.classroom.lessons import Lesson, Step

    crafted = '1"); __import__("os").system("echo pwned"); print("'
    steps = (
        Step("Each table a value.", "lab", {"lock": "all"}, ("predict", (crafted, "1"))),
        Step("Look.", "explorer", {"digit": "3\n", "T": "4"}),
        Step("Replay.", "replays", {"replay": "omit-3", "bias": "2.5"}),
    )
    lesson = Lesson("crafted", "Crafted", 10, "goal", "prediction", "discuss", "notice", steps)
    notebook = lesson_notebook(lesson, data_source='mnist"); __import__("os").system("echo pwned")#')
    labels = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)  # every cell is valid Python
        called = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert not any("system" in name or "__import__" in name for name in called), cell.source
        labels += [
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "label"
        ]
    assert labels == [f"predict = {crafted}", "predict = 1"]


def test_a_spanish_notebook_has_spanish_prose_and_the_english_ones_code():
    """The prose follows the language; the code is the same program (comments aside: the same syntax tree), so
    the Spanish notebook runs and reproduces the run exactly as the English one, which the kernel test runs."""
    lessons, _ = load_lessons()
    config = DistillConfig().as_dict()
    pairs = [
        (run_notebook(config, data_source="mnist"), run_notebook(config, data_source="mnist", language="es")),
        (
            lesson_notebook(lessons[1], data_source="mnist"),
            lesson_notebook(lessons[1], data_source="mnist", language="es"),
        ),
    ]
    with speaking("vi"):  # the current language is the default
        pairs.append((run_notebook(config, data_source="mnist"), run_notebook(config, data_source="mnist")))
    for english, translated in pairs:
        nbformat.validate(nbformat.reads(notebook_bytes(translated).decode(), as_version=4))
        assert [cell.cell_type for cell in english.cells] == [cell.cell_type for cell in translated.cells]
        for ours, theirs in zip(english.cells, translated.cells, strict=True):
            if ours.cell_type == "code":
                assert ast.dump(ast.parse(ours.source)) == ast.dump(ast.parse(theirs.source))
    run_es, lesson_es, run_vi = (translated for _, translated in pairs)
    prose = "\n".join(cell.source for cell in run_es.cells if cell.cell_type == "markdown")
    assert "# Una ejecución de kdlab" in prose and "## La pérdida, escrita una vez a mano" in prose
    assert "Este cuaderno reproduce" in prose and "The run" not in prose and "This notebook" not in prose
    assert "$\\mathcal{L} = \\alpha" in prose  # the formula stays as it is
    assert "# los objetivos suaves del profesor a temperatura T" in "\n".join(cell.source for cell in run_es.cells)
    lesson_prose = [cell.source for cell in lesson_es.cells if cell.cell_type == "markdown"]
    assert "**Objetivo.**" in lesson_prose[0] and any(text.startswith("## Paso 1") for text in lesson_prose)
    assert "Sổ tay này tái hiện" in run_vi.cells[0].source
