"""The catalogues are complete: the template holds every message the code marks (extracted again here, with
the command CONTRIBUTING.md gives), and every language translates every message of it, fuzzy-free, with the
same placeholders."""

from __future__ import annotations

import string

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from kdlab.i18n import DOMAIN, LANGUAGES, LOCALES_DIR, catalogue_path
from tests.conftest import PROJECT_ROOT

TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
# The extraction of CONTRIBUTING.md's "Adding a language", less the output file.
EXTRACT = ["pybabel", "extract", "-F", "babel.cfg", "-k", "_", "-k", "N_", "-k", "ngettext:1,2"]
EXTRACT += ["--add-comments=Translators:", "--add-location=file", "--sort-output", "--project=kdlab"]
HOW_TO_FIX = (
    "run the extraction and the update of CONTRIBUTING.md's 'Adding a language' (pybabel extract ... then "
    "pybabel update ...), then translate the new messages in every kdlab/i18n/locales/<lang>/LC_MESSAGES/kdlab.po"
)
TRANSLATED = sorted(code for code in LANGUAGES if code != "en")


def messages(path) -> dict:
    with open(path, "rb") as source:
        return {message.id: message for message in read_po(source) if message.id}


def placeholders(text: str) -> set[str]:
    """The ``str.format`` fields of ``text``: ``"{count} runs"`` -> ``{"count"}``."""
    return {field for _literal, field, _spec, _conversion in string.Formatter().parse(text) if field is not None}


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    output = tmp_path_factory.mktemp("extract") / "kdlab.pot"
    # pybabel's own command line, in this process; relative paths are the repository's (babel.cfg's patterns)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(PROJECT_ROOT)
        CommandLineInterface().run([*EXTRACT, "-o", str(output), "."])
    return messages(output)


def test_the_template_holds_exactly_the_messages_the_code_marks(extracted):
    template = messages(TEMPLATE)
    new, gone = sorted(map(str, set(extracted) - set(template))), sorted(map(str, set(template) - set(extracted)))
    assert not new, f"messages marked in the code but not in {TEMPLATE.name}: {new}; {HOW_TO_FIX}"
    assert not gone, f"messages in {TEMPLATE.name} that the code no longer marks: {gone}; {HOW_TO_FIX}"


def test_the_template_is_not_empty(extracted):
    assert "Knowledge distillation, live on MNIST" in extracted  # guards the test above against a blind extraction


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_language_translates_every_message_with_its_placeholders(code):
    template, catalogue = messages(TEMPLATE), messages(catalogue_path(code))
    missing = sorted(str(msgid) for msgid in template if msgid not in catalogue)
    assert not missing, f"{code}: messages of the template not in its catalogue: {missing}; {HOW_TO_FIX}"
    for msgid, message in catalogue.items():
        assert msgid in template, f"{code}: {msgid!r} is no longer in the template; {HOW_TO_FIX}"
        assert not message.fuzzy, f"{code}: {msgid!r} is marked fuzzy: check the translation and remove the flag"
        singulars = msgid if isinstance(msgid, tuple) else (msgid,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(form.strip() for form in forms), f"{code}: {msgid!r} has no translation"
        wanted = set().union(*map(placeholders, singulars))
        for form in forms:
            assert placeholders(form) == wanted, f"{code}: {form!r} must keep the placeholders {sorted(wanted)}"
