"""The student glossary: every term has words, every link the app builds points at an entry the Glossary page
draws, and a page links each term where it first uses it."""

import re

import pytest

from kdlab.classroom.glossary import GLOSSARY_PAGE, TERMS, TERMS_BY_ANCHOR, FirstUses, term_forms, term_link
from kdlab.classroom.lab_settings import LAB_SETTINGS
from kdlab.classroom.pages import PAGES
from kdlab.i18n import PSEUDO, speaking

LINK = re.compile(r"\]\(([^)#]+)#([^)]+)\)")


def test_every_term_has_a_short_text_and_a_unique_anchor():
    assert len(TERMS_BY_ANCHOR) == len(TERMS)
    for term in TERMS:
        assert 40 < len(term.text) < 400, term.term  # one to three short sentences
    asked = {"teacher", "student", "logit", "softmax", "temperature", "soft-target", "hard-label", "dark-knowledge"}
    asked |= {"kl-divergence", "cross-entropy", "alpha", "transfer-set", "seed", "epoch", "test-error"}
    assert asked | {"calibration", "parameters", "tckd-nckd"} <= set(TERMS_BY_ANCHOR)
    assert TERMS_BY_ANCHOR["tckd-nckd"].advanced and not TERMS_BY_ANCHOR["temperature"].advanced
    features = {"feature-map", "attention-map", "hint", "feature-based-distillation", "relation-based-distillation"}
    assert features <= set(TERMS_BY_ANCHOR)  # the explorer's look inside the teacher links them
    assert TERMS_BY_ANCHOR["hint"].advanced and not TERMS_BY_ANCHOR["attention-map"].advanced


def test_the_feature_terms_link_their_words_in_a_sentence():
    linked = FirstUses().link("Feature-based distillation copies attention maps or a hint layer; relation-based too.")
    assert "[Feature-based distillation](glossary#feature-based-distillation)" in linked
    assert "[attention maps](glossary#attention-map)" in linked and "[hint layer](glossary#hint)" in linked
    assert "[relation-based](glossary#relation-based-distillation)" in linked


def test_a_link_points_at_the_glossary_page_and_an_anchor_it_has():
    assert GLOSSARY_PAGE in PAGES
    page, anchor = LINK.search(term_link("temperature", "T")).groups()
    assert (page, anchor) == (GLOSSARY_PAGE.url_path, "temperature")
    with pytest.raises(ValueError, match="not a glossary term"):
        term_link("temprature", "T")
    for setting in LAB_SETTINGS:  # the lab's Words lines come from these
        assert not setting.term or setting.term in TERMS_BY_ANCHOR, setting.url


def test_a_page_links_each_term_at_its_first_use_only():
    words = FirstUses()
    first = words.link("The teacher softens its soft targets with a temperature; the teacher again.")
    assert first.count("](glossary#teacher)") == 1 and "the teacher again" in first
    assert "[soft targets](glossary#soft-target)" in first and "[temperature](glossary#temperature)" in first
    later = words.link("A teacher and a student.")
    assert "#teacher" not in later and "[student](glossary#student)" in later


def test_maths_code_and_links_stay_as_they_are():
    text = "With $\\alpha$ and `alpha` and [alpha](elsewhere) and https://example.org/alpha, then alpha."
    linked = FirstUses().link(text)
    assert linked.startswith("With $\\alpha$ and `alpha` and [alpha](elsewhere) and https://example.org/alpha,")
    assert linked.endswith("then [alpha](glossary#alpha).")


def test_a_spanish_page_links_the_spanish_words():
    with speaking("es"):
        words = FirstUses()
        first = words.link(
            "El profesor suaviza sus objetivos suaves con una temperatura efectiva; el profesor otra vez."
        )
        later = words.link("Una temperatura, un profesor y unos estudiantes.")
    assert first.count("](glossary#teacher)") == 1 and "el profesor otra vez" in first
    assert "[objetivos suaves](glossary#soft-target)" in first
    # the longer form is one term: not "temperatura" and a word after it
    assert "[temperatura efectiva](glossary#effective-temperature)" in first
    assert "[temperatura](glossary#temperature)" in later and "[estudiantes](glossary#student)" in later
    assert "#teacher" not in later


def test_a_vietnamese_page_links_the_vietnamese_words():
    with speaking("vi"):
        linked = FirstUses().link(
            "Mô hình thầy cho nhãn mềm ở nhiệt độ T; nhiệt độ hiệu dụng của logit chuẩn hoá khác nhiệt độ đó, "
            "và mô hình học trò học tri thức ẩn."
        )
    assert "[Mô hình thầy](glossary#teacher)" in linked and "[nhãn mềm](glossary#soft-target)" in linked
    assert "[nhiệt độ](glossary#temperature) T" in linked
    assert "[nhiệt độ hiệu dụng](glossary#effective-temperature)" in linked
    assert "[logit chuẩn hoá](glossary#standardised-logits)" in linked
    assert "[mô hình học trò](glossary#student)" in linked and "[tri thức ẩn](glossary#dark-knowledge)" in linked
    assert linked.count("glossary#temperature") == 1


def test_the_words_follow_the_language_and_english_stays_english():
    sentence = "The teacher and el profesor."
    assert "[teacher](glossary#teacher)" in FirstUses().link(sentence)
    with speaking("es"):
        assert "[profesor](glossary#teacher)" in FirstUses().link(sentence)
    with speaking(PSEUDO):  # the pseudo-language's markers are no words: English text keeps its links
        assert "[teacher](glossary#teacher)" in FirstUses().link(sentence)


def test_every_term_is_translated_with_its_numbers_written_for_the_language():
    transfer = TERMS_BY_ANCHOR["transfer-set"]
    assert "5,000 by default" in transfer.definition
    for language in ("es", "vi"):
        with speaking(language):
            assert "5.000" in transfer.definition and "{" not in transfer.definition
            for term in TERMS:
                assert term.definition != term.text and "{" not in term.definition, (language, term.anchor)
        anchors = {anchor for _form, anchor in term_forms(language)}
        assert anchors == set(TERMS_BY_ANCHOR), language  # every term has words in every language
    with speaking("es"):
        assert TERMS_BY_ANCHOR["teacher"].title == "Profesor"
