"""Pages are chrome plus one renderer call: every file in pages/ is short and imports nothing from kdlab
but modules of ``kdlab.ui`` and ``kdlab.i18n`` (its title in the session's language); the one table of pages names every page file and every page a link may open."""

from __future__ import annotations

import ast

import pytest

from kdlab.classroom.pages import LINK_PAGES, PAGES
from tests.conftest import PROJECT_ROOT

PAGE_FILES = sorted((PROJECT_ROOT / "pages").glob("*.py"))
MAX_LINES = 100


def kdlab_imports(source: str) -> set[str]:
    """The kdlab modules a page imports, as written (``from kdlab import ui`` -> ``kdlab.ui``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "kdlab"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "kdlab":
            found |= {f"{node.module}.{alias.name}" if node.module == "kdlab" else node.module for alias in node.names}
    return found


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda path: path.name)
def test_a_page_is_short_and_imports_only_kdlab_ui(path):
    source = path.read_text()
    assert len(source.splitlines()) < MAX_LINES, f"{path.name}: move its body into a renderer in kdlab/ui/"
    outside = {name for name in kdlab_imports(source) if not name.startswith("kdlab.ui.") and name != "kdlab.i18n"}
    assert not outside, f"{path.name} imports {sorted(outside)}"


def test_the_page_table_names_every_page_file_and_every_linked_page():
    assert sorted(entry.path for entry in PAGES) == sorted(f"pages/{path.name}" for path in PAGE_FILES)
    assert set(LINK_PAGES) == {entry.link_name for entry in PAGES if entry.link_name}
