"""The lab's controls, one per row of ``kdlab.classroom.lab_settings.LAB_SETTINGS``: each drawn from its
row (label, key, values, help), shown locked when an assignment link locks it, and set from a link."""

from __future__ import annotations

import re

import streamlit as st

from kdlab.classroom.lab_settings import LAB_SETTINGS, LabSetting, lab_setting, method_fit
from kdlab.classroom.links import ParsedLink
from kdlab.classroom.values import value_text
from kdlab.ml.models import ARCHITECTURES
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


def lock_label(label: str, name: str, link: ParsedLink) -> str:
    """A control's label, marked in words when the link locks it (a screen reader reads the label)."""
    return f"{label} (locked)" if link.is_locked(name) else label


def lock_help(name: str, link: ParsedLink, help_text: str | None = None) -> str | None:
    """A control's help, saying first at which value the link locks it."""
    if not link.is_locked(name):
        return help_text
    return f"Locked by your teacher's assignment link at {value_text(lab_setting(name).name, link.values[name])}. " + (
        help_text or ""
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
            st.warning(f"{unfit[chosen]} The method is back to {setting.display(setting.default(train_count))}.")
    value = lab_control(setting, link, train_count, choices=fitting)
    if unfit:
        st.caption(" ".join(f"Not offered: {why}" for why in unfit.values()))
    return value


def lab_control(
    setting: LabSetting, link: ParsedLink, train_count: int, applies: bool = True, choices: tuple | None = None
) -> object:
    """Draw the control of one lab setting (locked if the link locks it, greyed out where it does not
    ``apply``, see ``LabSetting.only_with``); returns its value. ``choices``: what a radio offers, when fewer than
    its row's options (``method_control``)."""
    locked = link.is_locked(setting.url)
    label = lock_label(setting.label, setting.url, link)
    help_text = lock_help(setting.url, link, setting.help)
    common = {"key": setting.key, "persist_state": PERSIST, "disabled": locked or not applies} | (
        {"help": help_text} if help_text else {}  # without one, the teacher box explains its choices
    )
    if setting.widget == "teacher":
        return teacher_selectbox(label, **common)
    if setting.widget == "student":
        student = student_picker(setting.label, key_prefix=setting.key, persist_state=PERSIST, disabled=locked)
        if locked:
            st.caption(f":material/lock: The student is locked by the assignment link: {student}.")
        return student
    choices = choices or setting.choices(train_count)
    if setting.widget == "radio":
        return st.radio(
            label, choices, horizontal=True, format_func=lambda value: setting.display(value, train_count), **common
        )
    if setting.widget == "select_slider":
        return st.select_slider(label, choices, format_func=lambda value: setting.display(value, train_count), **common)
    if setting.widget == "slider":
        return st.slider(label, *choices, step=setting.step, **common)
    return int(st.number_input(label, *choices, step=1, **common))
