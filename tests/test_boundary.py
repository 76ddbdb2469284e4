"""The library never imports Streamlit: only app.py, pages/ and kdlab/ui/ may."""

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_importing_kdlab_and_its_modules_does_not_import_streamlit():
    code = (
        "import sys, pkgutil, importlib, kdlab\n"
        "names = [m.name for m in pkgutil.iter_modules(kdlab.__path__) if m.name not in ('ui', '__main__')]\n"
        "[importlib.import_module('kdlab.' + name) for name in names]\n"
        "assert len(names) >= 8, names\n"
        "sys.exit(1 if 'streamlit' in sys.modules else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr or "kdlab imported streamlit"
