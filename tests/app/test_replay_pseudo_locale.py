"""A finished replay's result rendered in the pseudo-language (``?lang=xx``): every sentence, heading, metric and
caption of the table replay's result is marked; and the page reads in Spanish (tiny budget, offline)."""

from dataclasses import replace

from kdlab.i18n import PSEUDO
from kdlab.serve.jobs import default_runner
from tests.app.helpers import open_alone, texts
from tests.app.test_pseudo_locale import english_outside_markers, shown_strings
from tests.app.test_replay_pages import TIMEOUT, button, tiny_budget  # noqa: F401 (a fixture)

# The job trains three small models; on a busy 2-core machine that took over 2 minutes, so the wait is generous.
JOB_WAIT = 600


def test_a_replay_result_shows_no_english_outside_the_markers(tiny_budget, monkeypatch):  # noqa: F811
    import kdlab.experiments.replays as replays
    from kdlab.experiments.replays.table import table_config

    def small(budget, **settings):  # a linear teacher stands in (its note is shown too), a small student
        return table_config(budget, **{"teacher": "linear", "student": "mlp-100x1", **settings})

    monkeypatch.setitem(replays.REPLAYS, "table", replace(replays.REPLAYS["table"], config=small))
    app = open_alone("pages/paper_replays.py", query={"lang": PSEUDO}, timeout=TIMEOUT)
    before = {job.id for job in default_runner().jobs()}
    button(app, "[~Run the {name} replay ({budget} budget)~]".format(name="table", budget="quick")).click().run()
    (job,) = [job for job in default_runner().jobs() if job.id not in before]
    assert default_runner().wait(job, timeout=JOB_WAIT), "the replay did not finish in time"
    app.run()
    assert not app.exception, [error.value for error in app.exception]
    shown = texts(app.info) + texts(app.warning)
    assert "[~Distilling removed" in shown or "[~The distilled student made" in shown  # the result is on the page
    assert "[~**Teacher:** [~linear stands in for the paper's 1200-1200 teacher" in shown  # the stand-in's note
    leftovers = {text[:80]: words for text in shown_strings(app) if (words := english_outside_markers(text))}
    assert leftovers == {}, "mark these with _() (kdlab.i18n) and add their translations"


def test_the_replays_page_reads_in_spanish(tiny_budget):  # noqa: F811
    app = open_alone("pages/paper_replays.py", query={"lang": "es"}, timeout=TIMEOUT)
    assert not app.exception, [error.value for error in app.exception]
    assert app.title[0].value.startswith("Réplicas de artículos")
    assert app.radio(key="replay.budget").options == ["Rápido (clase)", "Completo (largo)"]
    assert "Artículo: profesor 67 errores de prueba, estudiante solo 146" in texts(app.caption)
    assert app.tabs[0].label == "La tabla de MNIST: profesor, estudiante solo, estudiante destilado"
