"""kdlab.i18n: messages in the current language, plurals by each language's rule, the pseudo-language's
markers around every message (its placeholders still filled by ``.format``), one session's language never
another's (a ContextVar per thread), and numbers written as each language writes them."""

from __future__ import annotations

import threading
from contextvars import copy_context

import pytest

from kdlab.i18n import (
    N_,
    PSEUDO,
    _,
    current_language,
    language_from_environment,
    ngettext,
    number,
    percent,
    use_language,
)

THREADS = ("CPU: {threads} training thread on {cores} cores", "CPU: {threads} training threads on {cores} cores")


def in_language(code: str, function, *args):
    """``function(*args)`` with ``code`` the current language, in a context of its own (the test's stays)."""

    def run():
        use_language(code)
        return function(*args)

    return copy_context().run(run)


def test_a_message_in_each_language():
    assert in_language("en", _, "Teacher") == "Teacher"
    assert in_language("es", _, "Teacher") == "Profesor"
    assert in_language("vi", _, "Teacher") == "Mô hình thầy"


def test_an_unknown_message_stays_english():
    assert in_language("es", _, "Not a message of kdlab") == "Not a message of kdlab"


def test_plurals_follow_each_language():
    def line(count: int) -> str:
        return ngettext(*THREADS, count).format(threads=count, cores=2)

    assert in_language("en", line, 1) == "CPU: 1 training thread on 2 cores"
    assert in_language("en", line, 3) == "CPU: 3 training threads on 2 cores"
    assert in_language("es", line, 1) == "CPU: 1 hilo de entrenamiento en 2 núcleos"
    assert in_language("es", line, 3) == "CPU: 3 hilos de entrenamiento en 2 núcleos"
    assert in_language("vi", line, 1) == "CPU: 1 luồng huấn luyện trên 2 lõi"  # one form for every count
    assert in_language("vi", line, 3) == "CPU: 3 luồng huấn luyện trên 2 lõi"


def test_the_pseudo_language_wraps_every_message_and_keeps_its_placeholders():
    assert in_language(PSEUDO, _, "Teacher") == "[~Teacher~]"
    filled = in_language(PSEUDO, _, "Your lab run: {progress}").format(progress="40%")
    assert filled == "[~Your lab run: 40%~]"
    assert in_language(PSEUDO, ngettext, *THREADS, 2).format(threads=2, cores=4) == (
        "[~CPU: 2 training threads on 4 cores~]"
    )


def test_n_marks_without_translating():
    assert in_language("es", N_, "Teacher") == "Teacher"
    assert in_language("es", lambda: _(N_("Teacher"))) == "Profesor"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="es, vi|en, es, vi"):
        use_language("fr")


def test_each_thread_keeps_its_own_language():
    # Streamlit runs each session's script in a thread of its own: one session's choice never reaches another's.
    ready, seen = threading.Barrier(2), {}

    def session(code: str) -> None:
        use_language(code)
        ready.wait()  # both have set theirs before either reads
        seen[code] = (current_language(), _("Teacher"))

    threads = [threading.Thread(target=session, args=(code,)) for code in ("es", "vi")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"es": ("es", "Profesor"), "vi": ("vi", "Mô hình thầy")}
    assert current_language() == "en"  # and this thread never chose one


def test_numbers_and_percentages_for_each_language():
    assert in_language("en", number, 12345.678, 1) == "12,345.7"
    assert in_language("es", number, 12345.678, 1) == "12.345,7"
    assert in_language("vi", number, 12345.678, 1) == "12.345,7"
    assert in_language("es", number, 60000) == "60.000"
    assert in_language("en", percent, 0.975, 1) == "97.5%"
    assert in_language("es", percent, 0.975, 1) == "97,5\xa0%"  # Spanish puts a non-breaking space before %
    assert in_language("vi", percent, 0.975, 1) == "97,5%"
    assert in_language(PSEUDO, number, 1234.5, 1) == "1,234.5"  # the pseudo-language writes numbers as English


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "es_ES.UTF-8"}, "es"),
        ({"LANG": "vi_VN"}, "vi"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "C"}, "en"),
        ({"LANG": "POSIX"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
        ({"LANG": "es_ES.UTF-8", "LC_ALL": "vi_VN.UTF-8"}, "vi"),  # LC_ALL before LANG
        ({"LC_ALL": "", "LC_MESSAGES": "es_MX", "LANG": "vi_VN"}, "es"),  # an empty variable is not set
        ({"LANGUAGE": "fr:vi:es", "LANG": "es_ES.UTF-8"}, "vi"),  # LANGUAGE's first known language wins
        ({"LANGUAGE": "es_ES@euro"}, "es"),
        ({"LANGUAGE": "C:es"}, "en"),  # gettext stops at C
    ],
)
def test_the_command_lines_language_comes_from_the_environment_as_gettext_reads_it(environ, expected):
    assert language_from_environment(environ) == expected
