"""The lab's controls in the session's language: labels, help, options' names and numbers from the settings table
and the methods translated where the lab shows them, while the values a control returns and a link carries stay
the same in every language."""

from kdlab.classroom.lab_settings import lab_setting
from kdlab.i18n import _, use_language
from kdlab.ml.methods.registry import METHODS
from tests.app.helpers import open_alone, texts

LAB = "pages/distillation_lab.py"


def test_the_lab_in_spanish_translates_its_controls_and_keeps_their_values():
    at = open_alone(LAB, query={"lang": "es", "T": "8", "alpha": "0.5", "lock": "alpha"})
    assert not at.exception, [e.value for e in at.exception]
    temperature, alpha = at.select_slider(key="lab.temperature"), at.slider(key="lab.alpha")
    assert temperature.label == "Temperatura T" and temperature.value == 8.0  # the value is the link's number
    assert alpha.label.endswith("(bloqueado)") and alpha.value == 0.5 and alpha.disabled
    assert alpha.help.startswith("Bloqueado en alpha = 0.5 por el enlace de la tarea de tu profesor.")
    assert "1,5" in temperature.options  # the language's decimal mark
    sizes = at.select_slider(key="lab.train_size").options
    assert "1.000" in sizes and sizes[-1].endswith("(todas)")  # its grouping, and the whole set named
    method = at.radio(key="lab.soft")
    assert "Solo NCKD" in method.options and method.value == "kd"
    assert "Método: qué aprende el estudiante del profesor" == method.label
    assert "**Objetivos suaves**" in texts(at.markdown) and "**Entrenamiento**" in texts(at.markdown)
    assert "No se ofrece: AT iguala los mapas de características" in texts(at.caption)  # the MLP student has none
    assert at.button(key="lab.train").label == "Entrenar"


def test_the_lab_in_vietnamese_names_the_methods_and_the_schedules():
    at = open_alone(LAB, query={"lang": "vi", "schedule": "annealed"})
    assert not at.exception, [e.value for e in at.exception]
    schedule = at.radio(key="lab.schedule")
    assert schedule.label == "Lịch nhiệt độ" and schedule.value == "annealed"
    assert "giảm dần (T xuống 1)" in schedule.options
    assert "Lịch nhiệt độ giảm dần (T xuống 1): T giảm từ T của lần chạy xuống 1" in texts(at.caption)
    assert at.button(key="lab.train").label == "Huấn luyện"


def test_every_method_and_setting_shown_in_the_lab_has_its_translation():
    """The registry's fields reach the catalogues through N_: each one the lab shows has a Spanish and a Vietnamese
    text of its own (an acronym such as KD may stay as it is)."""
    shown = [lab_setting(name).label for name in ("T", "alpha", "soft", "schedule", "epochs", "lr", "seed")]
    shown += [method.summary for method in METHODS.values()]
    for code in ("es", "vi"):
        use_language(code)
        try:
            assert all(_(text) != text for text in shown), code
        finally:
            use_language("en")
