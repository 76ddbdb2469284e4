"""Translation: the current language, ``_``/``ngettext``/``N_``, and numbers formatted for it (Python's
``gettext`` with Babel's catalogues; the bottom layer: imports nothing from kdlab, so every package may mark
its strings).

A message is English source text with ``str.format`` named placeholders, translated at the moment it is shown:
``_("{count} runs").format(count=n)``. Never an f-string inside ``_()``: extraction reads the literal. A
module-level constant is marked with ``N_`` (unchanged, but extracted) and translated with ``_()`` where shown.

The catalogues are ``locales/<code>/LC_MESSAGES/kdlab.po``, extracted from the code into ``locales/kdlab.pot``
(CONTRIBUTING.md: "Adding a language"). No ``.mo`` file is kept: a ``.po`` file is read and compiled in memory
once per language per process (about 10 ms), then shared read-only by every session.

The current language is a ``contextvars.ContextVar``: Streamlit runs each session's script in a thread of its
own, so a session's choice never leaks into another's; the app sets it at the start of every run of every page
(``use_language``). ``PSEUDO`` ("xx") is a pseudo-language for tests and translators: every translated string
is wrapped in ``[~`` and ``~]``, its placeholders kept, so an English sentence left outside the markers is one
that was never marked for translation.
"""

from __future__ import annotations

import gettext
import io
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import parse_pattern

DOMAIN = "kdlab"
LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANGUAGE = "en"
# Each language's name in its own language: the language control shows these.
LANGUAGES = {"en": "English", "es": "Español", "vi": "Tiếng Việt"}
PSEUDO = "xx"  # accepted from ?lang=xx, never offered in the language control
PSEUDO_OPEN, PSEUDO_CLOSE = "[~", "~]"

_language: ContextVar[str] = ContextVar("kdlab_language", default=DEFAULT_LANGUAGE)
_catalogues: dict[str, gettext.NullTranslations] = {}
_lock = threading.Lock()


def is_language(code: object) -> bool:
    """True for a language the app speaks (``LANGUAGES``) or the pseudo-language."""
    return code in LANGUAGES or code == PSEUDO


def use_language(code: str) -> None:
    """Make ``code`` the current language of this thread's context (the running session's script)."""
    if not is_language(code):
        raise ValueError(f"{code!r} is not a language of kdlab: use one of {', '.join(LANGUAGES)}")
    _language.set(code)


# gettext's order (gettext.find): the first of these that is set names the languages, LANGUAGE as a colon list.
ENVIRONMENT_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")


def language_from_environment(environ: Mapping[str, str] | None = None) -> str:
    """The language a command-line program speaks, chosen from the environment as ``gettext`` chooses its
    catalogue: the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES`` and ``LANG`` that is set, its first
    locale (``es_ES.UTF-8``, ``vi_VN``, ``es``) that names a language of kdlab; ``C``, ``POSIX`` or none
    known: English. ``environ`` defaults to ``os.environ``."""
    environ = os.environ if environ is None else environ
    value = next((environ[name] for name in ENVIRONMENT_VARIABLES if environ.get(name)), "")
    for locale in value.split(":"):
        code = locale.split(".")[0].split("@")[0].split("_")[0].split("-")[0].strip().lower()
        if code in ("c", "posix"):  # gettext stops at C: untranslated
            break
        if is_language(code):
            return code
    return DEFAULT_LANGUAGE


def current_language() -> str:
    """The current language's code ("en" unless ``use_language`` said otherwise in this context)."""
    return _language.get()


def catalogue_path(code: str) -> Path:
    """The ``.po`` file of language ``code``."""
    return LOCALES_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def translations(code: str) -> gettext.NullTranslations:
    """The compiled catalogue of ``code`` (English and the pseudo-language: none, the msgids themselves),
    compiled once per process and shared read-only."""
    found = _catalogues.get(code)
    if found is not None:
        return found
    with _lock:
        if code not in _catalogues:
            _catalogues[code] = _compile(code)
        return _catalogues[code]


def _compile(code: str) -> gettext.NullTranslations:
    path = catalogue_path(code)
    if code not in LANGUAGES or not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as source:
        catalogue = read_po(source, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)  # a fuzzy entry is a guess: English until a person checks it
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def _pseudo(text: str) -> str:
    return f"{PSEUDO_OPEN}{text}{PSEUDO_CLOSE}"


def _(message: str) -> str:
    """``message`` in the current language (itself in English, and where a catalogue lacks it)."""
    code = current_language()
    if code == PSEUDO:
        return _pseudo(message)
    return translations(code).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or the plural message for ``n`` in the current language, by its own plural rules
    (Vietnamese has one form, Spanish two); format ``n`` into it with ``.format``."""
    code = current_language()
    if code == PSEUDO:
        return _pseudo(singular if n == 1 else plural)
    return translations(code).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802 (gettext's name for it)
    """Mark ``message`` for extraction and return it unchanged: a constant translated with ``_()`` where shown."""
    return message


def number_locale() -> Locale:
    """The Babel locale numbers are written in (English for the pseudo-language)."""
    code = current_language()
    return Locale.parse(DEFAULT_LANGUAGE if code == PSEUDO else code)


def number(value: float, decimals: int | None = None) -> str:
    """``value`` with the current language's separators ("12,345.6", "12.345,6"); ``decimals`` digits after
    the mark when given, else the locale's own rule (up to three)."""
    locale = number_locale()
    pattern = parse_pattern(locale.decimal_formats[None].pattern)
    if decimals is not None:
        pattern.frac_prec = (decimals, decimals)
    return pattern.apply(Decimal(str(value)), locale)


def percent(value: float, decimals: int = 0) -> str:
    """The fraction ``value`` as a percentage in the current language ("97.5%", "97,5 %", "97,5%")."""
    locale = number_locale()
    pattern = parse_pattern(locale.percent_formats[None].pattern)
    pattern.frac_prec = (decimals, decimals)
    return pattern.apply(Decimal(str(value)), locale)


@contextmanager
def speaking(code: str | None) -> Iterator[None]:
    """Within the block, ``code`` is the current language (``None``: the current one stays): for a file made in
    a language other than the page's, such as a notebook or a worksheet."""
    if code is None:
        yield
        return
    if not is_language(code):
        raise ValueError(f"{code!r} is not a language of kdlab: use one of {', '.join(LANGUAGES)}")
    token = _language.set(code)
    try:
        yield
    finally:
        _language.reset(token)
