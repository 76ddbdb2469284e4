"""The scheme comparison on a page: the overview chart, then one tab per scheme with its
numbers against both references, its runs and its curves."""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.schemes import SCHEME_PAPERS, SCHEME_TITLES, SchemeComparison
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.data import DataSource
from kdlab.plots import schemes as scheme_plots
from kdlab.ui.sidebar import source_label

STATUSES = {"stopped": N_("stopped"), "diverged": N_("diverged")}


def errors_text(count: int, *, signed: bool = False) -> str:
    """ "1,234 errors" in the current language (with its sign, "+12" or "-3", when ``signed``)."""
    shown = number(abs(count))
    if signed:
        shown = ("-" if count < 0 else "+") + shown
    return ngettext("{count} error", "{count} errors", abs(count)).format(count=shown)


def data_label(data: dict) -> str:
    """The comparison's data (``DataSource.as_dict``, English in the summary) in the current language."""
    fields = ("location", "train_size", "test_size")
    return source_label(DataSource(name=data["source"], **{field: data[field] for field in fields}))


def render_comparison(comparison: SchemeComparison, key: str) -> None:
    """A finished (or stopped) comparison; ``key`` namespaces the charts."""
    summary = comparison.summary()
    budget = summary["budget"]
    status = summary["status"]
    if status != "completed":
        st.warning(
            _("The comparison was **{status}** before it finished: the charts show the runs that completed.").format(
                status=_(STATUSES.get(status, status))
            )
        )
    st.caption(
        ngettext(
            "Every run: {epochs} epoch on the same {images} images of {data}, seed {seed}, so every student starts "
            "from the same weights and sees the same batches. Total time {seconds} s.",
            "Every run: {epochs} epochs on the same {images} images of {data}, seed {seed}, so every student "
            "starts from the same weights and sees the same batches. Total time {seconds} s.",
            budget["epochs_per_run"],
        ).format(
            epochs=budget["epochs_per_run"],
            images=number(budget["train_size"]),
            data=data_label(summary["data"]),
            seed=budget["seed"],
            seconds=number(summary["seconds"], 0),
        )
    )
    if summary["student_alone"] is None or summary["offline_kd"] is None:
        return
    st.plotly_chart(scheme_plots.schemes_overview_figure(summary), key=f"{key}.overview")
    names = list(summary["schemes"])
    for tab, name in zip(st.tabs([_(SCHEME_TITLES[name]) for name in names]), names):
        with tab:
            _render_scheme(summary, name, key)


def _render_scheme(summary: dict, name: str, key: str) -> None:
    entry = summary["schemes"][name]
    description = entry["description"]  # the English of SCHEME_DESCRIPTIONS, in the comparison's summary
    st.markdown(_(description))
    st.caption(_("Paper: {reference}").format(reference=SCHEME_PAPERS.get(name, entry["paper"])))
    final = entry["final"]
    if final is None:
        return
    columns = st.columns(3)
    columns[0].metric(
        _("{run} ({model})").format(run=scheme_plots.run_label(final["label"]), model=final["arch"]),
        percent(final["test_accuracy"], 2),
        delta=errors_text(final["test_errors"]),
        delta_color="off",
        delta_arrow="off",
    )
    columns[1].metric(
        _("vs the student alone"),
        errors_text(entry["vs_student_alone_errors"], signed=True),
        delta_color="off",
        delta_arrow="off",
    )
    columns[2].metric(
        _("vs offline KD"),
        errors_text(entry["vs_offline_kd_errors"], signed=True),
        delta_color="off",
        delta_arrow="off",
        help=ngettext(
            "The scheme cost {count} training run of the budget beyond the two references.",
            "The scheme cost {count} training runs of the budget beyond the two references.",
            entry["extra_training_runs"],
        ).format(count=entry["extra_training_runs"]),
    )
    charts = st.columns(2)
    with charts[0]:
        st.plotly_chart(scheme_plots.scheme_figure(summary, name), key=f"{key}.{name}.bars")
    with charts[1]:
        st.plotly_chart(scheme_plots.scheme_curves_figure(summary, name), key=f"{key}.{name}.curves")
