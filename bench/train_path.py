"""The modules one press of Train goes through: how many, how often it comes back to one it left, and the
kdlab functions it calls on the way, from the page's Train button to the record filed.

    python bench/train_path.py [--entry kdlab.ui.lab_run.start_press] [--json]

Drives the lab page under AppTest (offline sample, a fresh cache, trainings on threads of this process so they
can be traced), presses Train with the lab's defaults but a one-epoch run from the quick "linear" teacher
(cached first: the settings change no module on the path), and records every call into a kdlab module: in the
page's thread while ``--entry`` runs (the press), in the job's thread from its start to its end. Calls made
inside the model core (``kdlab.ml``: the loop, the losses, the metrics calling each other every step) are the
loop's business, not the press's: only calls from outside it count. A module is "entered" when such a call
goes into it from another module; each distinct entry (calling module, called function) counts once, so a
callback made at every step counts as one. "Re-entries" count entries into a module the path had already
entered before. ``--json`` prints the counts, the modules in order of first entry and the entries.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KDLAB = str(ROOT / "kdlab")
CORE = "kdlab.ml"  # calls made inside it are the training loop's, not the press's


def module_of(filename: str) -> str | None:
    """``kdlab.serve.lab`` for .../kdlab/serve/lab.py; None outside kdlab."""
    if not filename.startswith(KDLAB):
        return None
    relative = Path(filename).relative_to(ROOT).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


class PathTracer:
    """Records the kdlab modules entered, per thread, while tracing is on for that thread."""

    def __init__(self, entry: str) -> None:
        self.entry_module, _, self.entry_function = entry.rpartition(".")
        self.sequences: dict[str, list[str]] = {}
        self.functions: dict[str, set[str]] = {}
        self.inside_entry: dict[int, int] = {}  # thread id -> depth inside the entry function
        self.lock = threading.Lock()
        self.seen_entries: set[tuple] = set()

    def profile(self, frame, event, arg) -> None:
        if event not in ("call", "return"):
            return
        module = module_of(frame.f_code.co_filename)
        thread = threading.get_ident()
        is_entry = module == self.entry_module and frame.f_code.co_name == self.entry_function
        if is_entry:
            self.inside_entry[thread] = self.inside_entry.get(thread, 0) + (1 if event == "call" else -1)
        in_job = threading.current_thread().name.startswith("kdlab-job-")  # idents are reused: ask by name
        traced = self.inside_entry.get(thread, 0) > 0 or is_entry or in_job
        if event != "call" or module is None or not traced:
            return
        caller = module_of(frame.f_back.f_code.co_filename) if frame.f_back is not None else None
        if caller is not None and (caller == CORE or caller.startswith(CORE + ".")):
            return
        name = "job" if in_job else "press"
        entry = (caller, module, frame.f_code.co_name)
        with self.lock:
            if caller != module and entry not in self.seen_entries:
                self.seen_entries.add(entry)
                self.sequences.setdefault(name, []).append(module)
            self.functions.setdefault(module, set()).add(frame.f_code.co_name)

    def summary(self) -> dict:
        entries = self.sequences.get("press", []) + self.sequences.get("job", [])
        seen: list[str] = []
        reentries = 0
        for module in entries:
            if module in seen:
                reentries += 1
            else:
                seen.append(module)
        packages: dict[str, int] = {}
        for module in seen:
            package = ".".join(module.split(".")[:2])
            packages[package] = packages.get(package, 0) + 1
        return {
            "modules": len(seen),
            "modules_per_package": packages,
            "entries": len(entries),
            "reentries": reentries,
            "modules_in_order": seen,
            "sequence": {name: sequence for name, sequence in self.sequences.items()},
            "functions": {module: sorted(names) for module, names in sorted(self.functions.items())},
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entry", default="kdlab.ui.lab_run.start_press", help="the function a press of Train calls")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="kdlab-train-path-")
    os.environ.update(KDLAB_OFFLINE="1", KDLAB_CACHE_DIR=cache, KDLAB_DEVICE="cpu", KDLAB_PROCESSES="0")
    os.environ.pop("KDLAB_DATA_DIR", None)
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    from kdlab.ml.data import load_mnist
    from kdlab.teachers.cache import resolve_teacher
    from kdlab.teachers.teacher import default_teacher_epochs

    data = load_mnist(offline=True)
    resolve_teacher("linear", data, epochs=default_teacher_epochs(len(data.train)))  # cached: no teacher training
    at = AppTest.from_file(str(ROOT / "pages" / "distillation_lab.py"), default_timeout=120)
    at.session_state["lab.teacher"] = "linear"
    at.run()
    at.slider(key="lab.epochs").set_value(1)
    at.run()
    tracer = PathTracer(args.entry)
    sys.setprofile(tracer.profile)
    threading.setprofile(tracer.profile)
    try:
        at.button(key="lab.train").click()
        at.run()
        deadline = time.time() + 300
        while not any("Result of run 1" in subheader.value for subheader in at.subheader):
            if time.time() > deadline:
                raise SystemExit("no result within 300 s")
            time.sleep(0.5)
            at.run()
    finally:
        sys.setprofile(None)
        threading.setprofile(None)
    result = tracer.summary()
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['modules']} modules, {result['entries']} entries, {result['reentries']} re-entries")
        print("per package: " + ", ".join(f"{name} {count}" for name, count in result["modules_per_package"].items()))
        for module in result["modules_in_order"]:
            print(f"  {module}: {', '.join(result['functions'][module])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
