"""The session's language: ``?lang=`` first (a bad one is a message), else the browser's, else English; the
sidebar's control switches it and writes ``?lang=`` back beside the other parameters; it lasts across pages."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from kdlab.ui.language import CONTROL_KEY, accepted_languages
from tests.app.helpers import APP, texts


def open_app(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    return at.run()


def test_lang_in_the_link_sets_the_language():
    at = open_app({"lang": "es"})
    assert not at.exception
    assert at.title[0].value == "Destilación del conocimiento, en directo con MNIST"
    assert at.selectbox(key=CONTROL_KEY).value == "es"
    at = open_app({"lang": "vi"})
    assert at.title[0].value == "Chưng cất tri thức, trực tiếp trên MNIST"


def test_a_bad_lang_is_a_message_and_the_page_stays_english():
    at = open_app({"lang": "<script>"})
    assert not at.exception
    assert "is not one kdlab speaks" in texts(at.warning)
    assert "<script>" not in texts(at.warning)  # never echoed
    assert at.title[0].value == "Knowledge distillation, live on MNIST"
    assert "lang" not in at.query_params


def test_the_control_switches_the_language_and_keeps_the_other_parameters():
    at = open_app({"lang": "es", "class": "PHYS7"})
    at.selectbox(key=CONTROL_KEY).set_value("vi").run()
    assert not at.exception
    assert at.title[0].value == "Chưng cất tri thức, trực tiếp trên MNIST"
    assert at.query_params["lang"] == "vi" and at.query_params["class"] == "PHYS7"


def test_the_language_lasts_across_pages_after_a_navigation_link_drops_it():
    at = open_app({"lang": "es"})
    at.query_params.pop("lang")  # a navigation link does not carry it
    at.switch_page("pages/glossary.py")
    at.run()
    assert at.query_params["lang"] == "es"
    assert "Aprender" in texts(at.caption)  # the navigation's sections, in Spanish


def test_the_browser_languages_are_read_in_their_order_of_preference():
    assert accepted_languages("fr-FR,vi;q=0.9,es;q=0.95,en;q=0.1") == ["fr-FR", "es", "vi", "en"]
    assert accepted_languages("*, es;q=bad, ;q=1, vi;q=2") == []
    assert len(accepted_languages("es," * 10_000)) <= 10  # a stranger's header is read within a bound
