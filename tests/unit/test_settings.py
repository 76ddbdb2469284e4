"""The one settings module: every KDLAB_* variable's default, good and bad values, the re-read when
the environment changes, the warning for an unknown name, and that no other module reads them."""

from __future__ import annotations

import ast
import logging
import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kdlab import settings as settings_module
from kdlab.cli import main
from kdlab.runs.record import KEEP_WEIGHTS
from kdlab.serve.runner import (
    DEFAULT_JOB_TTL,
    DEFAULT_MAX_PER_CLIENT,
    DEFAULT_MAX_QUEUE,
    DEFAULT_MAX_VISITOR_PER_CLIENT,
)
from kdlab.settings import (
    KNOWN_VARIABLES,
    RunCostCap,
    Settings,
    SettingsError,
    current_settings,
    load_settings,
)
from tests.conftest import PROJECT_ROOT

DEFAULTS = {
    "KDLAB_DATA_DIR": ("data_dir", None),
    "KDLAB_CACHE_DIR": ("cache_dir", Path.home() / ".cache" / "kdlab"),
    "KDLAB_OFFLINE": ("offline", False),
    "KDLAB_DEVICE": ("device", None),
    "KDLAB_MAX_JOBS": ("max_jobs", None),
    "KDLAB_MAX_QUEUE": ("max_queue", DEFAULT_MAX_QUEUE),
    "KDLAB_JOB_TTL": ("job_ttl", DEFAULT_JOB_TTL),
    "KDLAB_MAX_JOBS_PER_CLIENT": ("max_jobs_per_client", DEFAULT_MAX_PER_CLIENT),
    "KDLAB_MAX_VISITOR_JOBS_PER_CLIENT": ("max_visitor_jobs_per_client", DEFAULT_MAX_VISITOR_PER_CLIENT),
    "KDLAB_TRUSTED_PROXY_HEADER": ("trusted_proxy_header", None),
    "KDLAB_RAY_ADDRESS": ("ray_address", None),
    "KDLAB_MAX_RUN_COST": ("max_run_cost", RunCostCap(20.0, "default runs")),
    "KDLAB_DATABASE_URL": ("database_url", None),
    "KDLAB_KEEP_WEIGHTS": ("keep_weights", KEEP_WEIGHTS),
    "KDLAB_MAX_RUNS_PER_STUDENT": ("max_runs_per_student", 200),
    "KDLAB_MAX_RUNS_PER_CLASS": ("max_runs_per_class", 5000),
    "KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS": ("max_runs_per_student_in_class", 100),
    "KDLAB_MAX_RUNS_PER_MINUTE": ("max_runs_per_minute", 10),
    "KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE": ("max_runs_per_client_per_minute", 60),
    "KDLAB_MAX_CLASSES_PER_CLIENT": ("max_classes_per_client", 10),
    "KDLAB_LESSONS_DIR": ("lessons_dir", None),
    "KDLAB_INSTRUCTOR_KEY": ("instructor_key", None),
    "KDLAB_HEARTBEAT_STALE_SECONDS": ("heartbeat_stale_seconds", 60.0),
    "KDLAB_STACK": ("stack", None),
    "KDLAB_PROCESSES": ("processes", None),
}


def test_every_variable_has_a_default_and_a_row_in_the_table():
    assert set(KNOWN_VARIABLES) == set(DEFAULTS)
    loaded = load_settings({})
    assert {name: getattr(loaded, field) for name, (field, _) in DEFAULTS.items()} == {
        name: default for name, (_, default) in DEFAULTS.items()
    }
    table = settings_module.__doc__
    assert all(f"| ``{name}`` |" in table for name in KNOWN_VARIABLES)


def test_an_empty_value_is_unset():
    assert load_settings(dict.fromkeys(KNOWN_VARIABLES, "")) == load_settings({})


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("KDLAB_DATA_DIR", "/srv/mnist", Path("/srv/mnist")),
        ("KDLAB_CACHE_DIR", "~/kd", Path.home() / "kd"),
        ("KDLAB_OFFLINE", "1", True),
        ("KDLAB_OFFLINE", " Yes ", True),
        ("KDLAB_OFFLINE", "false", False),
        ("KDLAB_DEVICE", " cpu ", "cpu"),
        ("KDLAB_DEVICE", "cuda:1", "cuda:1"),
        ("KDLAB_MAX_JOBS", " 3 ", 3),
        ("KDLAB_MAX_QUEUE", "0", 0),
        ("KDLAB_JOB_TTL", "90", 90.0),
        ("KDLAB_RAY_ADDRESS", "ray://head:10001", "ray://head:10001"),
        ("KDLAB_MAX_RUN_COST", "2.5X", RunCostCap(2.5, "default runs")),
        ("KDLAB_MAX_RUN_COST", "5e12", RunCostCap(5e12, "FLOPs")),
        ("KDLAB_MAX_RUN_COST", "inf", RunCostCap(math.inf, "FLOPs")),
        ("KDLAB_DATABASE_URL", "postgresql+psycopg://db/kdlab", "postgresql+psycopg://db/kdlab"),
        ("KDLAB_KEEP_WEIGHTS", "0", 0),
        ("KDLAB_KEEP_WEIGHTS", "-2", 0),  # below 0 keeps none, as 0 does
        ("KDLAB_MAX_RUNS_PER_STUDENT", "30", 30),
        ("KDLAB_MAX_RUNS_PER_CLASS", " 900 ", 900),
        ("KDLAB_LESSONS_DIR", " /srv/lessons ", Path("/srv/lessons")),
        ("KDLAB_INSTRUCTOR_KEY", " s3cret-key-of-16-chars ", "s3cret-key-of-16-chars"),
        ("KDLAB_HEARTBEAT_STALE_SECONDS", "5", 5.0),
        ("KDLAB_STACK", " On ", True),
        ("KDLAB_STACK", "off", False),
        ("KDLAB_PROCESSES", "no", False),
    ],
)
def test_a_good_value(name, text, expected):
    assert getattr(load_settings({name: text}), DEFAULTS[name][0]) == expected


@pytest.mark.parametrize(
    ("name", "text", "accepted"),
    [
        ("KDLAB_OFFLINE", "maybe", "one of 1, true, yes, on, 0, false, no"),
        ("KDLAB_DEVICE", "gpu", "cpu, cuda, mps or xpu"),
        ("KDLAB_JOB_TTL", "soon", "a whole number of seconds of at least 0"),
        ("KDLAB_JOB_TTL", "-1", "a whole number of seconds of at least 0"),
        ("KDLAB_MAX_RUN_COST", "lots", "a multiple of the default run such as 20x"),
        ("KDLAB_MAX_RUN_COST", "0", "a number of FLOPs such as 5e12, or inf for no cap"),
        ("KDLAB_KEEP_WEIGHTS", "all", "a whole number such as 5, or 0 to keep none"),
        ("KDLAB_MAX_RUNS_PER_STUDENT", "0", "a whole number of at least 1"),
        ("KDLAB_MAX_RUNS_PER_CLASS", "many", "a whole number of at least 1"),
        ("KDLAB_HEARTBEAT_STALE_SECONDS", "0", "a whole number of seconds of at least 1"),
        ("KDLAB_STACK", "sometimes", "KDLAB_STACK must be one of 1, true, yes, on, 0, false, no, off"),
    ],
)
def test_a_bad_value_names_the_variable_and_what_it_accepts(name, text, accepted):
    with pytest.raises(SettingsError) as raised:
        load_settings({name: text})
    assert isinstance(raised.value, ValueError)
    assert name in str(raised.value) and accepted in str(raised.value) and text in str(raised.value)


@pytest.mark.parametrize(
    ("name", "text"), [("KDLAB_MAX_JOBS", "two"), ("KDLAB_MAX_JOBS", "0"), ("KDLAB_MAX_QUEUE", "lots")]
)
def test_the_queue_sizes_keep_their_default_with_a_warning(caplog, name, text):
    with caplog.at_level(logging.WARNING, logger="kdlab.settings"):
        loaded = load_settings({name: text})
    assert loaded == Settings()
    assert f"{name} must be a whole number of at least" in caplog.text and repr(text) in caplog.text


def test_the_instructor_key_never_shows_in_a_repr():
    assert "s3cret" not in repr(load_settings({"KDLAB_INSTRUCTOR_KEY": "s3cret-key-of-16-chars"}))


def test_a_short_instructor_key_is_refused_without_showing_it():
    with pytest.raises(SettingsError, match="KDLAB_INSTRUCTOR_KEY is 15 characters long; use at least 16") as raised:
        load_settings({"KDLAB_INSTRUCTOR_KEY": "fifteen-chars!!"})
    assert "fifteen" not in str(raised.value)


def test_current_settings_reads_the_environment_again_only_when_it_changed(monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_QUEUE", "7")
    first = current_settings()
    assert first.max_queue == 7 and current_settings() is first  # unchanged: not parsed again
    monkeypatch.setenv("KDLAB_MAX_QUEUE", "8")
    assert current_settings().max_queue == 8
    monkeypatch.setenv("KDLAB_JOB_TTL", "never")
    with pytest.raises(SettingsError, match="KDLAB_JOB_TTL"):
        current_settings()
    monkeypatch.delenv("KDLAB_JOB_TTL")
    assert current_settings().job_ttl == DEFAULT_JOB_TTL


def test_an_unknown_variable_is_a_warning_once_naming_the_known_ones(monkeypatch, caplog):
    monkeypatch.setattr(settings_module, "_warned", set())
    monkeypatch.setenv("KDLAB_MAX_JOB", "3")
    with caplog.at_level(logging.WARNING, logger="kdlab.settings"):
        current_settings()
        monkeypatch.setenv("KDLAB_MAX_QUEUE", "9")  # a change parses again, but the typo was already reported
        current_settings()
    warnings = [record.getMessage() for record in caplog.records if "KDLAB_MAX_JOB " in record.getMessage()]
    assert len(warnings) == 1 and "KDLAB_MAX_JOBS" in warnings[0]


def test_the_command_line_prints_a_bad_setting_on_one_line_and_exits_2(monkeypatch, capsys):
    monkeypatch.setenv("KDLAB_DEVICE", "gpu")
    assert main(["data"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("kdlab: error: KDLAB_DEVICE must be") and error.count("\n") == 1


def test_the_app_shows_a_bad_setting_instead_of_a_traceback(monkeypatch):
    monkeypatch.setenv("KDLAB_OFFLINE", "perhaps")
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    assert any("KDLAB_OFFLINE must be one of" in error.value for error in at.error)


def _reads_kdlab_variables(path: Path) -> bool:
    """The file touches the environment (os.environ, getenv) and names a KDLAB_* variable in code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    touches = any(
        (isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv", "environb"))
        or (isinstance(node, ast.Name) and node.id in ("environ", "getenv"))
        for node in ast.walk(tree)
    )
    names = any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("KDLAB_")
        for node in ast.walk(tree)
    )
    return touches and names


def test_no_module_but_the_settings_reads_kdlab_variables():
    files = [
        *sorted((PROJECT_ROOT / "kdlab").rglob("*.py")),
        PROJECT_ROOT / "app.py",
        *(PROJECT_ROOT / "pages").glob("*.py"),
    ]
    readers = [str(path.relative_to(PROJECT_ROOT)) for path in files if _reads_kdlab_variables(path)]
    assert readers == ["kdlab/settings.py"]
