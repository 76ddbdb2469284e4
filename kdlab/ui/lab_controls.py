"""The lab's controls, one per row of ``kdlab.classroom.lab_settings.LAB_SETTINGS``: each drawn from its
row (label, key, values, help), shown locked when an assignment link locks it, and set from a link."""

from __future__ import annotations

import re

import streamlit as st
from babel.numbers import format_decimal

from kdlab.classroom.lab_settings import (
    LAB_SETTINGS,
    METHOD_SOURCES,
    SCHEDULE_NOTE,
    LabSetting,
    lab_setting,
    method_fit,
)
from kdlab.classroom.links import ParsedLink
from kdlab.classroom.values import value_text
from kdlab.i18n import _, number_locale
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.models import ARCHITECTURES
from kdlab.ml.temperature import SCHEDULES
from kdlab.ui.widgets import MLP_FAMILY, student_picker, teacher_selectbox

PERSIST = "session"  # the controls keep their values when the student visits another page
_MLP = re.compile(r"mlp-(\d+)x(\d+)")


def set_control(name: str, value: object) -> None:
    """Put a lab setting (by URL name) into the session state of its control(s)."""
    setting = lab_setting(name)
    if setting.widget != "student":
        st.session_state[setting.key] = value
        return
    match = _MLP.fullmatch(str(value))
    if match and str(value) not in ARCHITECTURES:  # mlp-1200x2 is a named one (with dropout), not the family's
        st.session_state[f"{setting.key}.family"] = MLP_FAMILY
        st.session_state[f"{setting.key}.width"], st.session_state[f"{setting.key}.depth"] = map(int, match.groups())
    else:
        st.session_state[f"{setting.key}.family"] = value


def init_controls(train_count: int) -> None:
    """Give every lab control ``DistillConfig()``'s value the first time the session opens the lab."""
    for setting in LAB_SETTINGS:
        key = f"{setting.key}.family" if setting.widget == "student" else setting.key
        if key not in st.session_state:
            set_control(setting.url, setting.default(train_count))


def control_help(setting: LabSetting) -> str | None:
    """A control's help in the session's language: its row's, or for the method and the temperature schedule a
    line per method (``METHODS``) or schedule (``SCHEDULES``) and the row's note."""
    if setting.url == "soft":
        lines = (
            _("{method}: {summary}").format(method=_(method.label), summary=_(method.summary))
            for method in METHODS.values()
        )
        return "; ".join(lines) + " " + _(METHOD_SOURCES)
    if setting.url == "schedule":
        lines = (
            _("{schedule}: {summary}").format(schedule=shown_value(setting, name), summary=_(text))
            for name, text in SCHEDULES.items()
        )
        return "; ".join(lines) + ". " + _(SCHEDULE_NOTE)
    return _(setting.help) if setting.help else None


def shown_value(setting: LabSetting, value: object, train_count: int | None = None) -> str:
    """A value as the control shows it in the session's language: an option's name (``option_labels``), a number
    with the language's separators ("0,001", "5.000"), the whole training set as "60,000 (all)"."""
    if setting.option_labels:
        label = setting.option_labels.get(value)
        return str(value) if label is None else _(label)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return str(value)
    pattern = "#,##0.######" if setting.number_format == "," else "0.######"  # a seed, a rate: no grouping
    text = format_decimal(value, format=pattern, locale=number_locale())
    if setting.field == "train_size" and value == train_count:
        return _("{size} (all)").format(size=text)
    return text


def lock_label(label: str, name: str, link: ParsedLink) -> str:
    """A control's label, marked in words when the link locks it (a screen reader reads the label)."""
    return _("{label} (locked)").format(label=label) if link.is_locked(name) else label


def lock_help(name: str, link: ParsedLink, help_text: str | None = None) -> str | None:
    """A control's help, saying first at which value the link locks it."""
    if not link.is_locked(name):
        return help_text
    value = value_text(_(lab_setting(name).name), link.values[name])  # "tasa de aprendizaje = 0.001"
    return _("Locked by your teacher's assignment link at {value}.").format(value=value) + (
        " " + help_text if help_text else ""
    )


def method_control(setting: LabSetting, link: ParsedLink, train_count: int, teacher: str, student: str) -> str:
    """The method's radio (``setting``: the row ``soft``), offering only the methods that fit ``teacher`` and
    ``student``, and below it one sentence per method left out saying why (``method_fit``). A method chosen
    earlier that no longer fits (another student picked since) goes back to the default, and says so."""
    fitting, unfit = method_fit(teacher, student)
    chosen = st.session_state.get(setting.key)
    if chosen not in fitting:
        set_control(setting.url, setting.default(train_count))
        if chosen in unfit:
            back = _("The method is back to {method}.").format(
                method=shown_value(setting, setting.default(train_count))
            )
            st.warning(f"{unfit[chosen]} {back}")
    value = lab_control(setting, link, train_count, choices=fitting)
    if unfit:
        st.caption(" ".join(_("Not offered: {why}").format(why=why) for why in unfit.values()))
    return value


def lab_control(
    setting: LabSetting, link: ParsedLink, train_count: int, applies: bool = True, choices: tuple | None = None
) -> object:
    """Draw the control of one lab setting (locked if the link locks it, greyed out where it does not
    ``apply``, see ``LabSetting.only_with``); returns its value. ``choices``: what a radio offers, when fewer than
    its row's options (``method_control``)."""
    locked = link.is_locked(setting.url)
    label = lock_label(_(setting.label), setting.url, link)
    help_text = lock_help(setting.url, link, control_help(setting))
    common = {"key": setting.key, "persist_state": PERSIST, "disabled": locked or not applies} | (
        {"help": help_text} if help_text else {}  # without one, the teacher box explains its choices
    )
    if setting.widget == "teacher":
        return teacher_selectbox(label, **common)
    if setting.widget == "student":
        student = student_picker(_(setting.label), key_prefix=setting.key, persist_state=PERSIST, disabled=locked)
        if locked:
            st.caption(
                ":material/lock: "
                + _("The student is locked by the assignment link: {student}.").format(student=student)
            )
        return student
    choices = choices or setting.choices(train_count)
    if setting.widget == "radio":
        return st.radio(
            label,
            choices,
            horizontal=True,
            format_func=lambda value: shown_value(setting, value, train_count),
            **common,
        )
    if setting.widget == "select_slider":
        return st.select_slider(
            label, choices, format_func=lambda value: shown_value(setting, value, train_count), **common
        )
    if setting.widget == "slider":
        return st.slider(label, *choices, step=setting.step, **common)
    return int(st.number_input(label, *choices, step=1, **common))
