"""The shape of the package, checked by parsing every module's imports with ``ast``: packages sit
in layers and import only their own layer and the ones below (so the library never imports the UI
or the command line), and no import circle exists anywhere in kdlab/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT_ROOT

PACKAGE = PROJECT_ROOT / "kdlab"


def module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def kdlab_imports(path: Path) -> set[str]:
    """Every kdlab module ``path`` imports, at the top or inside a function (lazy imports count)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "kdlab"}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            if base.split(".")[0] != "kdlab":
                continue
            # ``from kdlab import ui`` imports the module kdlab.ui; ``from kdlab.ml.data import load`` imports kdlab.ml.data
            modules = {f"{base}.{alias.name}" for alias in node.names}
            found |= {name for name in modules if name in MODULES} or {base}
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {module_name(path) for path in FILES}
GRAPH = {module_name(path): kdlab_imports(path) & MODULES for path in FILES}


def test_the_library_never_imports_the_command_line():
    offenders = {
        module: sorted(name for name in imports if name == "kdlab.cli" or name.startswith("kdlab.cli."))
        for module, imports in GRAPH.items()
        if not module.startswith("kdlab.cli") and module != "kdlab.__main__"
    }
    assert {module: names for module, names in offenders.items() if names} == {}


# Lowest first: a module may import its own package and any package listed before it.
# "i18n" (translation) and "settings" (one module, kdlab/settings.py) are the bottom layers: every package marks its
# messages through the first and reads the environment through the second.
LAYERS = ("i18n", "settings", "ml", "teachers", "experiments", "runs", "db", "serve", "classroom", "plots", "ui", "cli")


def layer_of(module: str) -> int | None:
    """The layer of ``kdlab.<package>...``; None for the top package and ``kdlab.__main__``."""
    parts = module.split(".")
    return LAYERS.index(parts[1]) if len(parts) > 1 and parts[1] in LAYERS else None


def test_every_library_module_lives_in_a_layer():
    loose = sorted(module for module in GRAPH if layer_of(module) is None and module not in ("kdlab", "kdlab.__main__"))
    assert loose == [], f"modules outside the packages {LAYERS}: {loose}"


def test_packages_import_only_downward():
    upward = {
        module: sorted(name for name in imports if (layer_of(name) or 0) > layer_of(module))
        for module, imports in GRAPH.items()
        if layer_of(module) is not None
    }
    assert {module: names for module, names in upward.items() if names} == {}


def test_every_package_says_what_it_holds_and_may_import():
    for package in LAYERS:
        path = PACKAGE / package / "__init__.py" if (PACKAGE / package).is_dir() else PACKAGE / f"{package}.py"
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        assert "import" in doc, f"{path.relative_to(PROJECT_ROOT)} must say what it may import"


def test_no_import_circle_in_the_package():
    # A module's parent packages are imported first; an edge to them is not a circle of its own.
    def edges(module: str) -> set[str]:
        return {name for name in GRAPH[module] if not module.startswith(name + ".")}

    circles, state = [], {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for name in sorted(edges(module)):
            if state.get(name) == "open":
                circles.append(trail[trail.index(name) :] + [name])
            elif name not in state:
                visit(name, trail + [name])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_the_graph_sees_real_imports():
    # Guards the two tests above against a parser that finds nothing.
    assert "kdlab.ml.train" in GRAPH["kdlab.experiments.distill"]
    assert "kdlab.cli.common" in GRAPH["kdlab.cli.core"]
    assert "kdlab.ui.progress" in GRAPH["kdlab.ui.resources"]


def test_the_app_and_a_training_worker_start_without_importing_torchvision():
    # torchvision imports torch._dynamo (3.2 s on the 2-core server) and is needed only to read MNIST's files
    # (kdlab.ml.data imports it then). The app's first visit and every training worker import these modules.
    code = (
        "import sys, kdlab.ui.resources, kdlab.ui.session, kdlab.ui.explorer, kdlab.serve.tasks, kdlab.teachers.cache\n"
        "print('torchvision' in sys.modules)"
    )
    found = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False"
