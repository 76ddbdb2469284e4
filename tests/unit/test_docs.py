"""Docs that cannot drift: every dotted ``kdlab.`` name and every file path of the project that README.md,
CONTRIBUTING.md and docs/*.md mention exists (a module, or an attribute of one; a file or a folder)."""

from __future__ import annotations

import importlib
import importlib.util
import re

import pytest

from tests.conftest import PROJECT_ROOT

DOCS = [PROJECT_ROOT / "README.md", PROJECT_ROOT / "CONTRIBUTING.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
DOTTED_NAME = re.compile(r"(?<![\w/.])kdlab(?:\.[A-Za-z_]\w*)+")
PROJECT_PATH = re.compile(
    r"(?<![\w/.<$-])((?:kdlab|tests|bench|deploy|docs|lessons|pages|\.ci|\.streamlit)/[\w./-]*[\w/]"
    r"|app\.py|requirements\.txt|pyproject\.toml)"
)


def names_and_paths(text: str) -> tuple[set[str], set[str]]:
    """The dotted kdlab names and the project paths a text mentions (paths with placeholders like <name> left out)."""
    names = {name.rstrip(".") for name in DOTTED_NAME.findall(text)}
    paths = {path for path in PROJECT_PATH.findall(text) if "<" not in path}
    return names, paths


def exists(name: str) -> bool:
    """True when ``name`` is a module, or a module's attribute (``kdlab.settings.current_settings``)."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            spec = importlib.util.find_spec(".".join(parts[:cut]))
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        found = importlib.import_module(".".join(parts[:cut]))
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda path: path.name)
def test_every_name_and_path_a_doc_mentions_exists(doc):
    names, paths = names_and_paths(doc.read_text())
    assert names or paths, f"{doc.name} mentions no kdlab name or path: is the pattern still right?"
    assert not sorted(name for name in names if not exists(name)), f"{doc.name} names what does not exist"
    assert not sorted(path for path in paths if not (PROJECT_ROOT / path).exists()), f"{doc.name}: missing files"


def test_a_renamed_function_or_a_moved_file_is_caught():
    names, paths = names_and_paths(
        "`kdlab.settings.current_settings`, `kdlab.settings.no_such_thing` and `kdlab/ml/gone.py`"
    )
    assert names == {"kdlab.settings.current_settings", "kdlab.settings.no_such_thing"}
    assert [exists(name) for name in sorted(names)] == [True, False]
    assert paths == {"kdlab/ml/gone.py"} and not (PROJECT_ROOT / "kdlab/ml/gone.py").exists()
