"""A finished replay's result rendered in the pseudo-language (``?lang=xx``): every sentence, heading, metric and
caption of the table replay's result is marked, and the replays' words read in Spanish (tiny budget, offline)."""

from kdlab.i18n import PSEUDO
from tests.app.helpers import open_alone, texts
from tests.app.test_pseudo_locale import english_outside_markers, shown_strings
from tests.app.test_replay_pages import TIMEOUT, click_and_wait, tiny_budget  # noqa: F401 (a fixture)


def test_a_replay_result_shows_no_english_outside_the_markers(tiny_budget):  # noqa: F811
    app = open_alone("pages/paper_replays.py", query={"lang": PSEUDO}, timeout=TIMEOUT)
    click_and_wait(app, "[~Run the {name} replay ({budget} budget)~]".format(name="table", budget="quick"))
    assert not app.exception, [error.value for error in app.exception]
    shown = texts(app.info) + texts(app.warning)
    assert "[~Distilling removed" in shown or "[~The distilled student made" in shown
    assert any(metric.label.startswith("[~[~Distilled~], T = ") for metric in app.metric)  # the result is shown
    leftovers = {text[:80]: words for text in shown_strings(app) if (words := english_outside_markers(text))}
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_the_replays_page_reads_in_spanish(tiny_budget):  # noqa: F811
    app = open_alone("pages/paper_replays.py", query={"lang": "es"}, timeout=TIMEOUT)
    assert not app.exception, [error.value for error in app.exception]
    assert app.title[0].value.startswith("Réplicas de artículos")
    assert app.radio(key="replay.budget").options == ["Rápido (clase)", "Completo (largo)"]
    assert "Profesor 67 errores de prueba" in texts(app.caption) or "profesor 67 errores" in texts(app.caption)
    assert [tab.label for tab in app.tabs][0] == "La tabla de MNIST: profesor, estudiante solo, estudiante destilado"
