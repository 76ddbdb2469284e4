"""The library never imports Streamlit: only app.py, pages/ and kdlab/ui/ may."""

import subprocess
import sys

from tests.conftest import PROJECT_ROOT


def test_importing_kdlab_and_its_modules_does_not_import_streamlit():
    code = (
        # Module names from the files: pkgutil.walk_packages would import kdlab.ui to look inside it.
        "import sys, pathlib, importlib\n"
        "files = [p.with_suffix('').parts for p in sorted(pathlib.Path('kdlab').rglob('*.py'))]\n"
        "names = ['.'.join(f[:-1] if f[-1] == '__init__' else f) for f in files if f[1:2] != ('ui',)]\n"
        "names = [name for name in names if name != 'kdlab.__main__']\n"
        "[importlib.import_module(name) for name in names]\n"
        "assert len(names) >= 40, names\n"
        "sys.exit(1 if 'streamlit' in sys.modules else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr or "kdlab imported streamlit"
