"""requirements.txt (the design card's file: ``pip install -r requirements.txt && streamlit run app.py``) and
pyproject.toml's ``dependencies`` name the same packages with the same pins."""

from __future__ import annotations

import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import PROJECT_ROOT

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


def normalised(lines: list[str]) -> dict[str, str]:
    """Package name -> its requirement in one canonical spelling (specifiers sorted, marker normalised)."""
    found = {}
    for line in lines:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name not in found, f"{requirement.name} is listed twice"
        found[name] = str(requirement)
    return found


def requirements_txt() -> list[str]:
    text = (PROJECT_ROOT / "requirements.txt").read_text()
    return [line.split(" #")[0].strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


def test_requirements_txt_pins_exactly_the_projects_runtime_dependencies():
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    assert normalised(requirements_txt()) == normalised(pyproject["project"]["dependencies"])


def test_a_changed_pin_is_caught():
    lines = requirements_txt()
    changed = [line.replace("==", "==0.0.1+") if line.startswith("torch==") else line for line in lines]
    assert normalised(changed) != normalised(lines)
