"""The server's settings: every ``KDLAB_*`` environment variable, read and checked in one place.

The bottom layer: imports nothing from kdlab, so every package may read it. ``current_settings()``
is what the code calls; it parses the environment again only when a ``KDLAB_*`` variable changed,
so a server reads it once and a test's ``monkeypatch.setenv`` takes effect at once. A value that
cannot be used raises ``SettingsError`` naming the variable and what it accepts (the command line
prints it as one line, the app shows it instead of the page); an unknown ``KDLAB_*`` name (a typo)
is logged once as a warning listing the known ones. An empty value counts as unset everywhere.

| Variable | Default | Accepted values | What it does |
|---|---|---|---|
| ``KDLAB_DATA_DIR`` | unset | a folder with ``MNIST/raw/`` inside | MNIST root, tried before the cache |
| ``KDLAB_CACHE_DIR`` | ``~/.cache/kdlab`` | a folder (``~`` expands) | teachers, transfer sets, downloads, database |
| ``KDLAB_OFFLINE`` | off | ``1``/``true``/``yes``/``on``; ``0``/``false``/``no``/``off`` | on: never try to download MNIST |
| ``KDLAB_DEVICE`` | CUDA, MPS, else CPU | ``cpu``, ``cuda``, ``mps``, ``xpu``, or with ``:N`` | where trainings run |
| ``KDLAB_MAX_JOBS`` | the cores (one fewer from 4 up); Ray: its CPUs | a whole number >= 1 | trainings at once |
| ``KDLAB_MAX_QUEUE`` | ``60`` | a whole number >= 0 | runs waiting at most; one more is refused |
| ``KDLAB_JOB_TTL`` | ``3600`` | whole seconds >= 0 | how long a finished job stays findable (while a session holds it) |
| ``KDLAB_MAX_JOBS_PER_CLIENT`` | ``30`` | a whole number >= 1 | one client address's runs queued or running at most |
| ``KDLAB_MAX_VISITOR_JOBS_PER_CLIENT`` | ``4`` | a whole number >= 1 | of those, jobs of sessions without a student code |
| ``KDLAB_TRUSTED_PROXY_HEADER`` | unset: headers ignored | a header name, e.g. ``X-Forwarded-For`` | the client address, from the proxy in front of the app |
| ``KDLAB_RAY_ADDRESS`` | unset: in process | ``local``, ``auto``, ``ray://host:port`` | train on a Ray cluster |
| ``KDLAB_MAX_RUN_COST`` | ``20x`` | ``<n>x`` (default runs), FLOPs (``5e12``), ``inf`` | cap on one lab run's work |
| ``KDLAB_DATABASE_URL`` | SQLite ``KDLAB_CACHE_DIR/kdlab.sqlite3`` | any SQLAlchemy URL | the run database |
| ``KDLAB_KEEP_WEIGHTS`` | ``5`` | a whole number (below 0 counts as 0) | runs per student whose weights are kept |
| ``KDLAB_MAX_RUNS_PER_STUDENT`` | ``200`` | a whole number >= 1 | runs one student keeps; one more is refused |
| ``KDLAB_MAX_RUNS_PER_CLASS`` | ``5000`` | a whole number >= 1 | runs on one class board; one more is refused |
| ``KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS`` | ``100`` | a whole number >= 1 | one student's runs on one class board |
| ``KDLAB_MAX_RUNS_PER_MINUTE`` | ``10`` | a whole number >= 1 | runs one student files a minute (cached results too) |
| ``KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE`` | ``60`` | a whole number >= 1 | runs one client address files a minute |
| ``KDLAB_MAX_CLASSES_PER_CLIENT`` | ``10`` | a whole number >= 1 | classes one client address creates an hour (no instructor key) |
| ``KDLAB_LESSONS_DIR`` | the repository's ``lessons/`` | a folder of lesson files | the guided lessons |
| ``KDLAB_INSTRUCTOR_KEY`` | unset: no controls | text of at least 16 characters | the instructor's key for the board |
| ``KDLAB_HEARTBEAT_STALE_SECONDS`` | ``60`` | whole seconds >= 1 | a server silent this long is dead: its runs were cut off |
| ``KDLAB_STACK`` | on with CUDA, else off | as ``KDLAB_OFFLINE`` | train compatible queued lab runs as one stacked model |
| ``KDLAB_PROCESSES`` | on with the CPU, else off | as ``KDLAB_OFFLINE`` | train in worker processes beside the web server |

A client address is what the app's server sees; with ``KDLAB_TRUSTED_PROXY_HEADER`` set it is the right-most
entry of that header (the address the proxy itself saw; set it only when a proxy that sets the header is in
front of the app and the app listens on 127.0.0.1: without one, a student can write the header). Connections
from this machine without the header (a proxy on this host that does not set it) all count as one client,
``local`` (``kdlab.serve.clients``). A class behind one router shares one address: raise the ``*_PER_CLIENT``
limits there.

``KDLAB_MAX_JOBS``, ``KDLAB_MAX_QUEUE``, ``KDLAB_MAX_JOBS_PER_CLIENT`` and ``KDLAB_MAX_VISITOR_JOBS_PER_CLIENT``
are lenient: a value they cannot use keeps the default (with a warning in the log), so a typo never stops a
class's server from starting.
"""

from __future__ import annotations

import logging
import math
import os
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal

log = logging.getLogger(__name__)
PREFIX = "KDLAB_"


class SettingsError(ValueError):
    """A ``KDLAB_*`` variable holds a value kdlab cannot use; the message names it and what it accepts."""


@dataclass(frozen=True)
class RunCostCap:
    """``KDLAB_MAX_RUN_COST``: ``amount`` default lab runs, or ``amount`` FLOPs (``inf``: no cap)."""

    amount: float
    unit: Literal["default runs", "FLOPs"]


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "kdlab"


@dataclass(frozen=True)
class Settings:
    """One field per ``KDLAB_<FIELD NAME>`` variable; None means unset (the default is decided where it is used)."""

    data_dir: Path | None = None  # MNIST root with MNIST/raw/ inside, tried first
    cache_dir: Path = field(default_factory=_default_cache_dir)  # teachers, transfer sets, downloads, SQLite
    offline: bool = False  # never try to download MNIST
    device: str | None = None  # torch device of every training; None: CUDA, then MPS, then CPU
    max_jobs: int | None = None  # trainings at once; None: from the cores (kdlab.serve.jobs), on Ray the cluster's
    max_queue: int = 60  # runs waiting at most
    job_ttl: float = 3600.0  # seconds a finished job stays findable; held by the runner 2 min, then by its sessions
    # Half the queue: one address (60 tabs of one machine) never fills it alone; a class shares a router's.
    max_jobs_per_client: int = 30
    # Sessions without a student code are free to open (any tab is one): one machine's tabs share these few.
    max_visitor_jobs_per_client: int = 4
    trusted_proxy_header: str | None = None  # e.g. X-Forwarded-For; None: the connection's own address
    ray_address: str | None = None  # train on Ray ("local", "auto", "ray://host:port"); None: threads of this process
    # 20 default runs: room for every lesson setting without letting one run take the class's hour
    max_run_cost: RunCostCap = RunCostCap(20.0, "default runs")
    database_url: str | None = None  # SQLAlchemy URL of the run database; None: SQLite in cache_dir
    keep_weights: int = 5  # runs per student whose student weights the database keeps
    # A lesson is about 30 runs a student (a run a minute or two for an hour): 200 is several lessons, and
    # 200 runs without weights are about 4 MB of rows, so a script pressing Train cannot fill the disk.
    max_runs_per_student: int = 200
    # 60 students x 80 runs; the board reads a class's runs every refresh (bench/board_refresh.py --runs 5000).
    max_runs_per_class: int = 5000
    # A board holds 60 students x 80 runs; one student's share stays a fiftieth of it.
    max_runs_per_student_in_class: int = 100
    # A cached result files a run at once: a student reading each result presses Train a few times a minute.
    max_runs_per_minute: int = 10
    # A class of 30 behind one router pressing Train twice a minute; a script on one machine fills a board of
    # 5,000 in no less than 83 minutes.
    max_runs_per_client_per_minute: int = 60
    # Without an instructor key a link's code creates its class; a teacher makes one a lesson.
    max_classes_per_client: int = 10
    lessons_dir: Path | None = None  # a folder of lesson files; None: the repository's lessons/
    instructor_key: str | None = field(default=None, repr=False)  # the board's instructor key (a secret: no repr)
    # A server beats every tenth of a minute; a minute of silence is a dead process, not a slow database.
    heartbeat_stale_seconds: float = 60.0
    stack: bool | None = None  # stacked training of compatible lab runs (kdlab.serve.stacking); None: on with CUDA
    processes: bool | None = None  # trainings in worker processes (kdlab.serve.process_runner); None: on with the CPU


def variable(name: str) -> str:
    """The environment variable of the ``Settings`` field ``name``: ``max_jobs`` -> ``KDLAB_MAX_JOBS``."""
    return PREFIX + name.upper()


KNOWN_VARIABLES = tuple(variable(item.name) for item in fields(Settings))
_DEFAULTS = {item.name: item.default for item in fields(Settings)}
_DEVICE = re.compile(r"(cpu|cuda|mps|xpu)(:\d+)?")
_FALSE, _TRUE = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


def _whole_number(name: str, text: str, minimum: int, what: str = "a whole number") -> int:
    try:
        value = int(text)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingsError(f"{variable(name)} must be {what} of at least {minimum} (got {text!r})")
    return value


def _lenient(name: str, text: str, minimum: int) -> int | None:
    """``_whole_number``, or the field's default with a warning: a typo in the queue size never stops a class."""
    try:
        return _whole_number(name, text, minimum)
    except SettingsError as error:
        default = _DEFAULTS[name]
        log.warning("%s; using the default (%s)", error, "from the cores" if default is None else default)
        return default


def _flag(text: str, name: str = "offline") -> bool:
    if text.lower() in _FALSE + _TRUE:
        return text.lower() in _TRUE
    raise SettingsError(f"{variable(name)} must be one of {', '.join(_TRUE + _FALSE)} (got {text!r})")


def _device(text: str) -> str:
    if not _DEVICE.fullmatch(text):
        accepted = "cpu, cuda, mps or xpu, optionally with an index such as cuda:1"
        raise SettingsError(f"KDLAB_DEVICE must be {accepted} (got {text!r})")
    return text


def _keep_weights(text: str) -> int:
    try:
        return max(0, int(text))  # a negative count keeps none, as 0 does
    except ValueError:
        accepted = "a whole number such as 5, or 0 to keep none"
        raise SettingsError(f"KDLAB_KEEP_WEIGHTS must be {accepted} (got {text!r})") from None


def _run_cost_cap(text: str) -> RunCostCap:
    text = text.lower()
    try:
        cap = RunCostCap(float(text[:-1]), "default runs") if text.endswith("x") else RunCostCap(float(text), "FLOPs")
    except ValueError:
        cap = RunCostCap(math.nan, "FLOPs")
    if not cap.amount > 0:  # also catches NaN
        raise SettingsError(
            f"The server's KDLAB_MAX_RUN_COST setting '{text}' is not a positive number: use a multiple of the default "
            "run such as 20x, a number of FLOPs such as 5e12, or inf for no cap. Please tell your instructor."
        )
    return cap


MIN_INSTRUCTOR_KEY_LENGTH = 16  # with 5 guesses per 10 minutes per address, out of reach of guessing


def _instructor_key(text: str) -> str:
    if len(text) < MIN_INSTRUCTOR_KEY_LENGTH:  # the message never shows the key: a log or a projector could
        raise SettingsError(
            f"KDLAB_INSTRUCTOR_KEY is {len(text)} characters long; use at least {MIN_INSTRUCTOR_KEY_LENGTH}, "
            "for example the output of: python -c 'import secrets; print(secrets.token_urlsafe(16))'"
        )
    return text


# Field -> parser of its stripped, non-empty text (the paths keep their spaces: a folder may have them).
_PARSERS: dict[str, Callable[[str], object]] = {
    "data_dir": Path,
    "cache_dir": lambda text: Path(text).expanduser(),
    "offline": _flag,
    "device": _device,
    "max_jobs": lambda text: _lenient("max_jobs", text, 1),
    "max_queue": lambda text: _lenient("max_queue", text, 0),
    "max_jobs_per_client": lambda text: _lenient("max_jobs_per_client", text, 1),
    "max_visitor_jobs_per_client": lambda text: _lenient("max_visitor_jobs_per_client", text, 1),
    "trusted_proxy_header": str,
    "job_ttl": lambda text: float(_whole_number("job_ttl", text, 0, "a whole number of seconds")),
    "ray_address": str,
    "max_run_cost": _run_cost_cap,
    "database_url": str,
    "keep_weights": _keep_weights,
    "max_runs_per_student": lambda text: _whole_number("max_runs_per_student", text, 1),
    "max_runs_per_class": lambda text: _whole_number("max_runs_per_class", text, 1),
    "max_runs_per_student_in_class": lambda text: _whole_number("max_runs_per_student_in_class", text, 1),
    "max_runs_per_minute": lambda text: _whole_number("max_runs_per_minute", text, 1),
    "max_runs_per_client_per_minute": lambda text: _whole_number("max_runs_per_client_per_minute", text, 1),
    "max_classes_per_client": lambda text: _whole_number("max_classes_per_client", text, 1),
    "lessons_dir": Path,
    "instructor_key": _instructor_key,
    "heartbeat_stale_seconds": lambda text: float(
        _whole_number("heartbeat_stale_seconds", text, 1, "a whole number of seconds")
    ),
    "stack": lambda text: _flag(text, "stack"),
    "processes": lambda text: _flag(text, "processes"),
}
_RAW = ("data_dir", "cache_dir")  # read as written: only an empty value is unset


def load_settings(environ: Mapping[str, str]) -> Settings:
    """The settings in ``environ`` (e.g. ``os.environ``); unset or empty variables keep their defaults.

    Raises:
        SettingsError: a variable holds a value kdlab cannot use (the message names it and what it accepts).
    """
    values = {}
    for name, parse in _PARSERS.items():
        raw = environ.get(variable(name), "")
        text = raw if name in _RAW else raw.strip()
        if text:
            values[name] = parse(text)
    return Settings(**values)


_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, str], ...], Settings | SettingsError] | None = None  # the environment and its parse
_warned: set[str] = set()


def current_settings() -> Settings:
    """The settings of ``os.environ``, parsed again only when a ``KDLAB_*`` variable changed.

    Raises:
        SettingsError: see ``load_settings``.
    """
    global _cached
    # Names first, then only the KDLAB_* values: os.environ.items() decodes every value (measured with 38
    # variables on a loaded 2-core machine: 50 us a call instead of 150 us).
    key = tuple(sorted((name, os.environ.get(name, "")) for name in os.environ if name.startswith(PREFIX)))
    with _lock:
        if _cached is None or _cached[0] != key:
            _warn_unknown(name for name, _ in key)
            try:
                _cached = (key, load_settings(dict(key)))
            except SettingsError as error:  # kept too: every page asks again, and the log warns once
                _cached = (key, error)
        if isinstance(_cached[1], SettingsError):
            raise SettingsError(*_cached[1].args)  # a fresh one: re-raising one object grows its traceback
        return _cached[1]


def _warn_unknown(names) -> None:
    for name in sorted(set(names) - set(KNOWN_VARIABLES) - _warned):
        _warned.add(name)
        log.warning("Unknown setting %s is ignored; kdlab reads %s", name, ", ".join(KNOWN_VARIABLES))
